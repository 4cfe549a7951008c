/* An independent COCO compressed-RLE string decoder for the tests (the format of pycocotools'
 * rleToString: run lengths of a column-major mask, 6-bit characters, deltas from the run two
 * back). Used to compare the server's masks with the golden ones pixel by pixel. */
#ifndef SAM2_TEST_COCO_RLE_H
#define SAM2_TEST_COCO_RLE_H

#include <stdint.h>

/* Fills mask (h*w, row-major, 0/1). Returns 0, or -1 when the string is malformed or its runs
 * do not cover exactly h*w pixels. */
int coco_rle_decode(const char *counts, int h, int w, uint8_t *mask);

#endif
