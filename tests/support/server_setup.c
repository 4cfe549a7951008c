#include "support/server_setup.h"

#include "support/testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The lines logged since the last server_test_log_clear, at most LOG_KEPT bytes. */
#define LOG_KEPT (1 << 20)
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char *log_text;
static size_t log_len;

void server_test_log(void *user, const char *line) {
    (void)user;
    if (getenv("SAM2_TEST_VERBOSE")) fprintf(stderr, "server: %s\n", line);
    const size_t n = strlen(line);
    pthread_mutex_lock(&log_mu);
    if (!log_text) log_text = calloc(1, LOG_KEPT + 1);
    if (log_text && log_len + n + 1 <= LOG_KEPT) {
        memcpy(log_text + log_len, line, n);
        log_text[log_len + n] = '\n';
        log_len += n + 1;
        log_text[log_len] = 0;
    }
    pthread_mutex_unlock(&log_mu);
}

void server_test_log_clear(void) {
    pthread_mutex_lock(&log_mu);
    log_len = 0;
    if (log_text) log_text[0] = 0;
    pthread_mutex_unlock(&log_mu);
}

char *server_test_log_copy(void) {
    pthread_mutex_lock(&log_mu);
    char *copy = strdup(log_text ? log_text : "");
    pthread_mutex_unlock(&log_mu);
    return copy;
}

void server_test_config(server_config *cfg, const char *data_dir) {
    server_config_defaults(cfg);
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 0;
    snprintf(cfg->data_path, sizeof cfg->data_path, "%s", data_dir);
    /* The model's calls at normal priority: tests that time things share a busy machine.
     * test_server_http's priority test turns it on. */
    cfg->compute_nice = 0;
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
