#include "server/paths.h"

#include "sam2.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int path_is_under(const char *root_real, const char *real) {
    size_t n = strlen(root_real);
    if (n == 1 && root_real[0] == '/') return real[0] == '/';
    return !strncmp(real, root_real, n) && (real[n] == 0 || real[n] == '/');
}

int path_has_hidden_component(const char *rel) {
    for (const char *p = rel; *p;) {
        if (*p == '.') return 1;
        const char *slash = strchr(p, '/');
        if (!slash) break;
        p = slash + 1;
    }
    return 0;
}

int path_resolve_video(const char *data_real, const char *rel, char *out, size_t cap, int *is_dir,
                       sam2_error *err) {
    if (!rel || (strncmp(rel, "gallery/", 8) && strncmp(rel, "uploads/", 8)))
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "sessions open videos under gallery/ or uploads/ only");
    if (path_has_hidden_component(rel))
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "hidden files are not served");
    if (path_resolve_under(data_real, rel, out, cap, err))
        return err ? err->code : SAM2_ERR_ARGUMENT;
    /* Symlinks may not lead from the gallery into posters/ or elsewhere under DATA_PATH. */
    char area[PATH_MAX];
    snprintf(area, sizeof area, "%s/%.7s", data_real, rel);
    if (!path_is_under(area, out) || !strcmp(area, out))
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "sessions open videos under gallery/ or uploads/ only");
    struct stat st;
    if (stat(out, &st)) return sam2_fail(err, SAM2_ERR_IO, "no such file");
    *is_dir = S_ISDIR(st.st_mode);
    /* Uploads are single files; a folder of frames can only be a gallery entry. */
    if ((*is_dir && rel[0] == 'u') || (!*is_dir && !S_ISREG(st.st_mode)))
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "not a video file");
    return 0;
}

int path_resolve_under(const char *root_real, const char *rel, char *out, size_t cap,
                       sam2_error *err) {
    if (!rel || !*rel) return sam2_fail(err, SAM2_ERR_ARGUMENT, "empty path");
    if (rel[0] == '/' || rel[0] == '\\')
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "absolute paths are not allowed");
    /* Reject ".." components outright (even when they would stay inside the root). */
    for (const char *p = rel; *p;) {
        const char *e = p;
        while (*e && *e != '/') e++;
        if (e - p == 2 && p[0] == '.' && p[1] == '.')
            return sam2_fail(err, SAM2_ERR_ARGUMENT, "'..' is not allowed in paths");
        p = *e ? e + 1 : e;
    }
    char joined[PATH_MAX];
    if ((size_t)snprintf(joined, sizeof joined, "%s/%s", root_real, rel) >= sizeof joined)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "path too long");
    char real[PATH_MAX];
    if (!realpath(joined, real)) {
        if (errno == ENOENT || errno == ENOTDIR) return sam2_fail(err, SAM2_ERR_IO, "no such file");
        return sam2_fail(err, SAM2_ERR_IO, "cannot resolve path: %s", strerror(errno));
    }
    if (!path_is_under(root_real, real))
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "the path leads outside the data folder");
    if (strlen(real) >= cap) return sam2_fail(err, SAM2_ERR_ARGUMENT, "path too long");
    memcpy(out, real, strlen(real) + 1);
    return 0;
}

void path_scrub(char *msg, size_t cap, const char *what, const char *with) {
    size_t wl = strlen(what), rl = strlen(with);
    if (!wl || cap == 0) return;
    char *p = msg;
    while ((p = strstr(p, what))) {
        char tail[1024];
        snprintf(tail, sizeof tail, "%s", p + wl);
        snprintf(p, cap - (size_t)(p - msg), "%s%s", with, tail);
        if ((size_t)(p - msg) + rl >= cap) break;
        p += rl;
    }
}
