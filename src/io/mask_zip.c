/* A zip of indexed PNGs, masks/NNNNN.png, with libzip (see mask_export.h). The PNGs are kept in
 * memory until the archive is written (a few KB each: they are small palette images). */
#include "io/mask_export.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <zip.h>

struct mask_zip {
    zip_t *za;
    char path[4096];
};

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

int mask_zip_add(mask_zip *z, int frame, const uint8_t *labels, int width, int height,
                 sam2_error *err) {
    uint8_t *png = NULL;
    size_t size = 0;
    if (mask_png_encode(labels, width, height, &png, &size, err)) return -1;
    /* libzip takes the buffer (freep = 1) once the source exists. */
    zip_source_t *src = zip_source_buffer(z->za, png, size, 1);
    if (!src) {
        free(png);
        return sam2_fail(err, SAM2_ERR_NOMEM, "%s: %s", z->path, zip_strerror(z->za));
    }
    char name[32];
    snprintf(name, sizeof name, "masks/%05d.png", frame);
    const zip_int64_t idx = zip_file_add(z->za, name, src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
        zip_source_free(src);
        return sam2_fail(err, SAM2_ERR_IO, "%s: cannot add %s: %s", z->path, name,
                         zip_strerror(z->za));
    }
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
    }
    free(z);
    return rc;
}

void mask_zip_discard(mask_zip *z) {
    if (!z) return;
    zip_discard(z->za);
    free(z);
}
