/* The CBLAS interface: Apple's Accelerate on macOS (its sgemm runs on the matrix unit of Apple
 * Silicon), OpenBLAS elsewhere. CMake defines SAM2_BLAS_ACCELERATE or SAM2_BLAS_OPENBLAS. */
#ifndef SAM2_CORE_BLAS_H
#define SAM2_CORE_BLAS_H

#if defined(SAM2_BLAS_ACCELERATE)
/* ACCELERATE_NEW_LAPACK (set by CMake) selects the current CBLAS headers: the older ones are
 * deprecated from macOS 13.3 on, which -Werror would turn into errors. */
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

#endif
