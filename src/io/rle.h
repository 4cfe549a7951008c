/* COCO compressed run-length encoding of binary masks, byte-identical to pycocotools
 * (`mask.encode` of a Fortran-ordered uint8 HxW mask, `counts` as a string) — the format of the
 * SAM 2 demo server's masks and of the golden data.
 *
 * Runs cover the mask in column-major order (down each column, columns left to right) and
 * alternate 0/1, starting with a run of zeros that may be empty. The counts string writes run i
 * (for i > 2 as the difference to run i-2) in 5-bit groups, least significant first; each group
 * becomes the character 48 + group, with 0x20 added while more groups follow; bit 0x10 of the
 * last group carries the sign.
 *
 * Masks here are row-major h x w bytes (any nonzero byte is foreground). Decoding validates
 * everything (characters, truncated values, overflow, negative runs, total area) and fails with
 * SAM2_ERR_FORMAT instead of trusting the string. */
#ifndef SAM2_IO_RLE_H
#define SAM2_IO_RLE_H

#include "sam2.h"

#include <stddef.h>
#include <stdint.h>

/* Largest h * w accepted (pycocotools keeps runs in 32-bit unsigned integers). */
#define RLE_MAX_AREA ((int64_t)INT32_MAX)

/* Mask -> runs (malloc'd, *nruns >= 1). */
int rle_runs_from_mask(const uint8_t *mask, int h, int w, uint32_t **runs, size_t *nruns,
                       sam2_error *err);
/* Runs -> row-major mask (h*w bytes of 0/1). The runs must sum to h*w exactly. */
int rle_runs_to_mask(const uint32_t *runs, size_t nruns, int h, int w, uint8_t *mask_out,
                     sam2_error *err);
/* Runs -> counts string (malloc'd, NUL-terminated). */
int rle_runs_to_string(const uint32_t *runs, size_t nruns, char **out, sam2_error *err);
/* Counts string -> runs (malloc'd; *nruns may be 0 for ""). Validates the characters and each
 * value (no truncated value, no run below 0 or above 2^32 - 1), not the total. */
int rle_string_to_runs(const char *counts, uint32_t **runs, size_t *nruns, sam2_error *err);

/* Mask -> counts string (malloc'd). */
int rle_encode(const uint8_t *mask, int h, int w, char **out_counts, sam2_error *err);
/* Counts string -> mask (h*w bytes of 0/1, row-major). Fails unless the runs sum to h*w. */
int rle_decode(const char *counts, int h, int w, uint8_t *mask_out, sam2_error *err);
/* Number of foreground pixels a valid counts string describes, or -1 (err set). */
int64_t rle_area(const char *counts, int h, int w, sam2_error *err);

#endif
