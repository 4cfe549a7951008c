/* YAML configs in the official format: every field reaches the config struct, and every kind of
 * bad file is refused with a message naming the file, the line and the key path. The inputs are
 * edits of the tests' own small config (support/mini_model.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/yaml_config.h"
#include "support/mini_model.h"
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MINI_MODEL_YAML with the first `from` replaced by `to`, parsed as "edit.yaml". */
static int parse_edit(const char *from, const char *to, sam2_config *cfg, sam2_error *err) {
    const char *text = MINI_MODEL_YAML;
    const char *at = strstr(text, from);
    if (!at) fail_msg("'%s' not in the test config", from);
    size_t pre = (size_t)(at - text), n = strlen(text) - strlen(from) + strlen(to);
    char *buf = malloc(n + 1);
    memcpy(buf, text, pre);
    strcpy(buf + pre, to);
    strcat(buf, at + strlen(from));
    int rc = sam2_config_parse_yaml(buf, n, "configs/edit.yaml", cfg, err);
    free(buf);
    return rc;
}

static void expect_error(const char *from, const char *to, const char *message) {
    sam2_config cfg;
    sam2_error err = {0};
    if (parse_edit(from, to, &cfg, &err) == 0)
        fail_msg("'%s' -> '%s' was accepted, expected: %s", from, to, message);
    assert_int_equal(err.code, SAM2_ERR_FORMAT);
    if (!strstr(err.message, message))
        fail_msg("'%s' -> '%s': got '%s', expected '%s'", from, to, err.message, message);
}

static void test_mini_fields(void **state) {
    (void)state;
    sam2_config c;
    sam2_error err = {0};
    if (parse_edit("#", "#", &c, &err)) fail_msg("%s", err.message);
    assert_string_equal(c.name, "edit");
    assert_int_equal(c.image_size, 128);
    assert_int_equal(c.embed_dim, 8);
    assert_int_equal(c.num_stages, 4);
    const int stages[4] = {1, 1, 2, 1}, windows[4] = {4, 2, 2, 1}, chans[4] = {64, 32, 16, 8};
    assert_memory_equal(c.stages, stages, sizeof stages);
    assert_memory_equal(c.window_spec, windows, sizeof windows);
    assert_memory_equal(c.backbone_channels, chans, sizeof chans);
    assert_int_equal(c.num_global_blocks, 1);
    assert_int_equal(c.global_att_blocks[0], 3);
    assert_int_equal(c.bkg_pos_embed[0], 2);
    assert_int_equal(c.d_model, 32);
    assert_int_equal(c.num_top_down, 2);
    assert_true(c.fpn_interp_nearest);
    assert_int_equal(c.neck_pos_feats, 32);
    assert_int_equal(c.mem_attn_layers, 1);
    assert_int_equal(c.mem_attn_ffn, 64);
    assert_int_equal(c.rope_feat_sizes[0], 8);
    assert_true(c.rope_k_repeat);
    assert_int_equal(c.mem_dim, 8);
    assert_int_equal(c.mem_in_dim, 32);
    assert_int_equal(c.mem_pos_feats, 8);
    assert_int_equal(c.mask_ds_kernel, 3);
    assert_int_equal(c.mask_ds_stride, 2);
    assert_int_equal(c.mask_ds_padding, 1);
    assert_int_equal(c.mask_ds_embed_dim, 32);
    assert_int_equal(c.fuser_layers, 1);
    assert_int_equal(c.fuser_dim, 32);
    assert_true(c.fuser_layer_scale_init > 0.9e-6f && c.fuser_layer_scale_init < 1.1e-6f);
    assert_true(c.sigmoid_scale_for_mem_enc == 20.0f && c.sigmoid_bias_for_mem_enc == -10.0f);
    assert_true(c.no_obj_embed_spatial && c.proj_tpos_enc_in_obj_ptrs && c.pred_obj_scores_mlp);
    assert_int_equal(c.multimask_min_pt_num, 0);
    /* not in the file: constructor defaults plus the build_sam inference overrides */
    assert_int_equal(c.max_obj_ptrs_in_encoder, 16);
    assert_true(c.dynamic_multimask_via_stability);
    assert_int_equal(c.fill_hole_area, 8);
    assert_false(c.soft_no_obj_ptr);
}

static void test_overrides(void **state) {
    (void)state;
    sam2_config c;
    sam2_error err = {0};
    const char *extra = "  sam_mask_decoder_extra_args:\n"
                        "    dynamic_multimask_via_stability: false\n"
                        "    dynamic_multimask_stability_delta: 0.1\n"
                        "    dynamic_multimask_stability_thresh: 0.5\n"
                        "  num_maskmem: 7\n";
    if (parse_edit("  num_maskmem: 7\n", extra, &c, &err)) fail_msg("%s", err.message);
    assert_false(c.dynamic_multimask_via_stability);
    assert_true(c.dynamic_multimask_stability_delta == 0.1f);
    assert_true(c.dynamic_multimask_stability_thresh == 0.5f);

    /* The video predictor's own keys, with the video predictor's class. */
    const char *video = "  _target_: sam2.sam2_video_predictor.SAM2VideoPredictor\n"
                        "  fill_hole_area: 0\n"
                        "  non_overlap_masks: true\n";
    if (parse_edit("  _target_: sam2.modeling.sam2_base.SAM2Base\n", video, &c, &err))
        fail_msg("%s", err.message);
    assert_int_equal(c.fill_hole_area, 0);
    assert_true(c.non_overlap_masks);

    /* Block lists, YAML 1.1 booleans, null top-down levels (= all levels). */
    const char *block = "      stages:\n        - 1\n        - 1\n        - 2\n        - 1\n";
    if (parse_edit("      stages: [1, 1, 2, 1]\n", block, &c, &err)) fail_msg("%s", err.message);
    assert_int_equal(c.stages[2], 2);
    if (parse_edit("use_dwconv: True", "use_dwconv: no", &c, &err)) fail_msg("%s", err.message);
    assert_false(c.fuser_dwconv);
    if (parse_edit("fpn_top_down_levels: [2, 3]", "fpn_top_down_levels: null", &c, &err))
        fail_msg("%s", err.message);
    assert_int_equal(c.num_top_down, 4);
    assert_int_equal(c.fpn_top_down_levels[3], 3);
    /* Keys that do not change the model are accepted whatever their (well-typed) value. */
    if (parse_edit("dropout: 0.1", "dropout: 0.5", &c, &err)) fail_msg("%s", err.message);
}

static void test_errors(void **state) {
    (void)state;
    expect_error("hieradet.Hiera\n", "hieradet.HieraV2\n",
                 "configs/edit.yaml:8: model.image_encoder.trunk._target_: unknown class "
                 "'sam2.modeling.backbones.hieradet.HieraV2'");
    expect_error("sam2.modeling.sam2_base.SAM2Base", "training.model.sam2.SAM2Train",
                 "edit.yaml:3: model._target_: unknown class");
    expect_error("      embed_dim: 8\n", "      embed_dim: 8\n      depth: 3\n",
                 "edit.yaml:10: model.image_encoder.trunk.depth: unknown key for "
                 "sam2.modeling.backbones.hieradet.Hiera");
    expect_error("embed_dim: 8", "embed_dim: eight",
                 "edit.yaml:9: model.image_encoder.trunk.embed_dim: expected an integer, got "
                 "'eight'");
    expect_error("embed_dim: 8", "embed_dim: '8'", "expected an integer, got '8'");
    expect_error("embed_dim: 8", "embed_dim: 8.0", "expected an integer");
    expect_error("embed_dim: 8", "embed_dim: 010", "expected an integer");
    expect_error("embed_dim: 8", "embed_dim: 99999999999", "expected an integer");
    expect_error("embed_dim: 8", "embed_dim: ${scratch.dim}", "expected an integer");
    expect_error("use_dwconv: True", "use_dwconv: 3",
                 "model.memory_encoder.fuser.layer.use_dwconv: expected true or false, got '3'");
    expect_error("rope_theta: 10000.0", "rope_theta: fast", "rope_theta: expected a number");
    expect_error("feat_sizes: [8, 8]", "feat_sizes: [8]",
                 "self_attention.feat_sizes: expected a list of 2 integers, got 1");
    expect_error("stages: [1, 1, 2, 1]", "stages: [1, x, 2, 1]",
                 "model.image_encoder.trunk.stages: expected an integer, got 'x'");
    expect_error("stages: [1, 1, 2, 1]", "stages: 4", "trunk.stages: expected a list of integers");
    expect_error("    trunk:\n", "    trunk: 3\n    unused:\n",
                 "model.image_encoder.trunk: expected a mapping");
    expect_error("        num_pos_feats: 32\n", "",
                 "edit.yaml:18: model.image_encoder.neck.position_encoding: missing required key "
                 "'num_pos_feats'");
    expect_error("    _target_: sam2.modeling.memory_attention.MemoryAttention\n", "",
                 "model.memory_attention: missing required key '_target_'");
    expect_error("  num_maskmem: 7\n", "  num_maskmem: 7\n  num_maskmem: 6\n",
                 "edit.yaml:86: model.num_maskmem: key given twice");
    expect_error("  num_maskmem: 7\n", "  fill_hole_area: 4\n",
                 "model.fill_hole_area: only sam2.sam2_video_predictor.SAM2VideoPredictor");
    expect_error("normalize: true", "normalize: false",
                 "neck.position_encoding.normalize: only true is supported");
    expect_error("scale: null", "scale: 3.0", "position_encoding.scale: only null is supported");
    expect_error("fpn_interp_model: nearest", "fpn_interp_model: bicubic",
                 "fpn_interp_model: expected 'nearest' or 'bilinear', got 'bicubic'");
    expect_error("activation: relu", "activation: glu", "expected 'relu' or 'gelu'");
    expect_error("        kv_in_dim: 8", "        kv_in_dim: 16",
                 "cross_attention.kv_in_dim: 16 must equal memory_encoder.out_dim 8");
    expect_error("    d_model: 32\n    pos_enc_at_input", "    d_model: 48\n    pos_enc_at_input",
                 "model.memory_attention: d_model 48 (layer 32) differs from the neck's 32");
    expect_error("window_spec: [4, 2, 2, 1]", "window_spec: [4, 2, 2]",
                 "window_spec: 3 entries for 4 stages");
    expect_error("backbone_channel_list: [64, 32, 16, 8]", "backbone_channel_list: [64, 32, 16, 9]",
                 "edit.yaml: inconsistent model configuration: backbone_channel_list[3] = 9");
    expect_error("model:\n", "modell:\n", "no 'model' mapping at the top level");
    expect_error("    scalp: 1\n", "    scalp: [1\n", "edit.yaml:");
    expect_error("    scalp: 1\n", "    scalp: [1\n", "YAML syntax error");
}

static void test_files(void **state) {
    (void)state;
    sam2_config c;
    sam2_error err = {0};
    const char *tmp = test_make_tmpdir();
    const char *missing = test_path(tmp, "missing.yaml");
    assert_int_equal(sam2_config_load_yaml(missing, &c, &err), SAM2_ERR_IO);
    assert_non_null(strstr(err.message, missing));
    assert_int_equal(sam2_config_load_yaml(tmp, &c, &err), SAM2_ERR_IO);
    const char *empty = test_path(tmp, "empty.yaml");
    test_write_file(empty, "", 0);
    assert_int_equal(sam2_config_load_yaml(empty, &c, &err), SAM2_ERR_FORMAT);
    const char *list = test_path(tmp, "list.yaml");
    test_write_file(list, "- 1\n- 2\n", 8);
    assert_int_equal(sam2_config_load_yaml(list, &c, &err), SAM2_ERR_FORMAT);
    assert_non_null(strstr(err.message, "list.yaml"));
    const char *mini = mini_model_write_yaml(tmp, "sam2.1_hiera_mini");
    assert_int_equal(sam2_config_load_yaml(mini, &c, &err), 0);
    assert_string_equal(c.name, "sam2.1_hiera_mini");
}

/* Inputs the fuzzer once found troublesome (and the seeds) never crash. */
static void test_fuzz_corpus(void **state) {
    (void)state;
    const char *dir = SAM2_SOURCE_DIR "/fuzz/corpus/yaml_config";
    static const char *seeds[] = {"mini.yaml", "errors.yaml"};
    for (int i = 0; i < 2; i++) {
        size_t n;
        char *text = test_read_file(test_path(dir, seeds[i]), &n);
        assert_non_null(text);
        sam2_config c;
        sam2_error err = {0};
        int rc = sam2_config_parse_yaml(text, n, seeds[i], &c, &err);
        assert_int_equal(rc != 0, i == 1);
        free(text);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mini_fields), cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_errors),      cmocka_unit_test(test_files),
        cmocka_unit_test(test_fuzz_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
