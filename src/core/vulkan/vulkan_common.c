/* The parts of the Vulkan runtime that need no Vulkan: built with or without it, so that
 * `sam2 doctor` and option parsing work the same in every build. */
#include "core/vulkan/vulkan_rt.h"

const char *vulkan_device_type_name(vulkan_device_type t) {
    switch (t) {
    case VULKAN_DEVICE_DISCRETE:
        return "discrete GPU";
    case VULKAN_DEVICE_INTEGRATED:
        return "integrated GPU";
    case VULKAN_DEVICE_VIRTUAL:
        return "virtual GPU";
    case VULKAN_DEVICE_CPU:
        return "CPU";
    default:
        return "other";
    }
}

int vulkan_auto_device(const vulkan_device_info *list, int n) {
    /* A CPU implementation (lavapipe) is slower than the CPU backend on the same cores, so
     * `auto` never takes one; tests name it by index. */
    static const vulkan_device_type order[] = {VULKAN_DEVICE_DISCRETE, VULKAN_DEVICE_INTEGRATED,
                                               VULKAN_DEVICE_VIRTUAL};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < n; i++)
            if (list[i].usable && list[i].type == order[k]) return list[i].index;
    return -1;
}
