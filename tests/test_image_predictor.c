/* Image predictor API: bad prompts and bad images get a clear error (never a crash), a
 * prompt can be answered many times on one embedding with identical results, and normalised
 * coordinates mean the same as pixels. Uses the MICRO golden model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "sam2.h"
#include "support/testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sam2_model *model;
static sam2_image_predictor *pred;
enum { W = 320, H = 200 };
static uint8_t image[W * H * 3];

static int predict_err(const sam2_prompt *p, const char *needle) {
    sam2_error err = {0};
    sam2_masks m;
    int rc = sam2_image_predict(pred, p, &m, &err);
    if (rc == 0) {
        sam2_masks_free(&m);
        return 0;
    }
    if (needle && !strstr(err.message, needle))
        fail_msg("error '%s' lacks '%s'", err.message, needle);
    assert_null(m.masks);
    return rc;
}

static void test_bad_prompts(void **state) {
    (void)state;
    sam2_point pt = {100.f, 80.f, 1};
    sam2_prompt p = {.points = &pt, .n_points = 1};
    assert_int_equal(predict_err(&p, NULL), 0);

    sam2_prompt none = {0};
    assert_int_equal(predict_err(&none, "no points, box or mask"), SAM2_ERR_ARGUMENT);
    pt.x = NAN;
    assert_int_equal(predict_err(&p, "non-finite"), SAM2_ERR_ARGUMENT);
    pt.x = INFINITY;
    assert_int_equal(predict_err(&p, "non-finite"), SAM2_ERR_ARGUMENT);
    pt.x = 1e30f;
    assert_int_equal(predict_err(&p, "far outside"), SAM2_ERR_ARGUMENT);
    pt.x = 100.f;
    pt.label = 4;
    assert_int_equal(predict_err(&p, "label 4"), SAM2_ERR_ARGUMENT);
    pt.label = -2;
    assert_int_equal(predict_err(&p, "label -2"), SAM2_ERR_ARGUMENT);
    pt.label = 1;
    uint8_t one = 1;
    sam2_mask bitmap = {1, 1, &one};
    sam2_prompt tracker_only = {.points = &pt, .n_points = 1, .mask = &bitmap};
    assert_int_equal(predict_err(&tracker_only, "video-tracker fields"), SAM2_ERR_ARGUMENT);

    float box[4] = {50, 40, 20, 90};
    sam2_prompt pb = {.box = box};
    assert_int_equal(predict_err(&pb, "x1 < x0"), SAM2_ERR_ARGUMENT);
    box[2] = 120;
    box[3] = 10;
    assert_int_equal(predict_err(&pb, "y1 < y0"), SAM2_ERR_ARGUMENT);
    box[3] = 90;
    assert_int_equal(predict_err(&pb, NULL), 0);

    const int S = sam2_model_image_size(model), L = S / 4;
    float *mask = calloc((size_t)L * L, sizeof(float));
    sam2_prompt pm = {.mask_input = mask, .mask_input_size = L / 2};
    assert_int_equal(predict_err(&pm, "mask input"), SAM2_ERR_ARGUMENT);
    pm.mask_input_size = L;
    assert_int_equal(predict_err(&pm, NULL), 0);
    mask[7] = NAN;
    assert_int_equal(predict_err(&pm, "non-finite"), SAM2_ERR_ARGUMENT);
    free(mask);

    sam2_prompt many = {.points = &pt, .n_points = SAM2_MAX_PROMPT_POINTS + 1};
    assert_int_equal(predict_err(&many, "points"), SAM2_ERR_ARGUMENT);
    sam2_prompt nullpts = {.points = NULL, .n_points = 2};
    assert_int_equal(predict_err(&nullpts, "NULL"), SAM2_ERR_ARGUMENT);
}

static void test_bad_images(void **state) {
    (void)state;
    sam2_error err = {0};
    sam2_image_predictor *p = sam2_image_predictor_new(model, &err);
    assert_non_null(p);
    sam2_point pt = {1.f, 1.f, 1};
    sam2_prompt pr = {.points = &pt, .n_points = 1};
    sam2_masks m;
    assert_int_equal(sam2_image_predict(p, &pr, &m, &err), SAM2_ERR_STATE);
    assert_non_null(strstr(err.message, "no image set"));
    assert_int_equal(sam2_image_set(p, image, 0, 10, 30, &err), SAM2_ERR_ARGUMENT);
    assert_int_equal(sam2_image_set(p, image, 10, -1, 30, &err), SAM2_ERR_ARGUMENT);
    assert_int_equal(
        sam2_image_set(p, image, SAM2_MAX_IMAGE_SIDE + 1, 1, 3 * (SAM2_MAX_IMAGE_SIDE + 1), &err),
        SAM2_ERR_ARGUMENT);
    assert_int_equal(sam2_image_set(p, image, 16384, 16384, 3 * 16384, &err), SAM2_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "pixels"));
    assert_int_equal(sam2_image_set(p, image, 10, 10, 29, &err), SAM2_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "stride"));
    assert_int_equal(sam2_image_set(p, NULL, 10, 10, 30, &err), SAM2_ERR_ARGUMENT);
    /* a 1x1 image works */
    assert_int_equal(sam2_image_set(p, image, 1, 1, 3, &err), 0);
    pt.x = 0.5f;
    pt.y = 0.5f;
    assert_int_equal(sam2_image_predict(p, &pr, &m, &err), 0);
    assert_int_equal(m.width, 1);
    assert_int_equal(m.height, 1);
    sam2_masks_free(&m);
    sam2_image_predictor_free(p);
}

static void test_repeatable_and_normalized(void **state) {
    (void)state;
    sam2_error err = {0};
    sam2_point px = {160.f, 50.f, 1};
    sam2_prompt a = {.points = &px, .n_points = 1, .multimask = 1, .return_logits = 1};
    sam2_masks m1, m2, m3;
    assert_int_equal(sam2_image_predict(pred, &a, &m1, &err), 0);
    assert_int_equal(sam2_image_predict(pred, &a, &m2, &err), 0);
    assert_int_equal(m1.count, 3);
    assert_memory_equal(m1.logits, m2.logits, sizeof(float) * 3 * W * H);
    assert_memory_equal(m1.iou, m2.iou, sizeof m1.iou);
    for (int i = 0; i < W * H * 3; i++) assert_int_equal(m1.masks[i], m1.logits[i] > 0.f);
    sam2_point pn = {160.f / W, 50.f / H, 1};
    sam2_prompt b = {
        .points = &pn, .n_points = 1, .multimask = 1, .normalized = 1, .return_logits = 1};
    assert_int_equal(sam2_image_predict(pred, &b, &m3, &err), 0);
    double worst = 0;
    for (int i = 0; i < W * H * 3; i++) worst = fmax(worst, fabs(m1.logits[i] - m3.logits[i]));
    assert_true(worst < 1e-4); /* the same point up to float rounding of the coordinate */
    assert_int_equal(m1.best, m3.best);
    sam2_masks_free(&m1);
    sam2_masks_free(&m2);
    sam2_masks_free(&m3);
}

int main(void) {
    const char *g = test_golden_dir();
    test_require_dir(g, "golden data");
    sam2_error err = {0};
    model = sam2_model_load(test_path(g, "micro/sam2.1_hiera_micro.pt"),
                            test_path(g, "micro/sam2.1_hiera_micro.yaml"), &err);
    if (!model) {
        fprintf(stderr, "cannot load the micro model: %s\n", err.message);
        return 1;
    }
    pred = sam2_image_predictor_new(model, &err);
    for (int i = 0; i < W * H * 3; i++) image[i] = (uint8_t)((i * 7919) >> 5);
    if (!pred || sam2_image_set(pred, image, W, H, 3 * W, &err)) {
        fprintf(stderr, "set_image: %s\n", err.message);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_prompts),
        cmocka_unit_test(test_bad_images),
        cmocka_unit_test(test_repeatable_and_normalized),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sam2_image_predictor_free(pred);
    sam2_model_free(model);
    return rc;
}
