/* Files that appear complete or not at all: written under a hidden temporary name in the
 * destination folder, then renamed over the final name (rename is atomic within a folder).
 * A process killed mid-write leaves only a ".sam2-tmp-*" file, never a partial file under the
 * final name; sam2_remove_stale_temp_files() clears those at start-up.
 *
 * Several processes may share the folder (replicas of `sam2 serve` on one DATA_PATH, possibly on
 * several machines over a network file system), so a temporary name says who writes it:
 * ".sam2-tmp-<host>.<pid>-XXXXXX<suffix>", and only files whose writer is gone are cleared. */
#ifndef SAM2_APP_ATOMIC_FILE_H
#define SAM2_APP_ATOMIC_FILE_H

#include "sam2.h"

#include <stddef.h>

#define SAM2_TMP_PREFIX ".sam2-tmp-"
/* A temporary file of another machine is taken as abandoned once untouched for this long (its
 * writer's pid cannot be checked from here; a live writer keeps writing, so its file is fresh). */
#define SAM2_TMP_FOREIGN_STALE_S 600

/* Creates an empty file "<dir>/.sam2-tmp-<host>.<pid>-XXXXXX<suffix>" (mode 0644) and writes
 * its path to tmp[n]. atomic_tmp_beside uses the folder of final_path. */
int atomic_tmp_in_dir(const char *dir, const char *suffix, char *tmp, size_t n, sam2_error *err);
int atomic_tmp_beside(const char *final_path, const char *suffix, char *tmp, size_t n,
                      sam2_error *err);
/* Flushes tmp to disk, renames it to final_path and flushes the folder. On failure tmp is
 * removed and err names the file. */
int atomic_commit(const char *tmp, const char *final_path, sam2_error *err);
/* Removes "<dir>/.sam2-tmp-*" files left by interrupted writes; returns how many. A file of this
 * machine is removed when the process that wrote it no longer runs, one of another machine when
 * older than SAM2_TMP_FOREIGN_STALE_S, one whose name names no writer (older versions) always. */
int sam2_remove_stale_temp_files(const char *dir);

/* This machine's name as it appears in temporary and claim file names: the host name with every
 * character outside [A-Za-z0-9-] replaced by '-', at most 32 characters. */
const char *sam2_host_tag(void);
/* Parses "<host>.<pid>" at the start of text; 0 with host[cap] and *pid set, else -1. */
int sam2_parse_owner(const char *text, char *host, size_t cap, long *pid);
/* 1 when the writer "<host>.<pid>" is known to be gone: this machine's process pid no longer
 * runs, or (another machine) the file's mtime is older than stale_s. */
int sam2_owner_gone(const char *host, long pid, double mtime, int stale_s);

#endif
