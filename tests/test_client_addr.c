/* server/client_addr.h: which proxies are trusted (addresses, CIDR ranges, IPv4-mapped peers),
 * which X-Forwarded-For element names the client, and connections counted per address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server/client_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const char *const PROXIES = "127.0.0.1, 10.1.0.0/16 ,192.168.7.128/25,::1,fd00:ab::/32";

static void test_list_check(void **state) {
    (void)state;
    static const struct {
        const char *list;
        const char *bad; /* NULL: valid */
    } cases[] = {
        {"", NULL},
        {PROXIES, NULL},
        {"0.0.0.0/0", NULL},
        {"::/0", NULL},
        {"127.0.0.1,", NULL},
        {"localhost", "localhost"},
        {"127.0.0.1,10.0.0.0/33", "10.0.0.0/33"},
        {"10.0.0.0/", "10.0.0.0/"},
        {"10.0.0.0/8x", "10.0.0.0/8x"},
        {"::1/129", "::1/129"},
        {"10.0.0.0/-1", "10.0.0.0/-1"},
        {"1.2.3", "1.2.3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char bad[128] = "";
        const int rc = client_addr_list_check(cases[i].list, bad, sizeof bad);
        if (!cases[i].bad) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, -1);
            assert_string_equal(bad, cases[i].bad);
        }
    }
}

static int trusted4(const char *list, const char *ip) {
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return client_addr_trusted(list, (struct sockaddr *)&a);
}

static int trusted6(const char *list, const char *ip) {
    struct sockaddr_in6 a = {0};
    a.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
    return client_addr_trusted(list, (struct sockaddr *)&a);
}

static void test_trusted(void **state) {
    (void)state;
    static const struct {
        int v6;
        const char *peer;
        int trusted;
    } cases[] = {
        {0, "127.0.0.1", 1},
        {0, "127.0.0.2", 0},
        {0, "10.1.255.3", 1},
        {0, "10.2.0.1", 0},
        {0, "192.168.7.128", 1},
        {0, "192.168.7.255", 1},
        {0, "192.168.7.127", 0},
        {1, "::1", 1},
        {1, "::2", 0},
        {1, "::ffff:127.0.0.1", 1}, /* an IPv4 client of an IPv6 listener */
        {1, "::ffff:10.1.0.9", 1},
        {1, "::ffff:10.3.0.9", 0},
        {1, "fd00:ab:1::5", 1},
        {1, "fd00:ac::5", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int got =
            cases[i].v6 ? trusted6(PROXIES, cases[i].peer) : trusted4(PROXIES, cases[i].peer);
        if (got != cases[i].trusted)
            fail_msg("%s: trusted %d, expected %d", cases[i].peer, got, cases[i].trusted);
    }
    assert_false(trusted4("", "127.0.0.1"));
    assert_false(client_addr_trusted(PROXIES, NULL));
    assert_true(trusted4("0.0.0.0/0", "203.0.113.9"));
}

static void test_forwarded(void **state) {
    (void)state;
    static const struct {
        const char *xff;
        const char *client; /* NULL: no usable address */
    } cases[] = {
        {"203.0.113.9", "203.0.113.9"},
        /* The client wrote the first element; the proxy appended the last. */
        {"1.1.1.1, 203.0.113.9", "203.0.113.9"},
        {"  1.1.1.1 ,203.0.113.9  ", "203.0.113.9"},
        {"2001:DB8::0:1", "2001:db8::1"},
        {"1.1.1.1, unknown", NULL},
        {"203.0.113.9:4711", NULL},
        {"", NULL},
        {"1.1.1.1,", NULL},
        {NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[CLIENT_ADDR_MAX] = "";
        const int rc = client_addr_forwarded(cases[i].xff, out, sizeof out);
        if (!cases[i].client) {
            assert_int_equal(rc, -1);
        } else {
            assert_int_equal(rc, 0);
            assert_string_equal(out, cases[i].client);
        }
    }
}

static void test_text(void **state) {
    (void)state;
    struct sockaddr_in6 a = {0};
    a.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.1", &a.sin6_addr), 1);
    char out[CLIENT_ADDR_MAX];
    client_addr_text((struct sockaddr *)&a, out, sizeof out);
    assert_string_equal(out, "192.0.2.1"); /* one client, one key, whichever listener it used */
    client_addr_text(NULL, out, sizeof out);
    assert_string_equal(out, "");
}

static void test_conn_table(void **state) {
    (void)state;
    conn_table t;
    assert_int_equal(conn_table_init(&t, 3), 0);
    assert_true(conn_table_admits(&t, "a", 2));
    conn_slot *a1 = conn_table_open(&t, "a");
    assert_true(conn_table_admits(&t, "a", 2));
    conn_slot *a2 = conn_table_open(&t, "a");
    assert_ptr_equal(a1, a2);
    assert_false(conn_table_admits(&t, "a", 2));
    assert_true(conn_table_admits(&t, "a", 0)); /* no bound */
    assert_true(conn_table_admits(&t, "b", 2));
    conn_slot *b = conn_table_open(&t, "b");
    conn_slot *c = conn_table_open(&t, "c");
    assert_non_null(b);
    assert_non_null(c);
    assert_null(conn_table_open(&t, "d")); /* full: not counted, never a crash */
    conn_table_close(&t, NULL);
    conn_table_close(&t, a1);
    assert_true(conn_table_admits(&t, "a", 2));
    conn_table_close(&t, a2);
    conn_table_close(&t, b);
    /* Freed slots are reused by other addresses. */
    conn_slot *d = conn_table_open(&t, "d");
    assert_non_null(d);
    assert_string_equal(d->addr, "d");
    conn_table_close(&t, d);
    conn_table_close(&t, c);
    conn_table_destroy(&t);
    conn_table_destroy(&t); /* twice is harmless */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_check), cmocka_unit_test(test_trusted),
        cmocka_unit_test(test_forwarded),  cmocka_unit_test(test_text),
        cmocka_unit_test(test_conn_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
