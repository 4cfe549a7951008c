/* Shared helpers for the test programs: where the golden data and test media are, skipping
 * honestly when they are absent, temporary files, small numeric comparisons. */
#ifndef SAM2_TESTUTIL_H
#define SAM2_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Exit status a test program uses to tell ctest it was skipped (SKIP_RETURN_CODE). */
#define TEST_SKIP_CODE 77

/* $SAM2_GOLDEN, else ../shared/golden beside the checkout. NULL when the folder is absent. */
const char *test_golden_dir(void);
/* $SAM2_DATA, else ../shared/data. NULL when absent. */
const char *test_data_dir(void);
/* Joins dir and a relative path into a static buffer (one of 8 rotating buffers). */
const char *test_path(const char *dir, const char *rel);
/* Prints "SKIP: <why>" and exits with TEST_SKIP_CODE when `dir` is NULL. */
void test_require_dir(const char *dir, const char *what);

/* A fresh temporary directory (removed by test_cleanup_tmpdir) and file helpers. */
const char *test_make_tmpdir(void);
void test_cleanup_tmpdir(void);
int test_write_file(const char *path, const void *data, size_t n);
/* Reads a whole file (malloc'd, NUL-terminated); NULL on failure. */
void *test_read_file(const char *path, size_t *n);
/* Copies a file's content to a new or truncated file; 0 or -1. */
int test_copy_file(const char *from, const char *to);
/* The emulator that runs this build's programs when they cannot run directly ($SAM2_TEST_EMULATOR,
 * e.g. qemu-aarch64 for the arm64 tier, `make test-arm64`), or NULL. Tests that start sam2
 * start it through the emulator; tests whose big cases take minutes under emulation use their
 * small sizes (test_emulated()). */
const char *test_emulator(void);
int test_emulated(void);
/* "EMULATOR " (with a space) or "": the prefix for a shell command that runs a built program. */
const char *test_exec_prefix(void);
/* Milliseconds on the monotonic clock, for measuring intervals. */
double test_now_ms(void);
/* Peak (VmHWM) and current (VmRSS) resident set size of this process, in bytes. */
int64_t test_rss_bytes(void);
int64_t test_peak_rss_bytes(void);

#endif
