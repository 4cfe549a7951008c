#include "io/atomic_file.h"

#include "core/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int atomic_tmp_in_dir(const char *dir, const char *suffix, char *tmp, size_t n, sam2_error *err) {
    if (!suffix) suffix = "";
    int len = snprintf(tmp, n, "%s/" SAM2_TMP_PREFIX "XXXXXX%s", dir && *dir ? dir : ".", suffix);
    if (len < 0 || (size_t)len >= n)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "path too long: '%s'", dir);
    int fd = mkstemps(tmp, (int)strlen(suffix));
    if (fd < 0) {
        sam2_fail(err, SAM2_ERR_IO, "cannot create a file in '%s': %s", dir, strerror(errno));
        tmp[0] = 0;
        return err ? err->code : SAM2_ERR_IO;
    }
    fchmod(fd, 0644);
    close(fd);
    return 0;
}

int atomic_tmp_beside(const char *final_path, const char *suffix, char *tmp, size_t n,
                      sam2_error *err) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", final_path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = 0;
    else *slash = 0;
    return atomic_tmp_in_dir(dir, suffix, tmp, n, err);
}

static void fsync_path(const char *path, int flags) {
    int fd = open(path, flags);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int atomic_commit(const char *tmp, const char *final_path, sam2_error *err) {
    fsync_path(tmp, O_RDONLY);
    if (rename(tmp, final_path) != 0) {
        int e = errno;
        unlink(tmp);
        return sam2_fail(err, SAM2_ERR_IO, "cannot move the new file to '%s': %s", final_path,
                         strerror(e));
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", final_path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        fsync_path(*dir ? dir : "/", O_RDONLY | O_DIRECTORY);
    } else {
        fsync_path(".", O_RDONLY | O_DIRECTORY);
    }
    return 0;
}

int sam2_remove_stale_temp_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, SAM2_TMP_PREFIX, strlen(SAM2_TMP_PREFIX)) != 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) == 0) removed++;
    }
    closedir(d);
    return removed;
}
