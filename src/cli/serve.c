/* sam2 serve: the SAM 2 demo backend (see docs/server.md). Configuration comes from the official
 * environment variables, overridden by flags. SIGINT stops the server at once; SIGTERM drains it
 * first (no new sessions, the live ones are served until they end or DRAIN_TIMEOUT passes; a
 * second SIGTERM stops at once), as do --drain-after and the admin listener's POST /drain. */
#include "cli/cli.h"

#include "sam2.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef SAM2_HAVE_SERVER
#include "server/config.h"
#include "server/server.h"

/* TEST HOOK for the soak's leak check (tests/soak, docs/reliability.md), not a feature: with
 * SAM2_DEBUG_LEAK_MB=N in the environment, SIGUSR1 makes the process allocate N MB, touch it and
 * never free it: the leak the check must catch. Without the variable SIGUSR1 is not taken. */
void *g_debug_leaked[4096]; /* reachable, so that only RSS tells */

static void debug_leak(int mb) {
    static int n;
    for (int i = 0; i < mb && n < 4096; i++) {
        void *p = malloc((size_t)1 << 20);
        if (!p) break;
        memset(p, 0x5a, (size_t)1 << 20);
        g_debug_leaked[n++] = p;
    }
    fprintf(stderr, "sam2 serve: SAM2_DEBUG_LEAK_MB: %d MB leaked on purpose (%d MB so far)\n", mb,
            n);
}

/* Returns when the server should stop: at SIGINT or a second SIGTERM, or once a drain (SIGTERM,
 * --drain-after, POST /drain) is over. The signals are polled so a drain begun elsewhere is seen.
 */
static void wait_for_the_end(server *srv, const sigset_t *set, int leak_mb) {
    const struct timespec tick = {0, 200 * 1000000L};
    for (;;) {
        int sig = sigtimedwait(set, NULL, &tick);
        if (sig == SIGUSR1) debug_leak(leak_mb);
        if (sig == SIGINT || (sig == SIGTERM && server_draining(srv))) {
            fprintf(stderr, "sam2 serve: %s received, shutting down\n",
                    sig == SIGINT ? "SIGINT" : "SIGTERM");
            return;
        }
        if (sig == SIGTERM) {
            fprintf(stderr, "sam2 serve: SIGTERM received, draining (a second SIGTERM or SIGINT "
                            "stops at once)\n");
            server_drain(srv, "SIGTERM");
        }
        if (server_drained(srv)) return;
    }
}

int cmd_serve(int argc, char **argv) {
    server_config cfg;
    server_config_defaults(&cfg);
    sam2_error err = {0};
    int help = 0;
    if (server_config_from_env(&cfg, &err) ||
        server_config_from_args(&cfg, argc, argv, &help, &err)) {
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
    const char *leak = getenv("SAM2_DEBUG_LEAK_MB");
    const int leak_mb = leak ? atoi(leak) : 0;
    if (leak_mb > 0) sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    server_deps deps = {inference_default_ops(), ingest_default_ops(), NULL, NULL};
    server *srv = server_create(&cfg, &deps, &err);
    if (!srv) {
        fprintf(stderr, "sam2 serve: %s\n", err.message);
        return CLI_FAIL;
    }
    server_lower_library_threads(srv);
    if (server_start(srv, &err)) {
        fprintf(stderr, "sam2 serve: %s\n", err.message);
        server_free(srv);
        return CLI_FAIL;
    }
    wait_for_the_end(srv, &set, leak_mb);
    server_free(srv);
    return CLI_OK;
}
#else
int cmd_serve(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr,
            "sam2 serve: this sam2 was built without the server (libmicrohttpd was not found)\n");
    return CLI_FAIL;
}
#endif
