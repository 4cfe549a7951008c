/* libFuzzer target for `sam2 segment --mask-input FILE.npy` (src/cli/mask_input.c,
 * mask_input_parse_npy): a NumPy file of low-resolution logits. Input: 1 byte choosing the
 * side L (1 to 64; 64 is the side of the 256 px test model's logits, 256 the real models'),
 * then the file. Checks: a parse either fails with a message and no output, or gives L x L
 * floats copied from the bytes after the header. */
#include "cli/mask_input.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok) {
    if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > (1 << 20)) return 0;
    const int L = data[0] % 64 + 1;
    sam2_error err = {0};
    float sentinel = 0, *logits = &sentinel; /* the parser clears it first */
    const int rc = mask_input_parse_npy("fuzz.npy", data + 1, (long)(size - 1), L, &logits, &err);
    if (rc) {
        check(logits == NULL && err.code != 0 && err.message[0]);
        return 0;
    }
    check(logits != NULL && err.code == 0);
    /* The floats are a copy of the data after the header (C order, little-endian, as on this
     * host): version 1 has a 2-byte header length at 8, versions 2 and 3 a 4-byte one. */
    const uint8_t *b = data + 1;
    const size_t hlen =
        b[6] == 1 ? (size_t)(b[8] | b[9] << 8)
                  : (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    const size_t at = (b[6] == 1 ? 10 : 12) + hlen;
    check(at + sizeof(float) * (size_t)L * L <= size - 1);
    check(!memcmp(b + at, logits, sizeof(float) * (size_t)L * L));
    free(logits);
    return 0;
}
