/* GET/HEAD of gallery/, posters/ and uploads/ under DATA_PATH: always with Content-Length (the
 * official frontend stalls on a chunked video), single-range requests (206 / 416), content types
 * by extension, Last-Modified. Paths with "..", hidden components or symlinks leaving DATA_PATH
 * are answered 404, like files that do not exist. */
#include "server/http_routes.h"

#include "server/http_range.h"
#include "server/paths.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *content_type_of(const char *path) {
    static const struct {
        const char *ext, *type;
    } TYPES[] = {
        {".mp4", "video/mp4"},
        {".m4v", "video/mp4"},
        {".mov", "video/quicktime"},
        {".webm", "video/webm"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".png", "image/png"},
        {".gif", "image/gif"},
        {".webp", "image/webp"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
            if (!strcasecmp(dot, TYPES[i].ext)) return TYPES[i].type;
    return "application/octet-stream";
}

static void http_date(time_t t, char *buf, size_t cap) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

enum MHD_Result static_serve(http_req *r, const char *root, const char *rel) {
    server *s = r->srv;
    char root_path[PATH_MAX], root_real[PATH_MAX], file[PATH_MAX];
    snprintf(root_path, sizeof root_path, "%s/%s", s->data_real, root);
    if (!realpath(root_path, root_real) || !path_is_under(s->data_real, root_real) ||
        path_has_hidden_component(rel) ||
        path_resolve_under(root_real, rel, file, sizeof file, NULL))
        return http_error(r, 404, "resource not found");
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        return http_error(r, 404, "resource not found");
    }
    unsigned long long size = (unsigned long long)st.st_size, first = 0, last = size ? size - 1 : 0;
    char modified[64];
    http_date(st.st_mtime, modified, sizeof modified);
    const char *range = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Range");
    const char *if_range = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "If-Range");
    int partial = 0;
    if (range && (!if_range || !strcmp(if_range, modified))) {
        partial = http_parse_range(range, size, &first, &last);
        if (partial < 0) {
            close(fd);
            struct MHD_Response *resp =
                MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
            if (!resp) return MHD_NO;
            char cr[64];
            snprintf(cr, sizeof cr, "bytes */%llu", size);
            MHD_add_response_header(resp, "Content-Range", cr);
            MHD_add_response_header(resp, "Accept-Ranges", "bytes");
            return http_queue(r, 416, resp);
        }
    }
    unsigned long long len = partial ? last - first + 1 : size;
    struct MHD_Response *resp;
    if (len == 0) {
        close(fd);
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        /* MHD owns the descriptor from here (closed when the response is destroyed). */
        resp = MHD_create_response_from_fd_at_offset64(len, fd, partial ? first : 0);
        if (!resp) close(fd);
    }
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", content_type_of(file));
    MHD_add_response_header(resp, "Accept-Ranges", "bytes");
    MHD_add_response_header(resp, "Last-Modified", modified);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    if (partial) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", first, last, size);
        MHD_add_response_header(resp, "Content-Range", cr);
    }
    return http_queue(r, partial ? 206 : 200, resp);
}
