/* The Vulkan runtime: which device `auto` takes, transfers (staged, chunked, counted), device
 * arenas and marks, the memory budget (clear errors instead of crashes), operands outside their
 * buffers, per-stage timestamps, several streams on one queue, and the validation layer's error
 * counter. Skipped (77) when no Vulkan device exists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>

#ifndef SAM2_HAVE_VULKAN
int main(void) {
    printf("skip: this build has no Vulkan backend (libvulkan-dev and glslc were not found)\n");
    return 77;
}
#else

#include "core/ops.h"
#include "core/vulkan/vulkan_internal.h"
#include "ops_check.h"
#include "vulkan_check.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define MIB (1024u * 1024u)

static uint64_t errors_before;

static int setup(void **state) {
    (void)state;
    errors_before = vulkan_validation_errors(vk_dev);
    return 0;
}

/* After every test: the stream is clean, no new validation error, the arena empty again. */
static int teardown(void **state) {
    (void)state;
    sam2_error err = {0};
    const int rc = vulkan_sync(vk_s, &err);
    vulkan_arena_reset(&vk_arena);
    if (rc) fprintf(stderr, "stream error: %s\n", err.message);
    const uint64_t errors = vulkan_validation_errors(vk_dev) - errors_before;
    if (errors) fprintf(stderr, "%llu Vulkan validation errors\n", (unsigned long long)errors);
    return rc || errors ? -1 : 0;
}

static vulkan_device_info fake(int index, vulkan_device_type type, int usable) {
    vulkan_device_info d;
    memset(&d, 0, sizeof d);
    d.index = index;
    d.type = type;
    d.usable = usable;
    return d;
}

static void test_auto_choice(void **state) {
    (void)state;
    const vulkan_device_info cpu = fake(0, VULKAN_DEVICE_CPU, 1),
                             igpu = fake(1, VULKAN_DEVICE_INTEGRATED, 1),
                             dgpu = fake(2, VULKAN_DEVICE_DISCRETE, 1),
                             broken = fake(3, VULKAN_DEVICE_DISCRETE, 0),
                             vgpu = fake(4, VULKAN_DEVICE_VIRTUAL, 1);
    const vulkan_device_info a[] = {cpu, igpu, dgpu}, b[] = {cpu, igpu, broken}, c[] = {cpu},
                             d[] = {vgpu, igpu}, e[] = {broken, cpu, vgpu};
    assert_int_equal(vulkan_auto_device(a, 3), 2);  /* discrete first */
    assert_int_equal(vulkan_auto_device(b, 3), 1);  /* an unusable discrete GPU is passed over */
    assert_int_equal(vulkan_auto_device(c, 1), -1); /* never a CPU implementation */
    assert_int_equal(vulkan_auto_device(d, 2), 1);  /* integrated before virtual */
    assert_int_equal(vulkan_auto_device(e, 3), 4);
    assert_int_equal(vulkan_auto_device(NULL, 0), -1);
    assert_string_equal(vulkan_device_type_name(VULKAN_DEVICE_CPU), "CPU");
}

static void test_list_devices(void **state) {
    (void)state;
    vulkan_device_info list[16];
    sam2_error err = {0};
    const int n = vulkan_list_devices(list, 16, &err);
    assert_true(n >= 1);
    const vulkan_device_info *mine = vulkan_device_get_info(vk_dev);
    assert_true(mine->index < n);
    assert_string_equal(list[mine->index].name, mine->name);
    for (int i = 0; i < n && i < 16; i++) {
        assert_int_equal(list[i].index, i);
        assert_true(list[i].name[0] != 0);
        assert_true(list[i].usable || list[i].why_not[0] != 0);
        print_message("device %d: %s (%s), %.0f MiB, subgroup %u, cooperative matrix %s%s%s\n", i,
                      list[i].name, vulkan_device_type_name(list[i].type),
                      (double)list[i].device_local_bytes / MIB, list[i].subgroup_size,
                      list[i].cooperative_matrix ? "yes" : "no",
                      list[i].usable ? "" : ", unusable: ", list[i].why_not);
    }
    /* an index that does not exist is a clear error */
    vulkan_options opt = {.device_index = n + 3};
    assert_null(vulkan_device_open(&opt, &err));
    assert_int_equal(err.code, SAM2_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "no Vulkan device"));
}

/* Uploads and downloads larger than the staging memory go in pieces; the counters say how much
 * moved. */
static void test_transfers(void **state) {
    (void)state;
    const uint64_t up0 = vulkan_bytes_uploaded(vk_s), down0 = vulkan_bytes_downloaded(vk_s);
    const size_t sizes[] = {1, 3, 1000, 5u * MIB + 7}; /* the last is 20 MiB: over staging */
    uint64_t up = 0, down = 0;
    for (int i = 0; i < 4; i++) {
        const size_t n = sizes[i];
        float *host = ops_random(n, 1), *back = ops_alloc(n);
        vulkan_ref r = vk_upload(host, n);
        sam2_error err = {0};
        assert_int_equal(vk_download(back, r, n, &err), 0);
        assert_int_equal(ops_bit_diffs(back, host, n), 0);
        up += n * sizeof(float);
        down += n * sizeof(float);
        free(host), free(back);
    }
    assert_true(vulkan_bytes_uploaded(vk_s) - up0 == up);
    assert_true(vulkan_bytes_downloaded(vk_s) - down0 == down);
    /* copies and fills on the device move nothing over the bus */
    float h[10];
    for (int i = 0; i < 10; i++) h[i] = (float)i;
    vulkan_ref a = vk_upload(h, 10), b = vk_alloc(10);
    vulkan_fill(vk_s, b, 10 * sizeof(float), -1.5f);
    vulkan_copy(vk_s, vulkan_at(b, 2), vulkan_at(a, 5), 3 * sizeof(float));
    float out[10];
    sam2_error err = {0};
    assert_int_equal(vk_download(out, b, 10, &err), 0);
    const float want[10] = {-1.5f, -1.5f, 5, 6, 7, -1.5f, -1.5f, -1.5f, -1.5f, -1.5f};
    assert_memory_equal(out, want, sizeof want);
    assert_true(vulkan_bytes_uploaded(vk_s) - up0 == up + sizeof h);
    /* a transfer outside its buffer is refused, naming it */
    vulkan_buffer *own = vulkan_buffer_create(vk_dev, 10 * sizeof(float), &err);
    assert_non_null(own);
    assert_int_equal(vk_download(out, vulkan_at(vulkan_buffer_ref(own), 5), 10, &err),
                     SAM2_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "outside its buffer"));
    assert_int_equal(vulkan_upload(vk_s, vulkan_buffer_ref(own), h, 11 * sizeof(float), &err),
                     SAM2_ERR_ARGUMENT);
    vulkan_buffer_free(own);
}

/* A "forward pass" on the device arena: a kept result, then stages released by marks. After one
 * reset the same pass needs no device allocation at all. */
static void arena_pass(vulkan_arena *a) {
    sam2_error err = {0};
    vulkan_ref kept = vulkan_arena_alloc(a, 1000, &err);
    assert_non_null(kept.buf);
    for (int stage = 0; stage < 2; stage++) {
        vulkan_arena_mark m = vulkan_arena_get_mark(a);
        vulkan_ref big = vulkan_arena_alloc(a, (size_t)(5 + stage) * MIB, &err);
        vulkan_ref small = vulkan_arena_alloc(a, 17, &err);
        assert_non_null(big.buf);
        assert_non_null(small.buf);
        assert_true(small.offset % 256 == 0);
        vulkan_fill(vk_s, small, 16, 1.0f); /* used by a command, then released */
        vulkan_arena_release(a, m);
        /* what the stage held is handed out again, right after the kept result */
        vulkan_ref again = vulkan_arena_alloc(a, 17, &err);
        assert_true(again.buf == kept.buf && again.offset == kept.offset + 1024);
        vulkan_arena_release(a, m);
    }
}

static void test_arena(void **state) {
    (void)state;
    vulkan_arena a;
    vulkan_arena_init(&a, vk_dev);
    const uint64_t used0 = vulkan_memory_in_use(vk_dev);
    arena_pass(&a);
    sam2_error err = {0};
    assert_int_equal(vulkan_sync(vk_s, &err), 0);
    vulkan_arena_reset(&a);
    const int allocations = a.allocations;
    assert_true(a.capacity >= a.high_water);
    for (int pass = 0; pass < 3; pass++) {
        arena_pass(&a);
        assert_int_equal(vulkan_sync(vk_s, &err), 0);
        vulkan_arena_reset(&a);
    }
    assert_int_equal(a.allocations, allocations);
    assert_true(vulkan_memory_in_use(vk_dev) > used0);
    vulkan_arena_free(&a);
    assert_true(vulkan_memory_in_use(vk_dev) == used0);
}

/* A small budget: what fits is allocated, what does not is a clear SAM2_ERR_NOMEM, and the
 * device keeps working. */
static void test_budget(void **state) {
    (void)state;
    vulkan_options opt = {.device_index = vulkan_device_get_info(vk_dev)->index,
                          .memory_budget = 8 * MIB};
    sam2_error err = {0};
    vulkan_device *small = vulkan_device_open(&opt, &err);
    assert_non_null(small);
    assert_true(vulkan_memory_budget(small) == 8 * MIB);
    vulkan_buffer *b1 = vulkan_buffer_create(small, 4 * MIB, &err);
    assert_non_null(b1);
    vulkan_buffer *b2 = vulkan_buffer_create(small, 6 * MIB, &err);
    assert_null(b2);
    assert_int_equal(err.code, SAM2_ERR_NOMEM);
    assert_non_null(strstr(err.message, "budget"));
    print_message("over budget: %s\n", err.message);
    vulkan_arena a;
    vulkan_arena_init(&a, small);
    vulkan_ref r = vulkan_arena_alloc(&a, 3 * MIB, &err);
    assert_non_null(r.buf);
    r = vulkan_arena_alloc(&a, 2 * MIB, &err); /* 4 + 3 + 2 > 8 */
    assert_null(r.buf);
    assert_int_equal(err.code, SAM2_ERR_NOMEM);
    /* more than one buffer may hold on this device */
    const uint64_t huge = (uint64_t)1 << 50;
    assert_null(vulkan_buffer_create(small, (size_t)huge, &err));
    assert_int_equal(err.code, SAM2_ERR_NOMEM);
    vulkan_arena_free(&a);
    vulkan_buffer_free(b1);
    assert_true(vulkan_memory_in_use(small) == 0);
    assert_true(vulkan_memory_peak(small) >= 7 * MIB);
    b2 = vulkan_buffer_create(small, 6 * MIB, &err); /* fits now */
    assert_non_null(b2);
    vulkan_buffer_free(b2);
    assert_int_equal(vulkan_validation_errors(small), 0);
    vulkan_device_close(small);
}

/* A kernel whose operands reach outside their buffers is not run; the sync reports it and the
 * stream works on. */
static void test_bad_operand(void **state) {
    (void)state;
    sam2_error err = {0};
    vulkan_buffer *bufs[3];
    for (int i = 0; i < 3; i++) {
        bufs[i] = vulkan_buffer_create(vk_dev, 100 * sizeof(float), &err);
        assert_non_null(bufs[i]);
    }
    vulkan_ref a = vulkan_buffer_ref(bufs[0]), b = vulkan_buffer_ref(bufs[1]),
               c = vulkan_buffer_ref(bufs[2]);
    vulkan_gemm(vk_s, 0, 0, 10, 10, 11, 1.0f, a, 11, b, 10, 0.0f, c, 10); /* A is 110 floats */
    assert_int_equal(vulkan_stream_status(vk_s), SAM2_ERR_ARGUMENT);
    assert_int_equal(vulkan_sync(vk_s, &err), SAM2_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "gemm"));
    print_message("refused: %s\n", err.message);
    assert_int_equal(vulkan_stream_status(vk_s), 0);
    vulkan_gemm(vk_s, 0, 0, 2, 3, 4, 1.0f, a, 4, b, 3, 0.0f, c, 3);
    assert_int_equal(vulkan_sync(vk_s, &err), 0);
    vulkan_attention(vk_s, c, 8, a, 8, b, 8, b, 8, 13, 12, 8); /* q: 13 rows of 8 > 100 */
    assert_int_equal(vulkan_sync(vk_s, &err), SAM2_ERR_ARGUMENT);
    vulkan_conv2d(vk_s, c, a, b, VULKAN_NONE, 10, 10, 3, 4, 3, 3, 1, 1, 2); /* 3 % 2 != 0 */
    assert_int_equal(vulkan_sync(vk_s, &err), SAM2_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "conv2d"));
    for (int i = 0; i < 3; i++) vulkan_buffer_free(bufs[i]);
}

static void test_stage_times(void **state) {
    (void)state;
    vulkan_stage_times_reset(vk_s);
    const int n = 256;
    float *host = ops_random((size_t)n * n, 1);
    vulkan_ref a = vk_upload(host, (size_t)n * n), c = vk_alloc((size_t)n * n);
    vulkan_stage_begin(vk_s, "gemm");
    vulkan_gemm(vk_s, 0, 0, n, n, n, 1.0f, a, n, a, n, 0.0f, c, n);
    vulkan_stage_begin(vk_s, "gelu"); /* ends "gemm" */
    vulkan_gelu(vk_s, c, c, (size_t)n * n);
    vulkan_stage_end(vk_s);
    /* a stage cut in two by a sync is one run */
    vulkan_stage_begin(vk_s, "gemm");
    vulkan_gemm(vk_s, 0, 0, n, n, n, 1.0f, a, n, a, n, 0.0f, c, n);
    sam2_error err = {0};
    assert_int_equal(vulkan_sync(vk_s, &err), 0);
    vulkan_gemm(vk_s, 0, 0, n, n, n, 1.0f, a, n, a, n, 0.0f, c, n);
    vulkan_stage_end(vk_s);
    /* more stages than one command buffer's queries */
    for (int i = 0; i < 300; i++) {
        vulkan_stage_begin(vk_s, "fill");
        vulkan_fill(vk_s, c, 64, 0.0f);
    }
    vulkan_stage_end(vk_s);
    assert_int_equal(vulkan_sync(vk_s, &err), 0);
    vulkan_stage_time t[8];
    const int count = vulkan_stage_times(vk_s, t, 8);
    if (vk_dev->timestamp_ns == 0) {
        assert_int_equal(count, 0);
        skip();
    }
    assert_int_equal(count, 3);
    for (int i = 0; i < 3; i++) {
        print_message("stage %-5s %d run(s), %.3f ms\n", t[i].name, t[i].count, t[i].seconds * 1e3);
        assert_true(t[i].seconds >= 0.0);
    }
    assert_string_equal(t[0].name, "gemm");
    assert_int_equal(t[0].count, 2);
    assert_true(t[0].seconds > 0.0);
    assert_string_equal(t[1].name, "gelu");
    assert_int_equal(t[1].count, 1);
    assert_string_equal(t[2].name, "fill");
    assert_int_equal(t[2].count, 300);
    free(host);
}

/* Sessions share one device: streams on several threads, each checking its own results. */
typedef struct thread_job {
    int seed, failures;
} thread_job;

static void *stream_thread(void *arg) {
    thread_job *job = arg;
    sam2_error err = {0};
    vulkan_stream *s = vulkan_stream_create(vk_dev, &err);
    vulkan_arena a;
    vulkan_arena_init(&a, vk_dev);
    const int M = 37, N = 29, K = 41;
    float *A = ops_alloc((size_t)M * K), *B = ops_alloc((size_t)K * N),
          *C = ops_alloc((size_t)M * N), *want = ops_alloc((size_t)M * N);
    for (int round = 0; s && round < 5; round++) {
        for (int i = 0; i < M * K; i++) A[i] = (float)((i * 7 + job->seed + round) % 13) - 6.0f;
        for (int i = 0; i < K * N; i++) B[i] = (float)((i * 5 + job->seed) % 11) - 5.0f;
        vulkan_ref da = vulkan_arena_alloc(&a, sizeof(float) * M * K, &err),
                   db = vulkan_arena_alloc(&a, sizeof(float) * K * N, &err),
                   dc = vulkan_arena_alloc(&a, sizeof(float) * M * N, &err);
        if (!da.buf || !db.buf || !dc.buf || vulkan_upload(s, da, A, sizeof(float) * M * K, &err) ||
            vulkan_upload(s, db, B, sizeof(float) * K * N, &err)) {
            job->failures++;
            break;
        }
        vulkan_gemm(s, 0, 0, M, N, K, 1.0f, da, K, db, N, 0.0f, dc, N);
        if (vulkan_download(s, C, dc, sizeof(float) * M * N, &err)) {
            job->failures++;
            break;
        }
        sam2_backend_ref()->gemm(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, want, N);
        /* small integers: exact in float whatever the order of the sums */
        job->failures += ops_bit_diffs(C, want, (size_t)M * N) != 0;
        vulkan_arena_reset(&a);
    }
    if (!s) job->failures++;
    vulkan_stream_free(s);
    vulkan_arena_free(&a);
    free(A), free(B), free(C), free(want);
    return NULL;
}

static void test_streams_on_threads(void **state) {
    (void)state;
    pthread_t t[3];
    thread_job jobs[3] = {{1, 0}, {2, 0}, {3, 0}};
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, stream_thread, &jobs[i]), 0);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 3; i++) assert_int_equal(jobs[i].failures, 0);
}

/* The messenger counts what the validation layer reports: an invalid buffer (no usage flags)
 * is one error. Skipped without validation. */
static void test_validation_counts(void **state) {
    (void)state;
    if (!vk_dev->messenger) skip();
    const VkBufferCreateInfo bad = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = 64,
        .usage = 0, /* VUID-VkBufferCreateInfo-usage-requiredbitmask */
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkBuffer buffer = VK_NULL_HANDLE;
    fprintf(stderr, "(the validation error below is expected)\n");
    if (vkCreateBuffer(vk_dev->device, &bad, NULL, &buffer) == VK_SUCCESS)
        vkDestroyBuffer(vk_dev->device, buffer, NULL);
    const uint64_t seen = vulkan_validation_errors(vk_dev) - errors_before;
    assert_true(seen >= 1);
    errors_before += seen;
}

/* `sam2 doctor` lists the device and says what `auto` takes (skipped where the sam2 program is
 * not beside the tests, as on a GPU machine that got only the carried test programs). */
static void test_doctor(void **state) {
    (void)state;
    const char *sam2 = SAM2_BIN_DIR "/sam2";
    if (access(sam2, X_OK) != 0) skip();
    char cmd[1200], line[1024];
    /* without leak checking: the Vulkan driver's own allocations at exit are not sam2's (this
     * process checks the same listing code with the driver's leaks suppressed) */
    snprintf(cmd, sizeof cmd, "ASAN_OPTIONS=detect_leaks=0 '%s' doctor 2>&1", sam2);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    const vulkan_device_info *mine = vulkan_device_get_info(vk_dev);
    char listed[64];
    snprintf(listed, sizeof listed, "vulkan device %d ", mine->index);
    vulkan_device_info list[16];
    sam2_error err = {0};
    const int n = vulkan_list_devices(list, 16, &err);
    const int pick = vulkan_auto_device(list, n < 16 ? n : 16);
    int saw_device = 0, saw_summary = 0;
    while (fgets(line, sizeof line, p)) {
        if (strstr(line, listed) && strstr(line, mine->name) && strstr(line, "subgroup") &&
            strstr(line, "cooperative matrix"))
            saw_device = 1;
        if (!strncmp(line, "ok     vulkan ", 14) && strstr(line, "auto")) {
            saw_summary = 1;
            print_message("%s", line);
            if (pick < 0) {
                assert_non_null(strstr(line, "auto uses the CPU backend"));
            } else {
                char takes[64];
                snprintf(takes, sizeof takes, "auto takes device %d", pick);
                assert_non_null(strstr(line, takes));
            }
        }
    }
    pclose(p);
    assert_true(saw_device);
    assert_true(saw_summary);
}

int main(void) {
    const int rc = vk_test_open(0);
    if (rc) return rc;
    ops_seed(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_auto_choice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transfers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arena, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_operand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_streams_on_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_doctor, setup, teardown),
    };
    const int failed = cmocka_run_group_tests(tests, NULL, NULL);
    vk_test_close();
    return failed ? 1 : 0;
}

#endif
