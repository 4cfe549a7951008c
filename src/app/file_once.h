/* A file made once by several processes that share its folder (replicas of `sam2 serve` on one
 * DATA_PATH, possibly on several machines over a network file system): a poster, a transcoded
 * upload. The first process to create the claim "<dir>/.sam2-claim-<name>" (O_CREAT | O_EXCL:
 * atomic on local file systems and on NFS v3 and later) makes the file; the others wait for it
 * and use it. The claim names its owner ("<host>.<pid>", atomic_file.h): a claim whose owner is
 * gone (killed mid-work) is taken over. The file itself must be written atomically (atomic_file.h),
 * so a reader never sees it half made.
 *
 * Worst cases stay correct: when the claim cannot be created (a read-only or odd file system), when
 * the wait times out, or when two processes take over the same stale claim at once, the work is
 * done twice and the second rename replaces the first file with an equal one. */
#ifndef SAM2_APP_FILE_ONCE_H
#define SAM2_APP_FILE_ONCE_H

#include "sam2.h"

#define SAM2_CLAIM_PREFIX ".sam2-claim-"

/* Whether an existing final file can be used as it is (e.g. not older than its source). */
typedef int (*sam2_once_usable_fn)(void *user, const char *final_path);
/* Makes final_path (atomically); 0 or an error code with err set. */
typedef int (*sam2_once_make_fn)(void *user, const char *final_path, sam2_error *err);

typedef struct sam2_once_options {
    int wait_ms; /* how long to wait for another process's work before doing it here */
    int stale_s; /* a claim of another machine older than this is abandoned */
    int poll_ms; /* how often a waiting process looks (default 50) */
} sam2_once_options;

/* Returns 0 once final_path is usable; *made (may be NULL) is 1 when this call made it, 0 when it
 * was there already or another process made it. usable NULL: any regular file. Errors are make's.
 */
int sam2_file_once(const char *final_path, sam2_once_usable_fn usable, sam2_once_make_fn make,
                   void *user, const sam2_once_options *opt, int *made, sam2_error *err);

#endif
