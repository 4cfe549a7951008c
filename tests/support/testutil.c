#include "support/testutil.h"

#include "core/platform.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int is_dir(const char *p) {
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *test_golden_dir(void) {
    const char *env = getenv("SAM2_GOLDEN");
    if (env && *env) return is_dir(env) ? env : NULL;
    return is_dir(SAM2_GOLDEN_DEFAULT) ? SAM2_GOLDEN_DEFAULT : NULL;
}

const char *test_data_dir(void) {
    const char *env = getenv("SAM2_DATA");
    if (env && *env) return is_dir(env) ? env : NULL;
    return is_dir(SAM2_DATA_DEFAULT) ? SAM2_DATA_DEFAULT : NULL;
}

const char *test_path(const char *dir, const char *rel) {
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ & 7];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, rel);
    return b;
}

void test_require_dir(const char *dir, const char *what) {
    if (!dir) {
        printf("SKIP: %s not found (set SAM2_GOLDEN / SAM2_DATA); these tests did not run\n", what);
        fflush(stdout);
        exit(TEST_SKIP_CODE);
    }
}

const char *test_emulator(void) {
    const char *e = getenv("SAM2_TEST_EMULATOR");
    return e && *e ? e : NULL;
}

int test_emulated(void) {
    return test_emulator() != NULL;
}

const char *test_exec_prefix(void) {
    static char prefix[512];
    const char *e = test_emulator();
    snprintf(prefix, sizeof prefix, "%s%s", e ? e : "", e ? " " : "");
    return prefix;
}

static char tmpdir[256];

static void rm_rf(const char *path) {
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *e;
    char sub[4096];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        rm_rf(sub);
    }
    closedir(d);
    rmdir(path);
}

const char *test_make_tmpdir(void) {
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/sam2test-XXXXXX");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(1);
        }
        atexit(test_cleanup_tmpdir);
    }
    return tmpdir;
}

void test_cleanup_tmpdir(void) {
    if (tmpdir[0]) rm_rf(tmpdir);
    tmpdir[0] = 0;
}

int test_write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

void *test_read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[len] = 0;
        if (n) *n = (size_t)len;
    }
    return buf;
}

int test_copy_file(const char *from, const char *to) {
    size_t n;
    void *d = test_read_file(from, &n);
    if (!d) return -1;
    int rc = test_write_file(to, d, n);
    free(d);
    return rc;
}

double test_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int64_t test_rss_bytes(void) {
    return platform_rss_bytes();
}
int64_t test_peak_rss_bytes(void) {
    return platform_peak_rss_bytes();
}
