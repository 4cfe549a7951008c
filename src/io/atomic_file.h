/* Files that appear complete or not at all: written under a hidden temporary name in the
 * destination folder, then renamed over the final name (rename is atomic within a folder).
 * A process killed mid-write leaves only a ".sam2-tmp-*" file, never a partial file under the
 * final name; sam2_remove_stale_temp_files() clears those at start-up. */
#ifndef SAM2_IO_ATOMIC_FILE_H
#define SAM2_IO_ATOMIC_FILE_H

#include "sam2.h"

#include <stddef.h>

#define SAM2_TMP_PREFIX ".sam2-tmp-"

/* Creates an empty file "<dir>/.sam2-tmp-XXXXXX<suffix>" (mode 0644) and writes its path to
 * tmp[n]. atomic_tmp_beside uses the folder of final_path. */
int atomic_tmp_in_dir(const char *dir, const char *suffix, char *tmp, size_t n, sam2_error *err);
int atomic_tmp_beside(const char *final_path, const char *suffix, char *tmp, size_t n,
                      sam2_error *err);
/* Flushes tmp to disk, renames it to final_path and flushes the folder. On failure tmp is
 * removed and err names the file. */
int atomic_commit(const char *tmp, const char *final_path, sam2_error *err);
/* Removes "<dir>/.sam2-tmp-*" files left by interrupted writes; returns how many. */
int sam2_remove_stale_temp_files(const char *dir);

#endif
