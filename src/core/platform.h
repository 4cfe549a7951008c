/* Facts about the running process that each operating system exposes its own way: Linux through
 * /proc and getrandom(), macOS through Mach and getentropy(). Everything else in sam2c uses
 * POSIX only; this is where the differences live. */
#ifndef SAM2_CORE_PLATFORM_H
#define SAM2_CORE_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* Resident set size of this process now, and its peak, in bytes; -1 when the system does not
 * say. */
int64_t platform_rss_bytes(void);
int64_t platform_peak_rss_bytes(void);
/* The absolute path of the running executable into buf; 0, or -1 when it cannot be found. */
int platform_executable_path(char *buf, size_t size);
/* n bytes from the system's cryptographic random source; 0, or -1 with errno set. */
int platform_random_bytes(void *buf, size_t n);

#endif
