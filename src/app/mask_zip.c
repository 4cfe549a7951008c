/* A zip of indexed PNGs, masks/NNNNN.png, with libzip (see mask_export.h). Each PNG is written
 * to a staging file beside the archive as it comes and libzip copies the files in when the
 * archive is written, so memory stays at one frame however many frames there are. */
#include "app/mask_export.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zip.h>

#define ZIP_PATH_BYTES 4096

struct mask_zip {
    zip_t *za;
    char path[ZIP_PATH_BYTES];
    int *staged; /* frames whose staging file exists */
    int n_staged, cap_staged;
};

static void staging_path(const mask_zip *z, int frame, char *out, size_t cap) {
    snprintf(out, cap, "%s.%05d.png.part", z->path, frame);
}

static void remove_staged(mask_zip *z) {
    char p[ZIP_PATH_BYTES + 32];
    for (int i = 0; i < z->n_staged; i++) {
        staging_path(z, z->staged[i], p, sizeof p);
        unlink(p);
    }
    free(z->staged);
    free(z);
}

mask_zip *mask_zip_open(const char *path, sam2_error *err) {
    mask_zip *z = calloc(1, sizeof *z);
    if (!z) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for a zip");
        return NULL;
    }
    snprintf(z->path, sizeof z->path, "%s", path);
    int code = 0;
    z->za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &code);
    if (!z->za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, code);
        sam2_fail(err, SAM2_ERR_IO, "%s: cannot create the zip: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        free(z);
        return NULL;
    }
    return z;
}

static int remember(mask_zip *z, int frame, sam2_error *err) {
    if (z->n_staged == z->cap_staged) {
        const int cap = z->cap_staged ? 2 * z->cap_staged : 64;
        int *grown = realloc(z->staged, (size_t)cap * sizeof *grown);
        if (!grown) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for a zip");
        z->staged = grown;
        z->cap_staged = cap;
    }
    z->staged[z->n_staged++] = frame;
    return 0;
}

int mask_zip_add(mask_zip *z, int frame, const uint8_t *labels, int width, int height,
                 sam2_error *err) {
    char staged[ZIP_PATH_BYTES + 32], name[32];
    staging_path(z, frame, staged, sizeof staged);
    if (remember(z, frame, err)) return -1;
    if (mask_png_write(staged, labels, width, height, err)) return -1;
    zip_source_t *src = zip_source_file(z->za, staged, 0, -1);
    if (!src) return sam2_fail(err, SAM2_ERR_IO, "%s: %s", z->path, zip_strerror(z->za));
    snprintf(name, sizeof name, "masks/%05d.png", frame);
    const zip_int64_t idx = zip_file_add(z->za, name, src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
        zip_source_free(src);
        return sam2_fail(err, SAM2_ERR_IO, "%s: cannot add %s: %s", z->path, name,
                         zip_strerror(z->za));
    }
    /* Stored: PNG data is compressed already. */
    if (zip_set_file_compression(z->za, (zip_uint64_t)idx, ZIP_CM_STORE, 0) != 0)
        return sam2_fail(err, SAM2_ERR_IO, "%s: %s", z->path, zip_strerror(z->za));
    return 0;
}

int mask_zip_close(mask_zip *z, sam2_error *err) {
    int rc = 0;
    if (zip_close(z->za) != 0) {
        rc = sam2_fail(err, SAM2_ERR_IO, "%s: cannot write the zip: %s", z->path,
                       zip_strerror(z->za));
        zip_discard(z->za);
        unlink(z->path);
    }
    remove_staged(z);
    return rc;
}

void mask_zip_discard(mask_zip *z) {
    if (!z) return;
    zip_discard(z->za);
    remove_staged(z);
}
