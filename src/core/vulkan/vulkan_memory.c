/* Device memory: buffers in device-local memory counted against the device's budget, and
 * arenas with marks over them. */
#include "core/error.h"
#include "core/vulkan/vulkan_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024.0 * 1024.0)

int vulkan_memory_reserve(vulkan_device *dev, uint64_t bytes, const char *what, sam2_error *err) {
    uint64_t used = atomic_load(&dev->in_use);
    do {
        if (used + bytes > dev->budget)
            return sam2_fail(err, SAM2_ERR_NOMEM,
                             "Vulkan device memory: %s needs %.1f MiB but %.1f MiB of the %.1f MiB "
                             "budget are in use (--device-memory-mb sets the budget)",
                             what, (double)bytes / MIB, (double)used / MIB,
                             (double)dev->budget / MIB);
    } while (!atomic_compare_exchange_weak(&dev->in_use, &used, used + bytes));
    uint64_t peak = atomic_load(&dev->peak);
    while (used + bytes > peak && !atomic_compare_exchange_weak(&dev->peak, &peak, used + bytes)) {
    }
    return 0;
}

void vulkan_memory_unreserve(vulkan_device *dev, uint64_t bytes) {
    atomic_fetch_sub(&dev->in_use, bytes);
}

uint64_t vulkan_memory_budget(const vulkan_device *dev) {
    return dev->budget;
}
uint64_t vulkan_memory_in_use(const vulkan_device *dev) {
    return atomic_load(&((vulkan_device *)dev)->in_use);
}
uint64_t vulkan_memory_peak(const vulkan_device *dev) {
    return atomic_load(&((vulkan_device *)dev)->peak);
}

/* The memory type for `bits`: device-local and, where there is a choice, not host-visible
 * (on a discrete GPU the host-visible device-local window is small and precious). */
static int device_memory_type(const vulkan_device *dev, uint32_t bits) {
    int best = -1, best_score = -1;
    for (uint32_t i = 0; i < dev->memory.memoryTypeCount; i++) {
        if (!(bits & (1u << i))) continue;
        const VkMemoryPropertyFlags f = dev->memory.memoryTypes[i].propertyFlags;
        if (!(f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)) continue;
        const int score = (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) ? 1 : 2;
        if (score > best_score) best = (int)i, best_score = score;
    }
    return best;
}

vulkan_buffer *vulkan_buffer_create(vulkan_device *dev, size_t bytes, sam2_error *err) {
    if (bytes == 0) bytes = 4;
    if (dev->max_allocation && bytes > dev->max_allocation) {
        sam2_fail(err, SAM2_ERR_NOMEM,
                  "Vulkan device memory: one buffer of %.1f MiB is more than the device allows "
                  "(%.1f MiB)",
                  (double)bytes / MIB, (double)dev->max_allocation / MIB);
        return NULL;
    }
    vulkan_buffer *b = calloc(1, sizeof *b);
    if (!b) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
        return NULL;
    }
    b->dev = dev;
    b->size = bytes;
    const VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = bytes,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkResult r = vkCreateBuffer(dev->device, &info, NULL, &b->buffer);
    if (r != VK_SUCCESS) {
        sam2_fail(err, SAM2_ERR_NOMEM, "Vulkan device memory: a buffer of %.1f MiB: %s",
                  (double)bytes / MIB, vulkan_result_name(r));
        free(b);
        return NULL;
    }
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev->device, b->buffer, &req);
    const int type = device_memory_type(dev, req.memoryTypeBits);
    char what[64];
    snprintf(what, sizeof what, "a buffer of %.1f MiB", (double)req.size / MIB);
    if (type < 0) {
        sam2_fail(err, SAM2_ERR_UNSUPPORTED, "Vulkan: no device-local memory type for buffers");
    } else if (vulkan_memory_reserve(dev, req.size, what, err) == 0) {
        const VkMemoryAllocateInfo alloc = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
            .allocationSize = req.size,
            .memoryTypeIndex = (uint32_t)type,
        };
        r = vkAllocateMemory(dev->device, &alloc, NULL, &b->memory);
        if (r == VK_SUCCESS) r = vkBindBufferMemory(dev->device, b->buffer, b->memory, 0);
        if (r == VK_SUCCESS) {
            b->size = bytes;
            return b;
        }
        vulkan_memory_unreserve(dev, req.size);
        sam2_fail(err, SAM2_ERR_NOMEM,
                  "Vulkan device memory: the device could not allocate %.1f MiB (%s; %.1f MiB in "
                  "use); lower --device-memory-mb or use --backend cpu",
                  (double)req.size / MIB, vulkan_result_name(r),
                  (double)vulkan_memory_in_use(dev) / MIB);
    }
    if (b->memory) vkFreeMemory(dev->device, b->memory, NULL);
    vkDestroyBuffer(dev->device, b->buffer, NULL);
    free(b);
    return NULL;
}

void vulkan_buffer_free(vulkan_buffer *b) {
    if (!b) return;
    vulkan_device *dev = b->dev;
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev->device, b->buffer, &req);
    vkDestroyBuffer(dev->device, b->buffer, NULL);
    vkFreeMemory(dev->device, b->memory, NULL);
    vulkan_memory_unreserve(dev, req.size);
    free(b);
}

size_t vulkan_buffer_size(const vulkan_buffer *b) {
    return b->size;
}

/* --- arenas ------------------------------------------------------------------------------- */

#define ARENA_ALIGN 256
#define ARENA_MIN_CHUNK (4u << 20)

struct vulkan_arena_chunk {
    vulkan_arena_chunk *next;
    vulkan_buffer *buf;
    size_t size, offset;
};

static size_t align_up(size_t n) {
    return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

void vulkan_arena_init(vulkan_arena *a, vulkan_device *dev) {
    memset(a, 0, sizeof *a);
    a->dev = dev;
}

static void free_chunks(vulkan_arena_chunk *c) {
    while (c) {
        vulkan_arena_chunk *next = c->next;
        vulkan_buffer_free(c->buf);
        free(c);
        c = next;
    }
}

void vulkan_arena_free(vulkan_arena *a) {
    vulkan_device *dev = a->dev;
    free_chunks(a->head);
    free_chunks(a->spare);
    vulkan_arena_init(a, dev);
}

static vulkan_arena_chunk *new_chunk(vulkan_arena *a, size_t size, sam2_error *err) {
    /* A chunk given up by release() first: it holds nothing live any more. */
    for (vulkan_arena_chunk **p = &a->spare; *p; p = &(*p)->next)
        if ((*p)->size >= size) {
            vulkan_arena_chunk *c = *p;
            *p = c->next;
            c->next = NULL;
            c->offset = 0;
            a->capacity += c->size;
            return c;
        }
    vulkan_arena_chunk *c = calloc(1, sizeof *c);
    if (!c) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->buf = vulkan_buffer_create(a->dev, size, err);
    if (!c->buf) {
        free(c);
        return NULL;
    }
    c->size = size;
    a->capacity += size;
    a->allocations++;
    return c;
}

vulkan_ref vulkan_arena_alloc(vulkan_arena *a, size_t bytes, sam2_error *err) {
    vulkan_ref r = {NULL, 0};
    const size_t need = align_up(bytes ? bytes : 1);
    if (!a->head || a->head->offset + need > a->head->size) {
        size_t size = need > ARENA_MIN_CHUNK ? need : ARENA_MIN_CHUNK;
        if (a->head && size < a->head->size) size = a->head->size;
        vulkan_arena_chunk *c = new_chunk(a, size, err);
        if (!c && size > need) c = new_chunk(a, need, err); /* no room for the slack */
        if (!c) return r;
        c->next = a->head;
        a->head = c;
    }
    r.buf = a->head->buf;
    r.offset = a->head->offset;
    a->head->offset += need;
    a->used_total += need;
    if (a->used_total > a->high_water) a->high_water = a->used_total;
    return r;
}

void vulkan_arena_reset(vulkan_arena *a) {
    if (a->head && (a->head->next || a->head->size < align_up(a->high_water))) {
        /* Several chunks: replace them by one of the high-water size, made on the next alloc. */
        const size_t want = align_up(a->high_water);
        free_chunks(a->head);
        free_chunks(a->spare);
        a->head = a->spare = NULL;
        a->capacity = 0;
        vulkan_arena_chunk *c = new_chunk(a, want, NULL);
        a->head = c; /* NULL when the memory is not there: the next alloc tries again */
    }
    free_chunks(a->spare);
    a->spare = NULL;
    if (a->head) a->head->offset = 0;
    a->used_total = 0;
}

vulkan_arena_mark vulkan_arena_get_mark(const vulkan_arena *a) {
    vulkan_arena_mark m = {a->head, a->head ? a->head->offset : 0, a->used_total};
    return m;
}

void vulkan_arena_release(vulkan_arena *a, vulkan_arena_mark m) {
    /* Chunks opened after the mark are kept aside for reuse, not freed: commands recorded
     * but not yet run may still use them. reset() and free() give them back. */
    while (a->head && a->head != m.chunk) {
        vulkan_arena_chunk *c = a->head;
        a->head = c->next;
        a->capacity -= c->size;
        c->next = a->spare;
        a->spare = c;
    }
    if (a->head) a->head->offset = m.offset;
    a->used_total = m.used_total;
}
