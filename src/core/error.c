#include "core/error.h"

#include <stdio.h>
#include <string.h>

int sam2_vfail(sam2_error *err, int code, const char *fmt, va_list ap) {
    if (err) {
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
    }
    return code;
}

int sam2_fail(sam2_error *err, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sam2_vfail(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void sam2_error_prefix(sam2_error *err, const char *fmt, ...) {
    if (!err) return;
    char prefix[256], old[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    snprintf(err->message, sizeof err->message, "%s: %s", prefix, old);
}

const char *sam2_status_name(int code) {
    switch (code) {
    case SAM2_OK:
        return "ok";
    case SAM2_ERR_IO:
        return "i/o error";
    case SAM2_ERR_FORMAT:
        return "bad format";
    case SAM2_ERR_UNSUPPORTED:
        return "unsupported";
    case SAM2_ERR_MISMATCH:
        return "mismatch";
    case SAM2_ERR_ARGUMENT:
        return "invalid argument";
    case SAM2_ERR_NOMEM:
        return "out of memory";
    case SAM2_ERR_CANCELLED:
        return "cancelled";
    case SAM2_ERR_STATE:
        return "invalid state";
    case SAM2_ERR_LIMIT:
        return "limit exceeded";
    default:
        return "error";
    }
}
