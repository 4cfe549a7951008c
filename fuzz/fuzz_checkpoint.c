/* libFuzzer target for the checkpoint loader.
 *
 * Input starting with "PK" is the whole checkpoint file (zip container, directory, local
 * headers). Anything else is taken as the data.pkl pickle and wrapped in a valid zip with a few
 * storages first: mutating a pickle inside a zip would only ever hit the CRC check, so this is
 * what lets the fuzzer reach the unpickler and the state-dict checks. Either way the checkpoint
 * is then used as a caller would: every tensor read, CRCs verified, presets matched. */
#include "input_file.h"
#include "io/checkpoint.h"
#include "io/model_weights.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct zbuf {
    uint8_t *p;
    size_t n;
} zbuf;

static void put16(zbuf *z, unsigned v) {
    z->p[z->n++] = (uint8_t)v;
    z->p[z->n++] = (uint8_t)(v >> 8);
}
static void put32(zbuf *z, uint32_t v) {
    put16(z, v & 0xffff);
    put16(z, v >> 16);
}
static void put(zbuf *z, const void *d, size_t n) {
    memcpy(z->p + z->n, d, n);
    z->n += n;
}

/* A stored-only zip of `count` entries (no compression, no extra fields). */
static uint8_t *make_zip(const char **names, const uint8_t **datas, const size_t *sizes, int count,
                         size_t *out_n) {
    size_t total = 22;
    for (int i = 0; i < count; i++) total += 30 + 46 + 2 * strlen(names[i]) + sizes[i];
    zbuf z = {malloc(total), 0};
    if (!z.p) return NULL;
    uint32_t offsets[16], crcs[16];
    for (int i = 0; i < count; i++) {
        offsets[i] = (uint32_t)z.n;
        crcs[i] = (uint32_t)crc32(crc32(0, Z_NULL, 0), datas[i], (uInt)sizes[i]);
        put32(&z, 0x04034b50u);
        put16(&z, 20), put16(&z, 0), put16(&z, 0), put16(&z, 0), put16(&z, 0);
        put32(&z, crcs[i]), put32(&z, (uint32_t)sizes[i]), put32(&z, (uint32_t)sizes[i]);
        put16(&z, (unsigned)strlen(names[i])), put16(&z, 0);
        put(&z, names[i], strlen(names[i]));
        put(&z, datas[i], sizes[i]);
    }
    uint32_t cd = (uint32_t)z.n;
    for (int i = 0; i < count; i++) {
        put32(&z, 0x02014b50u);
        put16(&z, 20), put16(&z, 20), put16(&z, 0), put16(&z, 0), put16(&z, 0), put16(&z, 0);
        put32(&z, crcs[i]), put32(&z, (uint32_t)sizes[i]), put32(&z, (uint32_t)sizes[i]);
        put16(&z, (unsigned)strlen(names[i])), put16(&z, 0), put16(&z, 0), put16(&z, 0);
        put16(&z, 0), put32(&z, 0), put32(&z, offsets[i]);
        put(&z, names[i], strlen(names[i]));
    }
    uint32_t cd_size = (uint32_t)z.n - cd;
    put32(&z, 0x06054b50u);
    put16(&z, 0), put16(&z, 0), put16(&z, (unsigned)count), put16(&z, (unsigned)count);
    put32(&z, cd_size), put32(&z, cd), put16(&z, 0);
    *out_n = z.n;
    return z.p;
}

/* The storages the seed pickles refer to (keys 0, 1, 2: float32 x24, float16 x6, bfloat16 x5),
 * and a few more of 256 bytes. */
static uint8_t *wrap_pickle(const uint8_t *pkl, size_t n, size_t *out_n) {
    static uint8_t storage[256];
    for (int i = 0; i < 256; i++) storage[i] = (uint8_t)(i * 37);
    const char *names[] = {"archive/data.pkl", "archive/data/0", "archive/data/1", "archive/data/2",
                           "archive/data/3",   "archive/data/4", "archive/version"};
    const uint8_t *datas[] = {
        pkl, storage, storage, storage, storage, storage, (const uint8_t *)"3\n"};
    const size_t sizes[] = {n, 96, 12, 10, 256, 256, 2};
    return make_zip(names, datas, sizes, 7, out_n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *wrapped = NULL;
    if (size < 2 || data[0] != 'P' || data[1] != 'K') {
        wrapped = wrap_pickle(data, size, &size);
        if (!wrapped) return 0;
        data = wrapped;
    }
    const char *path = fuzz_input_file(data, size);
    sam2_error err;
    ckpt *ck = path ? ckpt_open(path, &err) : NULL;
    if (ck) {
        float buf[64];
        for (int i = 0; i < ckpt_num_tensors(ck); i++) {
            const ckpt_tensor *t = ckpt_tensor_at(ck, i);
            int64_t n = t->numel < 64 ? t->numel : 64;
            ckpt_tensor_read_f32(t, 0, n, buf);            /* the first elements */
            ckpt_tensor_read_f32(t, t->numel - n, n, buf); /* and the last */
            if (t->numel <= 64) ckpt_tensor_f32(t, buf);
        }
        ckpt_verify(ck, &err);
        sam2_config cfg;
        sam2_weights_detect(ck, &cfg, &err);
        ckpt_close(ck);
    }
    free(wrapped);
    return 0;
}
