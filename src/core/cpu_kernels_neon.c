/* The NEON kernel table (cpu_kernels.h) for AArch64: Linux on arm64 (tested under qemu-user, see
 * `make test-arm64`) and Apple Silicon. CMake defines SAM2_NEON_KERNELS on AArch64 targets.
 *
 * With Apple's Accelerate as the BLAS, the linear layers and convolutions go to its sgemm
 * (which runs on the matrix unit) instead of the NEON tiles; attention and the vector maths stay
 * here. */
#ifdef SAM2_NEON_KERNELS
#if !defined(__aarch64__)
#error "cpu_kernels_neon.c is for AArch64"
#endif
#include "core/vmath_neon.h"
#include "core/ukernel_neon.h"

#define KERNELS_TABLE cpu_kernels_neon
#define KERNELS_ISA CPU_ISA_NEON
#define KERNELS_V8 1
#if defined(SAM2_BLAS_ACCELERATE)
#define KERNELS_DIRECT_GEMM 0
#else
#define KERNELS_DIRECT_GEMM 1
#endif
#include "core/cpu_kernels_impl.h"
#else
typedef int kernels_neon_not_built; /* ISO C wants a declaration in every translation unit */
#endif
