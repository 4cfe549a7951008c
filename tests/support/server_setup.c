#include "support/server_setup.h"

#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>

void server_test_log(void *user, const char *line) {
    (void)user;
    if (getenv("SAM2_TEST_VERBOSE")) fprintf(stderr, "server: %s\n", line);
}

void server_test_config(server_config *cfg, const char *data_dir) {
    server_config_defaults(cfg);
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 0;
    snprintf(cfg->data_path, sizeof cfg->data_path, "%s", data_dir);
}

void server_test_config_micro(server_config *cfg, const char *data_dir, const char *golden_dir) {
    server_test_config(cfg, data_dir);
    snprintf(cfg->checkpoint, sizeof cfg->checkpoint, "%s",
             test_path(golden_dir, "micro/sam2.1_hiera_micro.pt"));
    snprintf(cfg->config_yaml, sizeof cfg->config_yaml, "%s",
             test_path(golden_dir, "micro/sam2.1_hiera_micro.yaml"));
}

server *server_test_start(const server_config *cfg, const inference_ops *inference,
                          const ingest_ops *ingest, sam2_error *err) {
    server_deps deps = {inference, ingest, server_test_log, NULL};
    server *s = server_create(cfg, &deps, err);
    if (s && server_start(s, err)) {
        server_free(s);
        return NULL;
    }
    return s;
}

server *server_test_start_or_skip(const server_config *cfg, const inference_ops *inference,
                                  const ingest_ops *ingest, const char *what) {
    sam2_error err = {0};
    server *s = server_test_start(cfg, inference, ingest, &err);
    if (s) return s;
    if (err.code == SAM2_ERR_UNSUPPORTED) server_test_skip(NULL, err.message, what);
    fprintf(stderr, "server: %s\n", err.message);
    return NULL;
}

void server_test_skip(server *s, const char *why, const char *what) {
    printf("SKIP: %s; %s did not run\n", why, what);
    fflush(stdout);
    if (s) server_free(s);
    exit(TEST_SKIP_CODE);
}

int server_test_teardown(void **state) {
    server_free(*state);
    return 0;
}
