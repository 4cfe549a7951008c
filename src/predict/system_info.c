/* The public diagnostics (include/sam2.h): which backend "auto" means, what the cpu backend
 * computes with, and the GPUs the vulkan backend sees, for `sam2 doctor` and bug reports. */
#include "core/cpu_features.h"
#include "core/device.h"
#include "core/error.h"
#include "core/vulkan/vulkan_rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sam2_backend_auto_name(void) {
    return sam2_device_pick("auto")->name;
}

const char *sam2_get_backend(void) {
    return sam2_device_default()->name;
}

void sam2_cpu_info_get(sam2_cpu_info *out) {
    const cpu_isa isa = cpu_isa_active();
    out->kernels = cpu_isa_name(isa);
    out->kernels_label = cpu_isa_label(isa);
    out->kernels_reason = cpu_isa_reason();
    out->vector_kernels_available =
        cpu_isa_available(CPU_ISA_AVX2) || cpu_isa_available(CPU_ISA_NEON);
    out->blas = cpu_blas_name();
}

static void copy_device(const vulkan_device_info *d, sam2_gpu_device *out) {
    memset(out, 0, sizeof *out);
    out->index = d->index;
    snprintf(out->name, sizeof out->name, "%s", d->name);
    out->type = vulkan_device_type_name(d->type);
    out->api_major = VULKAN_VERSION_MAJOR(d->api_version);
    out->api_minor = VULKAN_VERSION_MINOR(d->api_version);
    out->device_local_bytes = d->device_local_bytes;
    out->subgroup_size = d->subgroup_size;
    out->cooperative_matrix = d->cooperative_matrix;
    out->usable = d->usable;
    snprintf(out->why_not, sizeof out->why_not, "%s", d->why_not);
}

int sam2_gpu_devices(sam2_gpu_device *out, int max, int *auto_pick, sam2_error *err) {
    if (auto_pick) *auto_pick = -1;
    if (max < 0 || (max > 0 && !out))
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "gpu devices: no room for %d", max), -1;
    vulkan_device_info *list = calloc(max > 0 ? (size_t)max : 1, sizeof *list);
    if (!list) return sam2_fail(err, SAM2_ERR_NOMEM, "gpu devices: out of memory"), -1;
    const int n = vulkan_list_devices(list, max, err);
    const int shown = n < max ? n : max;
    for (int i = 0; i < shown; i++) copy_device(&list[i], &out[i]);
    if (n >= 0 && auto_pick) *auto_pick = vulkan_auto_device(list, shown);
    free(list);
    return n;
}
