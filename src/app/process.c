/* Facts about the running process that only the apps need, which each operating system
 * exposes its own way: Linux through /proc and getrandom(), macOS through dyld and
 * getentropy(). */
#include "app/process.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__APPLE__)
#include <mach-o/dyld.h>
#include <sys/random.h> /* getentropy, macOS 10.12 and later */
#elif defined(__linux__)
#include <sys/random.h> /* getrandom, glibc 2.25 and later */
#endif

int process_executable_path(char *buf, size_t size) {
    if (!buf || size < 2) return -1;
#if defined(__linux__)
    const ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    if (n <= 0) return -1;
    buf[n] = '\0';
    return 0;
#elif defined(__APPLE__)
    char raw[PATH_MAX], resolved[PATH_MAX];
    uint32_t len = sizeof raw;
    if (_NSGetExecutablePath(raw, &len) != 0) return -1;
    /* It may hold symbolic links and "..": resolve it as /proc/self/exe would be. */
    if (!realpath(raw, resolved) || strlen(resolved) >= size) return -1;
    memcpy(buf, resolved, strlen(resolved) + 1);
    return 0;
#else
    return -1;
#endif
}

int process_random_bytes(void *buf, size_t n) {
    unsigned char *p = buf;
    while (n > 0) {
#if defined(__linux__)
        const ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += r;
        n -= (size_t)r;
#else
        const size_t chunk = n < 256 ? n : 256; /* getentropy's limit per call */
        if (getentropy(p, chunk) != 0) return -1;
        p += chunk;
        n -= chunk;
#endif
    }
    return 0;
}
