/* EdgeTAM's configuration and checkpoint: the official configs/edgetam.yaml parses to the
 * built-in "edgetam" preset field by field; the preset's weight table is the official state-dict
 * layout (manifests/edgetam.json: every name, shape and the order); the random float16
 * checkpoint is detected as EdgeTAM and binds every tensor (the int64 BatchNorm counters
 * included); and YAML errors of the EdgeTAM nodes name what is wrong. Needs the golden data
 * (../shared/golden); skipped without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/checkpoint.h"
#include "io/model_weights.h"
#include "io/yaml_config.h"
#include "support/config_compare.h"
#include "support/testutil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *golden;

static char *read_text(const char *rel, size_t *n) {
    char *text = test_read_file(test_path(golden, rel), n);
    if (!text) fail_msg("cannot read %s", rel);
    return text;
}

static void test_yaml_is_preset(void **state) {
    (void)state;
    sam2_config parsed, preset;
    sam2_error err = {0};
    if (sam2_config_load_yaml(test_path(golden, "configs/edgetam.yaml"), &parsed, &err))
        fail_msg("%s", err.message);
    assert_string_equal(parsed.name, "edgetam");
    assert_int_equal(sam2_config_preset(&preset, "edgetam"), 0);
    char msg[1024];
    if (config_diff(&parsed, &preset, msg, sizeof msg))
        fail_msg("configs/edgetam.yaml differs from the preset: %s", msg);
    assert_int_equal(parsed.trunk, SAM2_TRUNK_REPVIT);
    assert_string_equal(parsed.repvit.variant, "repvit_m1");
    assert_true(parsed.repvit.legacy);
    assert_int_equal(parsed.mem_attn_layers, 2);
    assert_int_equal(parsed.rope_k_sizes[0], 16);
    assert_int_equal(parsed.perceiver.num_latents, 256);
    assert_int_equal(parsed.perceiver.num_latents_2d, 256);
    assert_int_equal(sam2_config_mem_tokens(&parsed), 512);
    assert_false(parsed.no_obj_embed_spatial);
    assert_false(parsed.add_tpos_enc_to_obj_ptrs);
    assert_true(parsed.batched_predictor);
}

typedef struct table_check {
    cJSON *next;
    int count, bad;
} table_check;

static int compare_entry(void *user, const char *name, int ndim, const int64_t *shape,
                         const float **slot) {
    table_check *tc = user;
    tc->count++;
    if (!tc->next || strcmp(tc->next->string, name)) {
        print_error("tensor %d: preset has %s, manifest %s\n", tc->count, name,
                    tc->next ? tc->next->string : "(end)");
        tc->bad++;
        return 1;
    }
    cJSON *s = cJSON_GetObjectItem(tc->next, "shape");
    const char *dtype = cJSON_GetObjectItem(tc->next, "dtype")->valuestring;
    int ok = cJSON_GetArraySize(s) == ndim && (slot != NULL) == !strcmp(dtype, "float32");
    for (int d = 0; ok && d < ndim; d++) ok = cJSON_GetArrayItem(s, d)->valuedouble == shape[d];
    if (!ok) {
        print_error("%s: shape or dtype differs from the manifest\n", name);
        tc->bad++;
    }
    tc->next = tc->next->next;
    return 0;
}

static void test_preset_matches_manifest(void **state) {
    (void)state;
    size_t n;
    char *text = read_text("manifests/edgetam.json", &n);
    cJSON *m = cJSON_Parse(text);
    free(text);
    assert_non_null(m);
    cJSON *tensors = cJSON_GetObjectItem(m, "tensors");
    sam2_config cfg;
    assert_int_equal(sam2_config_preset(&cfg, "edgetam"), 0);
    table_check tc = {tensors->child, 0, 0};
    sam2_weights *w = malloc(sizeof *w);
    sam2_weights_walk(&cfg, w, compare_entry, &tc);
    free(w);
    if (tc.bad || tc.next)
        fail_msg("the edgetam preset's table differs from manifests/edgetam.json");
    int64_t scalars;
    assert_int_equal(sam2_weights_count(&cfg, &scalars), cJSON_GetArraySize(tensors));
    assert_int_equal(scalars, (int64_t)cJSON_GetObjectItem(m, "num_elements")->valuedouble);
    cJSON_Delete(m);
}

typedef struct slot_check {
    const ckpt *ck;
    int bound, skipped, bad;
} slot_check;

/* Every float slot holds the tensor's float32 values; the counters are not bound. */
static int check_slot(void *user, const char *name, int ndim, const int64_t *shape,
                      const float **slot) {
    (void)ndim;
    (void)shape;
    slot_check *sc = user;
    const ckpt_tensor *t = ckpt_find(sc->ck, name);
    if (!slot) {
        sc->skipped++;
        if (t->dtype != CKPT_I64) sc->bad++;
        return 0;
    }
    float *buf = malloc(sizeof(float) * (size_t)(t->numel ? t->numel : 1));
    const float *v = ckpt_tensor_f32(t, buf);
    if (!*slot || memcmp(*slot, v, sizeof(float) * (size_t)t->numel)) sc->bad++;
    sc->bound++;
    free(buf);
    return 0;
}

static void test_checkpoint_binds(void **state) {
    (void)state;
    const char *pt = test_path(golden, "ckpt/edgetam.random.f16.pt");
    sam2_loaded *l = malloc(sizeof *l);
    sam2_error err = {0};
    /* detected from its tensors, without a config */
    if (sam2_load_weights(pt, NULL, l, &err)) fail_msg("%s", err.message);
    assert_string_equal(l->cfg.name, "edgetam");
    assert_true(l->detected);
    assert_int_equal(l->num_tensors, 982);
    assert_int_equal(l->params, 13943148);
    slot_check sc = {l->ck, 0, 0, 0};
    sam2_weights *w = malloc(sizeof *w);
    *w = l->w;
    sam2_weights_walk(&l->cfg, w, check_slot, &sc);
    free(w);
    assert_int_equal(sc.bad, 0);
    assert_int_equal(sc.skipped, 106); /* BatchNorm num_batches_tracked */
    assert_int_equal(sc.bound + sc.skipped, 982);
    sam2_loaded_free(l);
    /* and with the official YAML */
    if (sam2_load_weights(pt, test_path(golden, "configs/edgetam.yaml"), l, &err))
        fail_msg("%s", err.message);
    assert_false(l->detected);
    sam2_loaded_free(l);
    /* a SAM 2.1 config refuses it, naming the first tensor that differs */
    assert_int_equal(
        sam2_load_weights(pt, test_path(golden, "micro/sam2.1_hiera_micro.yaml"), l, &err),
        SAM2_ERR_MISMATCH);
    assert_non_null(strstr(err.message, "does not match config sam2.1_hiera_micro"));
    free(l);
}

/* The official YAML with one substitution; expects a parse error containing `expect`. */
static void expect_yaml_error(const char *from, const char *to, const char *expect) {
    size_t n;
    char *text = read_text("configs/edgetam.yaml", &n);
    char *at = strstr(text, from);
    if (!at) fail_msg("'%s' not in edgetam.yaml", from);
    size_t pre = (size_t)(at - text), fl = strlen(from), tl = strlen(to);
    char *edit = malloc(n + tl + 1);
    memcpy(edit, text, pre);
    memcpy(edit + pre, to, tl);
    memcpy(edit + pre + tl, at + fl, n - pre - fl);
    edit[n - fl + tl] = 0;
    sam2_config cfg;
    sam2_error err = {0};
    int rc = sam2_config_parse_yaml(edit, strlen(edit), "edgetam.yaml", &cfg, &err);
    if (rc == 0 || !strstr(err.message, expect))
        fail_msg("replacing '%s' by '%s': expected an error with '%s', got %d '%s'", from, to,
                 expect, rc, err.message);
    free(edit);
    free(text);
}

static void test_yaml_errors(void **state) {
    (void)state;
    expect_yaml_error("name: repvit_m1.dist_in1k", "name: resnet50",
                      "'resnet50' is not a timm RepViT model");
    expect_yaml_error("      - layer3\n", "", "only [layer0, layer1, layer2, layer3]");
    expect_yaml_error("      - layer3\n", "      - lay3\n", "a name 'layer<k>'");
    expect_yaml_error("        k_sizes: [16, 16]\n", "", "needs q_sizes and k_sizes");
    expect_yaml_error("k_sizes: [16, 16]", "k_sizes: [8, 8]", "Perceiver's 256-latent window grid");
    expect_yaml_error("q_sizes: [64, 64]", "q_sizes: [32, 32]", "q_sizes must be the 64x64");
    expect_yaml_error("concat_kv_latents: false", "concat_kv_latents: true",
                      "concat_kv_latents: only false");
    expect_yaml_error("num_latents_2d: 256", "num_latents_2d: 200",
                      "must be the square of a divisor of 64");
    expect_yaml_error("    dim: 64\n    dim_head", "    dim: 32\n    dim_head",
                      "spatial_perceiver.dim 32 must equal the memory dim 64");
    expect_yaml_error("    use_self_attn: true", "    use_self_attn: true\n    bogus: 1",
                      "model.spatial_perceiver.bogus: unknown key");
    expect_yaml_error("backbone_channel_list: [384, 192, 96, 48]",
                      "backbone_channel_list: [768, 384, 192, 96]",
                      "does not match the trunk's 384 channels");
}

int main(void) {
    golden = test_golden_dir();
    test_require_dir(golden, "golden data (../shared/golden)");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_is_preset),
        cmocka_unit_test(test_preset_matches_manifest),
        cmocka_unit_test(test_checkpoint_binds),
        cmocka_unit_test(test_yaml_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
