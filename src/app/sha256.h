/* SHA-256 (nettle) as lowercase hex: the form the golden data and the upload store use. */
#ifndef SAM2_APP_SHA256_H
#define SAM2_APP_SHA256_H

#include <nettle/sha2.h>
#include <stddef.h>

typedef struct sam2_sha256 {
    struct sha256_ctx ctx;
} sam2_sha256;

void sam2_sha256_init(sam2_sha256 *s);
void sam2_sha256_update(sam2_sha256 *s, const void *data, size_t n);
/* Writes 64 hex digits and a NUL; the context must be re-initialised before reuse. */
void sam2_sha256_final_hex(sam2_sha256 *s, char out[65]);

/* One-shot digest of n bytes. */
void sam2_sha256_hex(const void *data, size_t n, char out[65]);

#endif
