/* bench-load CHECKPOINT [CONFIG.yaml]: memory and time of loading a checkpoint.
 *
 * Prints the file size and the process's resident set size (VmRSS) before opening, after
 * ckpt_open, after reading every tensor's float32 values once (in small chunks, so the reading
 * itself allocates nothing), and after binding the weights to the model configuration
 * (detected among the presets, or the YAML given): float16 / bfloat16 tensors are then upcast
 * into an owned buffer and their file pages released. */
#include "core/platform.h"
#include "io/checkpoint.h"
#include "io/model_weights.h"
#include "io/yaml_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long rss_bytes(void) {
    return (long long)platform_rss_bytes();
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void report(const char *stage, long long rss, long long base, long long file, double t) {
    printf("%-34s RSS %8.1f MiB  (+%7.1f MiB, %5.1f %% of the file)  %7.3f s\n", stage,
           rss / 1048576.0, (rss - base) / 1048576.0, 100.0 * (double)(rss - base) / (double)file,
           t);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench-load CHECKPOINT [CONFIG.yaml]\n");
        return 2;
    }
    sam2_error err = {0};
    sam2_config cfg;
    if (argc == 3 && sam2_config_load_yaml(argv[2], &cfg, &err)) {
        fprintf(stderr, "bench-load: %s\n", err.message);
        return 2;
    }
    long long base = rss_bytes();
    double t0 = now();
    ckpt *ck = ckpt_open(argv[1], &err);
    if (!ck) {
        fprintf(stderr, "bench-load: %s\n", err.message);
        return 2;
    }
    double t_open = now() - t0;
    long long file = ckpt_file_size(ck);
    printf("checkpoint %s: %lld bytes, %d tensors, %lld parameters\n", argv[1], file,
           ckpt_num_tensors(ck), (long long)ckpt_num_scalars(ck));
    report("before opening", base, base, file, 0);
    report("after ckpt_open", rss_bytes(), base, file, t_open);

    t0 = now();
    static float chunk[16384];
    double sum = 0;
    for (int i = 0; i < ckpt_num_tensors(ck); i++) {
        const ckpt_tensor *t = ckpt_tensor_at(ck, i);
        for (int64_t j = 0; j < t->numel; j += 16384) {
            int64_t n = t->numel - j < 16384 ? t->numel - j : 16384;
            ckpt_tensor_read_f32(t, j, n, chunk);
            for (int64_t k = 0; k < n; k++) sum += chunk[k];
        }
    }
    report("after reading every tensor", rss_bytes(), base, file, now() - t0);

    t0 = now();
    if (argc == 2 && sam2_weights_detect(ck, &cfg, &err)) {
        fprintf(stderr, "bench-load: %s\n", err.message);
        ckpt_close(ck);
        return 2;
    }
    sam2_loaded l;
    if (sam2_weights_bind(ck, &cfg, &l, &err)) {
        fprintf(stderr, "bench-load: %s\n", err.message);
        ckpt_close(ck);
        return 2;
    }
    report("after binding (CRC + upcast)", rss_bytes(), base, file, now() - t0);
    printf("config %s, %lld float32 values owned (%.1f MiB), checksum %.6g\n", l.cfg.name,
           (long long)l.owned_floats, l.owned_floats * 4 / 1048576.0, sum);
    sam2_loaded_free(&l);
    ckpt_close(ck);
    report("after closing", rss_bytes(), base, file, 0);
    return 0;
}
