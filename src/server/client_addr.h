/* Who a client is, for the per-client limits (MAX_CONNECTIONS_PER_IP, MAX_SESSIONS_PER_IP).
 *
 * Behind a reverse proxy (deploy/haproxy.cfg) every connection comes from the proxy, so its
 * address says nothing about the client. TRUSTED_PROXIES lists the proxies (addresses or CIDR
 * ranges); a request whose peer is one of them is counted against the address the proxy put last
 * in X-Forwarded-For (HAProxy's `option forwardfor` appends one header line per hop, so the last
 * element of the last line is the one the trusted proxy saw; anything before it was written by
 * the client and is ignored). A request from any other peer is counted against the peer, whatever
 * X-Forwarded-For it sends. */
#ifndef SAM2_SERVER_CLIENT_ADDR_H
#define SAM2_SERVER_CLIENT_ADDR_H

#include <pthread.h>
#include <stddef.h>
#include <sys/socket.h>

#define CLIENT_ADDR_MAX 64 /* an IPv6 address as text, with room to spare */

/* 0 when every comma-separated entry of `list` is an IPv4/IPv6 address or CIDR range ("" is
 * valid: no proxy); otherwise -1 and the first bad entry in `bad`. */
int client_addr_list_check(const char *list, char *bad, size_t cap);

/* 1 when the peer `sa` is in `list` (IPv4-mapped IPv6 peers match IPv4 entries). */
int client_addr_trusted(const char *list, const struct sockaddr *sa);

/* The peer as text ("" for an address family other than IPv4/IPv6). */
void client_addr_text(const struct sockaddr *sa, char *out, size_t cap);

/* The last comma-separated element of an X-Forwarded-For value, when it is an IPv4 or IPv6
 * address: 0 and the address in `out`; otherwise -1. */
int client_addr_forwarded(const char *xff, char *out, size_t cap);

/* Connections open per peer address, for MAX_CONNECTIONS_PER_IP (trusted proxies not counted:
 * they carry many clients; the proxy bounds each client's connections, deploy/haproxy.cfg). */
typedef struct conn_slot {
    char addr[CLIENT_ADDR_MAX];
    int n;
} conn_slot;

typedef struct conn_table {
    pthread_mutex_t mu;
    conn_slot *slots; /* one per connection the server may hold at once */
    int cap;
} conn_table;

int conn_table_init(conn_table *t, int cap);
void conn_table_destroy(conn_table *t);
/* 1 when `addr` holds fewer than `limit` connections (limit <= 0: always). */
int conn_table_admits(conn_table *t, const char *addr, int limit);
/* Counts a new connection of `addr`; returns its slot (for conn_table_close) or NULL when the
 * table is full (the connection is then not counted). */
conn_slot *conn_table_open(conn_table *t, const char *addr);
void conn_table_close(conn_table *t, conn_slot *slot);

#endif
