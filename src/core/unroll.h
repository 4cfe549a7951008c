/* Internal: UNROLL_ALL(N) asks the compiler to unroll the loop that follows completely (it runs
 * at most N times).
 *
 * Why: the micro-kernels keep their accumulators in small arrays indexed by the row counter
 * (acc[i] for i < MR). Only when every loop over i is unrolled can the compiler give each
 * element its own register. GCC 12 decides that by heuristics that depend on the whole
 * translation unit: in cpu_kernels_avx2.c it left the arrays on the stack and stored all twelve
 * accumulators on every step of k, which halved the speed of every linear layer and attention
 * (sam2 bench image: 45 % of the same-run SGEMM rate instead of 85 %). With the pragma the
 * result no longer depends on what else the file holds. */
#ifndef SAM2_CORE_UNROLL_H
#define SAM2_CORE_UNROLL_H

#define UNROLL_PRAGMA_(text) _Pragma(#text)
#if defined(__clang__)
#define UNROLL_ALL(n) UNROLL_PRAGMA_(unroll n)
#elif defined(__GNUC__)
#define UNROLL_ALL(n) UNROLL_PRAGMA_(GCC unroll n)
#else
#define UNROLL_ALL(n)
#endif

#endif
