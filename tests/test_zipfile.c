/* The zip layer on archives assembled byte by byte: zip64 records (as writers use for files over
 * 4 GiB), an archive comment, local headers with alignment padding, a deflated entry, and
 * directories that disagree with their local headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/zipfile.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct zb {
    uint8_t p[4096];
    size_t n;
} zb;

static void u16(zb *z, unsigned v) {
    z->p[z->n++] = (uint8_t)v;
    z->p[z->n++] = (uint8_t)(v >> 8);
}
static void u32(zb *z, uint32_t v) {
    u16(z, v & 0xffff);
    u16(z, v >> 16);
}
static void u64(zb *z, uint64_t v) {
    u32(z, (uint32_t)v);
    u32(z, (uint32_t)(v >> 32));
}
static void bytes(zb *z, const void *d, size_t n) {
    memcpy(z->p + z->n, d, n);
    z->n += n;
}

typedef struct entry {
    const char *name;
    const uint8_t *data; /* as stored */
    size_t stored, size;
    uint32_t crc;
    int method;
    unsigned pad; /* extra-field bytes in the local header */
    uint32_t offset;
} entry;

static void local_header(zb *z, entry *e) {
    e->offset = (uint32_t)z->n;
    u32(z, 0x04034b50u);
    u16(z, 45), u16(z, 0), u16(z, (unsigned)e->method), u16(z, 0), u16(z, 0);
    u32(z, e->crc), u32(z, (uint32_t)e->stored), u32(z, (uint32_t)e->size);
    u16(z, (unsigned)strlen(e->name)), u16(z, e->pad);
    bytes(z, e->name, strlen(e->name));
    if (e->pad) { /* an unknown extra field, as torch.save pads to 64-byte alignment */
        u16(z, 0x4246), u16(z, e->pad - 4);
        memset(z->p + z->n, 'Z', e->pad - 4);
        z->n += e->pad - 4;
    }
    bytes(z, e->data, e->stored);
}

/* Central record; with zip64 the three 32-bit fields are saturated and given in an extra. */
static void central(zb *z, const entry *e, int zip64) {
    u32(z, 0x02014b50u);
    u16(z, 45), u16(z, 45), u16(z, 0), u16(z, (unsigned)e->method), u16(z, 0), u16(z, 0);
    u32(z, e->crc);
    u32(z, zip64 ? 0xffffffffu : (uint32_t)e->stored);
    u32(z, zip64 ? 0xffffffffu : (uint32_t)e->size);
    u16(z, (unsigned)strlen(e->name)), u16(z, zip64 ? 28 : 0), u16(z, 0), u16(z, 0), u16(z, 0);
    u32(z, 0);
    u32(z, zip64 ? 0xffffffffu : e->offset);
    bytes(z, e->name, strlen(e->name));
    if (zip64) {
        u16(z, 1), u16(z, 24);
        u64(z, e->size), u64(z, e->stored), u64(z, e->offset);
    }
}

static size_t build(zb *z, entry *es, int n, int zip64, const char *comment) {
    z->n = 0;
    for (int i = 0; i < n; i++) local_header(z, &es[i]);
    uint32_t cd = (uint32_t)z->n;
    for (int i = 0; i < n; i++) central(z, &es[i], zip64);
    uint32_t cd_size = (uint32_t)z->n - cd;
    if (zip64) {
        uint64_t rec = z->n;
        u32(z, 0x06064b50u), u64(z, 44), u16(z, 45), u16(z, 45), u32(z, 0), u32(z, 0);
        u64(z, (uint64_t)n), u64(z, (uint64_t)n), u64(z, cd_size), u64(z, cd);
        u32(z, 0x07064b50u), u32(z, 0), u64(z, rec), u32(z, 1);
    }
    u32(z, 0x06054b50u), u16(z, 0), u16(z, 0);
    u16(z, zip64 ? 0xffff : (unsigned)n), u16(z, zip64 ? 0xffff : (unsigned)n);
    u32(z, zip64 ? 0xffffffffu : cd_size), u32(z, zip64 ? 0xffffffffu : cd);
    u16(z, (unsigned)strlen(comment));
    bytes(z, comment, strlen(comment));
    return z->n;
}

static const char TEXT[] = "the quick brown fox jumps over the lazy dog, again and again and again";
static uint8_t deflated[256];
static entry ENTRIES[3];

static void make_entries(void) {
    static const float floats[4] = {1.0f, -2.5f, 3.25f, 0.0f};
    uLong crc0 = crc32(0, Z_NULL, 0);
    ENTRIES[0] = (entry){"a/data/0", (const uint8_t *)floats, 16, 16, 0, 0, 40, 0};
    ENTRIES[0].crc = (uint32_t)crc32(crc0, (const Bytef *)floats, 16);
    /* raw deflate of TEXT */
    z_stream s = {0};
    assert_int_equal(deflateInit2(&s, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    s.next_in = (Bytef *)TEXT;
    s.avail_in = sizeof TEXT - 1;
    s.next_out = deflated;
    s.avail_out = sizeof deflated;
    assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
    ENTRIES[1] = (entry){"a/data.pkl", deflated, s.total_out, sizeof TEXT - 1, 0, 8, 0, 0};
    ENTRIES[1].crc = (uint32_t)crc32(crc0, (const Bytef *)TEXT, sizeof TEXT - 1);
    deflateEnd(&s);
    ENTRIES[2] = (entry){"a/version", (const uint8_t *)"3\n", 2, 2, 0, 0, 0, 0};
    ENTRIES[2].crc = (uint32_t)crc32(crc0, (const Bytef *)"3\n", 2);
}

static void check_archive(const uint8_t *d, size_t n) {
    sam2_error err = {0};
    zipf *z = zipf_open(d, n, &err);
    if (!z) fail_msg("%s", err.message);
    assert_int_equal(zipf_count(z), 3);
    int i = zipf_find(z, "a/data/0");
    assert_int_equal(i, 0);
    const uint8_t *p = zipf_stored_data(z, i, &err);
    assert_non_null(p);
    assert_ptr_equal(p, d + ENTRIES[0].offset + 30 + strlen("a/data/0") + 40);
    float f[4];
    memcpy(f, p, 16);
    assert_true(f[1] == -2.5f);
    assert_int_equal(zipf_check_crc(z, i, &err), 0);

    i = zipf_find(z, "a/data.pkl");
    assert_int_equal(i, 1);
    assert_null(zipf_stored_data(z, i, &err));
    assert_non_null(strstr(err.message, "compressed (method 8)"));
    uint8_t *text;
    size_t len;
    assert_int_equal(zipf_read(z, i, 1000, &text, &len, &err), 0);
    assert_int_equal(len, sizeof TEXT - 1);
    assert_memory_equal(text, TEXT, len);
    assert_int_equal(text[len], 0);
    free(text);
    assert_int_equal(zipf_read(z, i, 10, &text, &len, &err), SAM2_ERR_LIMIT);
    assert_int_equal(zipf_find(z, "a/missing"), -1);
    assert_int_equal(zipf_find(z, "a/version"), 2);
    zipf_close(z);
}

static void test_plain_and_zip64(void **state) {
    (void)state;
    make_entries();
    static zb z;
    check_archive(z.p, build(&z, ENTRIES, 3, 0, ""));
    check_archive(z.p, build(&z, ENTRIES, 3, 0, "an archive comment"));
    check_archive(z.p, build(&z, ENTRIES, 3, 1, ""));
}

static void expect_refused(const uint8_t *d, size_t n, const char *message) {
    sam2_error err = {0};
    zipf *z = zipf_open(d, n, &err);
    if (z) {
        zipf_close(z);
        fail_msg("accepted, expected '%s'", message);
    }
    if (!strstr(err.message, message)) fail_msg("got '%s', expected '%s'", err.message, message);
}

static void test_broken(void **state) {
    (void)state;
    make_entries();
    static zb z;
    size_t n = build(&z, ENTRIES, 3, 0, "");
    expect_refused(z.p, 10, "libzip");
    expect_refused(z.p, n - 1, "libzip");
    static uint8_t copy[4096];
    /* A local header whose name differs from the directory's. */
    memcpy(copy, z.p, n);
    copy[ENTRIES[2].offset + 30] = 'b';
    expect_refused(copy, n, "libzip: Zip archive inconsistent");
    /* A flipped byte inside the deflated entry: found when it is read (libzip's CRC). */
    memcpy(copy, z.p, n);
    copy[ENTRIES[1].offset + 30 + strlen("a/data.pkl") + 3] ^= 0x20;
    sam2_error err = {0};
    zipf *zf = zipf_open(copy, n, &err);
    if (zf) {
        uint8_t *text;
        size_t len;
        assert_int_not_equal(zipf_read(zf, 1, 1000, &text, &len, &err), 0);
        assert_non_null(strstr(err.message, "a/data.pkl"));
        zipf_close(zf);
    }
    /* A flipped byte in stored data: found by our CRC check. */
    memcpy(copy, z.p, n);
    copy[ENTRIES[0].offset + 30 + strlen("a/data/0") + 40 + 5] ^= 0x01;
    zf = zipf_open(copy, n, &err);
    assert_non_null(zf);
    assert_int_equal(zipf_check_crc(zf, 0, &err), SAM2_ERR_FORMAT);
    assert_non_null(strstr(err.message, "CRC-32"));
    zipf_close(zf);
    /* Two entries with one name. */
    entry twice[2] = {ENTRIES[0], ENTRIES[0]};
    n = build(&z, twice, 2, 0, "");
    expect_refused(z.p, n, "libzip: File already exists"); /* libzip refuses it first */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_zip64),
        cmocka_unit_test(test_broken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
