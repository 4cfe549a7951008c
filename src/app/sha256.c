#include "app/sha256.h"

#include <stdint.h>

void sam2_sha256_init(sam2_sha256 *s) {
    sha256_init(&s->ctx);
}

void sam2_sha256_update(sam2_sha256 *s, const void *data, size_t n) {
    /* nettle takes size_t lengths, but feed large buffers in slices anyway so a 32-bit size
     * type in an older nettle cannot truncate them. */
    const uint8_t *p = data;
    while (n > 0) {
        size_t step = n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n;
        sha256_update(&s->ctx, step, p);
        p += step;
        n -= step;
    }
}

void sam2_sha256_final_hex(sam2_sha256 *s, char out[65]) {
    static const char hex[] = "0123456789abcdef";
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_digest(&s->ctx, sizeof digest, digest);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[64] = 0;
}

void sam2_sha256_hex(const void *data, size_t n, char out[65]) {
    sam2_sha256 s;
    sam2_sha256_init(&s);
    sam2_sha256_update(&s, data, n);
    sam2_sha256_final_hex(&s, out);
}
