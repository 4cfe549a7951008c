/* Internals of the Vulkan runtime shared by its source files (not for model code). */
#ifndef SAM2_CORE_VULKAN_INTERNAL_H
#define SAM2_CORE_VULKAN_INTERNAL_H

#include "core/vulkan/vulkan_rt.h"

#include <pthread.h>
#include <stdatomic.h>
#include <vulkan/vulkan.h>

/* The compute kernels, one per shader in core/vulkan/shaders/ (NAME.comp). `bindings` is the
 * number of storage buffers the shader declares (bindings 0..n-1 of set 0); its push constants
 * begin with one uint per binding: the element offset of that operand inside its binding (the
 * binding itself starts at the operand's byte offset rounded down to the device's alignment). */
#define VULKAN_KERNELS(X)                                                                          \
    X(GEMM, "gemm", 4)                                                                             \
    X(CONV2D, "conv2d", 4)                                                                         \
    X(CONV_DEPTHWISE, "conv_depthwise", 4)                                                         \
    X(ATTENTION, "attention", 4)                                                                   \
    X(LAYERNORM, "layernorm", 4)                                                                   \
    X(SOFTMAX, "softmax", 2)                                                                       \
    X(UNARY, "unary", 2)                                                                           \
    X(BINARY, "binary", 3)                                                                         \
    X(MAXPOOL2X2, "maxpool2x2", 2)                                                                 \
    X(UPSAMPLE2X, "upsample2x", 2)                                                                 \
    X(RESIZE, "resize", 3)                                                                         \
    X(WINDOW, "window", 4)                                                                         \
    X(ROPE, "rope", 3)                                                                             \
    X(STABILITY, "stability", 2)

typedef enum vulkan_kernel_id {
#define VULKAN_KERNEL_ENUM(ID, NAME, NB) VULKAN_KERNEL_##ID,
    VULKAN_KERNELS(VULKAN_KERNEL_ENUM)
#undef VULKAN_KERNEL_ENUM
        VULKAN_KERNEL_COUNT
} vulkan_kernel_id;

#define VULKAN_MAX_BINDINGS 4
#define VULKAN_PUSH_BYTES 128 /* the size every device offers */

/* SPIR-V compiled by glslc at build time (generated vulkan_shaders.c). */
typedef struct vulkan_spirv {
    const char *name;
    const uint32_t *code;
    size_t bytes;
} vulkan_spirv;
extern const vulkan_spirv vulkan_spirv_table[];
extern const int vulkan_spirv_count;

typedef struct vulkan_kernel {
    const char *name;
    int bindings;
    const vulkan_spirv *spirv;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline; /* created on first use */
} vulkan_kernel;

struct vulkan_device {
    vulkan_device_info info;
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    pthread_mutex_t queue_lock;    /* vkQueueSubmit needs external synchronisation */
    pthread_mutex_t pipeline_lock; /* lazy pipeline creation */
    VkPhysicalDeviceMemoryProperties memory;
    VkDeviceSize storage_alignment; /* minStorageBufferOffsetAlignment */
    VkDeviceSize max_range;         /* maxStorageBufferRange */
    VkDeviceSize max_allocation;    /* maxMemoryAllocationSize */
    uint32_t max_groups[3];         /* maxComputeWorkGroupCount */
    double timestamp_ns;            /* timestampPeriod; 0 when the queue has no timestamps */
    uint64_t budget;
    atomic_uint_fast64_t in_use, peak;
    atomic_uint_fast64_t validation_errors;
    PFN_vkCmdPushDescriptorSetKHR push_descriptor_set;
    vulkan_kernel kernels[VULKAN_KERNEL_COUNT];
};

struct vulkan_buffer {
    vulkan_device *dev;
    VkBuffer buffer;
    VkDeviceMemory memory;
    size_t size;
};

/* One operand of a kernel: where it starts and how many elements from there the kernel may
 * touch (the largest index it reads or writes, plus one), elements of elem_bytes bytes (0: 4,
 * a float). The dispatcher checks the extent against the buffer, so a wrong shape is an error,
 * not a stray write; the element offset it passes to the shader counts such elements. */
typedef struct vulkan_operand {
    vulkan_ref ref;
    size_t extent;
    uint32_t elem_bytes;
} vulkan_operand;

/* Records one dispatch of kernel k over groups[0..2] workgroups. `params` (params_bytes, a
 * multiple of 4) are the push constants that follow the operands' element offsets. Operands
 * whose kernel does not read them (an absent bias) may repeat another operand. On a bad operand
 * the stream's status is set and nothing is recorded. */
void vulkan_dispatch(vulkan_stream *s, vulkan_kernel_id k, const vulkan_operand *ops,
                     const void *params, size_t params_bytes, const uint32_t groups[3]);

/* Workgroups for `items` work items of `per_group` each, spread over x and y when there are
 * more than the device allows along x; shaders rebuild the flat index with
 * (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * per_group + local index. */
void vulkan_groups_1d(const vulkan_device *dev, uint64_t items, uint32_t per_group,
                      uint32_t groups[3]);

/* Records an upload of `bytes` to dst from staging memory that the caller fills through the
 * returned pointer before recording anything else on the stream (a kernel's tables, made
 * without a host buffer). NULL, with the stream's status set, when it cannot be done. */
void *vulkan_upload_in_place(vulkan_stream *s, vulkan_ref dst, size_t bytes);

/* Temporary device memory for a kernel's own tables, valid until the next vulkan_sync(). */
vulkan_ref vulkan_stream_scratch(vulkan_stream *s, size_t bytes);

/* Sets the stream's first error (kept until the next sync reports it). */
void vulkan_stream_fail(vulkan_stream *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Creates the pipeline of a kernel if needed; NULL with err set when the driver refuses it. */
const vulkan_kernel *vulkan_kernel_get(vulkan_device *dev, vulkan_kernel_id k, sam2_error *err);

/* Device memory accounting around vkAllocateMemory. */
int vulkan_memory_reserve(vulkan_device *dev, uint64_t bytes, const char *what, sam2_error *err);
void vulkan_memory_unreserve(vulkan_device *dev, uint64_t bytes);

const char *vulkan_result_name(VkResult r);

#endif
