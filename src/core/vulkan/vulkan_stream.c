/* Streams: one command buffer that collects transfers and dispatches until a sync point, host-
 * visible staging memory for transfers, timestamp queries for per-stage device times.
 *
 * Ordering: every command is separated from the one before it by a global memory barrier
 * (compute and transfer writes made visible to compute and transfer reads and writes), and
 * each command buffer begins with one, so every command sees the results of all earlier ones
 * on its stream, as on the CPU. Independent commands could overlap without it; that is left to
 * a later hazard tracker. */
#include "core/error.h"
#include "core/vulkan/vulkan_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STAGING_BYTES (16u << 20)
#define QUERY_COUNT 256u
#define MAX_STAGES 64

typedef struct pending_stage {
    const char *name;
    uint32_t first_query; /* begin; end is first_query + 1 */
    int continued;        /* the rest of a stage cut by a submission: not a new run */
} pending_stage;

struct vulkan_stream {
    vulkan_device *dev;
    VkCommandPool pool;
    VkCommandBuffer cmd;
    VkFence fence;
    int recording;
    int need_barrier; /* a command was recorded since the last barrier */

    /* staging: host-visible, coherent, mapped; filled from the front until a sync */
    VkBuffer staging;
    VkDeviceMemory staging_memory;
    unsigned char *staging_map;
    size_t staging_used;

    /* timestamps */
    VkQueryPool queries;
    uint32_t queries_used;
    const char *open_stage;
    uint32_t open_query;
    int open_continued;
    pending_stage pending[QUERY_COUNT / 2];
    int npending;
    vulkan_stage_time stages[MAX_STAGES];
    int nstages;

    vulkan_arena scratch; /* kernels' own tables, reset at each sync */
    uint64_t uploaded, downloaded;
    int status;
    sam2_error error;
};

void vulkan_stream_fail(vulkan_stream *s, int code, const char *fmt, ...) {
    if (s->status) return;
    va_list ap;
    va_start(ap, fmt);
    s->status = sam2_vfail(&s->error, code, fmt, ap);
    va_end(ap);
}

int vulkan_stream_status(const vulkan_stream *s) {
    return s->status;
}
vulkan_device *vulkan_stream_device(const vulkan_stream *s) {
    return s->dev;
}
uint64_t vulkan_bytes_uploaded(const vulkan_stream *s) {
    return s->uploaded;
}
uint64_t vulkan_bytes_downloaded(const vulkan_stream *s) {
    return s->downloaded;
}

static int staging_memory_type(const vulkan_device *dev, uint32_t bits) {
    const VkMemoryPropertyFlags need =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int best = -1, best_score = -1;
    for (uint32_t i = 0; i < dev->memory.memoryTypeCount; i++) {
        if (!(bits & (1u << i))) continue;
        const VkMemoryPropertyFlags f = dev->memory.memoryTypes[i].propertyFlags;
        if ((f & need) != need) continue;
        /* cached memory makes the host's reads of downloads fast */
        const int score = (f & VK_MEMORY_PROPERTY_HOST_CACHED_BIT) ? 2 : 1;
        if (score > best_score) best = (int)i, best_score = score;
    }
    return best;
}

static int create_staging(vulkan_stream *s, sam2_error *err) {
    vulkan_device *dev = s->dev;
    const VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = STAGING_BYTES,
        .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkResult r = vkCreateBuffer(dev->device, &info, NULL, &s->staging);
    if (r != VK_SUCCESS)
        return sam2_fail(err, SAM2_ERR_NOMEM, "Vulkan staging buffer: %s", vulkan_result_name(r));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev->device, s->staging, &req);
    const int type = staging_memory_type(dev, req.memoryTypeBits);
    if (type < 0)
        return sam2_fail(err, SAM2_ERR_UNSUPPORTED, "Vulkan: no host-visible coherent memory");
    const VkMemoryAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)type,
    };
    r = vkAllocateMemory(dev->device, &alloc, NULL, &s->staging_memory);
    if (r == VK_SUCCESS) r = vkBindBufferMemory(dev->device, s->staging, s->staging_memory, 0);
    if (r == VK_SUCCESS)
        r = vkMapMemory(dev->device, s->staging_memory, 0, VK_WHOLE_SIZE, 0,
                        (void **)&s->staging_map);
    if (r != VK_SUCCESS)
        return sam2_fail(err, SAM2_ERR_NOMEM, "Vulkan staging memory (%u MiB): %s",
                         STAGING_BYTES >> 20, vulkan_result_name(r));
    return 0;
}

vulkan_stream *vulkan_stream_create(vulkan_device *dev, sam2_error *err) {
    vulkan_stream *s = calloc(1, sizeof *s);
    if (!s) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->dev = dev;
    vulkan_arena_init(&s->scratch, dev);
    const VkCommandPoolCreateInfo pool = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
        .queueFamilyIndex = dev->queue_family,
    };
    VkResult r = vkCreateCommandPool(dev->device, &pool, NULL, &s->pool);
    if (r == VK_SUCCESS) {
        const VkCommandBufferAllocateInfo cb = {
            .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
            .commandPool = s->pool,
            .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
            .commandBufferCount = 1,
        };
        r = vkAllocateCommandBuffers(dev->device, &cb, &s->cmd);
    }
    if (r == VK_SUCCESS) {
        const VkFenceCreateInfo fence = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        r = vkCreateFence(dev->device, &fence, NULL, &s->fence);
    }
    if (r == VK_SUCCESS && dev->timestamp_ns > 0) {
        const VkQueryPoolCreateInfo q = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = QUERY_COUNT,
        };
        r = vkCreateQueryPool(dev->device, &q, NULL, &s->queries);
    }
    if (r != VK_SUCCESS) {
        sam2_fail(err, SAM2_ERR_UNSUPPORTED, "Vulkan stream: %s", vulkan_result_name(r));
        vulkan_stream_free(s);
        return NULL;
    }
    if (create_staging(s, err)) {
        vulkan_stream_free(s);
        return NULL;
    }
    return s;
}

static void wait_idle(vulkan_stream *s) {
    if (s->recording) {
        sam2_error ignored;
        vulkan_sync(s, &ignored);
    }
}

void vulkan_stream_free(vulkan_stream *s) {
    if (!s) return;
    VkDevice d = s->dev->device;
    wait_idle(s);
    vulkan_arena_free(&s->scratch);
    if (s->staging_map) vkUnmapMemory(d, s->staging_memory);
    if (s->staging) vkDestroyBuffer(d, s->staging, NULL);
    if (s->staging_memory) vkFreeMemory(d, s->staging_memory, NULL);
    if (s->queries) vkDestroyQueryPool(d, s->queries, NULL);
    if (s->fence) vkDestroyFence(d, s->fence, NULL);
    if (s->pool) vkDestroyCommandPool(d, s->pool, NULL);
    free(s);
}

/* --- recording ------------------------------------------------------------------------------ */

static void barrier(vulkan_stream *s) {
    const VkMemoryBarrier b = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                         VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    const VkPipelineStageFlags stages =
        VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(s->cmd, stages, stages, 0, 1, &b, 0, NULL, 0, NULL);
}

/* The command buffer, begun if needed. */
static VkCommandBuffer recording(vulkan_stream *s) {
    if (!s->recording) {
        const VkCommandBufferBeginInfo begin = {
            .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
            .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
        };
        vkBeginCommandBuffer(s->cmd, &begin);
        if (s->queries) vkCmdResetQueryPool(s->cmd, s->queries, 0, QUERY_COUNT);
        s->queries_used = 0;
        s->recording = 1;
        s->need_barrier = 1; /* earlier submissions' writes */
    }
    return s->cmd;
}

/* The command buffer for one more memory-accessing command, after a barrier when a command
 * was recorded since the last one. */
static VkCommandBuffer command(vulkan_stream *s) {
    recording(s);
    if (s->need_barrier) barrier(s);
    s->need_barrier = 1;
    return s->cmd;
}

static void add_stage_time(vulkan_stream *s, const char *name, double seconds, int continued) {
    int i = 0;
    while (i < s->nstages && s->stages[i].name != name && strcmp(s->stages[i].name, name)) i++;
    if (i == s->nstages) {
        if (s->nstages == MAX_STAGES) return;
        s->stages[s->nstages++] = (vulkan_stage_time){name, 0.0, 0};
    }
    s->stages[i].seconds += seconds;
    if (!continued) s->stages[i].count++;
}

static void read_timestamps(vulkan_stream *s) {
    if (!s->npending || !s->queries_used) {
        s->npending = 0;
        return;
    }
    uint64_t ticks[QUERY_COUNT];
    VkResult r =
        vkGetQueryPoolResults(s->dev->device, s->queries, 0, s->queries_used, sizeof ticks, ticks,
                              sizeof(uint64_t), VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    if (r == VK_SUCCESS)
        for (int i = 0; i < s->npending; i++) {
            const pending_stage *p = &s->pending[i];
            const uint64_t t0 = ticks[p->first_query], t1 = ticks[p->first_query + 1];
            add_stage_time(s, p->name,
                           t1 > t0 ? (double)(t1 - t0) * s->dev->timestamp_ns * 1e-9 : 0.0,
                           p->continued);
        }
    s->npending = 0;
}

/* Submits and waits. A stage left open is closed before and reopened after, so its time is
 * the sum of the pieces. */
static int submit_and_wait(vulkan_stream *s, sam2_error *err) {
    if (!s->recording) return 0;
    const char *open = s->open_stage;
    if (open) vulkan_stage_end(s);
    vulkan_device *dev = s->dev;
    VkResult r = vkEndCommandBuffer(s->cmd);
    if (r == VK_SUCCESS) {
        const VkSubmitInfo submit = {
            .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
            .commandBufferCount = 1,
            .pCommandBuffers = &s->cmd,
        };
        pthread_mutex_lock(&dev->queue_lock);
        r = vkQueueSubmit(dev->queue, 1, &submit, s->fence);
        pthread_mutex_unlock(&dev->queue_lock);
    }
    if (r == VK_SUCCESS) r = vkWaitForFences(dev->device, 1, &s->fence, VK_TRUE, UINT64_MAX);
    s->recording = 0;
    s->staging_used = 0;
    if (r == VK_SUCCESS) {
        read_timestamps(s);
        vkResetFences(dev->device, 1, &s->fence);
    }
    s->npending = 0;
    vkResetCommandPool(dev->device, s->pool, 0);
    if (r != VK_SUCCESS) {
        if (open) s->open_stage = NULL;
        return sam2_fail(err, r == VK_ERROR_DEVICE_LOST ? SAM2_ERR_STATE : SAM2_ERR_NOMEM,
                         "Vulkan submission on %s failed: %s", dev->info.name,
                         vulkan_result_name(r));
    }
    if (open) {
        vulkan_stage_begin(s, open);
        s->open_continued = 1;
    }
    return 0;
}

int vulkan_sync(vulkan_stream *s, sam2_error *err) {
    int rc = submit_and_wait(s, err);
    vulkan_arena_reset(&s->scratch);
    if (!rc && s->status) {
        if (err) *err = s->error;
        rc = s->status;
    }
    s->status = 0;
    return rc;
}

/* --- transfers ----------------------------------------------------------------------------- */

/* Room for `want` bytes of staging (at most the whole buffer): submits first when full. */
static size_t staging_room(vulkan_stream *s, size_t want, size_t *offset, sam2_error *err) {
    if (s->staging_used + 16 > STAGING_BYTES) {
        if (submit_and_wait(s, err)) return 0;
    }
    size_t room = STAGING_BYTES - s->staging_used;
    *offset = s->staging_used;
    const size_t n = want < room ? want : room;
    s->staging_used += (n + 15) & ~(size_t)15;
    return n;
}

static int check_range(vulkan_ref r, size_t bytes, const char *what, sam2_error *err) {
    if (!r.buf || r.offset > r.buf->size || bytes > r.buf->size - r.offset || (r.offset & 3) ||
        (bytes & 3))
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "Vulkan %s of %zu bytes at offset %zu is outside its buffer (%zu bytes) "
                         "or not 4-byte aligned",
                         what, bytes, r.offset, r.buf ? r.buf->size : 0);
    return 0;
}

int vulkan_upload(vulkan_stream *s, vulkan_ref dst, const void *src, size_t bytes,
                  sam2_error *err) {
    if (check_range(dst, bytes, "upload", err)) return SAM2_ERR_ARGUMENT;
    const unsigned char *p = src;
    while (bytes > 0) {
        size_t offset = 0;
        const size_t n = staging_room(s, bytes, &offset, err);
        if (n == 0) return err ? err->code : SAM2_ERR_STATE;
        memcpy(s->staging_map + offset, p, n);
        const VkBufferCopy region = {offset, dst.offset, n};
        vkCmdCopyBuffer(command(s), s->staging, dst.buf->buffer, 1, &region);
        s->uploaded += n;
        p += n;
        dst.offset += n;
        bytes -= n;
    }
    return 0;
}

void *vulkan_upload_in_place(vulkan_stream *s, vulkan_ref dst, size_t bytes) {
    sam2_error err;
    if (check_range(dst, bytes, "upload", &err)) {
        vulkan_stream_fail(s, err.code, "%s", err.message);
        return NULL;
    }
    if (bytes > STAGING_BYTES) {
        vulkan_stream_fail(s, SAM2_ERR_LIMIT,
                           "Vulkan: a table of %zu bytes is more than the "
                           "staging memory holds",
                           bytes);
        return NULL;
    }
    if (s->staging_used + bytes > STAGING_BYTES && submit_and_wait(s, &err)) {
        vulkan_stream_fail(s, err.code, "%s", err.message);
        return NULL;
    }
    const size_t offset = s->staging_used;
    s->staging_used += (bytes + 15) & ~(size_t)15;
    if (bytes) {
        const VkBufferCopy region = {offset, dst.offset, bytes};
        vkCmdCopyBuffer(command(s), s->staging, dst.buf->buffer, 1, &region);
    }
    s->uploaded += bytes;
    return s->staging_map + offset;
}

int vulkan_download(vulkan_stream *s, void *dst, vulkan_ref src, size_t bytes, sam2_error *err) {
    if (check_range(src, bytes, "download", err)) return SAM2_ERR_ARGUMENT;
    unsigned char *p = dst;
    do {
        size_t offset = 0;
        const size_t n = staging_room(s, bytes, &offset, err);
        if (n == 0 && bytes) return err ? err->code : SAM2_ERR_STATE;
        if (n) {
            const VkBufferCopy region = {src.offset, offset, n};
            vkCmdCopyBuffer(command(s), src.buf->buffer, s->staging, 1, &region);
            /* the copy's writes made visible to the host's reads after the fence */
            const VkMemoryBarrier b = {
                .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
            };
            vkCmdPipelineBarrier(s->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                                 0, 1, &b, 0, NULL, 0, NULL);
        }
        int rc = vulkan_sync(s, err);
        if (rc) return rc;
        memcpy(p, s->staging_map + offset, n);
        s->downloaded += n;
        p += n;
        src.offset += n;
        bytes -= n;
    } while (bytes > 0);
    return 0;
}

void vulkan_copy(vulkan_stream *s, vulkan_ref dst, vulkan_ref src, size_t bytes) {
    sam2_error err;
    if (check_range(dst, bytes, "copy", &err) || check_range(src, bytes, "copy", &err)) {
        vulkan_stream_fail(s, err.code, "%s", err.message);
        return;
    }
    if (!bytes) return;
    const VkBufferCopy region = {src.offset, dst.offset, bytes};
    vkCmdCopyBuffer(command(s), src.buf->buffer, dst.buf->buffer, 1, &region);
}

void vulkan_fill(vulkan_stream *s, vulkan_ref dst, size_t bytes, float value) {
    sam2_error err;
    if (check_range(dst, bytes, "fill", &err)) {
        vulkan_stream_fail(s, err.code, "%s", err.message);
        return;
    }
    if (!bytes) return;
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    vkCmdFillBuffer(command(s), dst.buf->buffer, dst.offset, bytes, bits);
}

vulkan_ref vulkan_stream_scratch(vulkan_stream *s, size_t bytes) {
    sam2_error err;
    vulkan_ref r = vulkan_arena_alloc(&s->scratch, bytes, &err);
    if (!r.buf) vulkan_stream_fail(s, err.code, "%s", err.message);
    return r;
}

/* --- dispatch ------------------------------------------------------------------------------- */

void vulkan_groups_1d(const vulkan_device *dev, uint64_t items, uint32_t per_group,
                      uint32_t groups[3]) {
    uint64_t n = (items + per_group - 1) / per_group;
    if (n == 0) n = 1;
    const uint64_t max_x = dev->max_groups[0] < 65535u ? dev->max_groups[0] : 65535u;
    groups[0] = (uint32_t)(n < max_x ? n : max_x);
    groups[1] = (uint32_t)((n + groups[0] - 1) / groups[0]);
    groups[2] = 1;
}

void vulkan_dispatch(vulkan_stream *s, vulkan_kernel_id k, const vulkan_operand *ops,
                     const void *params, size_t params_bytes, const uint32_t groups[3]) {
    if (s->status) return;
    vulkan_device *dev = s->dev;
    sam2_error err;
    const vulkan_kernel *kern = vulkan_kernel_get(dev, k, &err);
    if (!kern) {
        vulkan_stream_fail(s, err.code, "%s", err.message);
        return;
    }
    for (int i = 0; i < 3; i++)
        if (groups[i] == 0) return; /* nothing to do */
    if (groups[0] > dev->max_groups[0] || groups[1] > dev->max_groups[1] ||
        groups[2] > dev->max_groups[2]) {
        vulkan_stream_fail(s, SAM2_ERR_LIMIT,
                           "Vulkan kernel %s: %u x %u x %u workgroups is "
                           "more than the device allows",
                           kern->name, groups[0], groups[1], groups[2]);
        return;
    }
    uint32_t push[VULKAN_PUSH_BYTES / 4];
    VkDescriptorBufferInfo info[VULKAN_MAX_BINDINGS];
    VkWriteDescriptorSet writes[VULKAN_MAX_BINDINGS];
    for (int i = 0; i < kern->bindings; i++) {
        const vulkan_ref r = ops[i].ref;
        const size_t elem = ops[i].elem_bytes ? ops[i].elem_bytes : sizeof(float);
        const size_t bytes = ops[i].extent * elem;
        if (!r.buf || r.offset % elem || r.offset > r.buf->size || bytes > r.buf->size - r.offset) {
            vulkan_stream_fail(s, SAM2_ERR_ARGUMENT,
                               "Vulkan kernel %s: operand %d (%zu elements of %zu bytes at byte "
                               "%zu) is outside its buffer (%zu bytes) or misaligned",
                               kern->name, i, ops[i].extent, elem, r.offset,
                               r.buf ? r.buf->size : 0);
            return;
        }
        /* The binding starts at the operand rounded down to the device's alignment; the
         * remainder goes to the shader as an element offset. */
        const VkDeviceSize base = r.offset / dev->storage_alignment * dev->storage_alignment;
        VkDeviceSize range = r.buf->size - base;
        if (range > dev->max_range) range = dev->max_range & ~(VkDeviceSize)3;
        if ((r.offset - base) + bytes > range) {
            vulkan_stream_fail(s, SAM2_ERR_LIMIT,
                               "Vulkan kernel %s: operand %d spans %zu bytes, more than one "
                               "binding may reach on %s (%llu bytes)",
                               kern->name, i, bytes, dev->info.name,
                               (unsigned long long)dev->max_range);
            return;
        }
        push[i] = (uint32_t)((r.offset - base) / elem);
        info[i] = (VkDescriptorBufferInfo){r.buf->buffer, base, range};
        writes[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstBinding = (uint32_t)i,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &info[i],
        };
    }
    const size_t offsets_bytes = (size_t)kern->bindings * sizeof(uint32_t);
    if (offsets_bytes + params_bytes > sizeof push) {
        vulkan_stream_fail(s, SAM2_ERR_STATE, "Vulkan kernel %s: too many parameters", kern->name);
        return;
    }
    memcpy((unsigned char *)push + offsets_bytes, params, params_bytes);
    VkCommandBuffer cmd = command(s);
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, kern->pipeline);
    dev->push_descriptor_set(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, kern->layout, 0,
                             (uint32_t)kern->bindings, writes);
    vkCmdPushConstants(cmd, kern->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                       (uint32_t)(offsets_bytes + params_bytes), push);
    vkCmdDispatch(cmd, groups[0], groups[1], groups[2]);
}

/* --- stages --------------------------------------------------------------------------------- */

void vulkan_stage_begin(vulkan_stream *s, const char *name) {
    if (s->open_stage) vulkan_stage_end(s);
    if (!s->queries) return;
    if (s->queries_used + 2 > QUERY_COUNT) {
        sam2_error err;
        if (submit_and_wait(s, &err)) {
            vulkan_stream_fail(s, err.code, "%s", err.message);
            return;
        }
    }
    /* A timestamp needs no barrier: it is written once every earlier command is done. */
    VkCommandBuffer cmd = recording(s);
    s->open_stage = name;
    s->open_continued = 0;
    s->open_query = s->queries_used++;
    vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, s->queries, s->open_query);
}

void vulkan_stage_end(vulkan_stream *s) {
    if (!s->open_stage) return;
    const char *name = s->open_stage;
    s->open_stage = NULL;
    if (!s->recording) return;
    vkCmdWriteTimestamp(s->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, s->queries,
                        s->queries_used++);
    s->pending[s->npending++] = (pending_stage){name, s->open_query, s->open_continued};
}

int vulkan_stage_times(const vulkan_stream *s, vulkan_stage_time *out, int max) {
    for (int i = 0; i < s->nstages && i < max; i++) out[i] = s->stages[i];
    return s->nstages;
}

void vulkan_stage_times_reset(vulkan_stream *s) {
    s->nstages = 0;
}
