/* sam2-cluster: see cluster.h. Exit status 0 when every check passed, 1 otherwise, 77 (skipped)
 * when the golden data, the test media or haproxy is missing. */
#include "cluster.h"

#include "support/frontend_gql.h"
#include "support/http_client.h"
#include "support/testutil.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int cluster_bench(const replica_setup *rs, const char *haproxy, const char *cfg, int seconds,
                  int clients);

#define N_CLIENTS 6
#define N_REPLICAS 3

static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;
static long failures;

void cluster_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&fail_mu);
    failures++;
    printf("  FAIL: ");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    pthread_mutex_unlock(&fail_mu);
    va_end(ap);
}

long cluster_failures(void) {
    return failures;
}

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...) {
    char what[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (ok)
        printf("  ok: %s\n", what);
    else
        cluster_fail("%s", what);
    fflush(stdout);
}

static void skip(const char *why) {
    printf("SKIP: %s; the cluster tests did NOT run\n", why);
    exit(TEST_SKIP_CODE);
}

static const char *find_haproxy(void) {
    const char *env = getenv("SAM2_HAPROXY");
    if (env && *env) return access(env, X_OK) ? NULL : env;
    static const char *const places[] = {"/usr/sbin/haproxy", "/usr/local/sbin/haproxy",
                                         "/usr/bin/haproxy"};
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++)
        if (!access(places[i], X_OK)) return places[i];
    return NULL;
}

/* ---- the world ----------------------------------------------------------------------------------
 */
static replica_setup rs;
static const char *haproxy_bin, *haproxy_cfg;
static char work_dir[1024], data_dir[1100];
static proc single, reps[N_REPLICAS], hap;
static int proxy_port, stats_port;
static const char *const NODES[N_REPLICAS] = {"r1", "r2", "r3"};
static double t_start;

static void phase(const char *name) {
    printf("== %s (%.0f s)\n", name, (test_now_ms() - t_start) / 1000);
    fflush(stdout);
}

/* DATA_PATH: gallery/juggle8 (the golden run's 8 frames of 05_default_juggle, 1280x720 PNGs),
 * gallery/01_dog.mp4 (posters, uploads) and gallery/04_coffee.mp4 (long streams). */
static void build_data(const char *golden, const char *media) {
    char p[1400], q[1400];
    snprintf(data_dir, sizeof data_dir, "%s/data", work_dir);
    mkdir(data_dir, 0755);
    snprintf(p, sizeof p, "%s/gallery", data_dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/gallery/juggle8", data_dir);
    mkdir(p, 0755);
    for (int i = 0; i < 8; i++) {
        snprintf(p, sizeof p, "%s/inputs/video/05_default_juggle/%05d.png", golden, i);
        snprintf(q, sizeof q, "%s/gallery/juggle8/%05d.png", data_dir, i);
        if (test_copy_file(p, q))
            skip("the golden data has no inputs/video/05_default_juggle frames");
    }
    const char *videos[] = {"01_dog.mp4", "04_coffee.mp4"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/gallery/%s", media, videos[i]);
        snprintf(q, sizeof q, "%s/gallery/%s", data_dir, videos[i]);
        if (test_copy_file(p, q)) skip("the test media has no gallery videos");
    }
}

static ino_t inode_of(const char *rel) {
    char p[1400];
    snprintf(p, sizeof p, "%s/%s", data_dir, rel);
    struct stat st;
    return stat(p, &st) ? 0 : st.st_ino;
}

static server_client client_of(int port) {
    server_client c = {port, 180000, NULL};
    return c;
}

/* ---- flows in threads ---------------------------------------------------------------------------
 */
typedef struct flow_job {
    server_client c;
    flow_spec spec;
    flow_pause *pause;
    flow_record rec;
    int rc;
} flow_job;

static void *flow_thread(void *arg) {
    flow_job *j = arg;
    j->rc = run_flow(&j->c, &j->spec, j->pause, &j->rec);
    return NULL;
}

/* The six clients' flows: the same video, a different pair of clicks each. */
static flow_spec flow_for(int i, const char *video, int stream_parts, int correction) {
    flow_spec s = {video, 0.30 + 0.05 * i, 0.35 + 0.03 * i, 0.62 - 0.04 * i,
                   0.55,  stream_parts,    correction};
    return s;
}

static int node_index(const char *node) {
    for (int i = 0; i < N_REPLICAS; i++)
        if (!strcmp(node, NODES[i])) return i;
    return -1;
}

/* graphql + propagate_in_video requests a replica has answered (its /metrics), or -1. */
static double replica_requests(const proc *p) {
    http_response r;
    if (http_request(p->port, "GET", "/metrics", NULL, NULL, 0, &r, 10000) || r.status != 200)
        return -1;
    double n = metric_sum(r.body, "sam2_requests_total{route=\"graphql\",") +
               metric_sum(r.body, "sam2_requests_total{route=\"propagate_in_video\",");
    http_response_free(&r);
    return n;
}

/* The count once the earlier phases' last answers are counted too (a request is counted after its
 * answer has been sent, so a client may already hold the answer): two equal readings 100 ms apart.
 */
static double settled_requests(const proc *p) {
    double n = replica_requests(p);
    for (int tries = 0; tries < 20; tries++) {
        usleep(100 * 1000);
        const double again = replica_requests(p);
        if (again == n) break;
        n = again;
    }
    return n;
}

/* ---- the phases ---------------------------------------------------------------------------------
 */
static flow_record ref_flow[N_CLIENTS], ref_kill[N_CLIENTS], ref_drain;

static void reference_flows(void) {
    phase("reference: the flows against a single server (no node id, no proxy)");
    char why[512];
    if (replica_start(&single, &rs, NULL, why, sizeof why)) {
        cluster_fail("the single server: %s", why);
        return;
    }
    server_client c = client_of(single.port);
    for (int i = 0; i < N_CLIENTS; i++) {
        flow_spec s = flow_for(i, "gallery/juggle8", 0, 1);
        if (run_flow(&c, &s, NULL, &ref_flow[i]))
            cluster_fail("reference flow %d: %s", i, ref_flow[i].error);
        s = flow_for(i, "gallery/04_coffee.mp4", 12, 0);
        if (run_flow(&c, &s, NULL, &ref_kill[i]))
            cluster_fail("reference flow %d (long video): %s", i, ref_kill[i].error);
    }
    flow_spec d = flow_for(N_CLIENTS, "gallery/juggle8", 0, 1);
    if (run_flow(&c, &d, NULL, &ref_drain))
        cluster_fail("reference drain flow: %s", ref_drain.error);
    printf("  %d answers with masks per flow on juggle8, %d on the long video\n",
           ref_flow[0].n_items, ref_kill[0].n_items);
    check(proc_stop(&single, SIGTERM, 20000) == 0,
          "the single server exits 0 on SIGTERM (no session left)");
}

static void start_cluster(void) {
    phase("start: three replicas (r1, r2, r3) on one DATA_PATH, HAProxy with deploy/haproxy.cfg");
    ino_t poster = inode_of("posters/01_dog.jpg");
    char why[512];
    int ports[N_REPLICAS];
    for (int i = 0; i < N_REPLICAS; i++) {
        if (replica_start(&reps[i], &rs, NODES[i], why, sizeof why)) {
            cluster_fail("replica %s: %s", NODES[i], why);
            exit(1);
        }
        ports[i] = reps[i].port;
    }
    if (haproxy_start(&hap, haproxy_bin, haproxy_cfg, work_dir, ports, 7, &proxy_port, &stats_port,
                      why, sizeof why)) {
        cluster_fail("haproxy: %s", why);
        exit(1);
    }
    printf("  proxy on 127.0.0.1:%d (stats %d); replicas on %d, %d, %d\n", proxy_port, stats_port,
           ports[0], ports[1], ports[2]);
    check(
        poster && inode_of("posters/01_dog.jpg") == poster,
        "the gallery poster made by the first server is reused by the three replicas (made once)");
    /* CORS passes through unchanged: a preflight through the proxy gets a replica's own answer. */
    const char *pre = "Origin: http://localhost:7262\r\nAccess-Control-Request-Method: POST\r\n"
                      "Access-Control-Request-Headers: content-type\r\n";
    http_response a, b;
    int ok = !http_request(proxy_port, "OPTIONS", "/graphql", pre, NULL, 0, &a, 10000) &&
             !http_request(reps[0].port, "OPTIONS", "/graphql", pre, NULL, 0, &b, 10000);
    const char *names[] = {"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
                           "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Vary"};
    for (int i = 0; ok && i < 5; i++) {
        char va[256], vb[256];
        const char *x = http_header(a.headers, names[i], va, sizeof va),
                   *y = http_header(b.headers, names[i], vb, sizeof vb);
        ok = x && y && !strcmp(va, vb);
    }
    check(ok && a.status == b.status,
          "CORS: a preflight through the proxy gets the same headers as from a replica");
    if (!ok)
        printf("  proxy:\n%s\n  replica:\n%s\n", a.headers ? a.headers : "",
               b.headers ? b.headers : "");
    http_response_free(&a);
    http_response_free(&b);
}

/* A plain TCP connection to the proxy; -1 when refused. */
static int raw_connect(int to_port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)to_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* 1 when the proxy closed the connection within 2 s. */
static int closed_by_peer(int fd) {
    struct pollfd pf = {fd, POLLIN | POLLRDHUP, 0};
    if (poll(&pf, 1, 2000) <= 0) return 0;
    char c;
    return recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

/* Connections end at the proxy, so it bounds each client's (the replicas do not count a trusted
 * proxy's): with deploy/haproxy.cfg's default of 32, a 33rd from one address is refused. */
static void connections_per_client(void) {
    phase("per-client connections: bounded by the proxy");
    int fds[33], opened = 0;
    for (; opened < 32; opened++)
        if ((fds[opened] = raw_connect(proxy_port)) < 0) break;
    usleep(300 * 1000);
    int held = opened == 32;
    for (int i = 0; held && i < 32; i++) {
        struct pollfd pf = {fds[i], POLLIN | POLLRDHUP, 0};
        if (poll(&pf, 1, 0) > 0) held = 0;
    }
    fds[opened] = raw_connect(proxy_port);
    const int refused = fds[opened] < 0 || closed_by_peer(fds[opened]);
    if (fds[opened] >= 0) opened++;
    for (int i = 0; i < opened; i++) close(fds[i]);
    check(held && refused, "32 connections from one client are held, a 33rd is refused (held %d)",
          held);
    usleep(300 * 1000);
    http_response r;
    int ok = !http_request(proxy_port, "GET", "/healthy", NULL, NULL, 0, &r, 10000);
    if (ok) {
        ok = r.status == 200;
        http_response_free(&r);
    }
    check(ok, "once they are closed, the client is served again");
}

static void concurrent_flows(void) {
    phase("the flow: six clients at once through the proxy");
    double before[N_REPLICAS];
    for (int i = 0; i < N_REPLICAS; i++) before[i] = settled_requests(&reps[i]);
    flow_job jobs[N_CLIENTS];
    pthread_t th[N_CLIENTS];
    for (int i = 0; i < N_CLIENTS; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].c = client_of(proxy_port);
        jobs[i].spec = flow_for(i, "gallery/juggle8", 0, 1);
        pthread_create(&th[i], NULL, flow_thread, &jobs[i]);
    }
    int per_node[N_REPLICAS] = {0}, sessions[N_REPLICAS] = {0}, wrong = 0, identical = 0;
    for (int i = 0; i < N_CLIENTS; i++) {
        pthread_join(th[i], NULL);
        flow_record *r = &jobs[i].rec;
        if (jobs[i].rc) cluster_fail("client %d: %s", i, r->error);
        char why[512];
        if (!flow_compare(&ref_flow[i], r, 0, why, sizeof why))
            identical++;
        else
            cluster_fail("client %d (session %s): %s", i, r->sid, why);
        int k = node_index(r->node);
        if (k >= 0) {
            per_node[k] += r->requests;
            sessions[k]++;
        }
        wrong += r->wrong_node;
    }
    check(identical == N_CLIENTS,
          "%d of %d clients got masks byte-identical to the single server's (%d answers each)",
          identical, N_CLIENTS, ref_flow[0].n_items);
    printf("  sessions per replica: r1 %d, r2 %d, r3 %d\n", sessions[0], sessions[1], sessions[2]);
    check(wrong == 0,
          "affinity: every answer for a session came from the replica its id names (X-Sam2-Node)");
    /* The replicas' own count: a request is counted once its answer is sent, so allow a moment. */
    int agree = 0;
    for (int tries = 0; tries < 40 && agree < N_REPLICAS; tries++) {
        agree = 0;
        for (int i = 0; i < N_REPLICAS; i++)
            agree += replica_requests(&reps[i]) - before[i] == per_node[i];
        if (agree < N_REPLICAS) usleep(50 * 1000);
    }
    for (int i = 0; i < N_REPLICAS; i++)
        printf("  %s: %d requests of the clients' sessions, its /metrics counted %.0f\n", NODES[i],
               per_node[i], replica_requests(&reps[i]) - before[i]);
    check(agree == N_REPLICAS,
          "affinity: each replica's /metrics counted exactly its sessions' requests");
    for (int i = 0; i < N_CLIENTS; i++) flow_record_free(&jobs[i].rec);
}

/* uploadVideo through c with the frontend's multipart form, durationTimeSec 2 (a short transcode).
 */
static int upload(int port, const char *file, char *path, size_t cap, char *node, size_t node_cap) {
    size_t len;
    char *content = test_read_file(file, &len);
    if (!content) return -1;
    const char *ops =
        "{\"query\":\"mutation($file: Upload!, $d: Float) { uploadVideo(file: $file, "
        "durationTimeSec: "
        "$d) { id path posterPath width height } }\",\"variables\":{\"file\":null,\"d\":2.0}}";
    size_t n;
    char *body =
        http_upload_body("----sam2clusterXYZ", ops, "file", "01_dog.mp4", content, len, &n);
    free(content);
    http_response r;
    int rc =
        body ? http_request(port, "POST", "/graphql",
                            "Content-Type: multipart/form-data; boundary=----sam2clusterXYZ\r\n",
                            body, n, &r, 300000)
             : -1;
    free(body);
    if (rc) return -1;
    if (!http_header(r.headers, "X-Sam2-Node", node, node_cap)) node[0] = 0;
    cJSON *j = cJSON_Parse(r.body);
    const cJSON *p = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "data"), "uploadVideo"), "path");
    rc = cJSON_IsString(p) ? 0 : -1;
    if (!rc)
        snprintf(path, cap, "%s", p->valuestring);
    else
        printf("  upload answer: HTTP %d %.300s\n", r.status, r.body);
    cJSON_Delete(j);
    http_response_free(&r);
    return rc;
}

static int count_uploads(void) {
    char p[1400];
    snprintf(p, sizeof p, "%s/uploads", data_dir);
    DIR *d = opendir(p);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' && strstr(e->d_name, ".mp4")) n++;
    if (d) closedir(d);
    return n;
}

static void upload_everywhere(void) {
    phase("upload: through the proxy, then a session on it on every replica");
    char file[1400], path[256] = "", again[256] = "", node[40], node2[40];
    snprintf(file, sizeof file, "%s/gallery/01_dog.mp4", data_dir);
    if (upload(proxy_port, file, path, sizeof path, node, sizeof node)) {
        cluster_fail("the upload through the proxy failed");
        return;
    }
    printf("  %s uploaded %s\n", node, path);
    for (int i = 0; i < N_REPLICAS; i++) {
        server_client c = client_of(reps[i].port);
        char got[40], msg[512];
        int status;
        char *sid = flow_start_session(&c, path, got, sizeof got, &status, msg, sizeof msg);
        int ok = sid && flow_click(&c, sid) && flow_close(&c, sid) == 1;
        check(ok, "the upload opens as a session on %s (directly)%s%s", NODES[i], sid ? "" : ": ",
              sid ? "" : msg);
        free(sid);
    }
    ino_t first = inode_of(path);
    int ok = !upload(proxy_port, file, again, sizeof again, node2, sizeof node2);
    check(ok && !strcmp(again, path), "the same upload again (answered by %s) gives the same video",
          node2);
    check(first && inode_of(path) == first && count_uploads() == 1,
          "... transcoded once: the file was not written again, uploads/ holds one video");
}

static void kill_mid_stream(void) {
    phase("kill -9 of a replica while six clients stream");
    pthread_barrier_t reached, resume;
    pthread_barrier_init(&reached, NULL, N_CLIENTS + 1);
    pthread_barrier_init(&resume, NULL, N_CLIENTS + 1);
    flow_pause pause = {3, &reached, &resume, ""};
    flow_job jobs[N_CLIENTS];
    pthread_t th[N_CLIENTS];
    for (int i = 0; i < N_CLIENTS; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].c = client_of(proxy_port);
        jobs[i].spec = flow_for(i, "gallery/04_coffee.mp4", 12, 0);
        jobs[i].pause = &pause;
        pthread_create(&th[i], NULL, flow_thread, &jobs[i]);
    }
    pthread_barrier_wait(&reached);
    /* Every client is mid-stream: kill the replica that holds the most sessions. */
    int count[N_REPLICAS] = {0}, victim = 0;
    for (int i = 0; i < N_CLIENTS; i++) {
        int k = node_index(jobs[i].rec.node);
        if (k >= 0) count[k]++;
    }
    for (int i = 1; i < N_REPLICAS; i++)
        if (count[i] > count[victim]) victim = i;
    printf("  sessions per replica: r1 %d, r2 %d, r3 %d; kill -9 %s\n", count[0], count[1],
           count[2], NODES[victim]);
    kill(reps[victim].pid, SIGKILL);
    while (proc_alive(&reps[victim])) usleep(10 * 1000);
    snprintf(pause.victim, sizeof pause.victim, "%s", NODES[victim]);
    pthread_barrier_wait(&resume);
    int killed = 0, clear = 0, others = 0, identical = 0;
    for (int i = 0; i < N_CLIENTS; i++) {
        pthread_join(th[i], NULL);
        flow_record *r = &jobs[i].rec;
        char node[40];
        snprintf(node, sizeof node, "%s", r->node);
        if (!strcmp(node, NODES[victim])) {
            killed++;
            if (!jobs[i].rc && r->stream_broken)
                clear++;
            else
                cluster_fail("client %d of the killed replica: %s", i,
                             r->error[0] ? r->error : "no error seen");
        } else {
            others++;
            char why[512];
            if (jobs[i].rc)
                cluster_fail("client %d of %s: %s", i, node, r->error);
            else if (flow_compare(&ref_kill[i], r, 0, why, sizeof why))
                cluster_fail("client %d of %s: %s", i, node, why);
            else if (r->wrong_node)
                cluster_fail("client %d of %s: answers from another replica", i, node);
            else
                identical++;
        }
        flow_record_free(r);
    }
    check(killed > 0 && clear == killed,
          "%d of the killed replica's %d clients: the stream broke, then 'Cannot find session "
          "<id>; it might have "
          "expired' (click, propagation), closeSession false",
          clear, killed);
    check(identical == others,
          "%d of the other %d clients streamed masks byte-identical to the single server's",
          identical, others);
    char state[64];
    haproxy_server_state(stats_port, "sessions", NODES[victim], state, sizeof state);
    check(!strncmp(state, "DOWN", 4), "HAProxy has %s DOWN (%s)", NODES[victim], state);
    reps[victim].pid = 0;
    pthread_barrier_destroy(&reached);
    pthread_barrier_destroy(&resume);
}

static void drain_mid_stream(void) {
    phase("drain: a replica drains while one of its sessions streams");
    pthread_barrier_t reached, resume;
    pthread_barrier_init(&reached, NULL, 2);
    pthread_barrier_init(&resume, NULL, 2);
    flow_pause pause = {2, &reached, &resume, ""};
    flow_job job;
    memset(&job, 0, sizeof job);
    job.c = client_of(proxy_port);
    job.spec = flow_for(N_CLIENTS, "gallery/juggle8", 0, 1);
    job.pause = &pause;
    pthread_t th;
    pthread_create(&th, NULL, flow_thread, &job);
    pthread_barrier_wait(&reached);
    int d = node_index(job.rec.node);
    if (d < 0 || !reps[d].pid) {
        cluster_fail("the drain flow's session is on '%s'", job.rec.node);
        pthread_barrier_wait(&resume);
        pthread_join(th, NULL);
        return;
    }
    printf("  the streaming session is on %s: POST /drain on its admin listener\n", NODES[d]);
    http_response r;
    int ok = !http_request(reps[d].admin_port, "POST", "/drain", NULL, "", 0, &r, 10000) &&
             r.status == 202;
    if (!ok) printf("  admin answer: %d %s\n", r.status, r.body ? r.body : "");
    http_response_free(&r);
    check(ok, "the admin listener accepts the drain");
    ok = !http_request(reps[d].port, "GET", "/ready", NULL, NULL, 0, &r, 10000) && r.status == 503;
    http_response_free(&r);
    check(ok, "%s answers /ready with 503", NODES[d]);
    /* New sessions go elsewhere, at once (a startSession that reaches it is retried elsewhere). */
    int elsewhere = 0;
    for (int i = 0; i < 6; i++) {
        server_client c = client_of(proxy_port);
        char node[40], msg[512];
        int status;
        char *sid =
            flow_start_session(&c, "gallery/juggle8", node, sizeof node, &status, msg, sizeof msg);
        if (sid && strcmp(node, NODES[d]) && strncmp(sid, NODES[d], strlen(NODES[d])))
            elsewhere++;
        else
            printf("  startSession: HTTP %d, %s, %s\n", status, node, sid ? sid : msg);
        if (sid) flow_close(&c, sid);
        free(sid);
    }
    check(elsewhere == 6, "%d of 6 new sessions started on another replica", elsewhere);
    pthread_barrier_wait(&resume);
    pthread_join(th, NULL);
    char why[512];
    if (job.rc)
        cluster_fail("the drained replica's client: %s", job.rec.error);
    else
        check(!flow_compare(&ref_drain, &job.rec, 0, why, sizeof why) && !job.rec.wrong_node,
              "the stream through the drain lost no frame: %d answers byte-identical to the single "
              "server's, then a "
              "correction and a cancelled propagation on the draining replica%s%s",
              ref_drain.n_items, job.rec.wrong_node ? "; answers from another replica" : "",
              flow_compare(&ref_drain, &job.rec, 0, why, sizeof why) ? why : "");
    flow_record_free(&job.rec);
    /* Its last session closed: the replica exits 0. */
    int exited = 0;
    for (int waited = 0; waited < 20000 && !exited; waited += 50) {
        exited = !proc_alive(&reps[d]);
        if (!exited) usleep(50 * 1000);
    }
    check(exited && WIFEXITED(reps[d].status) && WEXITSTATUS(reps[d].status) == 0,
          "%s exits 0 once its last session closed", NODES[d]);
    reps[d].pid = 0;
    pthread_barrier_destroy(&reached);
    pthread_barrier_destroy(&resume);
}

static void stop_all(void) {
    for (int i = 0; i < N_REPLICAS; i++)
        if (reps[i].pid)
            check(proc_stop(&reps[i], SIGTERM, 20000) == 0, "%s exits 0 on SIGTERM", NODES[i]);
    if (hap.pid) proc_stop(&hap, SIGTERM, 5000);
    if (single.pid && proc_alive(&single)) proc_stop(&single, SIGKILL, 1000);
}

/* Copies the processes' logs into dir (for CI's artifacts). */
static void keep_logs(const char *dir) {
    mkdir(dir, 0755);
    DIR *d = opendir(work_dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".log")) continue;
        char from[1400], to[1400];
        snprintf(from, sizeof from, "%s/%s", work_dir, e->d_name);
        snprintf(to, sizeof to, "%s/%s", dir, e->d_name);
        test_copy_file(from, to);
    }
    if (d) closedir(d);
    printf("  logs of the replicas and HAProxy: %s/\n", dir);
}

static void on_exit_kill(void) {
    for (int i = 0; i < N_REPLICAS; i++)
        if (reps[i].pid && proc_alive(&reps[i])) kill(reps[i].pid, SIGKILL);
    if (hap.pid && proc_alive(&hap)) kill(hap.pid, SIGKILL);
    if (single.pid && proc_alive(&single)) kill(single.pid, SIGKILL);
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    int bench_s = 0, clients = N_CLIENTS;
    const char *logs = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bench") && i + 1 < argc)
            bench_s = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--clients") && i + 1 < argc)
            clients = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--logs") && i + 1 < argc)
            logs = argv[++i];
        else {
            fprintf(stderr, "usage: sam2-cluster [--bench SECONDS [--clients N]] [--logs DIR]\n");
            return 2;
        }
    }
    const char *golden = test_golden_dir(), *media = test_data_dir();
    if (!golden) skip("no golden data (../shared/golden or SAM2_GOLDEN)");
    if (!media) skip("no test media (../shared/data or SAM2_DATA)");
    static char ckpt[1400], yaml[1400], sam2[1400], cfg[1400];
    snprintf(ckpt, sizeof ckpt, "%s/micro/sam2.1_hiera_micro.pt", golden);
    snprintf(yaml, sizeof yaml, "%s/micro/sam2.1_hiera_micro.yaml", golden);
    snprintf(sam2, sizeof sam2, "%s/sam2", SAM2_BIN_DIR);
    snprintf(cfg, sizeof cfg, "%s/deploy/haproxy.cfg", SAM2_SOURCE_DIR);
    if (access(ckpt, R_OK)) skip("the golden data has no micro checkpoint");
    if (!(haproxy_bin = find_haproxy()))
        skip("haproxy is not installed (apt-get install haproxy, or SAM2_HAPROXY)");
    if (access(sam2, X_OK)) skip("build/bin/sam2 is not built");
    haproxy_cfg = cfg;
    snprintf(work_dir, sizeof work_dir, "%s", test_make_tmpdir());
    build_data(golden, media);
    rs = (replica_setup){sam2, ckpt, yaml, data_dir, work_dir, 1};
    atexit(on_exit_kill);
    t_start = test_now_ms();
    if (bench_s > 0) return cluster_bench(&rs, haproxy_bin, haproxy_cfg, bench_s, clients);

    printf("sam2-cluster: %s, %s, work folder %s\n", haproxy_bin, haproxy_cfg, work_dir);
    reference_flows();
    start_cluster();
    concurrent_flows();
    connections_per_client();
    upload_everywhere();
    kill_mid_stream();
    drain_mid_stream();
    stop_all();
    printf("== done in %.0f s: %s\n", (test_now_ms() - t_start) / 1000,
           failures ? "FAILED" : "every cluster check passed");
    if (logs) keep_logs(logs);
    return failures ? 1 : 0;
}
