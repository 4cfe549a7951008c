/* The baseline kernel table (cpu_kernels.h): plain C for any CPU, linear layers and convolutions
 * through OpenBLAS. It runs when no vector set is built in or supported, or when
 * SAM2_KERNELS=baseline asks for it (CI runs the default test tier that way too). */
#include "core/ukernel_base.h"

#define KERNELS_TABLE cpu_kernels_baseline
#define KERNELS_ISA CPU_ISA_BASELINE
#define KERNELS_V8 0
#define KERNELS_DIRECT_GEMM 0
#include "core/cpu_kernels_impl.h"
