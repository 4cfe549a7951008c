/* libFuzzer target: the streaming multipart/form-data parser and the GraphQL multipart request
 * assembly (operations, map, file parts) with files counted, not stored. Input: a boundary
 * length byte, the boundary, a chunking byte, then the body, fed in chunks of varying size. */
#include "server/upload.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    size_t blen = data[0] % 80;
    if (size < 2 + blen) return 0;
    char ctype[160];
    snprintf(ctype, sizeof ctype, "multipart/form-data; boundary=\"%.*s\"", (int)blen,
             (const char *)data + 1);
    unsigned chunk = data[1 + blen] ? data[1 + blen] : 1;
    const char *body = (const char *)data + 2 + blen;
    size_t len = size - 2 - blen;
    char msg[256];
    upload_req *u = upload_new(ctype, NULL, 1 << 16, 1 << 20, 5000, msg, sizeof msg);
    if (!u) return 0;
    int rc = 0;
    for (size_t off = 0; off < len && !rc; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        rc = upload_feed(u, body + off, n);
        chunk = chunk * 7 % 251 + 1; /* vary the piece size */
    }
    if (!rc && !upload_finish(u)) {
        cJSON *ops = upload_operations(u);
        cJSON *vars = cJSON_GetObjectItemCaseSensitive(ops, "variables");
        for (cJSON *v = vars ? vars->child : NULL; v; v = v->next) (void)upload_index_of(u, v);
        int n;
        (void)upload_files(u, &n);
    } else {
        (void)upload_error(u);
        (void)upload_status(u);
    }
    upload_free(u);
    return 0;
}
