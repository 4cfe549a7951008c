/* Acceptance of the checkpoint reader on the shared golden data: the MICRO (float32) and tiny
 * (float16) checkpoints as torch.save wrote them, their manifests (names, shapes, dtypes,
 * sha256 of every tensor's float32 values), the weight samples bit for bit, the preset tables
 * against the official manifests, the RSS bound, and bad files made from the MICRO file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/checkpoint.h"
#include "io/model_weights.h"
#include "io/yaml_config.h"
#include "support/npy_mini.h"
#include "support/testutil.h"
#include "support/torch_zip_writer.h"

#include <cjson/cJSON.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SAM2_HAS_ASAN 1
#endif
#endif
#ifndef SAM2_HAS_ASAN
#define SAM2_HAS_ASAN 0
#endif

static const char *golden, *tmp;
static char micro_pt[4096], micro_yaml[4096], tiny_pt[4096];

static cJSON *load_json(const char *rel) {
    size_t n;
    char *text = test_read_file(test_path(golden, rel), &n);
    if (!text) fail_msg("cannot read %s", rel);
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) fail_msg("%s is not JSON", rel);
    return j;
}

static void hex(const uint8_t *d, char *out) {
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

/* sha256 of the tensor's float32 values (row-major, little-endian), computed in chunks. */
static void sha256_f32(const ckpt_tensor *t, char *out) {
    static float chunk[16384];
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    for (int64_t i = 0; i < t->numel; i += 16384) {
        int64_t n = t->numel - i < 16384 ? t->numel - i : 16384;
        ckpt_tensor_read_f32(t, i, n, chunk);
        sha256_update(&ctx, (size_t)n * sizeof(float), (const uint8_t *)chunk);
    }
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, d);
    hex(d, out);
}

static void sha256_raw(const ckpt_tensor *t, char *out) {
    assert_true(t->contiguous);
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    int es = t->dtype == CKPT_F32 ? 4 : 2;
    sha256_update(&ctx, (size_t)(t->numel * es), t->base + t->offset * es);
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, d);
    hex(d, out);
}

static void expect_shape(const ckpt_tensor *t, const cJSON *shape) {
    assert_int_equal(t->ndim, cJSON_GetArraySize(shape));
    for (int d = 0; d < t->ndim; d++)
        assert_int_equal(t->shape[d], (int64_t)cJSON_GetArrayItem(shape, d)->valuedouble);
}

/* The checkpoint's tensor list equals the manifest's, in order, with the checksums. */
static void check_manifest(const char *pt, const char *manifest, const char *dtype,
                           const char *sha_f32_key, const char *sha_raw_key) {
    sam2_error err = {0};
    ckpt *ck = ckpt_open(pt, &err);
    if (!ck) fail_msg("%s", err.message);
    assert_int_equal(ckpt_verify(ck, &err), 0);
    cJSON *m = load_json(manifest);
    cJSON *tensors = cJSON_GetObjectItem(m, "tensors");
    assert_int_equal(ckpt_num_tensors(ck), cJSON_GetArraySize(tensors));
    assert_int_equal(ckpt_num_tensors(ck), cJSON_GetObjectItem(m, "num_tensors")->valueint);
    assert_int_equal(ckpt_num_scalars(ck),
                     (int64_t)cJSON_GetObjectItem(m, "num_elements")->valuedouble);
    int i = 0;
    for (cJSON *e = tensors->child; e; e = e->next, i++) {
        const ckpt_tensor *t = ckpt_tensor_at(ck, i);
        assert_string_equal(t->name, e->string);
        expect_shape(t, cJSON_GetObjectItem(e, "shape"));
        assert_string_equal(ckpt_dtype_name(t->dtype), dtype);
        assert_string_equal(cJSON_GetObjectItem(e, "dtype")->valuestring, dtype);
        char sha[2 * SHA256_DIGEST_SIZE + 1];
        sha256_f32(t, sha);
        if (strcmp(sha, cJSON_GetObjectItem(e, sha_f32_key)->valuestring))
            fail_msg("%s: float32 sha256 %s differs from the manifest", t->name, sha);
        if (sha_raw_key) {
            sha256_raw(t, sha);
            assert_string_equal(sha, cJSON_GetObjectItem(e, sha_raw_key)->valuestring);
        }
    }
    cJSON_Delete(m);
    ckpt_close(ck);
}

static void test_micro_manifest(void **state) {
    (void)state;
    /* micro.json describes the float32 file itself: "sha256" is of its float32 bytes. */
    check_manifest(micro_pt, "manifests/micro.json", "float32", "sha256", NULL);
}

static void test_tiny_manifest(void **state) {
    (void)state;
    check_manifest(tiny_pt, "manifests/tiny.f16.json", "float16", "sha256_float32",
                   "sha256_float16");
}

/* The weight samples (float32 .npy copies of checkpoint tensors) are reproduced bit for bit. */
static void test_weight_samples(void **state) {
    (void)state;
    cJSON *index = load_json("weights-sample/index.json");
    cJSON *models = cJSON_GetObjectItem(index, "models");
    int checked = 0;
    for (cJSON *model = models->child; model; model = model->next) {
        const char *pt = test_path(golden, cJSON_GetObjectItem(model, "checkpoint")->valuestring);
        sam2_error err = {0};
        ckpt *ck = ckpt_open(pt, &err);
        if (!ck) fail_msg("%s", err.message);
        cJSON *list = cJSON_GetObjectItem(model, "tensors");
        for (cJSON *e = list->child; e; e = e->next) {
            const char *key = cJSON_GetObjectItem(e, "key")->valuestring;
            const ckpt_tensor *t = ckpt_find(ck, key);
            if (!t) fail_msg("%s: no tensor %s", pt, key);
            expect_shape(t, cJSON_GetObjectItem(e, "shape"));
            assert_string_equal(ckpt_dtype_name(t->dtype),
                                cJSON_GetObjectItem(e, "checkpoint_dtype")->valuestring);
            npy_mini a;
            assert_int_equal(
                npy_mini_load(test_path(golden, cJSON_GetObjectItem(e, "file")->valuestring), &a),
                0);
            assert_int_equal(a.numel, t->numel);
            float *scratch = malloc(sizeof(float) * (size_t)t->numel);
            const float *v = ckpt_tensor_f32(t, scratch);
            if (memcmp(v, a.data, sizeof(float) * (size_t)t->numel))
                fail_msg("%s: values differ from %s", key,
                         cJSON_GetObjectItem(e, "file")->valuestring);
            char sha[2 * SHA256_DIGEST_SIZE + 1];
            sha256_f32(t, sha);
            assert_string_equal(sha, cJSON_GetObjectItem(e, "sha256_float32")->valuestring);
            free(scratch);
            npy_mini_free(&a);
            checked++;
        }
        ckpt_close(ck);
    }
    assert_int_equal(checked, 12);
    cJSON_Delete(index);
}

/* For each official size, the preset's expected table equals the manifest of the random
 * initialisation made by the official code (names and shapes in state-dict order). */
typedef struct table_check {
    cJSON *next;
    int count, bad;
} table_check;

static int compare_entry(void *user, const char *name, int ndim, const int64_t *shape,
                         const float **slot) {
    (void)slot;
    table_check *tc = user;
    tc->count++;
    if (!tc->next || strcmp(tc->next->string, name)) {
        print_error("tensor %d: preset has %s, manifest %s\n", tc->count, name,
                    tc->next ? tc->next->string : "(end)");
        tc->bad++;
        return 1;
    }
    cJSON *s = cJSON_GetObjectItem(tc->next, "shape");
    int ok = cJSON_GetArraySize(s) == ndim;
    for (int d = 0; ok && d < ndim; d++) ok = cJSON_GetArrayItem(s, d)->valuedouble == shape[d];
    if (!ok) {
        print_error("%s: shape differs from the manifest\n", name);
        tc->bad++;
    }
    tc->next = tc->next->next;
    return 0;
}

static void test_presets_match_manifests(void **state) {
    (void)state;
    const char *sizes[][2] = {{"tiny", "sam2.1_hiera_t"},
                              {"small", "sam2.1_hiera_s"},
                              {"base_plus", "sam2.1_hiera_b+"},
                              {"large", "sam2.1_hiera_l"}};
    for (int i = 0; i < 4; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "manifests/%s.json", sizes[i][0]);
        cJSON *m = load_json(rel);
        cJSON *tensors = cJSON_GetObjectItem(m, "tensors");
        sam2_config cfg;
        assert_int_equal(sam2_config_preset(&cfg, sizes[i][1]), 0);
        table_check tc = {tensors->child, 0, 0};
        sam2_weights w;
        sam2_weights_walk(&cfg, &w, compare_entry, &tc);
        if (tc.bad || tc.next) fail_msg("%s: preset table differs from %s", sizes[i][1], rel);
        int64_t scalars;
        assert_int_equal(sam2_weights_count(&cfg, &scalars), cJSON_GetArraySize(tensors));
        assert_int_equal(scalars, (int64_t)cJSON_GetObjectItem(m, "num_elements")->valuedouble);
        cJSON_Delete(m);
    }
}

/* The MICRO YAML: every size from the file, every switch as in sam2.1_hiera_t. */
static void test_micro_yaml(void **state) {
    (void)state;
    sam2_config c, t;
    sam2_error err = {0};
    if (sam2_config_load_yaml(micro_yaml, &c, &err)) fail_msg("%s", err.message);
    sam2_config_preset(&t, "sam2.1_hiera_t");
    assert_string_equal(c.name, "sam2.1_hiera_micro");
    assert_int_equal(c.image_size, 256);
    assert_int_equal(c.embed_dim, 8);
    const int stages[4] = {1, 2, 3, 2}, windows[4] = {8, 4, 6, 3}, chans[4] = {64, 32, 16, 8};
    assert_memory_equal(c.stages, stages, sizeof stages);
    assert_memory_equal(c.window_spec, windows, sizeof windows);
    assert_memory_equal(c.backbone_channels, chans, sizeof chans);
    assert_int_equal(c.num_global_blocks, 1);
    assert_int_equal(c.global_att_blocks[0], 4);
    assert_int_equal(c.bkg_pos_embed[0], 4);
    assert_int_equal(c.d_model, 64);
    assert_int_equal(c.neck_pos_feats, 64);
    assert_int_equal(c.mem_attn_layers, 2);
    assert_int_equal(c.mem_attn_ffn, 128);
    assert_int_equal(c.rope_feat_sizes[0], 16);
    assert_int_equal(c.mem_dim, 16);
    assert_int_equal(c.mem_in_dim, 64);
    assert_int_equal(c.mem_pos_feats, 16);
    assert_int_equal(c.mask_ds_embed_dim, 64);
    assert_int_equal(c.fuser_dim, 64);
    /* the switches */
    assert_int_equal(c.no_obj_embed_spatial, t.no_obj_embed_spatial);
    assert_int_equal(c.use_signed_tpos_enc_to_obj_ptrs, t.use_signed_tpos_enc_to_obj_ptrs);
    assert_int_equal(c.fpn_interp_nearest, t.fpn_interp_nearest);
    assert_int_equal(c.num_top_down, t.num_top_down);
    assert_true(c.sigmoid_scale_for_mem_enc == t.sigmoid_scale_for_mem_enc);
    assert_int_equal(c.multimask_min_pt_num, t.multimask_min_pt_num);
}

typedef struct sample_check {
    ckpt *ck;
    int bad;
} sample_check;

/* Every bound slot holds the tensor's float32 values. */
static int compare_slot(void *user, const char *name, int ndim, const int64_t *shape,
                        const float **slot) {
    (void)ndim;
    (void)shape;
    sample_check *sc = user;
    const ckpt_tensor *t = ckpt_find(sc->ck, name);
    float *buf = malloc(sizeof(float) * (size_t)t->numel);
    const float *v = ckpt_tensor_f32(t, buf);
    if (!*slot || memcmp(*slot, v, sizeof(float) * (size_t)t->numel)) sc->bad++;
    free(buf);
    return 0;
}

static void test_load_and_bind(void **state) {
    (void)state;
    sam2_loaded l;
    sam2_error err = {0};
    /* tiny: detected, float16 upcast into the owned buffer */
    if (sam2_load_weights(tiny_pt, NULL, &l, &err)) fail_msg("%s", err.message);
    assert_string_equal(l.cfg.name, "sam2.1_hiera_t");
    assert_true(l.detected);
    assert_int_equal(l.params, 38962754);
    assert_int_equal(l.num_tensors, 471);
    assert_non_null(l.owned);
    ckpt *ck = ckpt_open(tiny_pt, &err);
    sample_check sc = {ck, 0};
    sam2_weights_walk(&l.cfg, &l.w, compare_slot, &sc);
    assert_int_equal(sc.bad, 0);
    ckpt_close(ck);
    sam2_loaded_free(&l);

    /* MICRO: needs its YAML; float32 used in place (torch.save aligns storages to 64 bytes) */
    if (sam2_load_weights(micro_pt, micro_yaml, &l, &err)) fail_msg("%s", err.message);
    assert_string_equal(l.cfg.name, "sam2.1_hiera_micro");
    assert_int_equal(l.params, 1245370);
    assert_null(l.owned);
    for (int i = 0; i < ckpt_num_tensors(l.ck); i++)
        assert_true(ckpt_tensor_is_direct(ckpt_tensor_at(l.ck, i)));
    sc = (sample_check){l.ck, 0};
    sam2_weights_walk(&l.cfg, &l.w, compare_slot, &sc);
    assert_int_equal(sc.bad, 0);
    sam2_loaded_free(&l);

    assert_int_equal(sam2_load_weights(micro_pt, NULL, &l, &err), SAM2_ERR_MISMATCH);
    assert_non_null(strstr(err.message, "none of the 9 official"));
    assert_int_equal(sam2_load_weights(tiny_pt, micro_yaml, &l, &err), SAM2_ERR_MISMATCH);
    assert_non_null(strstr(err.message, "does not match config sam2.1_hiera_micro"));
}

/* Opening the tiny float16 checkpoint and reading every tensor adds no more than the file size
 * plus 10 % to the resident set (nothing is upcast or copied at open). */
static void test_rss_bound(void **state) {
    (void)state;
    int64_t before = test_rss_bytes();
    sam2_error err = {0};
    ckpt *ck = ckpt_open(tiny_pt, &err);
    assert_non_null(ck);
    float chunk[4096];
    double sum = 0;
    for (int i = 0; i < ckpt_num_tensors(ck); i++) {
        const ckpt_tensor *t = ckpt_tensor_at(ck, i);
        for (int64_t j = 0; j < t->numel; j += 4096) {
            int64_t n = t->numel - j < 4096 ? t->numel - j : 4096;
            ckpt_tensor_read_f32(t, j, n, chunk);
            for (int64_t k = 0; k < n; k++) sum += chunk[k];
        }
    }
    int64_t after = test_rss_bytes(), size = ckpt_file_size(ck);
    ckpt_close(ck);
    printf("tiny f16: file %lld bytes, RSS +%lld bytes after open and reading every tensor "
           "(sum %g)\n",
           (long long)size, (long long)(after - before), sum);
    int64_t limit = size + size / 10;
#if defined(__SANITIZE_ADDRESS__) || SAM2_HAS_ASAN
    limit += size / 8; /* AddressSanitizer's shadow of every byte read (one per eight) */
#endif
    assert_true(after - before <= limit);
}

/* ---- bad files made from the MICRO checkpoint -------------------------------------------- */

static int run_inspect(const char *args, char *text, size_t size) {
    char cmd[9000];
    const char *err_file = test_path(tmp, "stderr.txt");
    snprintf(cmd, sizeof cmd, "%s'%s/sam2' inspect %s >/dev/null 2>'%s'", test_exec_prefix(),
             SAM2_BIN_DIR, args, err_file);
    int st = system(cmd);
    char *t = test_read_file(err_file, NULL);
    snprintf(text, size, "%s", t ? t : "");
    free(t);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `sam2 inspect FILE [--config YAML]` exits 2 with one line naming the file and the cause. */
static void expect_cli_error(const char *path, const char *yaml, const char *cause) {
    char args[9000], text[4096];
    snprintf(args, sizeof args, "'%s'%s%s%s", path, yaml ? " --config '" : "", yaml ? yaml : "",
             yaml ? "'" : "");
    int st = run_inspect(args, text, sizeof text);
    if (st != 2 || !strstr(text, path) || !strstr(text, cause) ||
        strchr(text, '\n') != strrchr(text, '\n'))
        fail_msg("inspect %s: status %d, stderr '%s', expected 2 and '%s'", path, st, text, cause);
}

static uint8_t *replace_first(const uint8_t *d, size_t n, const char *from, const char *to,
                              size_t *out_n) {
    const uint8_t *at = memmem(d, n, from, strlen(from));
    assert_non_null(at);
    size_t pre = (size_t)(at - d), fl = strlen(from), tl = strlen(to);
    uint8_t *o = malloc(n - fl + tl);
    memcpy(o, d, pre);
    memcpy(o + pre, to, tl);
    memcpy(o + pre + tl, at + fl, n - pre - fl);
    *out_n = n - fl + tl;
    return o;
}

static void test_bad_micro_files(void **state) {
    (void)state;
    size_t n, pn, en;
    uint8_t *bytes = test_read_file(micro_pt, &n);
    uint8_t *pkl = tzw_read_entry(micro_pt, "/data.pkl", &pn);
    assert_non_null(bytes);
    assert_non_null(pkl);
    char p[4096];

    snprintf(p, sizeof p, "%s/micro-truncated.pt", tmp);
    test_write_file(p, bytes, n * 2 / 3);
    expect_cli_error(p, NULL, "truncated or corrupt zip");

    snprintf(p, sizeof p, "%s/micro-nopickle.pt", tmp);
    assert_int_equal(tzw_copy_replace(micro_pt, p, "/data.pkl", NULL, 0), 0);
    expect_cli_error(p, NULL, "no data.pkl");

    uint8_t *copy = malloc(n);
    memcpy(copy, bytes, n);
    copy[n / 2] ^= 0x10; /* inside some tensor's float32 data */
    snprintf(p, sizeof p, "%s/micro-flipped.pt", tmp);
    test_write_file(p, copy, n);
    expect_cli_error(p, NULL, "CRC-32");
    sam2_loaded l;
    sam2_error err = {0};
    assert_int_equal(sam2_load_weights(p, micro_yaml, &l, &err), SAM2_ERR_FORMAT);
    assert_non_null(strstr(err.message, "CRC-32"));
    free(copy);

    uint8_t *edit = replace_first(pkl, pn, "torch._utils\n_rebuild_tensor_v2\n",
                                  "torch._utils\n_rebuild_tensor_v3\n", &en);
    snprintf(p, sizeof p, "%s/micro-global.pt", tmp);
    assert_int_equal(tzw_copy_replace(micro_pt, p, "/data.pkl", edit, en), 0);
    expect_cli_error(p, NULL, "unsupported pickle global 'torch._utils._rebuild_tensor_v3'");
    free(edit);

    edit = replace_first(pkl, pn, "torch\nFloatStorage\n", "torch\nDoubleStorage\n", &en);
    snprintf(p, sizeof p, "%s/micro-double.pt", tmp);
    assert_int_equal(tzw_copy_replace(micro_pt, p, "/data.pkl", edit, en), 0);
    expect_cli_error(p, NULL, "'maskmem_tpos_enc' has dtype float64");
    free(edit);

    edit = malloc(pn);
    memcpy(edit, pkl, pn);
    edit[2] = 0xff; /* not an opcode */
    snprintf(p, sizeof p, "%s/micro-opcode.pt", tmp);
    assert_int_equal(tzw_copy_replace(micro_pt, p, "/data.pkl", edit, pn), 0);
    expect_cli_error(p, NULL, "unsupported pickle opcode 0xff");
    free(edit);

    snprintf(p, sizeof p, "%s/micro-shortstorage.pt", tmp);
    assert_int_equal(tzw_copy_replace(micro_pt, p, "/data/1", "abcd", 4), 0);
    expect_cli_error(p, NULL, "holds 4 bytes");

    /* Rewritten without one tensor / with one shape changed: refused against the YAML. */
    ckpt *ck = ckpt_open(micro_pt, &err);
    assert_non_null(ck);
    int nt = ckpt_num_tensors(ck);
    tzw_storage *st = calloc((size_t)nt, sizeof *st);
    tzw_tensor *tt = calloc((size_t)nt, sizeof *tt);
    for (int mode = 0; mode < 2; mode++) {
        int k = 0;
        for (int i = 0; i < nt; i++) {
            const ckpt_tensor *t = ckpt_tensor_at(ck, i);
            if (mode == 0 && !strcmp(t->name, "sam_mask_decoder.iou_token.weight")) continue;
            st[k] = (tzw_storage){TZW_F32, ckpt_tensor_f32(t, NULL), t->numel, -1};
            tt[k] = (tzw_tensor){.name = t->name, .storage = k, .ndim = t->ndim};
            memcpy(tt[k].shape, t->shape, sizeof t->shape);
            if (mode == 1 && !strcmp(t->name, "no_mem_embed")) { /* [1,1,64] -> [1,64,1] */
                tt[k].shape[1] = t->shape[2];
                tt[k].shape[2] = t->shape[1];
            }
            k++;
        }
        snprintf(p, sizeof p, "%s/micro-mismatch%d.pt", tmp, mode);
        assert_int_equal(tzw_write(p, st, k, tt, k, NULL), 0);
        expect_cli_error(p, micro_yaml,
                         mode == 0
                             ? "tensor 'sam_mask_decoder.iou_token.weight' [1, 64] is missing"
                             : "tensor 'no_mem_embed' has shape [1, 64, 1] in the checkpoint, "
                               "the config expects [1, 1, 64]");
    }
    free(st);
    free(tt);
    ckpt_close(ck);
    free(pkl);
    free(bytes);
}

int main(void) {
    golden = test_golden_dir();
    test_require_dir(golden, "golden data");
    tmp = test_make_tmpdir();
    snprintf(micro_pt, sizeof micro_pt, "%s/micro/sam2.1_hiera_micro.pt", golden);
    snprintf(micro_yaml, sizeof micro_yaml, "%s/micro/sam2.1_hiera_micro.yaml", golden);
    snprintf(tiny_pt, sizeof tiny_pt, "%s/ckpt/sam2.1_hiera_tiny.random.f16.pt", golden);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rss_bound), /* first: a fresh process */
        cmocka_unit_test(test_micro_manifest),  cmocka_unit_test(test_tiny_manifest),
        cmocka_unit_test(test_weight_samples),  cmocka_unit_test(test_presets_match_manifests),
        cmocka_unit_test(test_micro_yaml),      cmocka_unit_test(test_load_and_bind),
        cmocka_unit_test(test_bad_micro_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
