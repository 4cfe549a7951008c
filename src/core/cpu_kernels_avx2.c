/* The AVX2 + FMA kernel table (cpu_kernels.h). CMake compiles this file, and only this one, with
 * -mavx2 -mfma on x86-64 and defines SAM2_AVX2_KERNELS; cpu_features.c uses the table only when
 * cpuid says the CPU runs it, so a portable build (SAM2_NATIVE=OFF) still runs anywhere. */
#ifdef SAM2_AVX2_KERNELS
#if !defined(__AVX2__) || !defined(__FMA__)
#error "cpu_kernels_avx2.c must be compiled with -mavx2 -mfma"
#endif
#include "core/vmath_avx2.h"
#include "core/ukernel_avx2.h"

#define KERNELS_TABLE cpu_kernels_avx2
#define KERNELS_ISA CPU_ISA_AVX2
#define KERNELS_V8 1
#define KERNELS_DIRECT_GEMM 1
#include "core/cpu_kernels_impl.h"
#else
typedef int kernels_avx2_not_built; /* ISO C wants a declaration in every translation unit */
#endif
