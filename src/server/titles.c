/* Display names of uploads (titles.h). */
#include "server/titles.h"

#include "sam2.h"
#include "app/atomic_file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIDECAR_MAX_BYTES 4096

/* Length of the valid UTF-8 character at s (1..4), 0 when invalid. */
static int utf8_len(const unsigned char *s) {
    int n;
    unsigned min;
    unsigned cp;
    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xe0) == 0xc0)
        n = 2, cp = s[0] & 0x1f, min = 0x80;
    else if ((s[0] & 0xf0) == 0xe0)
        n = 3, cp = s[0] & 0x0f, min = 0x800;
    else if ((s[0] & 0xf8) == 0xf0)
        n = 4, cp = s[0] & 0x07, min = 0x10000;
    else
        return 0;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

void title_clean(const char *filename, char *out, size_t cap) {
    if (!cap) return;
    out[0] = 0;
    if (!filename) return;
    const char *base = filename;
    for (const char *p = filename; *p; p++)
        if (*p == '/' || *p == '\\') base = p + 1;
    size_t n = 0;
    const size_t limit = cap - 1 < TITLE_MAX_BYTES ? cap - 1 : TITLE_MAX_BYTES;
    const unsigned char *p = (const unsigned char *)base;
    while (*p) {
        const int len = utf8_len(p);
        if (len == 0) {
            p++;
            continue;
        }
        if (len == 1 && (*p < 0x20 || *p == 0x7f)) {
            p++;
            continue;
        }
        if (len == 1 && *p == ' ' && n == 0) { /* leading spaces */
            p++;
            continue;
        }
        if (n + (size_t)len > limit) break;
        memcpy(out + n, p, (size_t)len);
        n += (size_t)len;
        p += len;
    }
    while (n > 0 && out[n - 1] == ' ') n--;
    out[n] = 0;
}

int title_is_upload_path(const char *path) {
    if (strncmp(path, "uploads/", 8)) return 0;
    const char *h = path + 8;
    for (int i = 0; i < 64; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f'))) return 0;
    return !strcmp(h + 64, ".mp4");
}

void title_of_model(const char *config_name, char *out, size_t cap) {
    static const char *const families[][2] = {{"sam2.1_hiera_", "SAM 2.1"},
                                              {"sam2_hiera_", "SAM 2"}};
    static const char *const sizes[][2] = {
        {"t", "tiny"}, {"s", "small"}, {"b+", "base+"}, {"l", "large"}};
    if (!cap) return;
    if (!strcmp(config_name, "edgetam")) {
        snprintf(out, cap, "EdgeTAM");
        return;
    }
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
        size_t n = strlen(families[f][0]);
        const char *size = config_name + n;
        if (strncmp(config_name, families[f][0], n) || !*size) continue;
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            if (!strcmp(size, sizes[i][0])) {
                size = sizes[i][1];
                break;
            }
        }
        snprintf(out, cap, "%s %s", families[f][1], size);
        return;
    }
    snprintf(out, cap, "%s", config_name);
}

static int sidecar_path(const char *data_real, const char *sha256, char *out, size_t cap) {
    return (size_t)snprintf(out, cap, "%s/uploads/.%.64s.json", data_real, sha256) < cap ? 0 : -1;
}

int title_store(const char *data_real, const char *sha256, const char *title, int width, int height,
                sam2_error *err) {
    char path[4200], tmp[4300], dir[4200];
    if (strlen(sha256) != 64 || sidecar_path(data_real, sha256, path, sizeof path))
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "a display name needs the upload's sha256");
    snprintf(dir, sizeof dir, "%s/uploads", data_real);
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "title", title) ||
        !cJSON_AddNumberToObject(o, "width", width) ||
        !cJSON_AddNumberToObject(o, "height", height)) {
        cJSON_Delete(o);
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    int rc = atomic_tmp_in_dir(dir, ".json", tmp, sizeof tmp, err);
    if (!rc) {
        FILE *f = fopen(tmp, "wb");
        const size_t len = strlen(text);
        if (!f || fwrite(text, 1, len, f) != len || fclose(f)) {
            const int e = errno;
            if (f) fclose(f);
            unlink(tmp);
            rc = sam2_fail(err, SAM2_ERR_IO, "cannot write the upload's display name: %s",
                           strerror(e));
        } else {
            rc = atomic_commit(tmp, path, err);
        }
    }
    cJSON_free(text);
    return rc;
}

int title_load(const char *data_real, const char *path, char *out, size_t cap, int *width,
               int *height) {
    if (cap) out[0] = 0;
    *width = *height = 0;
    if (!title_is_upload_path(path)) return 0;
    char file[4200];
    if (sidecar_path(data_real, path + 8, file, sizeof file)) return 0;
    const int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[SIDECAR_MAX_BYTES + 1];
    const ssize_t n = read(fd, buf, SIDECAR_MAX_BYTES);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    cJSON *o = cJSON_Parse(buf);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "title");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "width"),
                *h = cJSON_GetObjectItemCaseSensitive(o, "height");
    if (cJSON_IsString(t))
        title_clean(t->valuestring, out, cap); /* the file is ours, but clean it anyway */
    if (cJSON_IsNumber(w) && cJSON_IsNumber(h) && w->valueint > 0 && h->valueint > 0) {
        *width = w->valueint;
        *height = h->valueint;
    }
    cJSON_Delete(o);
    return 0;
}
