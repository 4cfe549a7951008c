#include "core/platform.h"

#include "sam2.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#if defined(__APPLE__)
#include <mach/mach.h>
#endif

#if defined(__linux__)
/* A "Key:   123 kB" line of /proc/self/status, in bytes. */
static int64_t proc_status_bytes(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    int64_t kb = -1;
    const size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, n)) {
            kb = atoll(line + n);
            break;
        }
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}
#endif

int64_t platform_rss_bytes(void) {
#if defined(__linux__)
    return proc_status_bytes("VmRSS:");
#elif defined(__APPLE__)
    mach_task_basic_info_data_t info;
    mach_msg_type_number_t count = MACH_TASK_BASIC_INFO_COUNT;
    if (task_info(mach_task_self(), MACH_TASK_BASIC_INFO, (task_info_t)&info, &count) !=
        KERN_SUCCESS)
        return -1;
    return (int64_t)info.resident_size;
#else
    return -1;
#endif
}

int64_t platform_peak_rss_bytes(void) {
#if defined(__linux__)
    return proc_status_bytes("VmHWM:");
#else
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
#if defined(__APPLE__)
    return (int64_t)ru.ru_maxrss; /* bytes on macOS */
#else
    return (int64_t)ru.ru_maxrss * 1024; /* kilobytes on the BSDs */
#endif
#endif
}

/* Mappings holding more than 1 MiB resident, from /proc/self/smaps (Linux). */
static void print_big_mappings(void) {
#if defined(__linux__)
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return;
    char line[512], head[512] = "";
    while (fgets(line, sizeof line, f)) {
        long kb;
        if (sscanf(line, "Rss: %ld kB", &kb) == 1) {
            if (kb > 1024) fprintf(stderr, "    %7.1f MiB  %s", kb / 1024.0, head);
        } else if (strchr(line, '-') && line[0] != ' ' && !strchr(line, ':')) {
            snprintf(head, sizeof head, "%s", line);
        } else if (strchr(line, '-') && strchr(line, ' ') && (line[0] >= '0' && line[0] <= '9')) {
            snprintf(head, sizeof head, "%s", line);
        } else if (line[0] >= 'a' && line[0] <= 'f' && strchr(line, '-') &&
                   strchr(line, '-') < strchr(line, ' ')) {
            snprintf(head, sizeof head, "%s", line);
        }
    }
    fclose(f);
#endif
}

void platform_mem_probe(const char *where, int64_t extra_bytes) {
    static int enabled = -1; /* getenv once: probes sit on per-frame paths */
    if (enabled < 0) {
        const char *e = getenv("SAM2_MEM_PROBE");
        enabled = e ? (strcmp(e, "maps") == 0 ? 2 : 1) : 0;
    }
    if (!enabled) return;
    if (enabled == 2) print_big_mappings();
    const double mib = 1048576.0;
    if (extra_bytes >= 0)
        fprintf(stderr, "mem %s: rss %.1f MiB, peak %.1f MiB, %.1f MiB\n", where,
                platform_rss_bytes() / mib, platform_peak_rss_bytes() / mib, extra_bytes / mib);
    else
        fprintf(stderr, "mem %s: rss %.1f MiB, peak %.1f MiB\n", where, platform_rss_bytes() / mib,
                platform_peak_rss_bytes() / mib);
}

void sam2_memory_usage(int64_t *rss_bytes, int64_t *peak_rss_bytes) {
    if (rss_bytes) *rss_bytes = platform_rss_bytes();
    if (peak_rss_bytes) *peak_rss_bytes = platform_peak_rss_bytes();
}

void sam2_mem_probe(const char *where) {
    platform_mem_probe(where, -1);
}
