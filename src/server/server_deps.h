/* What a server is built from, chosen by whoever creates it (server.h) and kept in its state
 * (server_internal.h). */
#ifndef SAM2_SERVER_SERVER_DEPS_H
#define SAM2_SERVER_SERVER_DEPS_H

#include "server/inference.h"
#include "server/ingest.h"

/* Where the model and video ingest come from: `sam2 serve` passes inference_default_ops() and
 * ingest_default_ops(); tests pass stand-ins. Keeping the choice with the caller means a program
 * that uses stand-ins does not link the model at all. */
typedef struct server_deps {
    const inference_ops *inference; /* required */
    const ingest_ops *ingest;       /* required */
    /* Start-up log lines go here (NULL: stderr). */
    void (*log)(void *user, const char *line);
    void *log_user;
} server_deps;

#endif
