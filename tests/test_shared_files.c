/* Files in a folder that several processes share (replicas of `sam2 serve` on one DATA_PATH):
 * temporary names that say who writes them, start-up clean-up that removes only what a gone writer
 * left (app/atomic_file.h), and work done once by racing processes (app/file_once.h): made by
 * exactly one of several forked processes, a dead owner's claim taken over, a slow owner's work
 * redone after the wait, a usable file never made again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/error.h"
#include "app/atomic_file.h"
#include "app/file_once.h"
#include "support/testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char root[1024];

static int setup(void **state) {
    (void)state;
    snprintf(root, sizeof root, "%s", test_make_tmpdir());
    return 0;
}

static const char *fresh_dir(const char *name) {
    static char dir[1200];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    mkdir(dir, 0755);
    return dir;
}

static int exists(const char *dir, const char *name) {
    char p[1400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static void touch(const char *dir, const char *name, int age_s) {
    char p[1400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    assert_int_equal(test_write_file(p, "x", 1), 0);
    if (age_s) {
        struct timeval tv[2];
        gettimeofday(&tv[0], NULL);
        tv[0].tv_sec -= age_s;
        tv[1] = tv[0];
        assert_int_equal(utimes(p, tv), 0);
    }
}

/* The pid of a process that has exited (and been reaped). */
static long dead_pid(void) {
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
    return (long)p;
}

static void test_temp_names_and_cleanup(void **state) {
    (void)state;
    const char *dir = fresh_dir("tmp");
    char tmp[1400], prefix[200];
    assert_int_equal(atomic_tmp_in_dir(dir, ".mp4", tmp, sizeof tmp, NULL), 0);
    snprintf(prefix, sizeof prefix, "/" SAM2_TMP_PREFIX "%s.%ld-", sam2_host_tag(), (long)getpid());
    if (!strstr(tmp, prefix)) fail_msg("%s does not name its writer (%s)", tmp, prefix);
    for (const char *p = sam2_host_tag(); *p; p++)
        assert_true(*p == '-' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= 'A' && *p <= 'Z'));
    char host[64];
    long pid = 0;
    assert_int_equal(sam2_parse_owner(strstr(tmp, SAM2_TMP_PREFIX) + strlen(SAM2_TMP_PREFIX), host,
                                      sizeof host, &pid),
                     0);
    assert_string_equal(host, sam2_host_tag());
    assert_int_equal(pid, (long)getpid());

    /* What the clean-up removes and keeps. */
    char name[300];
    const char *me = sam2_host_tag();
    snprintf(name, sizeof name, SAM2_TMP_PREFIX "%s.%ld-dead01.mp4", me, dead_pid());
    touch(dir, name, 0);
    char dead[300];
    snprintf(dead, sizeof dead, "%s", name);
    char alive[300]; /* the parent of this test (or init): runs */
    snprintf(alive, sizeof alive, SAM2_TMP_PREFIX "%s.%ld-live01.mp4", me, (long)getppid());
    touch(dir, alive, 0);
    touch(dir, SAM2_TMP_PREFIX "otherhost.4242-fresh1.jpg", 0);
    touch(dir, SAM2_TMP_PREFIX "otherhost.4242-old001.jpg", SAM2_TMP_FOREIGN_STALE_S + 60);
    touch(dir, SAM2_TMP_PREFIX "abc123.mp4", 0); /* an older version's name: no writer named */
    touch(dir, "keep.mp4", SAM2_TMP_FOREIGN_STALE_S + 60);
    assert_int_equal(sam2_remove_stale_temp_files(dir), 3);
    assert_false(exists(dir, dead));
    assert_false(exists(dir, SAM2_TMP_PREFIX "otherhost.4242-old001.jpg"));
    assert_false(exists(dir, SAM2_TMP_PREFIX "abc123.mp4"));
    assert_true(exists(dir, strrchr(tmp, '/') + 1)); /* this process's own file, being written */
    assert_true(exists(dir, alive));
    assert_true(exists(dir, SAM2_TMP_PREFIX "otherhost.4242-fresh1.jpg"));
    assert_true(exists(dir, "keep.mp4"));
}

/* ---- work done once ------------------------------------------------------------------------ */
typedef struct job {
    const char *log; /* one byte appended per make() */
    int make_ms;     /* how long make() takes */
    int fail;
} job;

static int make_file(void *user, const char *final_path, sam2_error *err) {
    job *j = user;
    int fd = open(j->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        if (write(fd, "m", 1) != 1) j->fail = 1;
        close(fd);
    }
    usleep((useconds_t)j->make_ms * 1000);
    if (j->fail) return sam2_fail(err, SAM2_ERR_IO, "asked to fail");
    char tmp[1400];
    if (atomic_tmp_beside(final_path, NULL, tmp, sizeof tmp, err)) return SAM2_ERR_IO;
    if (test_write_file(tmp, "made", 4)) return SAM2_ERR_IO;
    return atomic_commit(tmp, final_path, err);
}

static long log_size(const char *log) {
    struct stat st;
    return stat(log, &st) ? 0 : (long)st.st_size;
}

static void test_once_across_processes(void **state) {
    (void)state;
    const char *dir = fresh_dir("race");
    char final[1400], log[1400];
    snprintf(final, sizeof final, "%s/poster.jpg", dir);
    snprintf(log, sizeof log, "%s/makes.log", root);
    enum { N = 5 };
    pid_t kids[N];
    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            job j = {log, 300, 0};
            sam2_once_options o = {20000, 0, 10};
            int made = 0;
            int rc = sam2_file_once(final, NULL, make_file, &j, &o, &made, NULL);
            _exit(rc ? 2 : made ? 10 : 0);
        }
    }
    int makers = 0;
    for (int i = 0; i < N; i++) {
        int st;
        waitpid(kids[i], &st, 0);
        assert_true(WIFEXITED(st));
        assert_true(WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 10);
        makers += WEXITSTATUS(st) == 10;
    }
    assert_int_equal(makers, 1);
    assert_int_equal(log_size(log), 1);
    assert_true(exists(dir, "poster.jpg"));
    assert_false(exists(dir, SAM2_CLAIM_PREFIX "poster.jpg")); /* the claim is gone */
    /* There and usable: never made again. */
    job j = {log, 0, 0};
    int made = 1;
    assert_int_equal(sam2_file_once(final, NULL, make_file, &j, NULL, &made, NULL), 0);
    assert_int_equal(made, 0);
    assert_int_equal(log_size(log), 1);
}

static int never_usable(void *user, const char *path) {
    (void)user;
    (void)path;
    return 0;
}

static void test_once_takes_over_and_times_out(void **state) {
    (void)state;
    const char *dir = fresh_dir("claims");
    char final[1400], claim[1400], log[1400], owner[200];
    snprintf(log, sizeof log, "%s/makes2.log", root);
    /* A claim whose owner died mid-work (this machine, a gone pid): taken over at once. */
    snprintf(final, sizeof final, "%s/a.jpg", dir);
    snprintf(claim, sizeof claim, "%s/" SAM2_CLAIM_PREFIX "a.jpg", dir);
    snprintf(owner, sizeof owner, "%s.%ld\n", sam2_host_tag(), dead_pid());
    assert_int_equal(test_write_file(claim, owner, strlen(owner)), 0);
    job j = {log, 0, 0};
    sam2_once_options o = {20000, 0, 10};
    int made = 0;
    double t0 = test_now_ms();
    assert_int_equal(sam2_file_once(final, NULL, make_file, &j, &o, &made, NULL), 0);
    assert_int_equal(made, 1);
    assert_true(test_now_ms() - t0 < 5000);
    assert_false(exists(dir, SAM2_CLAIM_PREFIX "a.jpg"));

    /* A live owner on another machine that never finishes: done here after the wait. */
    snprintf(final, sizeof final, "%s/b.jpg", dir);
    snprintf(claim, sizeof claim, "%s/" SAM2_CLAIM_PREFIX "b.jpg", dir);
    assert_int_equal(test_write_file(claim, "elsewhere.77\n", 13), 0);
    o.wait_ms = 300;
    t0 = test_now_ms();
    assert_int_equal(sam2_file_once(final, NULL, make_file, &j, &o, &made, NULL), 0);
    assert_int_equal(made, 1);
    assert_true(test_now_ms() - t0 >= 250);
    assert_true(exists(dir, "b.jpg"));
    assert_true(exists(dir, SAM2_CLAIM_PREFIX "b.jpg")); /* not ours: left to its owner */
    /* ... unless its claim is older than the stale age. */
    snprintf(final, sizeof final, "%s/c.jpg", dir);
    touch(dir, SAM2_CLAIM_PREFIX "c.jpg", 120);
    o.wait_ms = 20000;
    o.stale_s = 60;
    t0 = test_now_ms();
    assert_int_equal(sam2_file_once(final, NULL, make_file, &j, &o, &made, NULL), 0);
    assert_int_equal(made, 1);
    assert_true(test_now_ms() - t0 < 5000);

    /* An existing file that is not usable (e.g. older than its video) is made again. */
    long before = log_size(log);
    assert_int_equal(sam2_file_once(final, never_usable, make_file, &j, &o, &made, NULL), 0);
    assert_int_equal(made, 1);
    assert_int_equal(log_size(log), before + 1);

    /* A failure is make's, and leaves no claim behind. */
    snprintf(final, sizeof final, "%s/d.jpg", dir);
    j.fail = 1;
    sam2_error err = {0};
    assert_int_not_equal(sam2_file_once(final, NULL, make_file, &j, &o, &made, &err), 0);
    assert_string_equal(err.message, "asked to fail");
    assert_false(exists(dir, "d.jpg"));
    assert_false(exists(dir, SAM2_CLAIM_PREFIX "d.jpg"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_temp_names_and_cleanup),
        cmocka_unit_test(test_once_across_processes),
        cmocka_unit_test(test_once_takes_over_and_times_out),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
