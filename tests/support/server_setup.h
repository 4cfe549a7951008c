/* Running `sam2 serve` inside a test program: a configuration on an ephemeral port of 127.0.0.1,
 * start-up with the log kept quiet, skipping a program whose build cannot run the real model, and
 * a cmocka group teardown. The tracker and the video ingest stay the caller's choice, so a program
 * that uses the test doubles (server_doubles.h) does not link the model. */
#ifndef SAM2_TEST_SERVER_SETUP_H
#define SAM2_TEST_SERVER_SETUP_H

#include "server/server.h"

/* server_deps.log for tests: lines reach stderr only when SAM2_TEST_VERBOSE is set; they are
 * kept (up to 1 MB) for server_test_log_copy. */
void server_test_log(void *user, const char *line);
/* Forgets the lines kept so far. */
void server_test_log_clear(void);
/* The lines kept since the last clear, one per line (caller frees). */
char *server_test_log_copy(void);

/* server_config_defaults, listening on 127.0.0.1 at a free port, DATA_PATH data_dir, the
 * model's calls at normal priority (compute_nice 0). */
void server_test_config(server_config *cfg, const char *data_dir);

/* server_test_config with the golden data's micro model (micro/sam2.1_hiera_micro.pt and .yaml
 * under golden_dir), for the tests of the real model. */
void server_test_config_micro(server_config *cfg, const char *data_dir, const char *golden_dir);

/* server_create and server_start with the given tracker and ingest (start-up lines to
 * server_test_log). NULL with err set when either fails; nothing is left running then. */
server *server_test_start(const server_config *cfg, const inference_ops *inference,
                          const ingest_ops *ingest, sam2_error *err);

/* As server_test_start, for the tests of the real model: when the build lacks what it needs
 * (SAM2_ERR_UNSUPPORTED) the whole program is skipped (server_test_skip); on any other failure
 * the reason goes to stderr and the result is NULL. `what` names the tests, as in
 * server_test_skip. */
server *server_test_start_or_skip(const server_config *cfg, const inference_ops *inference,
                                  const ingest_ops *ingest, const char *what);

/* Prints "SKIP: <why>; <what> did not run", frees s (may be NULL) and exits with
 * TEST_SKIP_CODE. */
void server_test_skip(server *s, const char *why, const char *what);

/* A cmocka group teardown: frees the server the group setup left in *state. */
int server_test_teardown(void **state);

#endif
