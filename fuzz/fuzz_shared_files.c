/* libFuzzer target for what replicas sharing a DATA_PATH read from each other's files: the owner
 * "<host>.<pid>" of a temporary or claim file (app/atomic_file.h, app/file_once.h) and an upload
 * record "<sha256> <width> <height>" (server/ingest.h). Input: a mode byte (even: owner, odd:
 * record), then the text. */
#include "app/atomic_file.h"
#include "server/ingest.h"

#include <stdlib.h>
#include <string.h>

static void check(int ok) {
    if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    if (data[0] % 2 == 0) {
        char host[64];
        long pid = 0;
        if (sam2_parse_owner(text, host, sizeof host, &pid) == 0) {
            check(host[0] && !strchr(host, '.') && strlen(host) < sizeof host && pid > 0 &&
                  pid <= 2147483647L);
            check(!strncmp(text, host, strlen(host)) && text[strlen(host)] == '.');
        }
    } else {
        ingest_result r;
        if (ingest_parse_record(text, &r) == 0) {
            check(strlen(r.sha256) == 64 && r.width > 0 && r.height > 0);
            for (int i = 0; i < 64; i++) check(strchr("0123456789abcdef", r.sha256[i]) != NULL);
        }
    }
    free(text);
    return 0;
}
