/* libFuzzer target for src/server/client_addr.c: the TRUSTED_PROXIES list and X-Forwarded-For
 * values (outside input: any client sends the header). Input: 1 byte selecting the split, then
 * text cut into a proxy list and a header value. Checks: any list matches a peer without
 * crashing, an empty one trusts nobody; a forwarded address that parses comes back in canonical
 * form that parses to itself. */
#include "server/client_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok) {
    if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 4096) return 0;
    const size_t cut = size > 1 ? data[0] % size : 0;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    char *list = text, *xff = text + (cut < size - 1 ? cut : size - 1);
    char saved = *xff;
    *xff = 0; /* list = text[0, cut) */
    char bad[128];
    const int valid = client_addr_list_check(list, bad, sizeof bad) == 0;
    struct sockaddr_in a4 = {0};
    a4.sin_family = AF_INET;
    a4.sin_addr.s_addr = htonl(0x7f000001);
    struct sockaddr_in6 a6 = {0};
    a6.sin6_family = AF_INET6;
    a6.sin6_addr.s6_addr[15] = 1;
    const int t4 = client_addr_trusted(list, (struct sockaddr *)&a4);
    const int t6 = client_addr_trusted(list, (struct sockaddr *)&a6);
    check(t4 == 0 || t4 == 1);
    check(t6 == 0 || t6 == 1);
    if (!list[0]) check(valid && !t4 && !t6); /* an empty list is valid and trusts nobody */
    *xff = saved;
    char out[CLIENT_ADDR_MAX], again[CLIENT_ADDR_MAX];
    if (client_addr_forwarded(xff, out, sizeof out) == 0) {
        check(client_addr_forwarded(out, again, sizeof again) == 0);
        check(!strcmp(out, again));
    }
    free(text);
    return 0;
}
