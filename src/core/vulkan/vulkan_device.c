/* Vulkan instances and devices: enumeration (what `sam2 doctor` lists), the choice `auto`
 * makes, opening a device with its compute queue, the validation layer's messenger, and the
 * compute pipelines built from the embedded SPIR-V on first use. */
#include "core/error.h"
#include "core/vulkan/vulkan_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

/* What the kernels need from a device (checked by vulkan_list_devices). */
#define NEED_SHARED_MEMORY 32768u
#define NEED_INVOCATIONS 256u

int vulkan_built(void) {
    return 1;
}

const char *vulkan_result_name(VkResult r) {
    switch (r) {
    case VK_SUCCESS:
        return "VK_SUCCESS";
    case VK_NOT_READY:
        return "VK_NOT_READY";
    case VK_TIMEOUT:
        return "VK_TIMEOUT";
    case VK_INCOMPLETE:
        return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY:
        return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
        return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED:
        return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST:
        return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED:
        return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT:
        return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT:
        return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT:
        return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER:
        return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS:
        return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_OUT_OF_POOL_MEMORY:
        return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default:
        return "VkResult error";
    }
}

/* --- instance ------------------------------------------------------------------------------ */

static int instance_extension_present(const char *layer, const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties(layer, &n, NULL) != VK_SUCCESS) return 0;
    VkExtensionProperties *ext = calloc(n ? n : 1, sizeof *ext);
    if (!ext) return 0;
    int found = 0;
    if (vkEnumerateInstanceExtensionProperties(layer, &n, ext) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(ext[i].extensionName, name);
    free(ext);
    return found;
}

static int layer_present(const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS) return 0;
    VkLayerProperties *layers = calloc(n ? n : 1, sizeof *layers);
    if (!layers) return 0;
    int found = 0;
    if (vkEnumerateInstanceLayerProperties(&n, layers) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(layers[i].layerName, name);
    free(layers);
    return found;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT types,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    (void)types;
    vulkan_device *dev = user;
    if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
        atomic_fetch_add(&dev->validation_errors, 1);
        fprintf(stderr, "vulkan validation error: %s\n", data->pMessage);
    } else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
        fprintf(stderr, "vulkan validation warning: %s\n", data->pMessage);
    }
    return VK_FALSE;
}

/* An instance for Vulkan 1.2. With `dev` set and validation asked for, the validation layer and
 * a messenger that counts errors into dev (the messenger is also chained into the instance's
 * creation, so errors of vkCreateInstance itself are counted). */
static VkInstance create_instance(vulkan_device *dev, int validation, int sync_validation,
                                  sam2_error *err) {
    const VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "sam2c",
        .pEngineName = "sam2c",
        .apiVersion = VK_API_VERSION_1_2,
    };
    const char *extensions[3];
    uint32_t next = 0;
    VkInstanceCreateFlags flags = 0;
    /* MoltenVK (Apple) is a portability driver: the loader lists it only when asked to. */
    if (instance_extension_present(NULL, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
        extensions[next++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
        flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }
    const char *layers[1];
    uint32_t nlayers = 0;
    VkDebugUtilsMessengerCreateInfoEXT messenger = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_debug_message,
        .pUserData = dev,
    };
    const VkValidationFeatureEnableEXT sync_feature =
        VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
    VkValidationFeaturesEXT features = {
        .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
        .enabledValidationFeatureCount = 1,
        .pEnabledValidationFeatures = &sync_feature,
    };
    const void *chain = NULL;
    if (validation) {
        if (!layer_present(VALIDATION_LAYER)) {
            sam2_fail(err, SAM2_ERR_UNSUPPORTED,
                      "Vulkan validation was asked for but the layer %s is not installed "
                      "(Debian: apt-get install vulkan-validationlayers)",
                      VALIDATION_LAYER);
            return VK_NULL_HANDLE;
        }
        layers[nlayers++] = VALIDATION_LAYER;
        extensions[next++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
        chain = &messenger;
        if (sync_validation && instance_extension_present(
                                   VALIDATION_LAYER, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME)) {
            extensions[next++] = VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME;
            features.pNext = chain;
            chain = &features;
        }
    }
    const VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = chain,
        .flags = flags,
        .pApplicationInfo = &app,
        .enabledLayerCount = nlayers,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = next,
        .ppEnabledExtensionNames = extensions,
    };
    VkInstance instance = VK_NULL_HANDLE;
    VkResult r = vkCreateInstance(&info, NULL, &instance);
    if (r != VK_SUCCESS) {
        sam2_fail(err, SAM2_ERR_UNSUPPORTED,
                  "no Vulkan driver could be used (vkCreateInstance: %s); install the GPU's "
                  "Vulkan driver, or Debian's mesa-vulkan-drivers for the CPU one",
                  vulkan_result_name(r));
        return VK_NULL_HANDLE;
    }
    if (validation && dev) {
        PFN_vkCreateDebugUtilsMessengerEXT create =
            (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
                instance, "vkCreateDebugUtilsMessengerEXT");
        if (!create || create(instance, &messenger, NULL, &dev->messenger) != VK_SUCCESS) {
            vkDestroyInstance(instance, NULL);
            sam2_fail(err, SAM2_ERR_UNSUPPORTED, "the Vulkan debug messenger could not be created");
            return VK_NULL_HANDLE;
        }
    }
    return instance;
}

/* --- device properties --------------------------------------------------------------------- */

static int device_extension_present(VkPhysicalDevice pd, const char *name) {
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS) return 0;
    VkExtensionProperties *ext = calloc(n ? n : 1, sizeof *ext);
    if (!ext) return 0;
    int found = 0;
    if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, ext) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(ext[i].extensionName, name);
    free(ext);
    return found;
}

/* A queue family with compute, preferring one without graphics (a dedicated compute queue);
 * UINT32_MAX when there is none. *timestamps gets its timestampValidBits. */
static uint32_t compute_queue_family(VkPhysicalDevice pd, uint32_t *timestamps) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    VkQueueFamilyProperties *q = calloc(n ? n : 1, sizeof *q);
    if (!q) return UINT32_MAX;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++) {
        if (!(q[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
        if (best == UINT32_MAX || ((q[best].queueFlags & VK_QUEUE_GRAPHICS_BIT) &&
                                   !(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)))
            best = i;
    }
    if (best != UINT32_MAX && timestamps) *timestamps = q[best].timestampValidBits;
    free(q);
    return best;
}

static vulkan_device_type map_type(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return VULKAN_DEVICE_DISCRETE;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return VULKAN_DEVICE_INTEGRATED;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return VULKAN_DEVICE_VIRTUAL;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return VULKAN_DEVICE_CPU;
    default:
        return VULKAN_DEVICE_OTHER;
    }
}

static void describe_device(VkPhysicalDevice pd, int index, vulkan_device_info *info) {
    memset(info, 0, sizeof *info);
    info->index = index;
    VkPhysicalDeviceDriverProperties driver = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceSubgroupProperties subgroup = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES, .pNext = &driver};
    VkPhysicalDeviceProperties2 props = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = &subgroup};
    VkPhysicalDeviceProperties basic;
    vkGetPhysicalDeviceProperties(pd, &basic);
    const int v12 = basic.apiVersion >= VK_API_VERSION_1_2;
    if (v12) {
        vkGetPhysicalDeviceProperties2(pd, &props);
    } else {
        props.properties = basic;
    }
    const VkPhysicalDeviceProperties *p = &props.properties;
    snprintf(info->name, sizeof info->name, "%s", p->deviceName);
    info->type = map_type(p->deviceType);
    info->api_version = p->apiVersion;
    if (v12) {
        info->subgroup_size = subgroup.subgroupSize;
        snprintf(info->driver, sizeof info->driver, "%s %s", driver.driverName, driver.driverInfo);
    }
    VkPhysicalDeviceMemoryProperties mem;
    vkGetPhysicalDeviceMemoryProperties(pd, &mem);
    for (uint32_t h = 0; h < mem.memoryHeapCount; h++)
        if ((mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) &&
            mem.memoryHeaps[h].size > info->device_local_bytes)
            info->device_local_bytes = mem.memoryHeaps[h].size;
    info->cooperative_matrix = device_extension_present(pd, "VK_KHR_cooperative_matrix") ||
                               device_extension_present(pd, "VK_NV_cooperative_matrix");
    /* 16- and 8-bit storage: bfloat16 / float16 tensors and uint8 masks and pixels */
    VkPhysicalDeviceVulkan12Features f12 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    VkPhysicalDeviceVulkan11Features f11 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES, .pNext = &f12};
    VkPhysicalDeviceFeatures2 features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                          .pNext = &f11};
    if (v12) vkGetPhysicalDeviceFeatures2(pd, &features);
    uint32_t timestamps = 0;
    const char *missing = NULL;
    char buf[160];
    if (!v12) {
        snprintf(buf, sizeof buf, "Vulkan %u.%u (1.2 needed)", VK_API_VERSION_MAJOR(p->apiVersion),
                 VK_API_VERSION_MINOR(p->apiVersion));
        missing = buf;
    } else if (compute_queue_family(pd, &timestamps) == UINT32_MAX) {
        missing = "no compute queue";
    } else if (!device_extension_present(pd, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME)) {
        missing = "no " VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME;
    } else if (!f11.storageBuffer16BitAccess || !f12.storageBuffer8BitAccess) {
        missing = "no 16-bit or 8-bit storage buffer access";
    } else if (p->limits.maxComputeSharedMemorySize < NEED_SHARED_MEMORY) {
        snprintf(buf, sizeof buf, "%u bytes of shared memory (%u needed)",
                 p->limits.maxComputeSharedMemorySize, NEED_SHARED_MEMORY);
        missing = buf;
    } else if (p->limits.maxComputeWorkGroupInvocations < NEED_INVOCATIONS) {
        missing = "workgroups of fewer than 256 invocations";
    } else if (p->limits.maxPushConstantsSize < VULKAN_PUSH_BYTES) {
        missing = "fewer than 128 bytes of push constants";
    }
    info->usable = missing == NULL;
    if (missing) snprintf(info->why_not, sizeof info->why_not, "%s", missing);
}

static int enumerate(VkInstance instance, VkPhysicalDevice **out, sam2_error *err) {
    uint32_t n = 0;
    VkResult r = vkEnumeratePhysicalDevices(instance, &n, NULL);
    if (r != VK_SUCCESS) {
        sam2_fail(err, SAM2_ERR_UNSUPPORTED, "vkEnumeratePhysicalDevices: %s",
                  vulkan_result_name(r));
        return -1;
    }
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory listing Vulkan devices");
        return -1;
    }
    r = vkEnumeratePhysicalDevices(instance, &n, *out);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        free(*out);
        sam2_fail(err, SAM2_ERR_UNSUPPORTED, "vkEnumeratePhysicalDevices: %s",
                  vulkan_result_name(r));
        return -1;
    }
    return (int)n;
}

int vulkan_list_devices(vulkan_device_info *out, int max, sam2_error *err) {
    VkInstance instance = create_instance(NULL, 0, 0, err);
    if (!instance) return -1;
    VkPhysicalDevice *pds = NULL;
    int n = enumerate(instance, &pds, err);
    for (int i = 0; i < n && i < max; i++) describe_device(pds[i], i, &out[i]);
    free(pds);
    vkDestroyInstance(instance, NULL);
    return n;
}

/* --- opening a device -------------------------------------------------------------------- */

static int env_validation(int *sync) {
    const char *v = getenv("SAM2_VULKAN_VALIDATION");
    if (!v || !*v || !strcmp(v, "0")) return 0;
    if (!strcmp(v, "sync")) *sync = 1;
    return 1;
}

static int create_logical_device(vulkan_device *dev, sam2_error *err) {
    uint32_t timestamps = 0;
    dev->queue_family = compute_queue_family(dev->physical, &timestamps);
    const float priority = 1.0f;
    const VkDeviceQueueCreateInfo queue = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = dev->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    const char *extensions[2] = {VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME};
    uint32_t next = 1;
    /* A portability driver (MoltenVK) must have its subset extension enabled. */
    if (device_extension_present(dev->physical, "VK_KHR_portability_subset"))
        extensions[next++] = "VK_KHR_portability_subset";
    VkPhysicalDeviceVulkan12Features f12 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
        .storageBuffer8BitAccess = VK_TRUE,
    };
    VkPhysicalDeviceVulkan11Features f11 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
        .pNext = &f12,
        .storageBuffer16BitAccess = VK_TRUE,
    };
    const VkDeviceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = &f11,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue,
        .enabledExtensionCount = next,
        .ppEnabledExtensionNames = extensions,
    };
    VkResult r = vkCreateDevice(dev->physical, &info, NULL, &dev->device);
    if (r != VK_SUCCESS)
        return sam2_fail(err, SAM2_ERR_UNSUPPORTED, "vkCreateDevice (%s): %s", dev->info.name,
                         vulkan_result_name(r));
    vkGetDeviceQueue(dev->device, dev->queue_family, 0, &dev->queue);
    dev->push_descriptor_set = (PFN_vkCmdPushDescriptorSetKHR)vkGetDeviceProcAddr(
        dev->device, "vkCmdPushDescriptorSetKHR");
    if (!dev->push_descriptor_set)
        return sam2_fail(err, SAM2_ERR_UNSUPPORTED, "%s: vkCmdPushDescriptorSetKHR is missing",
                         dev->info.name);
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(dev->physical, &p);
    dev->storage_alignment = p.limits.minStorageBufferOffsetAlignment;
    if (dev->storage_alignment < 4) dev->storage_alignment = 4;
    dev->max_range = p.limits.maxStorageBufferRange;
    for (int i = 0; i < 3; i++) dev->max_groups[i] = p.limits.maxComputeWorkGroupCount[i];
    dev->timestamp_ns = timestamps ? (double)p.limits.timestampPeriod : 0.0;
    VkPhysicalDeviceMaintenance3Properties m3 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                      .pNext = &m3};
    vkGetPhysicalDeviceProperties2(dev->physical, &p2);
    dev->max_allocation = m3.maxMemoryAllocationSize;
    vkGetPhysicalDeviceMemoryProperties(dev->physical, &dev->memory);
    return 0;
}

/* The number of descriptor bindings a SPIR-V module declares (the largest Binding decoration
 * plus one), so that a kernel table row that disagrees with its shader is an error at open
 * rather than a crash at the first dispatch. */
static int spirv_bindings(const vulkan_spirv *m) {
    const uint32_t *w = m->code, n = (uint32_t)(m->bytes / 4);
    int count = 0;
    for (uint32_t i = 5; i < n;) { /* 5 header words */
        const uint32_t len = w[i] >> 16, op = w[i] & 0xffffu;
        if (len == 0) break;
        if (op == 71 && len >= 4 && w[i + 2] == 33 && (int)w[i + 3] + 1 > count) /* Binding */
            count = (int)w[i + 3] + 1;
        i += len;
    }
    return count;
}

static int setup_kernels(vulkan_device *dev, sam2_error *err) {
    static const struct {
        const char *name;
        int bindings;
    } table[VULKAN_KERNEL_COUNT] = {
#define VULKAN_KERNEL_ROW(ID, NAME, NB) {NAME, NB},
        VULKAN_KERNELS(VULKAN_KERNEL_ROW)
#undef VULKAN_KERNEL_ROW
    };
    for (int k = 0; k < VULKAN_KERNEL_COUNT; k++) {
        vulkan_kernel *kern = &dev->kernels[k];
        kern->name = table[k].name;
        kern->bindings = table[k].bindings;
        for (int i = 0; i < vulkan_spirv_count; i++)
            if (!strcmp(vulkan_spirv_table[i].name, kern->name))
                kern->spirv = &vulkan_spirv_table[i];
        if (!kern->spirv)
            return sam2_fail(err, SAM2_ERR_STATE, "the Vulkan kernel %s.comp was not built",
                             kern->name);
        if (spirv_bindings(kern->spirv) != kern->bindings)
            return sam2_fail(err, SAM2_ERR_STATE,
                             "the Vulkan kernel %s declares %d buffers, its table row %d",
                             kern->name, spirv_bindings(kern->spirv), kern->bindings);
        VkDescriptorSetLayoutBinding b[VULKAN_MAX_BINDINGS];
        for (int i = 0; i < kern->bindings; i++)
            b[i] =
                (VkDescriptorSetLayoutBinding){.binding = (uint32_t)i,
                                               .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                               .descriptorCount = 1,
                                               .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
        const VkDescriptorSetLayoutCreateInfo set = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
            .flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR,
            .bindingCount = (uint32_t)kern->bindings,
            .pBindings = b,
        };
        if (vkCreateDescriptorSetLayout(dev->device, &set, NULL, &kern->set_layout) != VK_SUCCESS)
            return sam2_fail(err, SAM2_ERR_UNSUPPORTED, "vkCreateDescriptorSetLayout failed");
        const VkPushConstantRange push = {VK_SHADER_STAGE_COMPUTE_BIT, 0, VULKAN_PUSH_BYTES};
        const VkPipelineLayoutCreateInfo layout = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
            .setLayoutCount = 1,
            .pSetLayouts = &kern->set_layout,
            .pushConstantRangeCount = 1,
            .pPushConstantRanges = &push,
        };
        if (vkCreatePipelineLayout(dev->device, &layout, NULL, &kern->layout) != VK_SUCCESS)
            return sam2_fail(err, SAM2_ERR_UNSUPPORTED, "vkCreatePipelineLayout failed");
    }
    return 0;
}

const vulkan_kernel *vulkan_kernel_get(vulkan_device *dev, vulkan_kernel_id k, sam2_error *err) {
    vulkan_kernel *kern = &dev->kernels[k];
    pthread_mutex_lock(&dev->pipeline_lock);
    if (!kern->pipeline) {
        const VkShaderModuleCreateInfo mod = {
            .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
            .codeSize = kern->spirv->bytes,
            .pCode = kern->spirv->code,
        };
        VkShaderModule module;
        VkResult r = vkCreateShaderModule(dev->device, &mod, NULL, &module);
        if (r == VK_SUCCESS) {
            const VkComputePipelineCreateInfo info = {
                .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
                .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                          .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                          .module = module,
                          .pName = "main"},
                .layout = kern->layout,
            };
            r = vkCreateComputePipelines(dev->device, VK_NULL_HANDLE, 1, &info, NULL,
                                         &kern->pipeline);
            vkDestroyShaderModule(dev->device, module, NULL);
        }
        if (r != VK_SUCCESS) {
            kern->pipeline = VK_NULL_HANDLE;
            pthread_mutex_unlock(&dev->pipeline_lock);
            sam2_fail(err, SAM2_ERR_UNSUPPORTED, "the Vulkan kernel %s could not be built: %s",
                      kern->name, vulkan_result_name(r));
            return NULL;
        }
    }
    pthread_mutex_unlock(&dev->pipeline_lock);
    return kern;
}

vulkan_device *vulkan_device_open(const vulkan_options *opt, sam2_error *err) {
    vulkan_options o = opt ? *opt : (vulkan_options){.device_index = -1};
    int sync = o.validation_sync;
    if (env_validation(&sync)) o.validation = 1;
    o.validation_sync = sync;
    vulkan_device *dev = calloc(1, sizeof *dev);
    if (!dev) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory opening a Vulkan device");
        return NULL;
    }
    pthread_mutex_init(&dev->queue_lock, NULL);
    pthread_mutex_init(&dev->pipeline_lock, NULL);
    atomic_init(&dev->in_use, 0);
    atomic_init(&dev->peak, 0);
    atomic_init(&dev->validation_errors, 0);
    dev->instance = create_instance(dev, o.validation, o.validation_sync, err);
    if (!dev->instance) goto fail;
    VkPhysicalDevice *pds = NULL;
    int n = enumerate(dev->instance, &pds, err);
    if (n < 0) goto fail;
    vulkan_device_info *infos = calloc(n ? (size_t)n : 1, sizeof *infos);
    if (!infos) {
        free(pds);
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory listing Vulkan devices");
        goto fail;
    }
    for (int i = 0; i < n; i++) describe_device(pds[i], i, &infos[i]);
    int index = o.device_index >= 0 ? o.device_index : vulkan_auto_device(infos, n);
    if (index < 0 || index >= n) {
        if (o.device_index >= 0)
            sam2_fail(err, SAM2_ERR_ARGUMENT,
                      "no Vulkan device %d (%d found; sam2 doctor lists them)", o.device_index, n);
        else
            sam2_fail(
                err, SAM2_ERR_UNSUPPORTED,
                "no Vulkan GPU found (%d device%s, none a usable GPU; sam2 doctor lists them)", n,
                n == 1 ? "" : "s");
        free(pds), free(infos);
        goto fail;
    }
    dev->info = infos[index];
    dev->physical = pds[index];
    free(pds), free(infos);
    if (!dev->info.usable) {
        sam2_fail(err, SAM2_ERR_UNSUPPORTED, "Vulkan device %d (%s) cannot be used: %s", index,
                  dev->info.name, dev->info.why_not);
        goto fail;
    }
    if (create_logical_device(dev, err) || setup_kernels(dev, err)) goto fail;
    const uint64_t heap = dev->info.device_local_bytes;
    dev->budget = o.memory_budget ? o.memory_budget : heap / 10 * 8;
    return dev;
fail:
    vulkan_device_close(dev);
    return NULL;
}

void vulkan_device_close(vulkan_device *dev) {
    if (!dev) return;
    if (dev->device) {
        vkDeviceWaitIdle(dev->device);
        for (int k = 0; k < VULKAN_KERNEL_COUNT; k++) {
            vulkan_kernel *kern = &dev->kernels[k];
            if (kern->pipeline) vkDestroyPipeline(dev->device, kern->pipeline, NULL);
            if (kern->layout) vkDestroyPipelineLayout(dev->device, kern->layout, NULL);
            if (kern->set_layout) vkDestroyDescriptorSetLayout(dev->device, kern->set_layout, NULL);
        }
        vkDestroyDevice(dev->device, NULL);
    }
    if (dev->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy =
            (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
                dev->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy) destroy(dev->instance, dev->messenger, NULL);
    }
    if (dev->instance) vkDestroyInstance(dev->instance, NULL);
    pthread_mutex_destroy(&dev->queue_lock);
    pthread_mutex_destroy(&dev->pipeline_lock);
    free(dev);
}

const vulkan_device_info *vulkan_device_get_info(const vulkan_device *dev) {
    return &dev->info;
}

uint64_t vulkan_validation_errors(const vulkan_device *dev) {
    return atomic_load(&((vulkan_device *)dev)->validation_errors);
}
