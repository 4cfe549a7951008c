/* sam2 serve: the SAM 2 demo backend (see docs/server.md). Configuration comes from the official
 * environment variables, overridden by flags; the server runs until SIGINT or SIGTERM. */
#include "cli/cli.h"

#include "sam2.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#ifdef SAM2_HAVE_SERVER
#include "server/config.h"
#include "server/server.h"

/* A long-running server with many threads: glibc's defaults keep freed memory in one arena per
 * thread and raise the mmap threshold as large blocks are freed, so RSS drifts upwards under load
 * with nothing leaked (the soak measured +176 MB in 120 s). Two arenas and blocks of 256 kB and
 * more mapped (returned to the system on free) make RSS follow live memory. glibc's own
 * MALLOC_ARENA_MAX / MALLOC_MMAP_THRESHOLD_ variables, when set, win; SAM2_MALLOC_DEFAULTS=1
 * keeps glibc's defaults (the soak's --malloc-defaults). */
static void tune_allocator(void) {
#ifdef __GLIBC__
    const char *keep = getenv("SAM2_MALLOC_DEFAULTS");
    if (keep && *keep && *keep != '0') return;
    if (!getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, 2);
    if (!getenv("MALLOC_MMAP_THRESHOLD_")) mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
}

int cmd_serve(int argc, char **argv) {
    tune_allocator();
    server_config cfg;
    server_config_defaults(&cfg);
    sam2_error err = {0};
    int help = 0;
    if (server_config_from_env(&cfg, &err) || server_config_from_args(&cfg, argc, argv, &help, &err)) {
        fprintf(stderr, "sam2 serve: %s\n", err.message);
        return CLI_USAGE;
    }
    if (help) {
        server_config_usage(stdout);
        return CLI_OK;
    }
    /* Signals are taken synchronously by this thread; workers never see them. A client that
     * closes its socket must not kill the process through SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    server_deps deps = {inference_default_ops(), ingest_default_ops(), NULL, NULL};
    server *srv = server_create(&cfg, &deps, &err);
    if (!srv) {
        fprintf(stderr, "sam2 serve: %s\n", err.message);
        return CLI_FAIL;
    }
    if (server_start(srv, &err)) {
        fprintf(stderr, "sam2 serve: %s\n", err.message);
        server_free(srv);
        return CLI_FAIL;
    }
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "sam2 serve: %s received, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server_free(srv);
    return CLI_OK;
}
#else
int cmd_serve(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "sam2 serve: this sam2 was built without the server (libmicrohttpd was not found)\n");
    return CLI_FAIL;
}
#endif
