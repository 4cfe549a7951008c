/* Facts about the running process that each operating system exposes its own way: Linux through
 * /proc, macOS through Mach. Everything else in the library uses POSIX only; this is where the
 * differences live (the apps' own process facts are in src/app/process.c). sam2_memory_usage and
 * sam2_mem_probe (include/sam2.h) are the public face of these. */
#ifndef SAM2_CORE_PLATFORM_H
#define SAM2_CORE_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* Resident set size of this process now, and its peak, in bytes; -1 when the system does not
 * say. */
int64_t platform_rss_bytes(void);
int64_t platform_peak_rss_bytes(void);
/* With $SAM2_MEM_PROBE set, prints "mem <where>: rss R MiB, peak P MiB[, extra]" to stderr:
 * VmRSS / VmHWM at a stage boundary, to find what holds the peak without a heap profiler.
 * extra_bytes >= 0 is printed as a third figure (e.g. an arena's high-water mark). With
 * SAM2_MEM_PROBE=maps, every mapping holding more than 1 MiB resident is listed first. */
void platform_mem_probe(const char *where, int64_t extra_bytes);

#endif
