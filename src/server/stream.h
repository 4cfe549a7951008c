/* /propagate_in_video: one producer thread per propagation runs the tracker forward from the
 * start frame, then backward, and turns every frame into one part of the official
 * multipart/x-savi-stream (boundary "frame"); the HTTP response reads the parts as they come.
 * The producer gives its inference slot back after every frame (fair_yield) and stops within a
 * frame when the session's cancel flag is raised (cancelPropagateInVideo, closeSession, a newer
 * propagation, a client that went away, server shutdown). */
#ifndef SAM2_SERVER_STREAM_H
#define SAM2_SERVER_STREAM_H

#include "server/inference.h"
#include "server/strbuf.h"

#include <stddef.h>
#include <sys/types.h>

struct server;
struct session;

typedef struct prop_stream prop_stream;

#define STREAM_END (-1)   /* the stream ended normally */
#define STREAM_ERROR (-2) /* the stream failed: close the connection */
#define STREAM_GONE (-3)  /* the client went away (logged by the stream): close the connection */

/* Appends one part exactly as the official MultipartResponseBuilder writes it. */
void savi_part(strbuf *out, const inf_frame *frame);

/* Starts propagating. The caller has taken the session (session_begin); the stream owns that
 * use and the reference from now on, whatever happens. */
prop_stream *stream_start(struct server *srv, struct session *s, int start_frame, sam2_error *err);
/* Waits until the first part is ready or the propagation ended. Returns 0 when the response
 * should be a stream, or -1 with err set when it failed before producing anything. client_fd
 * (or -1) is watched so a client that leaves stops the wait. */
int stream_wait_first(prop_stream *st, int client_fd, sam2_error *err);
/* Copies the next bytes of the stream (blocking until some are ready). Returns the number of
 * bytes, STREAM_END, STREAM_ERROR or STREAM_GONE. */
ssize_t stream_read(prop_stream *st, char *buf, size_t max, int client_fd);
/* The consumer is done (response finished or connection closed): cancels if still running. */
void stream_release(prop_stream *st);

#endif
