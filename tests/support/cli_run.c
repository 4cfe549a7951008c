#include "support/cli_run.h"

#include "support/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 64

const char *cli_bin(void) {
    return SAM2_BIN_DIR "/sam2";
}

/* argv for execvp: sam2 and its arguments, after the emulator when there is one. */
static int build_argv(const char *const *args, char **argv) {
    int n = 0;
    if (test_emulator()) argv[n++] = (char *)test_emulator();
    argv[n++] = (char *)cli_bin();
    for (int i = 0; args[i]; i++) {
        if (n == MAX_ARGS - 1) return -1;
        argv[n++] = (char *)args[i];
    }
    argv[n] = NULL;
    return 0;
}

static int status_of(int ws) {
    if (WIFEXITED(ws)) return WEXITSTATUS(ws);
    if (WIFSIGNALED(ws)) return 128 + WTERMSIG(ws);
    return -1;
}

int cli_wait(pid_t pid) {
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR) return -1;
    return status_of(ws);
}

int cli_run(const char *const *args, int timeout_s, cli_result *r) {
    memset(r, 0, sizeof *r);
    char *argv[MAX_ARGS];
    if (build_argv(args, argv)) return -1;
    const char *dir = test_make_tmpdir();
    char out_path[512], err_path[512];
    snprintf(out_path, sizeof out_path, "%s/.cli-stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/.cli-stderr", dir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0) _exit(127);
        dup2(o, STDOUT_FILENO);
        dup2(e, STDERR_FILENO);
        /* SIGALRM's default action ends a runaway child; emulated (qemu), sam2 runs some 50
         * times slower, and a sanitized Debug build several times slower (EdgeTAM's 1024-px
         * encoder under ASan took over 120 s on the shared 2-core machine). */
        unsigned scale = test_emulated() ? 20 : 1;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
        scale *= 5;
#endif
        alarm(scale * (unsigned)timeout_s);
        execvp(argv[0], argv);
        _exit(127);
    }
    r->status = cli_wait(pid);
    r->out = test_read_file(out_path, NULL);
    r->err = test_read_file(err_path, NULL);
    if (!r->out) r->out = calloc(1, 1);
    if (!r->err) r->err = calloc(1, 1);
    unlink(out_path);
    unlink(err_path);
    return 0;
}

void cli_result_free(cli_result *r) {
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

pid_t cli_spawn(const char *const *args, int *stderr_fd) {
    char *argv[MAX_ARGS];
    int fds[2];
    if (build_argv(args, argv) || pipe(fds) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    *stderr_fd = fds[0];
    return pid;
}

int cli_wait_for_output(int fd, const char *needle, int timeout_s) {
    char buf[16384];
    size_t len = 0;
    const time_t end = time(NULL) + timeout_s;
    while (time(NULL) < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0) continue;
        if (len + 1 >= sizeof buf) len = 0; /* keep scanning, forget old text */
        const ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0) return 0; /* the child closed stderr: it ended */
        len += (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, needle)) return 1;
    }
    return 0;
}

static uint8_t *read_png(const char *path, int want_type, int *w, int *h, uint8_t *pal, int *npal) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        free(pixels);
        pixels = NULL;
        goto done;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    if (png_get_bit_depth(png, info) != 8 || png_get_color_type(png, info) != want_type) goto done;
    const int W = (int)png_get_image_width(png, info), H = (int)png_get_image_height(png, info);
    if (want_type == PNG_COLOR_TYPE_PALETTE) {
        png_colorp colors;
        int n = 0;
        png_get_PLTE(png, info, &colors, &n);
        if (npal) *npal = n;
        for (int i = 0; pal && i < n; i++) {
            pal[3 * i] = colors[i].red;
            pal[3 * i + 1] = colors[i].green;
            pal[3 * i + 2] = colors[i].blue;
        }
    }
    pixels = malloc((size_t)W * H);
    rows = malloc(sizeof(png_bytep) * (size_t)H);
    if (!pixels || !rows) {
        free(pixels);
        pixels = NULL;
        goto done;
    }
    for (int y = 0; y < H; y++) rows[y] = pixels + (size_t)y * W;
    png_read_image(png, rows);
    *w = W;
    *h = H;
done:
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return pixels;
}

uint8_t *cli_png_read_indexed(const char *path, int *w, int *h, uint8_t *pal, int *npal) {
    return read_png(path, PNG_COLOR_TYPE_PALETTE, w, h, pal, npal);
}

uint8_t *cli_png_read_gray(const char *path, int *w, int *h) {
    return read_png(path, PNG_COLOR_TYPE_GRAY, w, h, NULL, NULL);
}

int cli_count_entries(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            !strncmp(e->d_name, prefix, strlen(prefix)))
            n++;
    closedir(d);
    return n;
}
