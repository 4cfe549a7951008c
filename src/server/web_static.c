/* GET / and the files of the sam2c web page (web/, built by `make web` into web/dist).
 *
 * The page's folder is the first of these that holds an index.html:
 *   1. $SAM2_WEB_DIR (when set, the only one looked at)
 *   2. <folder of the sam2 executable>/../share/sam2c/web   (an installed sam2)
 *   3. <source tree>/web/dist                               (a build tree)
 * Without one, GET / answers 404 with a short HTML page that says how to build it; the API is
 * not affected. Paths are resolved with path_resolve_under, so nothing outside the folder is
 * served; hashed files under assets/ are cacheable for good, everything else is revalidated. */
#include "server/http_routes.h"

#include "server/paths.h"
#include "app/process.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SAM2_SOURCE_DIR
#define SAM2_SOURCE_DIR ""
#endif

static int has_index(const char *dir, char *real_out) {
    char real[PATH_MAX], index[PATH_MAX + 16];
    if (!dir || !*dir || !realpath(dir, real)) return 0;
    snprintf(index, sizeof index, "%s/index.html", real);
    struct stat st;
    if (stat(index, &st) || !S_ISREG(st.st_mode)) return 0;
    snprintf(real_out, PATH_MAX, "%s", real);
    return 1;
}

/* Looked up on every request (a few stat calls), so a page built or installed while the server
 * runs is picked up, and SAM2_WEB_DIR can be changed by tests. web_root gets "" when none. */
static void find_web_root(char web_root[PATH_MAX]) {
    char candidate[PATH_MAX + 64], exe[PATH_MAX];
    const char *env = getenv("SAM2_WEB_DIR");
    if (env && *env) { /* an explicit folder wins, even one without a page (then: none) */
        if (!has_index(env, web_root)) web_root[0] = '\0';
        return;
    }
    if (process_executable_path(exe, sizeof exe) == 0) {
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        snprintf(candidate, sizeof candidate, "%s/../share/sam2c/web", exe);
        if (has_index(candidate, web_root)) return;
    }
    if (SAM2_SOURCE_DIR[0]) {
        snprintf(candidate, sizeof candidate, "%s/web/dist", SAM2_SOURCE_DIR);
        if (has_index(candidate, web_root)) return;
    }
    web_root[0] = '\0';
}

static const char *web_content_type(const char *path) {
    static const struct {
        const char *ext, *type;
    } TYPES[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
            if (!strcasecmp(dot, TYPES[i].ext)) return TYPES[i].type;
    return "application/octet-stream";
}

/* Routes the page owns: "/", "/index.html" and "/assets/...". The API routes and
 * "/export/..." are never claimed. */
int web_static_handles(const char *url) {
    return !strcmp(url, "/") || !strcmp(url, "/index.html") || !strncmp(url, "/assets/", 8);
}

static const char NOT_BUILT[] =
    "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>sam2c</title>"
    "<body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\">"
    "<h1>sam2c</h1><p>The web page is not installed with this sam2. Build it with "
    "<code>make web</code> (needs npm), install it with <code>cmake --install</code>, or point "
    "<code>SAM2_WEB_DIR</code> at a built <code>web/dist</code> folder.</p>"
    "<p>The demo API is served all the same: <code>POST /graphql</code>, "
    "<code>POST /propagate_in_video</code>.</p></body></html>";

enum MHD_Result web_static_serve(http_req *r, const char *url) {
    char web_root[PATH_MAX];
    find_web_root(web_root);
    if (!web_root[0])
        return http_send(r, 404, "text/html; charset=utf-8", NOT_BUILT, sizeof NOT_BUILT - 1);
    const char *rel = !strcmp(url, "/") ? "index.html" : url + 1;
    char file[PATH_MAX];
    if (path_resolve_under(web_root, rel, file, sizeof file, NULL))
        return http_error(r, 404, "resource not found");
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        return http_error(r, 404, "resource not found");
    }
    struct MHD_Response *resp =
        st.st_size > 0 ? MHD_create_response_from_fd((size_t)st.st_size, fd)
                       : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (st.st_size == 0) close(fd);
    if (!resp) {
        if (st.st_size > 0) close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", web_content_type(file));
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* Vite names assets by content hash: they never change under the same name. */
    MHD_add_response_header(resp, "Cache-Control",
                            !strncmp(url, "/assets/", 8) ? "public, max-age=31536000, immutable"
                                                         : "no-cache");
    return http_queue(r, 200, resp);
}
