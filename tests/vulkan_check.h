/* Helpers shared by the Vulkan tests (test_vulkan_*.c): the device they run on, device memory
 * from host arrays and back.
 *
 * Device: $SAM2_VULKAN_DEVICE (an index from `sam2 doctor`), else the device `auto` takes, else
 * the first usable one (a CPU implementation such as lavapipe, which is what CI has). With no
 * Vulkan device at all the programs exit with 77 (skipped). The Khronos validation layer is on
 * (set SAM2_VULKAN_VALIDATION=0 to run without it, =sync for synchronisation validation too),
 * and a test fails on any validation error. */
#ifndef SAM2_TESTS_VULKAN_CHECK_H
#define SAM2_TESTS_VULKAN_CHECK_H

#include "core/vulkan/vulkan_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VK_SKIP 77

#if defined(__SANITIZE_ADDRESS__)
#include <dlfcn.h>
/* LeakSanitizer: Mesa's lavapipe (with its LLVM) and the validation layer keep some allocations
 * until the process ends. Their modules are pinned (RTLD_NODELETE) so that the report can name
 * them after the loader has closed them; leaks whose stack runs through them are theirs. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:libvulkan_lvp.so\nleak:libVkLayer_khronos_validation.so\nleak:libLLVM\n";
}
static inline void vk_pin_driver_modules(void) {
    const char *names[] = {"libvulkan_lvp.so", "libVkLayer_khronos_validation.so"};
    for (int i = 0; i < 2; i++) (void)dlopen(names[i], RTLD_NOW | RTLD_NODELETE);
}
#else
static inline void vk_pin_driver_modules(void) {}
#endif

static vulkan_device *vk_dev;
static vulkan_stream *vk_s;
static vulkan_arena vk_arena;

/* The index of the device the tests use, or -1 (reason printed) when there is none. */
static inline int vk_test_device_index(void) {
    const char *env = getenv("SAM2_VULKAN_DEVICE");
    if (env && *env) return atoi(env);
    vulkan_device_info list[16];
    sam2_error err = {0};
    const int n = vulkan_list_devices(list, 16, &err);
    if (n < 0) {
        printf("skip: %s\n", err.message);
        return -1;
    }
    const int shown = n < 16 ? n : 16;
    const int pick = vulkan_auto_device(list, shown);
    if (pick >= 0) return pick;
    for (int i = 0; i < shown; i++)
        if (list[i].usable) return i;
    printf("skip: no usable Vulkan device (%d found)\n", n);
    return -1;
}

/* Opens the test device and a stream; returns VK_SKIP when there is none, 1 on failure. */
static inline int vk_test_open(uint64_t memory_budget) {
    vk_pin_driver_modules();
    const int index = vk_test_device_index();
    if (index < 0) return VK_SKIP;
    const char *v = getenv("SAM2_VULKAN_VALIDATION");
    vulkan_options opt = {.device_index = index,
                          .memory_budget = memory_budget,
                          .validation = !(v && !strcmp(v, "0")),
                          .validation_sync = !(v && (!strcmp(v, "0") || !strcmp(v, "1")))};
    sam2_error err = {0};
    vk_dev = vulkan_device_open(&opt, &err);
    if (!vk_dev) {
        fprintf(stderr, "cannot open Vulkan device %d: %s\n", index, err.message);
        return 1;
    }
    printf("Vulkan device %d: %s (%s), validation %s\n", index,
           vulkan_device_get_info(vk_dev)->name,
           vulkan_device_type_name(vulkan_device_get_info(vk_dev)->type),
           !opt.validation       ? "off"
           : opt.validation_sync ? "on (with synchronisation)"
                                 : "on");
    vk_s = vulkan_stream_create(vk_dev, &err);
    if (!vk_s) {
        fprintf(stderr, "cannot create a Vulkan stream: %s\n", err.message);
        return 1;
    }
    vulkan_arena_init(&vk_arena, vk_dev);
    return 0;
}

static inline void vk_test_close(void) {
    vulkan_stream_free(vk_s);
    vulkan_arena_free(&vk_arena);
    vulkan_device_close(vk_dev);
}

/* Device memory for n floats from the test arena (aborts the program when there is none: the
 * tests size their data well inside any device). */
static inline vulkan_ref vk_alloc(size_t n) {
    sam2_error err = {0};
    vulkan_ref r = vulkan_arena_alloc(&vk_arena, n * sizeof(float), &err);
    if (!r.buf) {
        fprintf(stderr, "device memory: %s\n", err.message);
        abort();
    }
    return r;
}

static inline vulkan_ref vk_upload(const float *host, size_t n) {
    vulkan_ref r = vk_alloc(n);
    sam2_error err = {0};
    if (vulkan_upload(vk_s, r, host, n * sizeof(float), &err)) {
        fprintf(stderr, "upload: %s\n", err.message);
        abort();
    }
    return r;
}

/* Runs what is recorded and reads n floats back; 0 on success. */
static inline int vk_download(float *host, vulkan_ref r, size_t n, sam2_error *err) {
    return vulkan_download(vk_s, host, r, n * sizeof(float), err);
}

#endif
