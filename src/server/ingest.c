/* The real ingest seam: src/io/transcode. This is the only server file that calls it. */
#include "server/ingest.h"

#include "core/error.h"

#if __has_include("io/transcode.h")
#include "io/transcode.h"
#define SAM2_SERVER_HAVE_TRANSCODE 1
#endif

/* Until src/io/transcode lands on this branch, ingest answers with a clear error (no poster,
 * no upload) instead of pretending; see docs/server.md "What remains to wire". */
static int real_poster(void *self, const char *video_path, const char *poster_path, int *width, int *height,
                       sam2_error *err) {
    (void)self;
    (void)video_path;
    (void)poster_path;
    *width = *height = 0;
    return sam2_fail(err, SAM2_ERR_UNSUPPORTED, "poster writing is not built into this sam2 yet");
}

static int real_upload(void *self, const char *in_path, const char *uploads_dir, const ingest_params *p,
                       ingest_result *out, sam2_error *err) {
    (void)self;
    (void)in_path;
    (void)uploads_dir;
    (void)p;
    (void)out;
    return sam2_fail(err, SAM2_ERR_UNSUPPORTED, "video upload (transcoding) is not built into this sam2 yet");
}

static const ingest_ops REAL_OPS = {NULL, real_poster, real_upload};

const ingest_ops *ingest_default_ops(void) { return &REAL_OPS; }
