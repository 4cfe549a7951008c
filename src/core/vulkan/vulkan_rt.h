/* The Vulkan compute runtime: devices, device memory, command streams, device timings.
 *
 * A `vulkan_device` is one opened Vulkan device (instance, logical device, one compute queue, the
 * compute pipelines built from the SPIR-V embedded at build time). It is shared by every thread:
 * memory accounting is atomic and queue submissions are serialised inside.
 *
 * Memory: a `vulkan_buffer` is one device-local VkBuffer with its own memory; a `vulkan_ref` is
 * an address inside one (buffer + byte offset), the device counterpart of a `float *`.
 * `vulkan_arena` hands out refs with marks, like core/arena.h. Every device-local allocation
 * counts against the device's budget (`--device-memory-mb`, default 80 % of the device-local
 * heap); going over it, or the driver running out, is a SAM2_ERR_NOMEM error naming the sizes,
 * never a crash.
 *
 * Work: a `vulkan_stream` records uploads, kernels (core/vulkan/vulkan_ops.h) and downloads
 * into one command buffer, with a memory barrier between dependent commands, and submits it
 * at a sync point: vulkan_sync(), a download, or when its staging memory or timestamp queries
 * run out. A stream belongs to one thread at a time; several streams on one device share its
 * queue. Uploads are staged through host-visible memory and counted; so are downloads.
 *
 * Timings: vulkan_stage_begin(s, "name") / vulkan_stage_end(s) bracket commands with
 * timestamp queries; the device time of each named stage accumulates per stream.
 *
 * Validation: with `validation` set in the options (or SAM2_VULKAN_VALIDATION=1 in the
 * environment) the Khronos validation layer is enabled with a debug messenger that prints and
 * counts its errors; tests fail when vulkan_validation_errors() is not zero. */
#ifndef SAM2_CORE_VULKAN_RT_H
#define SAM2_CORE_VULKAN_RT_H

#include "sam2.h"

#include <stddef.h>
#include <stdint.h>

/* --- devices ------------------------------------------------------------------------------ */

typedef enum vulkan_device_type {
    VULKAN_DEVICE_OTHER = 0,
    VULKAN_DEVICE_DISCRETE,
    VULKAN_DEVICE_INTEGRATED,
    VULKAN_DEVICE_VIRTUAL,
    VULKAN_DEVICE_CPU, /* a CPU implementation (lavapipe, llvmpipe, SwiftShader) */
} vulkan_device_type;

/* Parts of vulkan_device_info.api_version (VK_MAKE_API_VERSION) without vulkan.h. */
#define VULKAN_VERSION_MAJOR(v) (((uint32_t)(v) >> 22) & 0x7fu)
#define VULKAN_VERSION_MINOR(v) (((uint32_t)(v) >> 12) & 0x3ffu)

typedef struct vulkan_device_info {
    int index; /* position in the instance's enumeration: what --device N takes */
    char name[256];
    vulkan_device_type type;
    char driver[128];            /* driver name and version string, when the driver gives one */
    uint32_t api_version;        /* VK_MAKE_API_VERSION encoding */
    uint64_t device_local_bytes; /* size of the largest device-local heap */
    uint32_t subgroup_size;
    int cooperative_matrix; /* VK_KHR_cooperative_matrix (or the NV one) is offered */
    int usable;             /* meets what sam2c needs (why_not says what is missing) */
    char why_not[160];
} vulkan_device_info;

/* Whether this build has the Vulkan backend (libvulkan and glslc were found at build time). */
int vulkan_built(void);
const char *vulkan_device_type_name(vulkan_device_type t);

/* Lists the Vulkan devices into out[0..max-1] and returns how many exist (which may be more
 * than max), or -1 with err set when no Vulkan loader or driver can be used. */
int vulkan_list_devices(vulkan_device_info *out, int max, sam2_error *err);

/* The device `auto` takes among list[0..n-1]: the first usable discrete GPU, else the first
 * usable integrated GPU, else the first usable virtual GPU; never a CPU implementation. Returns
 * its index in the enumeration, or -1 when there is none (then `auto` means the CPU backend). */
int vulkan_auto_device(const vulkan_device_info *list, int n);

typedef struct vulkan_device vulkan_device;

typedef struct vulkan_options {
    int device_index;       /* index from vulkan_list_devices(), or -1 for vulkan_auto_device */
    uint64_t memory_budget; /* bytes of device-local memory to use; 0: 80 % of the heap */
    int validation;         /* enable the Khronos validation layer and count its errors */
    int validation_sync;    /* ... with synchronisation validation as well */
} vulkan_options;

/* Opens a device. Errors (no loader, no such device, an unusable device, no validation layer
 * when asked for) name what is missing. SAM2_VULKAN_VALIDATION=1 (or =sync) in the environment
 * turns validation on as if the options asked for it. */
vulkan_device *vulkan_device_open(const vulkan_options *opt, sam2_error *err);
void vulkan_device_close(vulkan_device *dev);
const vulkan_device_info *vulkan_device_get_info(const vulkan_device *dev);

/* Errors reported by the validation layer since the device was opened (0 without validation). */
uint64_t vulkan_validation_errors(const vulkan_device *dev);

/* Device-local bytes: the budget, what is allocated now, and the most ever allocated. */
uint64_t vulkan_memory_budget(const vulkan_device *dev);
uint64_t vulkan_memory_in_use(const vulkan_device *dev);
uint64_t vulkan_memory_peak(const vulkan_device *dev);

/* --- device memory ---------------------------------------------------------------------- */

typedef struct vulkan_buffer vulkan_buffer;

/* A device address: `offset` bytes into `buf`. Offsets of float data are multiples of 4. */
typedef struct vulkan_ref {
    vulkan_buffer *buf;
    size_t offset;
} vulkan_ref;

static inline vulkan_ref vulkan_at(vulkan_ref r, size_t floats) {
    r.offset += floats * sizeof(float);
    return r;
}

/* A device-local buffer of `bytes` bytes (contents undefined), or NULL with a SAM2_ERR_NOMEM
 * error when the budget or the device's memory does not allow it. */
vulkan_buffer *vulkan_buffer_create(vulkan_device *dev, size_t bytes, sam2_error *err);
void vulkan_buffer_free(vulkan_buffer *buf);
size_t vulkan_buffer_size(const vulkan_buffer *buf);
static inline vulkan_ref vulkan_buffer_ref(vulkan_buffer *buf) {
    vulkan_ref r = {buf, 0};
    return r;
}

/* Device arenas: bump allocation from device buffers with marks, as core/arena.h. The first
 * pass grows the arena chunk by chunk; reset() replaces the chunks by one buffer of the
 * high-water size, so later passes allocate nothing. Refs are 256-byte aligned.
 * Releasing a mark between recorded commands is safe (later commands that reuse the memory are
 * ordered after earlier ones on the stream); chunks opened after the mark are kept for reuse
 * rather than freed, since recorded commands may still use them. reset() and free() return
 * memory to the device: call them only when no recorded command uses the arena (after a
 * sync). */
typedef struct vulkan_arena_chunk vulkan_arena_chunk;
typedef struct vulkan_arena {
    vulkan_device *dev;
    vulkan_arena_chunk *head;
    vulkan_arena_chunk *spare; /* released chunks, free to reuse */
    size_t used_total, high_water, capacity;
    int allocations; /* device allocations made */
} vulkan_arena;

typedef struct vulkan_arena_mark {
    vulkan_arena_chunk *chunk;
    size_t offset, used_total;
} vulkan_arena_mark;

void vulkan_arena_init(vulkan_arena *a, vulkan_device *dev);
void vulkan_arena_free(vulkan_arena *a);
/* `bytes` bytes; on failure the ref's buf is NULL and err says why (SAM2_ERR_NOMEM). */
vulkan_ref vulkan_arena_alloc(vulkan_arena *a, size_t bytes, sam2_error *err);
void vulkan_arena_reset(vulkan_arena *a);
vulkan_arena_mark vulkan_arena_get_mark(const vulkan_arena *a);
void vulkan_arena_release(vulkan_arena *a, vulkan_arena_mark m);

/* --- streams --------------------------------------------------------------------------------- */

typedef struct vulkan_stream vulkan_stream;

vulkan_stream *vulkan_stream_create(vulkan_device *dev, sam2_error *err);
/* Waits for the stream's work, then frees it. */
void vulkan_stream_free(vulkan_stream *s);
vulkan_device *vulkan_stream_device(const vulkan_stream *s);

/* Records a copy of `bytes` host bytes to dst (staged: src may be reused at once). May submit
 * the work recorded so far when the staging memory is full. */
int vulkan_upload(vulkan_stream *s, vulkan_ref dst, const void *src, size_t bytes, sam2_error *err);
/* Runs everything recorded, then copies `bytes` from src into host memory: a sync point. */
int vulkan_download(vulkan_stream *s, void *dst, vulkan_ref src, size_t bytes, sam2_error *err);
/* Records a device-to-device copy of `bytes` (regions must not overlap), and a fill of
 * `bytes` (a multiple of 4) with the 32-bit pattern of `value`. */
void vulkan_copy(vulkan_stream *s, vulkan_ref dst, vulkan_ref src, size_t bytes);
void vulkan_fill(vulkan_stream *s, vulkan_ref dst, size_t bytes, float value);
/* Submits what is recorded and waits for it. Errors: a lost device, a failed submission. */
int vulkan_sync(vulkan_stream *s, sam2_error *err);
/* The first error a recorded command met (e.g. a kernel's arguments out of range), which the
 * next sync also returns; 0 when none. */
int vulkan_stream_status(const vulkan_stream *s);

/* Bytes this stream uploaded and downloaded. */
uint64_t vulkan_bytes_uploaded(const vulkan_stream *s);
uint64_t vulkan_bytes_downloaded(const vulkan_stream *s);

/* Device-time stages: commands recorded between begin and end count towards `name` (a string
 * that outlives the stream, typically a literal). Stages do not nest. */
void vulkan_stage_begin(vulkan_stream *s, const char *name);
void vulkan_stage_end(vulkan_stream *s);
typedef struct vulkan_stage_time {
    const char *name;
    double seconds; /* device time accumulated since the last reset */
    int count;      /* times the stage was run */
} vulkan_stage_time;
/* Fills up to max stages (after a sync, so that every timestamp has been read) and returns how
 * many there are; 0 when the device has no timestamps on its compute queue. */
int vulkan_stage_times(const vulkan_stream *s, vulkan_stage_time *out, int max);
void vulkan_stage_times_reset(vulkan_stream *s);

#endif
