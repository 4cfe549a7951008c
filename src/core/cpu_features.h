/* Which vector kernels the CPU backend runs, and which BLAS it links.
 *
 * The kernel sets are built per architecture (core/cpu_kernels.h): AVX2 + FMA on x86-64, NEON on
 * AArch64, and a portable C baseline everywhere. The set is chosen once per process: the best
 * one this CPU runs (cpuid on x86-64; NEON is part of every AArch64 CPU), unless the
 * environment variable SAM2_KERNELS names another ("baseline", "avx2", "neon" or "auto"). A set
 * that is not built in or that the CPU cannot run is never chosen, whatever SAM2_KERNELS says. */
#ifndef SAM2_CORE_CPU_FEATURES_H
#define SAM2_CORE_CPU_FEATURES_H

typedef enum cpu_isa { CPU_ISA_BASELINE, CPU_ISA_AVX2, CPU_ISA_NEON, CPU_ISA_COUNT } cpu_isa;

/* Short name as SAM2_KERNELS spells it ("baseline", "avx2", "neon"). */
const char *cpu_isa_name(cpu_isa isa);
/* For people: "AVX2+FMA", "NEON", "baseline (portable C)". */
const char *cpu_isa_label(cpu_isa isa);
/* Whether the set is built into this binary and this CPU can run it. */
int cpu_isa_available(cpu_isa isa);
/* The set in use (chosen on the first call; see above). */
cpu_isa cpu_isa_active(void);
/* How the active set was chosen, e.g. "best for this CPU" or "SAM2_KERNELS=baseline"; when
 * SAM2_KERNELS names a set that cannot run, says so. */
const char *cpu_isa_reason(void);
/* The BLAS library behind cblas_sgemm, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... Haswell" or
 * "Apple Accelerate". */
const char *cpu_blas_name(void);

#endif
