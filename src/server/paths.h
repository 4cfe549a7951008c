/* Client-supplied paths (static routes, startSession.path) resolved safely under a root folder:
 * absolute paths, "..", and symlinks whose target leaves the root are refused, so no request can
 * reach a file outside DATA_PATH. Errors never print the absolute path. */
#ifndef SAM2_SERVER_PATHS_H
#define SAM2_SERVER_PATHS_H

#include "sam2.h"

#include <stddef.h>

/* root_real must already be a real path (realpath()). On success `out` holds the real path of
 * the file. Fails with SAM2_ERR_ARGUMENT (refused) or SAM2_ERR_IO (does not exist). */
int path_resolve_under(const char *root_real, const char *rel, char *out, size_t cap,
                       sam2_error *err);
/* Replaces every occurrence of `what` in msg (cap bytes) by `with`: keeps server paths out of
 * answers. */
void path_scrub(char *msg, size_t cap, const char *what, const char *with);
/* Whether a component of rel starts with '.' (hidden files, temporary files, "." and ".."). */
int path_has_hidden_component(const char *rel);
/* Resolves a startSession path: only a video (or a folder of frames) under gallery/, or a file
 * under uploads/, with no hidden component, may be opened. On success `out` holds the real path
 * and *is_dir whether it is a folder. Errors never name anything but the path as given. */
int path_resolve_video(const char *data_real, const char *rel, char *out, size_t cap, int *is_dir,
                       sam2_error *err);
/* Whether `real` is root_real itself or inside it. */
int path_is_under(const char *root_real, const char *real);

#endif
