#include "server/upload.h"

#include "server/json_body.h"
#include "server/multipart.h"
#include "server/strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UPLOAD_MAX_FILES 8
#define UPLOAD_MAX_PLACEHOLDERS 64

enum { PART_NONE, PART_OPERATIONS, PART_MAP, PART_FILE, PART_IGNORED };

struct upload_req {
    multipart_parser *mp;
    const char *tmp_dir;
    size_t max_field, max_total, max_values;
    size_t total;
    int part; /* what the current part is */
    int fd;   /* current file part */
    strbuf operations, map;
    int have_operations, have_map;
    upload_file files[UPLOAD_MAX_FILES];
    char names[UPLOAD_MAX_FILES][256];
    int n_files;
    cJSON *ops;
    const cJSON *placeholders[UPLOAD_MAX_PLACEHOLDERS];
    int placeholder_file[UPLOAD_MAX_PLACEHOLDERS];
    int n_placeholders;
    char error[300];
    int status;
};

static int set_error(upload_req *u, int status, const char *fmt, const char *arg) {
    if (!u->error[0]) {
        snprintf(u->error, sizeof u->error, fmt, arg);
        u->status = status;
    }
    return -1;
}

/* A full disk is the operator's problem, not a bug: 507 Insufficient Storage says so. */
static int store_error(upload_req *u, int e) {
    if (e == ENOSPC || e == EDQUOT)
        return set_error(u, 507,
                         "The server has no room left to store the upload (%s); try again later",
                         strerror(e));
    return set_error(u, 500, "cannot store the upload: %s", strerror(e));
}

static int on_begin(void *user, const char *name, const char *filename, const char *ctype) {
    upload_req *u = user;
    u->fd = -1;
    if (!strcmp(name, "operations")) {
        if (u->have_operations)
            return set_error(u, 400, "the multipart request has two 'operations' fields%s", "");
        u->part = PART_OPERATIONS;
        u->have_operations = 1;
        return 0;
    }
    if (!strcmp(name, "map")) {
        if (u->have_map)
            return set_error(u, 400, "the multipart request has two 'map' fields%s", "");
        u->part = PART_MAP;
        u->have_map = 1;
        return 0;
    }
    if (!filename) {
        u->part = PART_IGNORED;
        return 0;
    }
    if (u->n_files >= UPLOAD_MAX_FILES)
        return set_error(u, 400, "too many files in one request (at most 8)%s", "");
    for (int i = 0; i < u->n_files; i++)
        if (!strcmp(u->names[i], name))
            return set_error(u, 400, "two file parts are named '%.100s'", name);
    upload_file *f = &u->files[u->n_files];
    memset(f, 0, sizeof *f);
    snprintf(u->names[u->n_files], sizeof u->names[0], "%s", name);
    snprintf(f->filename, sizeof f->filename, "%s", filename);
    snprintf(f->content_type, sizeof f->content_type, "%s",
             ctype ? ctype : "application/octet-stream");
    if (u->tmp_dir) {
        /* The pid in the name lets a later server remove what a killed one left behind. */
        snprintf(f->path, sizeof f->path, "%s/" UPLOAD_STAGING_PREFIX "%ld-XXXXXX", u->tmp_dir,
                 (long)getpid());
        u->fd = mkstemp(f->path);
        if (u->fd < 0) {
            int e = errno;
            f->path[0] = 0;
            return store_error(u, e);
        }
    }
    u->n_files++;
    u->part = PART_FILE;
    return 0;
}

static int on_data(void *user, const char *data, size_t n) {
    upload_req *u = user;
    u->total += n;
    if (u->total > u->max_total)
        return set_error(u, 413, "The upload is larger than the server accepts (MAX_UPLOAD_MB)%s",
                         "");
    switch (u->part) {
    case PART_OPERATIONS:
    case PART_MAP: {
        strbuf *sb = u->part == PART_OPERATIONS ? &u->operations : &u->map;
        if (sb->len + n > u->max_field)
            return set_error(u, 413, "the '%s' field is larger than the body limit (MAX_BODY_MB)",
                             u->part == PART_OPERATIONS ? "operations" : "map");
        sb_append(sb, data, n);
        return sb->failed ? set_error(u, 500, "out of memory%s", "") : 0;
    }
    case PART_FILE: {
        upload_file *f = &u->files[u->n_files - 1];
        f->size += n;
        while (u->fd >= 0 && n > 0) {
            ssize_t w = write(u->fd, data, n);
            if (w < 0) {
                if (errno == EINTR) continue;
                return store_error(u, errno);
            }
            data += w;
            n -= (size_t)w;
        }
        return 0;
    }
    default:
        return 0;
    }
}

static int on_end(void *user) {
    upload_req *u = user;
    if (u->fd >= 0) {
        if (close(u->fd)) {
            int e = errno;
            u->fd = -1;
            return store_error(u, e);
        }
        u->fd = -1;
    }
    u->part = PART_NONE;
    return 0;
}

upload_req *upload_new(const char *content_type, const char *tmp_dir, size_t max_field_bytes,
                       size_t max_total_bytes, size_t max_json_values, char *msg, size_t cap) {
    upload_req *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(msg, cap, "out of memory");
        return NULL;
    }
    u->tmp_dir = tmp_dir;
    u->max_field = max_field_bytes;
    u->max_total = max_total_bytes;
    u->max_values = max_json_values;
    u->fd = -1;
    sb_init(&u->operations);
    sb_init(&u->map);
    mp_callbacks cb = {on_begin, on_data, on_end};
    u->mp = mp_new(content_type, &cb, u, msg, cap);
    if (!u->mp) {
        free(u);
        return NULL;
    }
    return u;
}

int upload_feed(upload_req *u, const char *data, size_t n) {
    if (u->error[0]) return -1;
    if (mp_feed(u->mp, data, n)) {
        if (!mp_aborted(u->mp)) set_error(u, 400, "malformed multipart body: %s", mp_error(u->mp));
        return -1;
    }
    return 0;
}

/* Replaces the value at a map path ("variables.file", "variables.files.0") by a placeholder. */
static int place(upload_req *u, const char *path, int file) {
    char buf[512];
    if (strlen(path) >= sizeof buf) return set_error(u, 400, "a map path is too long%s", "");
    snprintf(buf, sizeof buf, "%s", path);
    if (strncmp(buf, "variables.", 10))
        return set_error(u, 400, "map path '%.100s' must start with 'variables.'", path);
    cJSON *node = u->ops;
    char *save = NULL;
    char *seg = strtok_r(buf, ".", &save);
    while (seg) {
        char *next = strtok_r(NULL, ".", &save);
        cJSON *child = NULL;
        int index = -1;
        if (cJSON_IsArray(node)) {
            char *end;
            long i = strtol(seg, &end, 10);
            if (*end || i < 0 || i >= cJSON_GetArraySize(node))
                return set_error(u, 400, "map path '%.100s' does not exist in operations", path);
            index = (int)i;
            child = cJSON_GetArrayItem(node, index);
        } else if (cJSON_IsObject(node)) {
            /* Relay sends {} for a file variable; a missing last key is created below. */
            child = cJSON_GetObjectItemCaseSensitive(node, seg);
        } else {
            return set_error(u, 400, "map path '%.100s' does not exist in operations", path);
        }
        if (!next) {
            if (u->n_placeholders >= UPLOAD_MAX_PLACEHOLDERS)
                return set_error(u, 400, "the map names too many paths%s", "");
            cJSON *ph = cJSON_CreateObject();
            if (!ph) return set_error(u, 500, "out of memory%s", "");
            if (index >= 0)
                cJSON_ReplaceItemInArray(node, index, ph);
            else if (child)
                cJSON_ReplaceItemInObjectCaseSensitive(node, seg, ph);
            else
                cJSON_AddItemToObject(node, seg, ph);
            u->placeholders[u->n_placeholders] = ph;
            u->placeholder_file[u->n_placeholders++] = file;
            return 0;
        }
        if (!child)
            return set_error(u, 400, "map path '%.100s' does not exist in operations", path);
        node = child;
        seg = next;
    }
    return set_error(u, 400, "map path '%.100s' is empty", path);
}

int upload_finish(upload_req *u) {
    if (u->error[0]) return -1;
    if (mp_finish(u->mp)) return set_error(u, 400, "malformed multipart body: %s", mp_error(u->mp));
    if (!u->have_operations)
        return set_error(u, 400, "the multipart request has no 'operations' field%s", "");
    if (!u->have_map) return set_error(u, 400, "the multipart request has no 'map' field%s", "");
    char msg[300];
    u->ops = json_body_parse(u->operations.data, u->operations.len, u->max_values, msg, sizeof msg);
    if (!u->ops) return set_error(u, 400, "operations: %s", msg);
    if (!cJSON_IsObject(u->ops))
        return set_error(
            u, 400, "operations must be one JSON object (batched operations are not supported)%s",
            "");
    cJSON *variables = cJSON_GetObjectItemCaseSensitive(u->ops, "variables");
    if (!variables || cJSON_IsNull(variables)) {
        cJSON *v = cJSON_CreateObject();
        if (!v) return set_error(u, 500, "out of memory%s", "");
        if (variables)
            cJSON_ReplaceItemInObjectCaseSensitive(u->ops, "variables", v);
        else
            cJSON_AddItemToObject(u->ops, "variables", v);
    }
    cJSON *map = json_body_parse(u->map.data, u->map.len, 10000, msg, sizeof msg);
    if (!map) return set_error(u, 400, "map: %s", msg);
    int rc = 0;
    if (!cJSON_IsObject(map))
        rc = set_error(u, 400, "map must be a JSON object of arrays of paths%s", "");
    for (const cJSON *e = map->child; !rc && e; e = e->next) {
        int file = -1;
        for (int i = 0; i < u->n_files; i++)
            if (!strcmp(u->names[i], e->string)) file = i;
        if (file < 0) {
            rc = set_error(u, 400,
                           "map names the file part '%.100s' that the request does not contain",
                           e->string);
            break;
        }
        if (!cJSON_IsArray(e)) {
            rc = set_error(u, 400, "map entry '%.100s' must be an array of paths", e->string);
            break;
        }
        for (const cJSON *p = e->child; !rc && p; p = p->next) {
            if (!cJSON_IsString(p))
                rc = set_error(u, 400, "map entry '%.100s' holds a path that is not a string",
                               e->string);
            else
                rc = place(u, p->valuestring, file);
        }
    }
    cJSON_Delete(map);
    return rc;
}

const char *upload_error(const upload_req *u) {
    return u->error;
}
int upload_status(const upload_req *u) {
    return u->status ? u->status : 400;
}
cJSON *upload_operations(upload_req *u) {
    return u->ops;
}

int upload_index_of(void *user, const cJSON *node) {
    const upload_req *u = user;
    for (int i = 0; i < u->n_placeholders; i++)
        if (u->placeholders[i] == node) return u->placeholder_file[i];
    return -1;
}

const upload_file *upload_files(const upload_req *u, int *n) {
    *n = u->n_files;
    return u->files;
}

void upload_free(upload_req *u) {
    if (!u) return;
    if (u->fd >= 0) close(u->fd);
    for (int i = 0; i < u->n_files; i++)
        if (u->files[i].path[0]) unlink(u->files[i].path);
    mp_free(u->mp);
    sb_free(&u->operations);
    sb_free(&u->map);
    cJSON_Delete(u->ops);
    free(u);
}

int upload_remove_stale(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    size_t plen = strlen(UPLOAD_STAGING_PREFIX);
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, UPLOAD_STAGING_PREFIX, plen)) continue;
        char *end;
        long pid = strtol(e->d_name + plen, &end, 10);
        if (end == e->d_name + plen || *end != '-' || pid <= 0) continue;
        /* Only files of processes that no longer exist: another server may share the folder. */
        if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0) removed++;
    }
    closedir(d);
    return removed;
}
