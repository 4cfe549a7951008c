/* Kernel set selection (see cpu_features.h and cpu_kernels.h). */
#include "core/cpu_features.h"
#include "core/blas.h"
#include "core/cpu_kernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const cpu_kernels cpu_kernels_baseline;
#ifdef SAM2_AVX2_KERNELS
extern const cpu_kernels cpu_kernels_avx2;
#endif
#ifdef SAM2_NEON_KERNELS
extern const cpu_kernels cpu_kernels_neon;
#endif

static const char *const isa_names[CPU_ISA_COUNT] = {"baseline", "avx2", "neon"};
static const char *const isa_labels[CPU_ISA_COUNT] = {"baseline (portable C)", "AVX2+FMA", "NEON"};

const char *cpu_isa_name(cpu_isa isa) {
    return isa >= 0 && isa < CPU_ISA_COUNT ? isa_names[isa] : "unknown";
}

const char *cpu_isa_label(cpu_isa isa) {
    return isa >= 0 && isa < CPU_ISA_COUNT ? isa_labels[isa] : "unknown";
}

/* Whether this CPU (and its OS) runs the instruction set, built in or not. */
static int cpu_runs(cpu_isa isa) {
    switch (isa) {
    case CPU_ISA_BASELINE:
        return 1;
    case CPU_ISA_AVX2:
#if defined(__x86_64__) || defined(__i386__)
        /* GCC's and clang's checks include the OS saving the YMM registers (XGETBV). */
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
        return 0;
#endif
    case CPU_ISA_NEON:
#if defined(__aarch64__)
        return 1; /* Advanced SIMD with fused multiply-add is part of every AArch64 CPU */
#else
        return 0;
#endif
    default:
        return 0;
    }
}

const cpu_kernels *cpu_kernels_of(cpu_isa isa) {
    const cpu_kernels *k = NULL;
    switch (isa) {
    case CPU_ISA_BASELINE:
        k = &cpu_kernels_baseline;
        break;
#ifdef SAM2_AVX2_KERNELS
    case CPU_ISA_AVX2:
        k = &cpu_kernels_avx2;
        break;
#endif
#ifdef SAM2_NEON_KERNELS
    case CPU_ISA_NEON:
        k = &cpu_kernels_neon;
        break;
#endif
    default:
        break;
    }
    return k && cpu_runs(isa) ? k : NULL;
}

int cpu_isa_available(cpu_isa isa) {
    return cpu_kernels_of(isa) != NULL;
}

static _Atomic(const cpu_kernels *) active;
static char reason[160];
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

/* Sets `active` to the best set this CPU runs, or to the one SAM2_KERNELS asks for when it
 * can run, and says why in `reason`. */
static void choose(void) {
    const cpu_kernels *best = &cpu_kernels_baseline, *pick = NULL;
    for (int i = CPU_ISA_COUNT - 1; i > CPU_ISA_BASELINE && best->isa == CPU_ISA_BASELINE; i--)
        if (cpu_kernels_of((cpu_isa)i)) best = cpu_kernels_of((cpu_isa)i);
    const char *want = getenv("SAM2_KERNELS");
    if (!want || !*want || !strcmp(want, "auto")) {
        snprintf(reason, sizeof reason, "the best set this CPU runs");
        pick = best;
    }
    for (int i = 0; !pick && i < CPU_ISA_COUNT; i++)
        if (!strcmp(want, isa_names[i])) {
            pick = cpu_kernels_of((cpu_isa)i);
            if (pick)
                snprintf(reason, sizeof reason, "SAM2_KERNELS=%s", want);
            else {
                snprintf(reason, sizeof reason,
                         "SAM2_KERNELS=%s is not built in or not supported by this CPU; using %s",
                         want, isa_names[best->isa]);
                pick = best;
            }
        }
    if (!pick) {
        snprintf(reason, sizeof reason,
                 "SAM2_KERNELS=%.40s is not one of auto, baseline, avx2, neon; using %s", want,
                 isa_names[best->isa]);
        pick = best;
    }
    atomic_store_explicit(&active, pick, memory_order_release);
}

const cpu_kernels *cpu_kernels_get(void) {
    const cpu_kernels *k = atomic_load_explicit(&active, memory_order_acquire);
    if (k) return k;
    pthread_once(&chosen_once, choose);
    return atomic_load_explicit(&active, memory_order_acquire);
}

int cpu_kernels_use(cpu_isa isa) {
    const cpu_kernels *k = cpu_kernels_of(isa);
    if (!k) return -1;
    pthread_once(&chosen_once, choose); /* so that it cannot overwrite this choice later */
    snprintf(reason, sizeof reason, "cpu_kernels_use(%s)", isa_names[isa]);
    atomic_store_explicit(&active, k, memory_order_release);
    return 0;
}

cpu_isa cpu_isa_active(void) {
    return cpu_kernels_get()->isa;
}

const char *cpu_isa_reason(void) {
    (void)cpu_kernels_get();
    return reason;
}

const char *cpu_blas_name(void) {
#if defined(SAM2_BLAS_ACCELERATE)
    return "Apple Accelerate";
#else
    return openblas_get_config(); /* "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell ..." */
#endif
}
