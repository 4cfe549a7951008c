/* Latencies per request kind, request and overload counters, failures, and the mask references
 * (first answer per key), all shared by the client threads under one lock. */
#include "soak.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const SOAK_KIND_NAMES[K_COUNT] = {"startSession",
                                              "addPoints",
                                              "propagate (first frame)",
                                              "propagate (next frame)",
                                              "cancelPropagate",
                                              "closeSession",
                                              "uploadVideo",
                                              "uploadVideo (not a video)",
                                              "static GET"};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

typedef struct samples {
    double *v;
    long n, cap;
    int sorted;
} samples;

static samples lat[K_COUNT];
static atomic_long requests, overloads, ends[END_COUNT];

double soak_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void stats_record(soak_kind k, double ms) {
    pthread_mutex_lock(&mu);
    samples *s = &lat[k];
    if (s->n == s->cap) {
        long ncap = s->cap ? s->cap * 2 : 1024;
        double *nv = realloc(s->v, (size_t)ncap * sizeof *nv);
        if (nv) {
            s->v = nv;
            s->cap = ncap;
        }
    }
    if (s->n < s->cap) {
        s->v[s->n++] = ms;
        s->sorted = 0;
    }
    pthread_mutex_unlock(&mu);
}

long stats_count(soak_kind k) {
    pthread_mutex_lock(&mu);
    long n = lat[k].n;
    pthread_mutex_unlock(&mu);
    return n;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double stats_percentile(soak_kind k, double p) {
    pthread_mutex_lock(&mu);
    samples *s = &lat[k];
    double r = -1;
    if (s->n > 0) {
        if (!s->sorted) {
            qsort(s->v, (size_t)s->n, sizeof *s->v, cmp_double);
            s->sorted = 1;
        }
        /* Nearest rank. */
        long i = (long)((p / 100.0) * (double)s->n + 0.999999) - 1;
        if (i < 0) i = 0;
        if (i >= s->n) i = s->n - 1;
        r = s->v[i];
    }
    pthread_mutex_unlock(&mu);
    return r;
}

void stats_request(void) {
    atomic_fetch_add(&requests, 1);
}
long stats_requests(void) {
    return atomic_load(&requests);
}
void stats_overload(void) {
    atomic_fetch_add(&overloads, 1);
}
long stats_overloads(void) {
    return atomic_load(&overloads);
}
void stats_end(soak_end e) {
    atomic_fetch_add(&ends[e], 1);
}
long stats_ends(soak_end e) {
    return atomic_load(&ends[e]);
}

/* ---- failures ---- */
#define KEPT_FAILURES 20
static char *failure_msgs[KEPT_FAILURES];
static long n_failures;

void soak_fail(const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&mu);
    if (n_failures < KEPT_FAILURES) failure_msgs[n_failures] = strdup(msg);
    n_failures++;
    pthread_mutex_unlock(&mu);
    fprintf(stderr, "soak: FAILURE: %s\n", msg);
}

long soak_failures(void) {
    pthread_mutex_lock(&mu);
    long n = n_failures;
    pthread_mutex_unlock(&mu);
    return n;
}

void soak_print_failures(FILE *f) {
    pthread_mutex_lock(&mu);
    for (long i = 0; i < n_failures && i < KEPT_FAILURES; i++)
        fprintf(f, "  failure %ld: %s\n", i + 1,
                failure_msgs[i] ? failure_msgs[i] : "(out of memory)");
    if (n_failures > KEPT_FAILURES) fprintf(f, "  ... and %ld more\n", n_failures - KEPT_FAILURES);
    pthread_mutex_unlock(&mu);
}

/* ---- mask references: a small open-addressing table keyed by strings ---- */
typedef struct ref_entry {
    char *key, *masks;
} ref_entry;
static ref_entry *table;
static size_t table_cap, table_n;
static long compared;

static size_t hash(const char *s) {
    size_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int grow(void) {
    size_t ncap = table_cap ? table_cap * 2 : 4096;
    ref_entry *nt = calloc(ncap, sizeof *nt);
    if (!nt) return -1;
    for (size_t i = 0; i < table_cap; i++) {
        if (!table[i].key) continue;
        size_t j = hash(table[i].key) & (ncap - 1);
        while (nt[j].key) j = (j + 1) & (ncap - 1);
        nt[j] = table[i];
    }
    free(table);
    table = nt;
    table_cap = ncap;
    return 0;
}

int refs_check(const char *key, const char *masks) {
    pthread_mutex_lock(&mu);
    int ok = 1;
    if (table_n * 2 >= table_cap && grow()) {
        pthread_mutex_unlock(&mu);
        return 1; /* out of memory: nothing to compare with */
    }
    size_t j = hash(key) & (table_cap - 1);
    while (table[j].key && strcmp(table[j].key, key)) j = (j + 1) & (table_cap - 1);
    if (table[j].key) {
        ok = !strcmp(table[j].masks, masks);
        compared++;
    } else {
        table[j].key = strdup(key);
        table[j].masks = strdup(masks);
        if (table[j].key && table[j].masks) {
            table_n++;
            ok = 2;
        } else {
            free(table[j].key);
            free(table[j].masks);
            table[j].key = table[j].masks = NULL;
        }
    }
    pthread_mutex_unlock(&mu);
    return ok;
}

long refs_count(void) {
    pthread_mutex_lock(&mu);
    long n = (long)table_n;
    pthread_mutex_unlock(&mu);
    return n;
}

long refs_compared(void) {
    pthread_mutex_lock(&mu);
    long n = compared;
    pthread_mutex_unlock(&mu);
    return n;
}

void refs_free(void) {
    for (size_t i = 0; i < table_cap; i++) {
        free(table[i].key);
        free(table[i].masks);
    }
    free(table);
    table = NULL;
    table_cap = table_n = 0;
}

void stats_free(void) {
    for (int k = 0; k < K_COUNT; k++) free(lat[k].v);
    memset(lat, 0, sizeof lat);
    for (long i = 0; i < n_failures && i < KEPT_FAILURES; i++) free(failure_msgs[i]);
}
