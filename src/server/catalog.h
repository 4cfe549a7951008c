/* The video catalog: gallery videos found under DATA_PATH/gallery at start-up (recursively,
 * every *.mp4, sorted by path), each with its first-frame poster in DATA_PATH/posters and its
 * display size. Built once, read-only afterwards (uploads are not listed, as in the official
 * backend). Also turns a video into the GraphQL `Video` value. */
#ifndef SAM2_SERVER_CATALOG_H
#define SAM2_SERVER_CATALOG_H

#include "server/ingest.h"

#include <cjson/cJSON.h>

typedef struct video_entry {
    char code[512];        /* Relay node id source: path relative to DATA_PATH */
    char path[512];        /* "gallery/x.mp4" or "uploads/<sha256>.mp4" */
    char poster_path[512]; /* "posters/x.jpg", or "" when there is none */
    int width, height;
    char title[256]; /* what a page shows (sam2c's Video.title): "" = the file name of path */
} video_entry;

typedef struct catalog catalog;

typedef void (*catalog_log_fn)(void *user, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Scans data_real/gallery and writes posters into data_real/posters through `ingest`
 * (posters/<name>.jpg for gallery/<name>.mp4, posters/<dir>/<name>.jpg in subfolders). A file the
 * video reader refuses is not listed (logged); one whose poster could not be written is listed
 * without a poster (logged, size 0x0). */
catalog *catalog_scan(const char *data_real, const ingest_ops *ingest, catalog_log_fn log,
                      void *log_user, sam2_error *err);
void catalog_free(catalog *c);
int catalog_count(const catalog *c);
const video_entry *catalog_at(const catalog *c, int i);
/* DEFAULT_VIDEO_PATH's video, else the first; NULL when the gallery is empty. */
const video_entry *catalog_default(const catalog *c, const char *default_path);

/* {"__typename":"Video","id":...,"path":...,"posterPath":...,"width":...,"height":...,"url":...,
 * "posterUrl":...,"title":...} with ids as Relay global ids, base64("Video:<code>"). title (a
 * sam2c addition) is v->title, else the file name of the path. */
cJSON *video_to_json(const video_entry *v, const char *api_url);

/* Standard base64 with padding (Relay ids and cursors). Returns malloc'd text. */
char *base64_encode(const unsigned char *data, size_t n);
/* Decodes standard base64; returns malloc'd NUL-terminated bytes or NULL when malformed. */
unsigned char *base64_decode(const char *text, size_t *n);

#endif
