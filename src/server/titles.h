/* Display names of uploaded videos. An upload is stored as uploads/<sha256>.mp4 (the official
 * naming): the name the person's file had is lost. It is kept beside the video, as the hidden
 * file uploads/.<sha256>.json ({"title", "width", "height"}), written atomically. The title is
 * text only: it is never used to build a path, and hidden files are never served. The same
 * video uploaded again under another name takes the newer name. */
#ifndef SAM2_SERVER_TITLES_H
#define SAM2_SERVER_TITLES_H

#include "sam2.h"

#include <stddef.h>

#define TITLE_MAX_BYTES 200

/* The file name part of `filename` (after the last '/' or '\\') with control characters and
 * invalid UTF-8 dropped, spaces trimmed, cut to TITLE_MAX_BYTES at a character boundary. "" when
 * nothing is left. */
void title_clean(const char *filename, char *out, size_t cap);

/* Writes uploads/.<sha256>.json under data_real. sha256: 64 lowercase hex digits. */
int title_store(const char *data_real, const char *sha256, const char *title, int width, int height,
                sam2_error *err);

/* For "uploads/<sha256>.mp4": the stored title and size (0 when there is no sidecar, which
 * leaves out[0] = 0). Other paths: 0 with out[0] = 0. */
int title_load(const char *data_real, const char *path, char *out, size_t cap, int *width,
               int *height);

/* Whether path is "uploads/<64 lowercase hex>.mp4". */
int title_is_upload_path(const char *path);

/* The name a page shows for a model, from its configuration name (the name GET /ready and
 * Query.modelInfo report): "sam2.1_hiera_t" -> "SAM 2.1 tiny", "sam2_hiera_b+" -> "SAM 2 base+",
 * "edgetam" -> "EdgeTAM"; a size it does not know stays as written ("sam2.1_hiera_micro" ->
 * "SAM 2.1 micro"), any other name is returned unchanged. */
void title_of_model(const char *config_name, char *out, size_t cap);

#endif
