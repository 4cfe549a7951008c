/* Image runner of sam2-parity: replays image/<img> (set_image) and its predict cases through
 * the image predictor with the parity tap attached, and checks the decoder's decisions
 * (multimask choice, stability fallback) against each case's meta.selection. */
#include "parity.h"

#include "parity_common.h"
#include "predict/image_predictor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads meta.prompt_orig_pixels into a prompt (points and box in original pixels). */
static int read_prompt(const cJSON *meta, sam2_prompt *p, sam2_point *pts, int max_pts,
                       float box[4], char *why, size_t why_size) {
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(meta, "prompt_orig_pixels");
    if (!cJSON_IsObject(pr)) {
        snprintf(why, why_size, "meta.prompt_orig_pixels missing");
        return -1;
    }
    const cJSON *coords = cJSON_GetObjectItemCaseSensitive(pr, "point_coords");
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(pr, "point_labels");
    const cJSON *jbox = cJSON_GetObjectItemCaseSensitive(pr, "box");
    const cJSON *mm = cJSON_GetObjectItemCaseSensitive(pr, "multimask_output");
    memset(p, 0, sizeof *p);
    if (cJSON_IsArray(coords)) {
        int n = cJSON_GetArraySize(coords);
        if (n > max_pts || !cJSON_IsArray(labels) || cJSON_GetArraySize(labels) != n) {
            snprintf(why, why_size, "point_coords / point_labels malformed");
            return -1;
        }
        for (int i = 0; i < n; i++) {
            const cJSON *xy = cJSON_GetArrayItem(coords, i);
            const cJSON *l = cJSON_GetArrayItem(labels, i);
            if (!cJSON_IsArray(xy) || cJSON_GetArraySize(xy) != 2 || !cJSON_IsNumber(l)) {
                snprintf(why, why_size, "point %d malformed", i);
                return -1;
            }
            pts[i].x = (float)cJSON_GetArrayItem(xy, 0)->valuedouble;
            pts[i].y = (float)cJSON_GetArrayItem(xy, 1)->valuedouble;
            pts[i].label = l->valueint;
        }
        p->points = pts;
        p->n_points = n;
    }
    if (cJSON_IsArray(jbox)) {
        if (cJSON_GetArraySize(jbox) != 4) {
            snprintf(why, why_size, "box malformed");
            return -1;
        }
        for (int k = 0; k < 4; k++) box[k] = (float)cJSON_GetArrayItem(jbox, k)->valuedouble;
        p->box = box;
    }
    p->multimask = cJSON_IsTrue(mm);
    p->return_logits = 1;
    return 0;
}

/* Compares our decoder decision with meta.selection. */
static void check_selection(parity_ctx *ctx, const char *where, const cJSON *meta,
                            const parity_capture *cap) {
    const cJSON *sel = cJSON_GetObjectItemCaseSensitive(meta, "selection");
    if (!cJSON_IsObject(sel)) return;
    if (!cap->have_choice) {
        parity_report_fail(ctx->report, "decoder decisions", where, "no decoder choice emitted");
        return;
    }
    const cJSON *toks = cJSON_GetObjectItemCaseSensitive(sel, "returned_tokens");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(sel, "returned_token");
    const cJSON *best = cJSON_GetObjectItemCaseSensitive(sel, "best_of_returned");
    char buf[128];
    if (cJSON_IsArray(toks)) {
        int ok = cJSON_GetArraySize(toks) == cap->choice[1];
        for (int i = 0; ok && i < cap->choice[1] && i < 3; i++)
            ok = cJSON_GetArrayItem(toks, i)->valueint == cap->choice[2 + i];
        snprintf(buf, sizeof buf, "%s/returned_tokens", where);
        parity_report_check(ctx->report, "decoder decisions", buf, ok,
                            "returned %d tokens starting %d", cap->choice[1], cap->choice[2]);
    }
    if (cJSON_IsNumber(tok)) {
        snprintf(buf, sizeof buf, "%s/returned_token", where);
        parity_report_check(ctx->report, "decoder decisions", buf,
                            cap->choice[1] == 1 && cap->choice[2] == tok->valueint,
                            "returned token %d, golden %d", cap->choice[2], tok->valueint);
    }
    if (cJSON_IsNumber(best)) {
        snprintf(buf, sizeof buf, "%s/best_of_returned", where);
        parity_report_check(ctx->report, "decoder decisions", buf, cap->choice[5] == best->valueint,
                            "best %d, golden %d", cap->choice[5], best->valueint);
    }
}

int parity_run_image(parity_ctx *ctx, const char *image_folder, const char *const *cases,
                     int ncases) {
    if (parity_load_model(ctx)) return 1;
    sam2_error err = {0};
    golden_folder f;
    if (golden_folder_open(ctx->golden, image_folder, &f, &err)) {
        parity_report_fail(ctx->report, "golden data", image_folder, "%s", err.message);
        return 0;
    }
    golden_entry rgb_e;
    npy_array rgb = {0};
    sam2_image_predictor *pred = NULL;
    if (golden_folder_entry(&f, "image_rgb_u8", &rgb_e, &err) ||
        golden_load(ctx->golden, &rgb_e, &rgb, &err)) {
        parity_report_fail(ctx->report, "golden data", image_folder, "%s", err.message);
        goto done;
    }
    if (rgb.ndim != 3 || rgb.shape[2] != 3) {
        parity_report_fail(ctx->report, "golden data", image_folder, "image_rgb_u8 is not HxWx3");
        goto done;
    }
    pred = sam2_image_predictor_new(ctx->model, &err);
    if (!pred) {
        parity_report_fail(ctx->report, "model", image_folder, "%s", err.message);
        goto done;
    }
    const int H = (int)rgb.shape[0], W = (int)rgb.shape[1];
    parity_capture cap;
    sam2_tap tap = parity_capture_tap(&cap, ctx);
    parity_tap_begin(ctx->tap, f.index, image_folder, GOLDEN_DOMAIN_IMAGE);
    parity_tap_consume(ctx->tap, "image_rgb_u8");
    if (sam2_image_set_tapped(pred, rgb.data, W, H, 3 * W, &tap, &err)) {
        parity_report_fail(ctx->report, "model", image_folder, "set_image: %s", err.message);
        parity_tap_end(ctx->tap);
        goto done;
    }
    parity_tap_end(ctx->tap);

    for (int c = 0; c < ncases; c++) {
        golden_folder cf;
        if (golden_folder_open(ctx->golden, cases[c], &cf, &err)) {
            parity_report_fail(ctx->report, "golden data", cases[c], "%s", err.message);
            continue;
        }
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(cf.index, "meta");
        sam2_point pts[SAM2_MAX_PROMPT_POINTS > 64 ? 64 : SAM2_MAX_PROMPT_POINTS];
        float box[4];
        sam2_prompt p;
        char why[128];
        npy_array mask = {0};
        if (read_prompt(meta, &p, pts, 64, box, why, sizeof why)) {
            parity_report_fail(ctx->report, "golden data", cases[c], "%s", why);
            golden_folder_close(&cf);
            continue;
        }
        parity_tap_begin(ctx->tap, cf.index, cases[c], GOLDEN_DOMAIN_IMAGE);
        golden_entry me;
        if (golden_find(cf.index, "mask_input")) {
            if (golden_folder_entry(&cf, "mask_input", &me, &err) ||
                golden_load(ctx->golden, &me, &mask, &err) || mask.dtype != NPY_F32) {
                parity_report_fail(ctx->report, "golden data", cases[c], "mask_input: %s",
                                   err.message);
                parity_tap_end(ctx->tap);
                golden_folder_close(&cf);
                continue;
            }
            p.mask_input = mask.data;
            p.mask_input_size = (int)mask.shape[mask.ndim - 1];
            parity_tap_consume(ctx->tap, "mask_input");
        }
        sam2_masks out;
        cap.have_choice = 0;
        if (sam2_image_predict_tapped(pred, &p, &out, &tap, &err))
            parity_report_fail(ctx->report, "model", cases[c], "predict: %s", err.message);
        else
            sam2_masks_free(&out);
        parity_tap_end(ctx->tap);
        check_selection(ctx, cases[c], meta, &cap);
        npy_free(&mask);
        golden_folder_close(&cf);
    }
done:
    sam2_image_predictor_free(pred);
    npy_free(&rgb);
    golden_folder_close(&f);
    return 0;
}
