/* Error reporting shared by every layer: one status code and one human-readable message that
 * names what was wrong (the file, the tensor, the field). Functions that can fail take a
 * `sam2_error *` (may be NULL) and return a non-zero status or NULL. sam2_fail, sam2_vfail and
 * sam2_error_prefix are public (include/sam2.h), so a caller's own code reports errors the same
 * way; this header stays as the library's one place to say so. */
#ifndef SAM2_CORE_ERROR_H
#define SAM2_CORE_ERROR_H

#include "sam2.h"

#endif
