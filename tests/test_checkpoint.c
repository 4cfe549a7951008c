/* Checkpoint reader on files the test builds itself (no golden data needed): the torch.save
 * variants (pickle protocols, torch 1.x / 2.x entries, views, dtypes), exact float16/bfloat16
 * upcasts, binding a whole model, and every kind of bad input with its message and the CLI's
 * exit status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/checkpoint.h"
#include "io/model_weights.h"
#include "io/yaml_config.h"
#include "support/mini_model.h"
#include "support/testutil.h"
#include "support/torch_zip_writer.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *tmp;

static const char *tmp_path(const char *name) {
    return test_path(tmp, name);
}

/* ---- a small checkpoint with every kind of tensor view ------------------------------------- */

static float f32_data[24];
static uint16_t f16_data[6], bf16_data[5];

/* Expected float32 values of the views below. */
static void fill_data(void) {
    for (int i = 0; i < 24; i++) f32_data[i] = (float)i * 0.5f - 3.0f;
    const uint16_t halves[6] = {0x3c00, 0xc000, 0x0001,
                                0x7bff, 0x8400, 0x3555}; /* 1,-2,min sub,max,... */
    memcpy(f16_data, halves, sizeof halves);
    const uint16_t bf[5] = {0x3f80, 0xc040, 0x0001, 0x7f7f, 0x4049};
    memcpy(bf16_data, bf, sizeof bf);
}

static const tzw_storage STORAGES[] = {
    {TZW_F32, f32_data, 24, -1},
    {TZW_F16, f16_data, 6, -1},
    {TZW_BF16, bf16_data, 5, -1},
};

static const tzw_tensor TENSORS[] = {
    {"plain", 0, 0, 2, {4, 6}, {0}},         /* the whole f32 storage */
    {"transposed", 0, 0, 2, {6, 4}, {1, 6}}, /* a transpose of it */
    {"offset_view", 0, 5, 1, {7}, {0}},      /* elements 5..11 */
    {"strided", 0, 1, 2, {2, 3}, {12, 3}},   /* every third element of two rows, from 1 */
    {"half", 1, 0, 2, {2, 3}, {0}},          {"bf", 2, 1, 1, {4}, {0}},
    {"scalar", 0, 23, 0, {0}, {0}},          {"empty", 0, 0, 2, {0, 3}, {0}},
};
#define NT ((int)(sizeof TENSORS / sizeof TENSORS[0]))

static float half_ref(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? ldexpf((float)m, -24) : ldexpf((float)(m + 1024), e - 25);
    return (h & 0x8000) ? -v : v;
}

static float bf_ref(uint16_t b) {
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Expected element i (row-major) of tensor t. */
static float expected(int t, int64_t i) {
    switch (t) {
    case 0:
        return f32_data[i];
    case 1:
        return f32_data[(i % 4) * 6 + i / 4];
    case 2:
        return f32_data[5 + i];
    case 3:
        return f32_data[1 + (i / 3) * 12 + (i % 3) * 3];
    case 4:
        return half_ref(f16_data[i]);
    case 5:
        return bf_ref(bf16_data[1 + i]);
    case 6:
        return f32_data[23];
    }
    return NAN;
}

static void check_views(const ckpt *ck) {
    assert_int_equal(ckpt_num_tensors(ck), NT);
    for (int t = 0; t < NT; t++) {
        const ckpt_tensor *x = ckpt_tensor_at(ck, t);
        assert_string_equal(x->name, TENSORS[t].name);
        assert_ptr_equal(ckpt_find(ck, TENSORS[t].name), x);
        assert_int_equal(x->ndim, TENSORS[t].ndim);
        assert_int_equal(x->dtype, STORAGES[TENSORS[t].storage].dtype);
        float buf[32], one;
        const float *v = ckpt_tensor_f32(x, buf);
        assert_non_null(v);
        for (int64_t i = 0; i < x->numel; i++) {
            if (memcmp(&v[i], &(float){expected(t, i)}, 4))
                fail_msg("%s[%lld] = %g, expected %g", x->name, (long long)i, v[i], expected(t, i));
            ckpt_tensor_read_f32(x, i, 1, &one); /* any start position */
            assert_memory_equal(&one, &v[i], 4);
        }
    }
    assert_int_equal(ckpt_tensor_at(ck, 1)->contiguous, false);
    assert_int_equal(ckpt_tensor_at(ck, 2)->contiguous, true);
    assert_int_equal(ckpt_tensor_at(ck, 6)->numel, 1);
    assert_int_equal(ckpt_tensor_at(ck, 7)->numel, 0);
    assert_null(ckpt_find(ck, "nope"));
    assert_int_equal(ckpt_num_scalars(ck), 24 + 24 + 7 + 6 + 6 + 4 + 1 + 0);
}

static void test_format_variants(void **state) {
    (void)state;
    const tzw_options variants[] = {
        {0},
        {.protocol4 = true},
        {.torch2_entries = true, .metadata = true},
        {.bare = true, .archive = "some name.v2"},
        {.parameters = true, .protocol4 = true, .metadata = true, .bare = true},
    };
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        const char *path = tmp_path("variant.pt");
        assert_int_equal(tzw_write(path, STORAGES, 3, TENSORS, NT, &variants[v]), 0);
        sam2_error err = {0};
        ckpt *ck = ckpt_open(path, &err);
        if (!ck) fail_msg("variant %zu: %s", v, err.message);
        check_views(ck);
        assert_int_equal(ckpt_verify(ck, &err), 0);
        ckpt_close(ck);
        /* SAM2_WRITE_FUZZ_SEEDS=DIR saves these small files as fuzzing seeds. */
        const char *seeds = getenv("SAM2_WRITE_FUZZ_SEEDS");
        if (seeds) {
            char seed[4096];
            snprintf(seed, sizeof seed, "%s/variant-%zu.pt", seeds, v);
            assert_int_equal(tzw_write(seed, STORAGES, 3, TENSORS, NT, &variants[v]), 0);
        }
    }
}

/* Every one of the 65536 float16 values upcasts exactly (NaN payloads kept). */
static void test_half_upcast_exact(void **state) {
    (void)state;
    static uint16_t all[65536];
    for (int i = 0; i < 65536; i++) all[i] = (uint16_t)i;
    tzw_storage s = {TZW_F16, all, 65536, -1};
    tzw_tensor t = {"all", 0, 0, 1, {65536}, {0}};
    const char *path = tmp_path("halves.pt");
    assert_int_equal(tzw_write(path, &s, 1, &t, 1, NULL), 0);
    sam2_error err = {0};
    ckpt *ck = ckpt_open(path, &err);
    assert_non_null(ck);
    static float out[65536];
    ckpt_tensor_f32(ckpt_tensor_at(ck, 0), out);
    for (int i = 0; i < 65536; i++) {
        int e = (i >> 10) & 31, m = i & 1023;
        uint32_t got;
        memcpy(&got, &out[i], 4);
        if (e == 31) {
            uint32_t want = (uint32_t)(i & 0x8000) << 16 | 0x7f800000u | (uint32_t)m << 13;
            if (got != want) fail_msg("half 0x%04x -> 0x%08x, expected 0x%08x", i, got, want);
        } else {
            float want = half_ref((uint16_t)i);
            if (memcmp(&want, &out[i], 4))
                fail_msg("half 0x%04x -> %a, expected %a", i, out[i], want);
        }
    }
    ckpt_close(ck);
}

/* ---- a whole model ------------------------------------------------------------------------- */

typedef struct value_check {
    int index;
    int bad;
} value_check;

static int check_slot(void *user, const char *name, int ndim, const int64_t *shape,
                      const float **slot) {
    value_check *vc = user;
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    if (!*slot) {
        print_error("slot of %s is NULL\n", name);
        vc->bad++;
    } else {
        for (int64_t j = 0; j < n; j++)
            if ((*slot)[j] != mini_model_value(vc->index, j)) {
                print_error("%s[%lld] = %g, expected %g\n", name, (long long)j, (*slot)[j],
                            mini_model_value(vc->index, j));
                vc->bad++;
                break;
            }
    }
    vc->index++;
    return 0;
}

static void test_bind_mini_model(void **state) {
    (void)state;
    const char *yaml = mini_model_write_yaml(tmp, "mini");
    assert_non_null(yaml);
    char yaml_path[4096];
    snprintf(yaml_path, sizeof yaml_path, "%s", yaml);
    sam2_config cfg;
    sam2_error err = {0};
    if (sam2_config_load_yaml(yaml_path, &cfg, &err)) fail_msg("%s", err.message);
    assert_string_equal(cfg.name, "mini");
    int64_t scalars;
    int count = sam2_weights_count(&cfg, &scalars);

    const int dtypes[] = {TZW_F32, TZW_F16, TZW_BF16};
    for (int k = 0; k < 3; k++) {
        const char *path = tmp_path("mini.pt");
        mini_ckpt_options o = {dtypes[k], -1, -1, NULL};
        assert_int_equal(mini_model_write_ckpt(&cfg, path, &o), 0);
        sam2_loaded l;
        if (sam2_load_weights(path, yaml_path, &l, &err)) fail_msg("%s", err.message);
        assert_int_equal(l.num_tensors, count);
        assert_int_equal(l.params, scalars);
        assert_false(l.detected);
        assert_string_equal(l.cfg.name, "mini");
        value_check vc = {0, 0};
        sam2_weights_walk(&l.cfg, &l.w, check_slot, &vc);
        assert_int_equal(vc.bad, 0);
        /* float16 / bfloat16 are upcast into the owned buffer; float32 needs none unless
         * the writer left the data unaligned (libzip does not align like torch.save). */
        if (dtypes[k] != TZW_F32) assert_true(l.owned_floats >= scalars);
        sam2_loaded_free(&l);

        /* Without the YAML no preset matches: refused, naming the closest preset. */
        assert_int_not_equal(sam2_load_weights(path, NULL, &l, &err), 0);
        assert_int_equal(err.code, SAM2_ERR_MISMATCH);
        assert_non_null(strstr(err.message, "none of the 9 official configurations"));
        assert_non_null(strstr(err.message, path));
    }
}

/* ---- bad inputs -------------------------------------------------------------------------------
 */

/* Runs `sam2 inspect ARGS`; returns its exit status and its stderr (static). */
static int run_inspect(const char *args, const char **stderr_text) {
    static char out[8192];
    char cmd[8192];
    const char *err_file = tmp_path("stderr.txt");
    snprintf(cmd, sizeof cmd, "%s'%s/sam2' inspect %s >/dev/null 2>'%s'", test_exec_prefix(),
             SAM2_BIN_DIR, args, err_file);
    int st = system(cmd);
    size_t n = 0;
    char *text = test_read_file(err_file, &n);
    snprintf(out, sizeof out, "%s", text ? text : "");
    free(text);
    *stderr_text = out;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* The file fails to open (or, for data corruption, to verify) with `code` and a message naming
 * the file and containing `cause`; `sam2 inspect` exits 2 with one line saying the same. */
static void expect_bad(const char *path, int code, const char *cause) {
    sam2_error err = {0};
    ckpt *ck = ckpt_open(path, &err);
    if (ck) {
        int rc = ckpt_verify(ck, &err);
        ckpt_close(ck);
        if (rc == 0) fail_msg("%s opened and verified, expected an error about '%s'", path, cause);
    }
    if (err.code != code)
        fail_msg("%s: code %d (%s), expected %d: %s", path, err.code, sam2_status_name(err.code),
                 code, err.message);
    if (!strstr(err.message, path) || !strstr(err.message, cause))
        fail_msg("message '%s' should name '%s' and say '%s'", err.message, path, cause);
    if (!ck) { /* corrupt data inside a valid file may first fail the config match */
        sam2_loaded l;
        sam2_error err2 = {0};
        assert_int_equal(sam2_load_weights(path, NULL, &l, &err2), code);
        assert_string_equal(err2.message, err.message);
    }

    char args[4200];
    snprintf(args, sizeof args, "'%s'", path);
    const char *text;
    int status = run_inspect(args, &text);
    if (status != 2 || !strstr(text, path) || !strstr(text, cause) || count_lines(text) != 1)
        fail_msg("sam2 inspect %s: status %d, stderr '%s' (expected 2 and '%s')", path, status,
                 text, cause);
}

/* First data byte of a zip entry, found through its local header (the first copy of its name). */
static uint8_t *entry_data(uint8_t *zip, size_t n, const char *name) {
    uint8_t *at = memmem(zip, n, name, strlen(name));
    assert_non_null(at);
    uint8_t *local = at - 30;
    assert_memory_equal(local, "PK\x03\x04", 4);
    return at + strlen(name) + (local[28] | local[29] << 8);
}

static const char *write_good(void) {
    const char *path = tmp_path("good.pt");
    assert_int_equal(tzw_write(path, STORAGES, 3, TENSORS, NT, NULL), 0);
    return path;
}

static void test_bad_files(void **state) {
    (void)state;
    char good[4096]; /* tmp_path() reuses its buffers */
    snprintf(good, sizeof good, "%s", write_good());
    size_t n;
    uint8_t *bytes = test_read_file(good, &n);
    assert_non_null(bytes);

    expect_bad(tmp_path("does-not-exist.pt"), SAM2_ERR_IO, "No such file");
    expect_bad(tmp, SAM2_ERR_IO, "is a directory");
    const char *p = tmp_path("empty.pt");
    test_write_file(p, "", 0);
    expect_bad(p, SAM2_ERR_FORMAT, "empty file");
    p = tmp_path("text.pt");
    test_write_file(p, "model: {}\n", 10);
    expect_bad(p, SAM2_ERR_FORMAT, "not a zip archive");
    p = tmp_path("legacy.pt");
    test_write_file(p, "\x80\x02\x8a\x0alegacy", 10);
    expect_bad(p, SAM2_ERR_UNSUPPORTED, "legacy");

    /* Truncated: cut in the middle, or only the last bytes of the end record missing. */
    p = tmp_path("half.pt");
    test_write_file(p, bytes, n / 2);
    expect_bad(p, SAM2_ERR_FORMAT, "truncated or corrupt zip");
    p = tmp_path("short.pt");
    test_write_file(p, bytes, n - 5);
    expect_bad(p, SAM2_ERR_FORMAT, "truncated or corrupt zip");

    /* Entry removed. */
    p = tmp_path("nopickle.pt");
    assert_int_equal(tzw_copy_replace(good, p, "/data.pkl", NULL, 0), 0);
    expect_bad(p, SAM2_ERR_FORMAT, "no data.pkl");
    p = tmp_path("nostorage.pt");
    assert_int_equal(tzw_copy_replace(good, p, "/data/1", NULL, 0), 0);
    expect_bad(p, SAM2_ERR_FORMAT, "storage entry 'archive/data/1' is missing");

    /* A storage entry shorter than its header says, and one shorter than its tensor. */
    p = tmp_path("shortstorage.pt");
    assert_int_equal(tzw_copy_replace(good, p, "/data/0", f32_data, 20), 0);
    expect_bad(p, SAM2_ERR_FORMAT, "holds 20 bytes");
    tzw_storage small[3];
    memcpy(small, STORAGES, sizeof small);
    small[0].numel = 20;
    small[0].bytes = 80;
    p = tmp_path("smalltensor.pt");
    assert_int_equal(tzw_write(p, small, 3, TENSORS, NT, NULL), 0);
    expect_bad(p, SAM2_ERR_FORMAT, "storage shorter than its tensor");

    /* Views that reach outside everything: an empty tensor far past its storage, sizes whose
     * product overflows. */
    tzw_tensor odd = {"odd", 0, 1000, 1, {0}, {0}};
    p = tmp_path("emptyoffset.pt");
    assert_int_equal(tzw_write(p, STORAGES, 3, &odd, 1, NULL), 0);
    expect_bad(p, SAM2_ERR_FORMAT, "storage offset 1000 outside its storage of 24");
    odd = (tzw_tensor){"huge", 0, 0, 3, {1 << 30, 1 << 30, 1 << 30}, {0, 0, 0}};
    p = tmp_path("huge.pt");
    assert_int_equal(tzw_write(p, STORAGES, 3, &odd, 1, NULL), 0);
    expect_bad(p, SAM2_ERR_FORMAT, "tensor 'huge' is too large");

    /* Wrong dtypes. */
    memcpy(small, STORAGES, sizeof small);
    small[0].dtype = TZW_F64;
    small[0].numel = 12;
    p = tmp_path("float64.pt");
    assert_int_equal(tzw_write(p, small, 3, TENSORS, 1, NULL), 0);
    expect_bad(p, SAM2_ERR_UNSUPPORTED, "dtype float64");
    /* int64 (BatchNorm's num_batches_tracked in EdgeTAM) opens and reads exactly. */
    small[0].dtype = TZW_I64;
    small[0].numel = 24;
    small[0].bytes = -1;
    int64_t counters[24];
    for (int i = 0; i < 24; i++) counters[i] = (int64_t)i * 1000 - 3;
    small[0].data = counters;
    p = tmp_path("int64.pt");
    assert_int_equal(tzw_write(p, small, 3, TENSORS, 1, NULL), 0);
    sam2_error e64 = {0};
    ckpt *c64 = ckpt_open(p, &e64);
    assert_non_null(c64);
    const ckpt_tensor *t64 = ckpt_tensor_at(c64, 0);
    assert_int_equal(t64->dtype, CKPT_I64);
    assert_string_equal(ckpt_dtype_name(t64->dtype), "int64");
    float v64[24]; /* the "plain" tensor: all 24 counters */
    assert_int_equal(t64->numel, 24);
    ckpt_tensor_read_f32(t64, 0, t64->numel, v64);
    for (int64_t i = 0; i < t64->numel; i++) assert_true(v64[i] == (float)counters[i]);
    assert_false(ckpt_tensor_is_direct(t64));
    ckpt_close(c64);

    /* Pickle edits: an opcode and a global outside the subset, a broken pickle. */
    size_t pn;
    uint8_t *pkl = tzw_read_entry(good, "/data.pkl", &pn);
    assert_non_null(pkl);
    uint8_t *edit = malloc(pn + 64);
    memcpy(edit, pkl, pn);
    edit[2] = 'I'; /* INT (text protocol) instead of EMPTY_DICT */
    p = tmp_path("opcode.pt");
    assert_int_equal(tzw_copy_replace(good, p, "/data.pkl", edit, pn), 0);
    expect_bad(p, SAM2_ERR_UNSUPPORTED, "unsupported pickle opcode 0x49 ('I')");

    const char *from = "collections\nOrderedDict\n", *to = "os\nsystem\n";
    uint8_t *at = memmem(pkl, pn, from, strlen(from));
    assert_non_null(at);
    size_t pre = (size_t)(at - pkl), m = 0;
    memcpy(edit, pkl, pre);
    m = pre;
    memcpy(edit + m, to, strlen(to));
    m += strlen(to);
    memcpy(edit + m, at + strlen(from), pn - pre - strlen(from));
    m += pn - pre - strlen(from);
    p = tmp_path("global.pt");
    assert_int_equal(tzw_copy_replace(good, p, "/data.pkl", edit, m), 0);
    expect_bad(p, SAM2_ERR_UNSUPPORTED, "unsupported pickle global 'os.system'");

    /* Pickles that are fine but hold no usable state dict. */
    static const char not_tensor[] = "\x80\x02}X\x05\x00\x00\x00modelq\x00}X\x01\x00\x00\x00"
                                     "aK\x01ss.";
    p = tmp_path("nottensor.pt");
    assert_int_equal(tzw_copy_replace(good, p, "/data.pkl", not_tensor, sizeof not_tensor - 1), 0);
    expect_bad(p, SAM2_ERR_FORMAT, "state dict entry 'a' is a int, not a tensor");
    p = tmp_path("list.pt");
    assert_int_equal(tzw_copy_replace(good, p, "/data.pkl", "\x80\x02].", 4), 0);
    expect_bad(p, SAM2_ERR_FORMAT, "checkpoint holds a list, not a dict of tensors");
    static const char no_sd[] = "\x80\x02}X\x05\x00\x00\x00modelK\x05s.";
    p = tmp_path("nostatedict.pt");
    assert_int_equal(tzw_copy_replace(good, p, "/data.pkl", no_sd, sizeof no_sd - 1), 0);
    expect_bad(p, SAM2_ERR_FORMAT, "no state dict found");
    tzw_tensor twice[2] = {TENSORS[0], TENSORS[2]};
    twice[1].name = TENSORS[0].name;
    p = tmp_path("twice.pt");
    assert_int_equal(tzw_write(p, STORAGES, 3, twice, 2, NULL), 0);
    expect_bad(p, SAM2_ERR_FORMAT, "names tensor 'plain' twice");

    p = tmp_path("cutpickle.pt");
    assert_int_equal(tzw_copy_replace(good, p, "/data.pkl", pkl, pn - 1), 0);
    expect_bad(p, SAM2_ERR_FORMAT, "without STOP");

    /* Flipped bytes: in the pickle (libzip's CRC check) and inside tensor data (ours). */
    uint8_t *copy = malloc(n);
    memcpy(copy, bytes, n);
    entry_data(copy, n, "archive/data.pkl")[4] ^= 0x01;
    p = tmp_path("flip-pickle.pt");
    test_write_file(p, copy, n);
    expect_bad(p, SAM2_ERR_FORMAT, "corrupt");
    memcpy(copy, bytes, n);
    entry_data(copy, n, "archive/data/0")[10] ^= 0x40;
    p = tmp_path("flip-data.pt");
    test_write_file(p, copy, n);
    expect_bad(p, SAM2_ERR_FORMAT, "CRC-32");

    free(copy);
    free(edit);
    free(pkl);
    free(bytes);
}

/* A checkpoint that does not match its configuration: missing, reshaped, extra tensor. */
static void test_mismatch(void **state) {
    (void)state;
    const char *y = mini_model_write_yaml(tmp, "mini");
    char yaml[4096];
    snprintf(yaml, sizeof yaml, "%s", y);
    sam2_config cfg;
    assert_int_equal(sam2_config_load_yaml(yaml, &cfg, NULL), 0);
    const struct {
        mini_ckpt_options o;
        const char *cause;
    } cases[] = {
        {{TZW_F16, 5, -1, NULL}, "is missing from the checkpoint"},
        {{TZW_F32, -1, 7, NULL}, "has shape"},
        {{TZW_F32, -1, -1, "surplus.weight"}, "'surplus.weight' [2], which the config does not"},
    };
    for (int i = 0; i < 3; i++) {
        const char *path = tmp_path("mismatch.pt");
        assert_int_equal(mini_model_write_ckpt(&cfg, path, &cases[i].o), 0);
        sam2_loaded l;
        sam2_error err = {0};
        assert_int_equal(sam2_load_weights(path, yaml, &l, &err), SAM2_ERR_MISMATCH);
        if (!strstr(err.message, cases[i].cause) || !strstr(err.message, path))
            fail_msg("message '%s' should say '%s'", err.message, cases[i].cause);
        char args[8400];
        snprintf(args, sizeof args, "'%s' --config '%s'", path, yaml);
        const char *text;
        int st = run_inspect(args, &text);
        if (st != 2 || !strstr(text, cases[i].cause))
            fail_msg("inspect: status %d, stderr '%s'", st, text);
    }
    /* The first difference names both shapes. */
    sam2_weights w;
    (void)w;
    const char *path = tmp_path("mismatch.pt");
    mini_ckpt_options o = {TZW_F32, -1, 0, NULL}; /* maskmem_tpos_enc [7,1,1,8] -> [8,1,1,8] */
    assert_int_equal(mini_model_write_ckpt(&cfg, path, &o), 0);
    sam2_loaded l;
    sam2_error err = {0};
    assert_int_equal(sam2_load_weights(path, yaml, &l, &err), SAM2_ERR_MISMATCH);
    assert_non_null(strstr(err.message, "tensor 'maskmem_tpos_enc' has shape [8, 1, 1, 8] in the "
                                        "checkpoint, the config expects [7, 1, 1, 8]"));
}

static void test_cli_usage(void **state) {
    (void)state;
    const char *text;
    assert_int_equal(run_inspect("", &text), 2);
    assert_int_equal(run_inspect("--bogus x.pt", &text), 2);
    assert_int_equal(run_inspect("--help", &text), 0);
    char args[4200];
    snprintf(args, sizeof args, "'%s' --config '%s'", write_good(), tmp_path("missing.yaml"));
    assert_int_equal(run_inspect(args, &text), 2);
    assert_non_null(strstr(text, "missing.yaml"));
    /* A file with no matching preset is listed with an unknown config, status 0. */
    snprintf(args, sizeof args, "'%s' --json", write_good());
    assert_int_equal(run_inspect(args, &text), 0);
}

/* Inputs the fuzzer once found troublesome (and the seeds) never crash. */
static void test_fuzz_corpus(void **state) {
    (void)state;
    const char *dir = SAM2_SOURCE_DIR "/fuzz/corpus/checkpoint";
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        sam2_error err = {0};
        ckpt *ck = ckpt_open(test_path(dir, e->d_name), &err);
        if (ck) {
            ckpt_verify(ck, &err);
            ckpt_close(ck);
        }
        files++;
    }
    closedir(d);
    assert_true(files > 0);
}

static int setup(void **state) {
    (void)state;
    tmp = test_make_tmpdir();
    fill_data();
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_variants), cmocka_unit_test(test_half_upcast_exact),
        cmocka_unit_test(test_bind_mini_model), cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_mismatch),        cmocka_unit_test(test_cli_usage),
        cmocka_unit_test(test_fuzz_corpus),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
