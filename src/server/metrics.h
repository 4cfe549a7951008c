/* Prometheus metrics (text exposition format 0.0.4): requests by route and status, request and
 * inference latency histograms, frames tracked, sessions, queue depth, resident memory, model. */
#ifndef SAM2_SERVER_METRICS_H
#define SAM2_SERVER_METRICS_H

#include "server/strbuf.h"

#include <stddef.h>
#include <stdint.h>

typedef enum metrics_route {
    ROUTE_GRAPHQL,
    ROUTE_PROPAGATE,
    ROUTE_STATIC,
    ROUTE_HEALTHY,
    ROUTE_METRICS,
    ROUTE_EXPORT,
    ROUTE_OTHER,
    ROUTE_COUNT
} metrics_route;

typedef enum metrics_op {
    OP_START_SESSION,
    OP_ADD_POINTS,
    OP_ADD_MASK,
    OP_CLEAR_FRAME,
    OP_CLEAR_VIDEO,
    OP_REMOVE_OBJECT,
    OP_UPLOAD,
    OP_PROPAGATE_FRAME,
    OP_COUNT
} metrics_op_kind;

/* Values sampled when /metrics is read. */
typedef struct metrics_gauges {
    int sessions;
    int jobs_waiting;
    int slots_busy, slots;
    int streams;
    int sessions_propagating;
    size_t session_ram_bytes;
    long long job_bytes;
    const char *model_name;
    int64_t model_params;
} metrics_gauges;

typedef struct metrics metrics;

metrics *metrics_new(void);
void metrics_free(metrics *m);
void metrics_request(metrics *m, metrics_route route, int status, double seconds);
void metrics_op(metrics *m, metrics_op_kind op, double seconds, int ok);
/* Counts a failed job without a duration (a propagation that failed between frames). */
void metrics_op_error(metrics *m, metrics_op_kind op);
/* The delay from a cancellation (cancelPropagateInVideo, closeSession, a newer propagation, a
 * click on the session, a client that left) to the end of the propagation it stopped. */
void metrics_cancel_to_end(metrics *m, double seconds);
void metrics_frames(metrics *m, long frames);
void metrics_render(metrics *m, const metrics_gauges *g, strbuf *out);
/* Current resident set size of this process in bytes (0 when unknown). */
size_t metrics_rss_bytes(void);
double metrics_now(void); /* monotonic seconds */

#endif
