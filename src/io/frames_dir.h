/* A video given as a folder of frames named by number (00000.jpg, 1.png, ...), as the official
 * predictor's load_video_frames_from_jpg_images accepts: files with a .jpg/.jpeg/.png
 * extension (any case; the format is detected from the content, as PIL does) whose name
 * before the extension is a decimal number, ordered by that number. Other files (and hidden
 * ones) are ignored; an image file whose name is not a number is an error, as it is for the
 * official loader.
 *
 * Frames are decoded on demand; the size of the video is the size of frame 0. Frames are
 * decoded to RGB as PIL's Image.open(...).convert("RGB") does: 16-bit samples keep their high
 * byte, palettes are expanded, alpha is dropped (not composited), grey is replicated; CMYK
 * JPEGs are refused. EXIF orientation is ignored (PIL does not apply it either). */
#ifndef SAM2_IO_FRAMES_DIR_H
#define SAM2_IO_FRAMES_DIR_H

#include "sam2.h"

#include <stdint.h>

typedef struct sam2_frames_dir sam2_frames_dir;

/* max_side / max_frames <= 0: SAM2_VIDEO_MAX_SIDE / SAM2_VIDEO_MAX_FRAMES. Errors name the
 * folder or the file: SAM2_ERR_IO, SAM2_ERR_FORMAT (no frames, a bad name, an undecodable
 * frame 0), SAM2_ERR_LIMIT. */
sam2_frames_dir *sam2_frames_dir_open(const char *dir, int max_side, int max_frames,
                                      sam2_error *err);
void sam2_frames_dir_close(sam2_frames_dir *d);
int sam2_frames_dir_count(const sam2_frames_dir *d);
int sam2_frames_dir_width(const sam2_frames_dir *d);
int sam2_frames_dir_height(const sam2_frames_dir *d);

/* Frame `index` as RGB24 (rows of 3 * out_w bytes). out_w = out_h = 0: the video's size (a
 * frame of another size is then an error); otherwise resized with sam2_pil_resize_rgb8, as the
 * official loader's PIL Image.resize((S, S)) does. Not thread-safe. */
int sam2_frames_dir_read(sam2_frames_dir *d, int index, uint8_t *rgb, int out_w, int out_h,
                         sam2_error *err);

/* Decodes one PNG or JPEG file as above (malloc'd RGB24). This is the folder reader's private
 * image loader, the seam to replace with io/image.h once that module is merged. */
uint8_t *sam2_frames_dir_load_rgb(const char *path, int max_side, int *w, int *h, sam2_error *err);

#endif
