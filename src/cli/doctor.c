/* `sam2 doctor`: checks the machine and the installation, one line per check, and says what to
 * do about each problem. Exit status 0 when everything needed to run is present, 1 otherwise. */
#include "cli/cli.h"
#include "app/cli_options.h"

#include "sam2.h"
#include "server/config.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int problems;

static void report(int ok, const char *what, const char *detail, const char *fix) {
    printf("%-6s %-22s %s\n", ok ? "ok" : "FAIL", what, detail);
    if (!ok) {
        problems++;
        if (fix) printf("       %-22s -> %s\n", "", fix);
    }
}

static void note(const char *what, const char *detail) {
    printf("%-6s %-22s %s\n", "info", what, detail);
}

static void check_cpu(void) {
    char buf[256];
#if defined(__x86_64__)
    __builtin_cpu_init();
    const int avx2 = __builtin_cpu_supports("avx2"), fma = __builtin_cpu_supports("fma");
    snprintf(buf, sizeof buf, "x86-64, AVX2 %s, FMA %s", avx2 ? "yes" : "no", fma ? "yes" : "no");
    report(1, "cpu", buf, NULL);
#elif defined(__aarch64__)
    report(1, "cpu", "AArch64 (NEON)", NULL);
#else
    report(1, "cpu", "neither x86-64 nor AArch64: portable C kernels", NULL);
#endif
    /* The kernel path in use: AVX2+FMA, NEON or baseline, and why (SAM2_KERNELS). */
    sam2_cpu_info cpu;
    sam2_cpu_info_get(&cpu);
    snprintf(buf, sizeof buf, "%s (%s)", cpu.kernels_label, cpu.kernels_reason);
    report(1, "kernels", buf, NULL);
    const int baseline = strcmp(cpu.kernels, "baseline") == 0;
    if (baseline && cpu.vector_kernels_available)
        note("kernels", "vector kernels are available: unset SAM2_KERNELS to use them");
    else if (baseline)
        note("kernels", "no vector kernels for this CPU: the portable C path runs (slower)");
    snprintf(buf, sizeof buf, "%ld online, sam2c uses %d", sysconf(_SC_NPROCESSORS_ONLN),
             sam2_get_threads());
    report(1, "threads", buf, NULL);
    const long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGE_SIZE);
    const double gib = (double)pages * (double)psize / (1024.0 * 1024 * 1024);
    snprintf(buf, sizeof buf, "%.1f GiB", gib);
    report(gib >= 2.0, "memory", buf,
           "sam2c needs about 1 GiB for the tiny model, 4 GiB for large");
}

static void check_libraries(void) {
    char buf[256];
    sam2_cpu_info cpu;
    sam2_cpu_info_get(&cpu);
    report(1, "blas", cpu.blas, NULL);
    snprintf(buf, sizeof buf, "libavformat %s, libavcodec %s", AV_STRINGIFY(LIBAVFORMAT_VERSION),
             AV_STRINGIFY(LIBAVCODEC_VERSION));
    report(1, "ffmpeg", buf, NULL);
    const AVCodec *h264_dec = avcodec_find_decoder(AV_CODEC_ID_H264);
    report(h264_dec != NULL, "h264 decoder", h264_dec ? h264_dec->name : "missing",
           "install Debian's libavcodec59 (apt-get install libavcodec59)");
    const AVCodec *h264_enc = avcodec_find_encoder_by_name("libx264");
    if (!h264_enc) h264_enc = avcodec_find_encoder(AV_CODEC_ID_H264);
    report(h264_enc != NULL, "h264 encoder", h264_enc ? h264_enc->name : "missing",
           "uploads and overlay videos need an H.264 encoder (Debian's libavcodec has libx264)");
}

/* Every Vulkan device with what `auto` would take. Optional: nothing here is a failure. */
static void check_vulkan(void) {
    sam2_gpu_device list[16];
    sam2_error err = {0};
    int pick = -1;
    const int n = sam2_gpu_devices(list, 16, &pick, &err);
    if (n < 0) {
        note("vulkan", err.message);
        return;
    }
    const int shown = n < 16 ? n : 16;
    char buf[600];
    for (int i = 0; i < shown; i++) {
        const sam2_gpu_device *d = &list[i];
        char what[32];
        snprintf(what, sizeof what, "vulkan device %d", i);
        snprintf(buf, sizeof buf,
                 "%s: %s, Vulkan %u.%u, %.0f MiB device-local, subgroup %u, cooperative matrix "
                 "%s%s%s",
                 d->name, d->type, d->api_major, d->api_minor,
                 (double)d->device_local_bytes / (1024.0 * 1024.0), d->subgroup_size,
                 d->cooperative_matrix ? "yes (not used yet)" : "no",
                 d->usable ? "" : "; cannot be used: ", d->usable ? "" : d->why_not);
        note(what, buf);
    }
    if (pick >= 0)
        snprintf(buf, sizeof buf, "%d device%s; auto takes device %d (%s)", n, n == 1 ? "" : "s",
                 pick, list[pick].name);
    else
        snprintf(buf, sizeof buf,
                 "%d device%s, no GPU among them: auto uses the CPU backend (--device N picks a "
                 "device by its number)",
                 n, n == 1 ? "" : "s");
    report(1, "vulkan", buf, NULL);
}

static void check_path(const char *what, const char *path, int need_dir, const char *fix) {
    char buf[600];
    if (access(path, R_OK) != 0) {
        snprintf(buf, sizeof buf, "%s: not found", path);
        report(0, what, buf, fix);
        return;
    }
    if (need_dir) {
        struct statvfs vfs;
        if (statvfs(path, &vfs) == 0) {
            const double free_gib = (double)vfs.f_bavail * (double)vfs.f_frsize / (1 << 30);
            snprintf(buf, sizeof buf, "%s (%.1f GiB free)", path, free_gib);
            report(free_gib > 0.5, what, buf, "free some disk space for uploads and spill files");
            return;
        }
    }
    report(1, what, path, NULL);
}

static void check_model(const char *ckpt, const char *config) {
    sam2_error err = {0};
    sam2_model *m = sam2_model_load(ckpt, config, &err);
    if (!m) {
        report(0, "checkpoint", err.message, "download it with scripts/fetch_models.sh");
        return;
    }
    char buf[600];
    snprintf(buf, sizeof buf, "%s: %s, %lld parameters, %dx%d input, backend %s", ckpt,
             sam2_model_name(m), (long long)sam2_model_param_count(m), sam2_model_image_size(m),
             sam2_model_image_size(m), sam2_model_backend(m));
    report(1, "checkpoint", buf, NULL);
    sam2_model_free(m);
}

/* The compute backends this build has, and which one a model loads onto. */
static void check_backends(void) {
    char buf[300];
    for (const char *const *n = sam2_backend_names(); *n; n++) {
        snprintf(buf, sizeof buf, "%s: %s", *n, sam2_backend_about(*n));
        note("backend", buf);
    }
    snprintf(buf, sizeof buf, "auto is %s; models load onto %s (--backend, else $SAM2_BACKEND)",
             sam2_backend_auto_name(), sam2_get_backend());
    report(1, "backends", buf, NULL);
}

typedef struct doctor_args {
    const char *checkpoint, *config;
} doctor_args;

static const cli_option OPTIONS[] = {
    CLI_OPT_STRING("--checkpoint", offsetof(doctor_args, checkpoint), "PATH",
                   "the checkpoint to load and check (default: the server's)", 0),
    CLI_OPT_STRING("--config", offsetof(doctor_args, config), "YAML",
                   "its YAML config or preset name (default: detected)", 0),
    CLI_OPT_BACKEND,
};

static const cli_spec SPEC = {
    .command = "doctor",
    .about = "Checks the CPU, memory, libraries, the Vulkan devices (and which one\n"
             "--backend vulkan would take), the checkpoint the server would load\n"
             "($APP_ROOT/checkpoints/sam2.1_hiera_$MODEL_SIZE.pt, or edgetam.pt for\n"
             "MODEL_SIZE=edgetam, unless --checkpoint), and the data folder ($DATA_PATH).",
    .options = CLI_OPTIONS(OPTIONS),
};

int cmd_doctor(int argc, char **argv) {
    doctor_args a = {0};
    const int parsed = cli_parse_command(&SPEC, argc, argv, &a);
    if (parsed >= 0) return parsed;
    const char *ckpt = a.checkpoint, *config = a.config;
    printf("sam2 %s doctor\n", sam2_version());
    check_cpu();
    check_libraries();
    check_vulkan();
    check_backends();
    char def_ckpt[1024];
    if (!ckpt) {
        const char *root = getenv("APP_ROOT"), *size = getenv("MODEL_SIZE");
        const server_model_file *mf = server_model_file_of(size ? size : "tiny");
        if (mf)
            snprintf(def_ckpt, sizeof def_ckpt, "%s/checkpoints/%s", root ? root : ".", mf->file);
        else /* an unknown size still names the file the server would look for */
            snprintf(def_ckpt, sizeof def_ckpt, "%s/checkpoints/sam2.1_hiera_%s.pt",
                     root ? root : ".", size);
        ckpt = def_ckpt;
    }
    if (access(ckpt, R_OK) == 0)
        check_model(ckpt, config);
    else
        check_path("checkpoint", ckpt, 0,
                   "run scripts/fetch_models.sh (or make serve, which fetches it)");
    const char *data = getenv("DATA_PATH");
    check_path("data folder", data ? data : "data", 1,
               "set DATA_PATH to a folder with gallery/ (make serve creates one)");
    printf("%s\n", problems ? "some checks failed" : "all checks passed");
    return problems ? CLI_FAIL : CLI_OK;
}
