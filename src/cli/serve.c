/* sam2 serve: the SAM 2 demo backend (see docs/server.md). Configuration comes from the official
 * environment variables, overridden by flags; the server runs until SIGINT or SIGTERM. */
#include "cli/cli.h"

#include "sam2.h"

#include <signal.h>
#include <stdio.h>

#ifdef SAM2_HAVE_SERVER
#include "server/config.h"
#include "server/server.h"

int cmd_serve(int argc, char **argv) {
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
    server_lower_library_threads(srv);
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
