/* Stand-ins for a build without Vulkan (libvulkan-dev or glslc missing at build time): the
 * device list is empty with an error saying why, so `sam2 doctor` can say so. */
#include "core/error.h"
#include "core/vulkan/vulkan_rt.h"

int vulkan_built(void) {
    return 0;
}

int vulkan_list_devices(vulkan_device_info *out, int max, sam2_error *err) {
    (void)out, (void)max;
    sam2_fail(err, SAM2_ERR_UNSUPPORTED,
              "this build has no Vulkan backend (libvulkan-dev and glslc were not found when it "
              "was configured)");
    return -1;
}
