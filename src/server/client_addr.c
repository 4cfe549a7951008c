/* Client addresses behind trusted proxies, and connections per address (client_addr.h). */
#include "server/client_addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An address or range: 4 or 16 bytes and the number of leading bits that must match. */
typedef struct net_range {
    int family;
    unsigned char bytes[16];
    int bits;
} net_range;

static void trim(const char *s, size_t n, char *out, size_t cap) {
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n >= cap) n = cap - 1;
    memcpy(out, s, n);
    out[n] = 0;
}

static int parse_address(const char *text, net_range *r) {
    if (inet_pton(AF_INET, text, r->bytes) == 1) {
        r->family = AF_INET;
        r->bits = 32;
        return 0;
    }
    if (inet_pton(AF_INET6, text, r->bytes) == 1) {
        r->family = AF_INET6;
        r->bits = 128;
        return 0;
    }
    return -1;
}

static int parse_range(const char *entry, net_range *r) {
    char addr[CLIENT_ADDR_MAX];
    const char *slash = strchr(entry, '/');
    snprintf(addr, sizeof addr, "%.*s", slash ? (int)(slash - entry) : (int)strlen(entry), entry);
    if (parse_address(addr, r)) return -1;
    if (!slash) return 0;
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    if (end == slash + 1 || *end || bits < 0 || bits > r->bits) return -1;
    r->bits = (int)bits;
    return 0;
}

static int in_range(const net_range *r, int family, const unsigned char *bytes) {
    if (family != r->family) return 0;
    int full = r->bits / 8, rest = r->bits % 8;
    if (memcmp(bytes, r->bytes, (size_t)full)) return 0;
    if (!rest) return 1;
    const unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (bytes[full] & mask) == (r->bytes[full] & mask);
}

/* Calls fn on each trimmed, non-empty entry; stops at the first non-zero answer. */
static int each_entry(const char *list, int (*fn)(const char *entry, void *user), void *user) {
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char entry[128];
        trim(p, n, entry, sizeof entry);
        int rc = entry[0] ? fn(entry, user) : 0;
        if (rc) return rc;
        p = comma ? comma + 1 : p + n;
    }
    return 0;
}

typedef struct check_ctx {
    char *bad;
    size_t cap;
} check_ctx;

static int check_entry(const char *entry, void *user) {
    check_ctx *c = user;
    net_range r;
    if (!parse_range(entry, &r)) return 0;
    if (c->cap) snprintf(c->bad, c->cap, "%s", entry);
    return -1;
}

int client_addr_list_check(const char *list, char *bad, size_t cap) {
    check_ctx c = {bad, cap};
    return each_entry(list, check_entry, &c);
}

typedef struct match_ctx {
    int family;
    unsigned char bytes[16];
} match_ctx;

static int match_entry(const char *entry, void *user) {
    const match_ctx *m = user;
    net_range r;
    return !parse_range(entry, &r) && in_range(&r, m->family, m->bytes);
}

/* The peer's family and bytes, an IPv4-mapped IPv6 address as the IPv4 one. */
static int peer_bytes(const struct sockaddr *sa, match_ctx *m) {
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!sa) return -1;
    if (sa->sa_family == AF_INET) {
        m->family = AF_INET;
        memcpy(m->bytes, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family != AF_INET6) return -1;
    const unsigned char *b = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (!memcmp(b, mapped, sizeof mapped)) {
        m->family = AF_INET;
        memcpy(m->bytes, b + 12, 4);
    } else {
        m->family = AF_INET6;
        memcpy(m->bytes, b, 16);
    }
    return 0;
}

int client_addr_trusted(const char *list, const struct sockaddr *sa) {
    match_ctx m;
    if (!list || !*list || peer_bytes(sa, &m)) return 0;
    return each_entry(list, match_entry, &m) > 0;
}

void client_addr_text(const struct sockaddr *sa, char *out, size_t cap) {
    match_ctx m;
    out[0] = 0;
    if (peer_bytes(sa, &m)) return;
    inet_ntop(m.family, m.bytes, out, (socklen_t)cap);
}

int client_addr_forwarded(const char *xff, char *out, size_t cap) {
    if (!xff) return -1;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    char text[CLIENT_ADDR_MAX];
    trim(last, strlen(last), text, sizeof text);
    net_range r;
    if (parse_address(text, &r)) return -1;
    /* Written back in canonical form, so one client is one key however it is spelled. */
    if (!inet_ntop(r.family, r.bytes, out, (socklen_t)cap)) return -1;
    return 0;
}

int conn_table_init(conn_table *t, int cap) {
    t->cap = cap > 0 ? cap : 1;
    t->slots = calloc((size_t)t->cap, sizeof *t->slots);
    if (!t->slots) return -1;
    pthread_mutex_init(&t->mu, NULL);
    return 0;
}

void conn_table_destroy(conn_table *t) {
    if (!t->slots) return;
    pthread_mutex_destroy(&t->mu);
    free(t->slots);
    t->slots = NULL;
}

static conn_slot *find_locked(conn_table *t, const char *addr) {
    for (int i = 0; i < t->cap; i++)
        if (t->slots[i].n > 0 && !strcmp(t->slots[i].addr, addr)) return &t->slots[i];
    return NULL;
}

int conn_table_admits(conn_table *t, const char *addr, int limit) {
    if (limit <= 0) return 1;
    pthread_mutex_lock(&t->mu);
    const conn_slot *s = find_locked(t, addr);
    const int ok = !s || s->n < limit;
    pthread_mutex_unlock(&t->mu);
    return ok;
}

conn_slot *conn_table_open(conn_table *t, const char *addr) {
    pthread_mutex_lock(&t->mu);
    conn_slot *s = find_locked(t, addr);
    for (int i = 0; !s && i < t->cap; i++)
        if (t->slots[i].n == 0) {
            s = &t->slots[i];
            snprintf(s->addr, sizeof s->addr, "%s", addr);
        }
    if (s) s->n++;
    pthread_mutex_unlock(&t->mu);
    return s;
}

void conn_table_close(conn_table *t, conn_slot *slot) {
    if (!slot) return;
    pthread_mutex_lock(&t->mu);
    if (slot->n > 0) slot->n--;
    pthread_mutex_unlock(&t->mu);
}
