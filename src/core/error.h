/* Error reporting shared by every layer: one status code and one human-readable message that
 * names what was wrong (the file, the tensor, the field). Functions that can fail take a
 * `sam2_error *` (may be NULL) and return a non-zero status or NULL. */
#ifndef SAM2_CORE_ERROR_H
#define SAM2_CORE_ERROR_H

#include "sam2.h"

#include <stdarg.h>

/* Sets err (when non-NULL) and returns code, so callers can write `return sam2_fail(err, ...)`. */
int sam2_fail(sam2_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int sam2_vfail(sam2_error *err, int code, const char *fmt, va_list ap);
/* Prefixes the message already in err with "<prefix>: ". */
void sam2_error_prefix(sam2_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
