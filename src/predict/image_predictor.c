#include "predict/image_predictor.h"

#include "core/arena.h"
#include "core/error.h"
#include "model/image_encoder.h"
#include "model/mask_decoder.h"
#include "model/prompt_encoder.h"
#include "predict/model_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct sam2_image_predictor {
    const sam2_model *model;
    arena enc_arena; /* image encoder temporaries */
    arena dec_arena; /* prompt encoder + decoder temporaries */
    image_features feats;
    float *image_embed;  /* [E][E][d]: vision features + no_mem_embed */
    float *preprocessed; /* [3][S][S] */
    float *pre_scratch;  /* preprocessing intermediate, grown to the largest image seen */
    size_t pre_scratch_floats;
    mask_decoder_cache dec_cache; /* the decoder's image-side projections of this image */
    float *logits; /* upsampled logits of the last prediction, reused between calls */
    size_t logits_floats;
    int width, height;
    int has_image;
};

static const float IMAGE_MEAN[3] = {0.485f, 0.456f, 0.406f};
static const float IMAGE_STD[3] = {0.229f, 0.224f, 0.225f};

sam2_image_predictor *sam2_image_predictor_new(const sam2_model *model, sam2_error *err) {
    if (!model) {
        sam2_fail(err, SAM2_ERR_ARGUMENT, "image predictor: no model");
        return NULL;
    }
    sam2_image_predictor *p = calloc(1, sizeof *p);
    if (!p) goto oom;
    p->model = model;
    arena_init(&p->enc_arena);
    arena_init(&p->dec_arena);
    const sam2_net *net = &model->net;
    for (int i = 0; i < 3; i++) {
        p->feats.fpn[i] = malloc(sizeof(float) * image_features_level_floats(net, i));
        if (!p->feats.fpn[i]) goto oom;
    }
    p->image_embed = malloc(sizeof(float) * image_features_level_floats(net, 2));
    const size_t S = (size_t)net->cfg.image_size;
    p->preprocessed = malloc(sizeof(float) * 3 * S * S);
    if (!p->image_embed || !p->preprocessed || mask_decoder_cache_init(net, &p->dec_cache) != 0)
        goto oom;
    return p;
oom:
    sam2_image_predictor_free(p);
    sam2_fail(err, SAM2_ERR_NOMEM, "image predictor: out of memory");
    return NULL;
}

void sam2_image_predictor_free(sam2_image_predictor *p) {
    if (!p) return;
    arena_free(&p->enc_arena);
    arena_free(&p->dec_arena);
    for (int i = 0; i < 3; i++) free(p->feats.fpn[i]);
    free(p->image_embed);
    free(p->preprocessed);
    free(p->pre_scratch);
    free(p->logits);
    mask_decoder_cache_free(&p->dec_cache);
    free(p);
}

void sam2_image_preprocess(const uint8_t *rgb, int width, int height, int stride, int S, float *out,
                           float *scratch) {
    const sam2_backend *be = sam2_backend_default();
    /* Separable antialiased resize, as torchvision's Resize(antialias=True) on a float tensor:
     * the horizontal pass row by row straight from the 8-bit data (ToTensor's x / 255 in float),
     * then the vertical pass over the [3][height][S] intermediate. */
    float *row = scratch + (size_t)3 * height * S;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < height; y++) {
            const uint8_t *src = rgb + (size_t)y * stride;
            for (int x = 0; x < width; x++) row[x] = (float)src[3 * x + c] / 255.0f;
            be->resize_bilinear(scratch + ((size_t)c * height + y) * S, row, 1, 1, width, 1, S, 1);
        }
    be->resize_bilinear(out, scratch, 3, height, S, S, S, 1);
    for (int c = 0; c < 3; c++) {
        float *o = out + (size_t)c * S * S;
        for (size_t i = 0; i < (size_t)S * S; i++) o[i] = (o[i] - IMAGE_MEAN[c]) / IMAGE_STD[c];
    }
}

int sam2_image_set_tapped(sam2_image_predictor *p, const uint8_t *rgb, int width, int height,
                          int stride, const sam2_tap *tap, sam2_error *err) {
    if (!p) return sam2_fail(err, SAM2_ERR_ARGUMENT, "set_image: no predictor");
    p->has_image = 0;
    if (!rgb) return sam2_fail(err, SAM2_ERR_ARGUMENT, "set_image: no pixel data");
    if (width < 1 || height < 1 || width > SAM2_MAX_IMAGE_SIDE || height > SAM2_MAX_IMAGE_SIDE ||
        (int64_t)width * height > SAM2_MAX_IMAGE_PIXELS)
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "set_image: image size %dx%d is outside 1x1..%dx%d (at most %d pixels)",
                         width, height, SAM2_MAX_IMAGE_SIDE, SAM2_MAX_IMAGE_SIDE,
                         SAM2_MAX_IMAGE_PIXELS);
    if (stride < 3 * width)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "set_image: stride %d is less than 3 x width %d",
                         stride, width);
    const sam2_net *net = &p->model->net;
    const int S = net->cfg.image_size, E = net->embed, d = net->cfg.d_model;

    const size_t need = 3 * (size_t)height * S + (size_t)width;
    if (need > p->pre_scratch_floats) {
        float *tmp = realloc(p->pre_scratch, sizeof(float) * need);
        if (!tmp) return sam2_fail(err, SAM2_ERR_NOMEM, "set_image: out of memory");
        p->pre_scratch = tmp;
        p->pre_scratch_floats = need;
    }
    p->dec_cache.valid = false;
    sam2_image_preprocess(rgb, width, height, stride, S, p->preprocessed, p->pre_scratch);

    arena_reset(&p->enc_arena);
    int rc = image_encoder_forward(net, p->preprocessed, &p->feats, &p->enc_arena, tap, NULL);
    arena_reset(&p->enc_arena);
    if (rc != 0)
        return sam2_fail(err, rc == -1 ? SAM2_ERR_NOMEM : SAM2_ERR_UNSUPPORTED,
                         "set_image: image encoder failed (%s)",
                         rc == -1 ? "out of memory" : "unsupported window geometry");

    /* SAM2ImagePredictor.set_image: the lowest-resolution level gets no_mem_embed added. */
    if (net->cfg.directly_add_no_mem_embed)

        for (int i = 0; i < E * E; i++)
            for (int c = 0; c < d; c++)
                p->image_embed[(size_t)i * d + c] =
                    p->feats.fpn[2][(size_t)i * d + c] + net->w.no_mem_embed[c];
    else
        memcpy(p->image_embed, p->feats.fpn[2], sizeof(float) * (size_t)E * E * d);
    tap_hwc(tap, "image_embed", p->image_embed, E, E, d);
    const int c0 = net->cfg.use_high_res_features_in_sam ? d / 8 : d;
    const int c1 = net->cfg.use_high_res_features_in_sam ? d / 4 : d;
    tap_hwc(tap, "high_res_feats_0", p->feats.fpn[0], 4 * E, 4 * E, c0);
    tap_hwc(tap, "high_res_feats_1", p->feats.fpn[1], 2 * E, 2 * E, c1);
    tap_hwc(tap, "image_pe", net->image_pe, E, E, d);
    p->width = width;
    p->height = height;
    p->has_image = 1;
    return 0;
}

int sam2_image_set(sam2_image_predictor *p, const uint8_t *rgb, int width, int height, int stride,
                   sam2_error *err) {
    return sam2_image_set_tapped(p, rgb, width, height, stride, NULL, err);
}

/* Coordinates must be finite and not absurdly far outside the image (the model would produce
 * meaningless output, never a useful mask). */
static int check_coord(float v, float extent, const char *what, int i, sam2_error *err) {
    if (!isfinite(v))
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "prompt: %s %d has a non-finite coordinate", what,
                         i);
    if (v < -extent || v > 2.0f * extent)
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "prompt: %s %d coordinate %g is far outside the image (0..%g)", what, i,
                         (double)v, (double)extent);
    return 0;
}

static int validate_prompt(const sam2_image_predictor *p, const sam2_prompt *pr, sam2_error *err) {
    const int S = p->model->net.cfg.image_size;
    if (!pr) return sam2_fail(err, SAM2_ERR_ARGUMENT, "prompt: missing");
    if (pr->n_points < 0 || pr->n_points > SAM2_MAX_PROMPT_POINTS)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "prompt: %d points (allowed: 0..%d)", pr->n_points,
                         SAM2_MAX_PROMPT_POINTS);
    if (pr->n_points > 0 && !pr->points)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "prompt: n_points is %d but points is NULL",
                         pr->n_points);
    if (pr->mask || pr->keep_old_points)
        return sam2_fail(err, SAM2_ERR_ARGUMENT,
                         "prompt: mask and keep_old_points are video-tracker fields (the image "
                         "predictor takes mask_input logits)");
    if (pr->n_points == 0 && !pr->box && !pr->mask_input)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "prompt: no points, box or mask given");
    const float ew = pr->normalized ? 1.0f : (float)p->width;
    const float eh = pr->normalized ? 1.0f : (float)p->height;
    for (int i = 0; i < pr->n_points; i++) {
        const sam2_point *pt = &pr->points[i];
        if (check_coord(pt->x, ew, "point", i, err) || check_coord(pt->y, eh, "point", i, err))
            return SAM2_ERR_ARGUMENT;
        if (pt->label < -1 || pt->label > 3)
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "prompt: point %d has label %d (allowed: -1, 0, 1, 2, 3)", i,
                             pt->label);
    }
    if (pr->box) {
        for (int k = 0; k < 4; k++)
            if (check_coord(pr->box[k], k % 2 ? eh : ew, "box corner", k / 2, err))
                return SAM2_ERR_ARGUMENT;
        if (pr->box[2] < pr->box[0] || pr->box[3] < pr->box[1])
            return sam2_fail(
                err, SAM2_ERR_ARGUMENT, "prompt: box (%g,%g)-(%g,%g) has x1 < x0 or y1 < y0",
                (double)pr->box[0], (double)pr->box[1], (double)pr->box[2], (double)pr->box[3]);
    }
    if (pr->mask_input) {
        if (pr->mask_input_size != S / 4)
            return sam2_fail(err, SAM2_ERR_ARGUMENT,
                             "prompt: mask input is %dx%d, the model needs %dx%d",
                             pr->mask_input_size, pr->mask_input_size, S / 4, S / 4);
        for (int i = 0; i < (S / 4) * (S / 4); i++)
            if (!isfinite(pr->mask_input[i]))
                return sam2_fail(err, SAM2_ERR_ARGUMENT,
                                 "prompt: mask input has a non-finite value at %d", i);
    }
    return 0;
}

void sam2_masks_free(sam2_masks *m) {
    if (!m) return;
    free(m->masks);
    free(m->logits);
    free(m->low_res);
    memset(m, 0, sizeof *m);
}

int sam2_image_predict_tapped(sam2_image_predictor *p, const sam2_prompt *pr, sam2_masks *out,
                              const sam2_tap *tap, sam2_error *err) {
    if (!p || !out) return sam2_fail(err, SAM2_ERR_ARGUMENT, "predict: missing argument");
    memset(out, 0, sizeof *out);
    if (!p->has_image)
        return sam2_fail(err, SAM2_ERR_STATE, "predict: no image set (call sam2_image_set first)");
    int rc = validate_prompt(p, pr, err);
    if (rc) return rc;

    const sam2_net *net = &p->model->net;
    const int S = net->cfg.image_size, E = net->embed, d = net->cfg.d_model, L = 4 * E;
    const int n = pr->n_points + (pr->box ? 2 : 0);
    arena *a = &p->dec_arena;
    arena_reset(a);

    /* Prompt points in model pixels: the box's corners (labels 2, 3) first, then the clicks. */
    float *xy = arena_floats(a, 2 * (size_t)(n + 1), 0);
    int *labels = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
    float *sparse = arena_floats(a, (size_t)(n + 1) * d, 0);
    float *dense = pr->mask_input ? arena_floats(a, (size_t)E * E * d, 0) : NULL;
    float *all_masks = arena_floats(a, (size_t)4 * L * L, 0);
    float *tokens_out = arena_floats(a, (size_t)4 * d, 0);
    if (!xy || !labels || !sparse || (pr->mask_input && !dense) || !all_masks || !tokens_out)
        return sam2_fail(err, SAM2_ERR_NOMEM, "predict: out of memory");
    const float sx = pr->normalized ? 1.0f : (float)p->width;
    const float sy = pr->normalized ? 1.0f : (float)p->height;
    int k = 0;
    if (pr->box) {
        for (int c = 0; c < 2; c++, k++) {
            xy[2 * k] = pr->box[2 * c] / sx * (float)S;
            xy[2 * k + 1] = pr->box[2 * c + 1] / sy * (float)S;
            labels[k] = 2 + c;
        }
    }
    for (int i = 0; i < pr->n_points; i++, k++) {
        xy[2 * k] = pr->points[i].x / sx * (float)S;
        xy[2 * k + 1] = pr->points[i].y / sy * (float)S;
        labels[k] = pr->points[i].label;
    }
    if (tap && n > 0) {
        const int64_t sp[3] = {1, n, 2}, sl[2] = {1, n};
        tap_emit(tap, "prompt_encoder_points", xy, TAP_F32, 3, sp, TAP_AS_SHAPED);
        tap_emit(tap, "prompt_encoder_labels", labels, TAP_I32, 2, sl, TAP_AS_SHAPED);
    }
    if (prompt_encode_points(&p->model->net, xy, labels, n, sparse) != 0 ||
        (pr->mask_input && prompt_encode_mask(net, pr->mask_input, dense) != 0))
        return sam2_fail(err, SAM2_ERR_NOMEM, "predict: out of memory");
    if (tap) {
        const int64_t ss[3] = {1, n + 1, d};
        tap_emit(tap, "sparse_embeddings", sparse, TAP_F32, 3, ss, TAP_AS_SHAPED);
        if (dense) {
            tap_hwc(tap, "dense_embeddings", dense, E, E, d);
        } else {
            const int64_t sd[4] = {1, d, 1, 1};
            tap_emit(tap, "dense_embeddings", net->w.no_mask_embed, TAP_F32, 4, sd, TAP_AS_SHAPED);
        }
    }

    mask_decoder_in din = {.image_embed = p->image_embed,
                           .high_res = {p->feats.fpn[0], p->feats.fpn[1]},
                           .sparse = sparse,
                           .n_sparse = n + 1,
                           .dense = dense,
                           .multimask = pr->multimask != 0,
                           .cache = &p->dec_cache};
    mask_decoder_out dout = {.all_masks = all_masks, .mask_tokens_out = tokens_out};
    if (mask_decoder_forward(net, &din, &dout, a, tap) != 0)
        return sam2_fail(err, SAM2_ERR_NOMEM, "predict: out of memory in the mask decoder");

    const int M = dout.n_out, W = p->width, H = p->height;
    const size_t LL = (size_t)L * L, HW = (size_t)H * W;
    out->count = M;
    out->width = W;
    out->height = H;
    out->low_res_size = L;
    out->object_score = dout.object_score;
    float *sel = arena_floats(a, (size_t)M * LL, 0);
    if ((size_t)M * HW > p->logits_floats) {
        /* kept between calls: a fresh multi-megabyte buffer per click costs page faults */
        free(p->logits);
        p->logits = malloc(sizeof(float) * M * HW);
        p->logits_floats = p->logits ? (size_t)M * HW : 0;
    }
    float *logits = p->logits;
    out->masks = malloc((size_t)M * HW);
    out->low_res = malloc(sizeof(float) * M * LL);
    out->logits = pr->return_logits ? malloc(sizeof(float) * M * HW) : NULL;
    if (!sel || !logits || !out->masks || !out->low_res || (pr->return_logits && !out->logits)) {
        sam2_masks_free(out);
        return sam2_fail(err, SAM2_ERR_NOMEM, "predict: out of memory for %dx%d masks", W, H);
    }
    out->best = 0;
    for (int i = 0; i < M; i++) {
        memcpy(sel + i * LL, all_masks + (size_t)dout.tokens[i] * LL, sizeof(float) * LL);
        out->iou[i] = dout.all_iou[dout.tokens[i]];
        if (out->iou[i] > out->iou[out->best]) out->best = i;
    }
    /* Upsampling uses the unclamped logits; the returned low-res logits are clamped. */
    net->be->resize_bilinear(logits, sel, M, L, L, H, W, 0);
    for (size_t i = 0; i < (size_t)M * LL; i++)
        out->low_res[i] = sel[i] < -32.0f ? -32.0f : (sel[i] > 32.0f ? 32.0f : sel[i]);
    for (size_t i = 0; i < (size_t)M * HW; i++) out->masks[i] = logits[i] > 0.0f;
    if (tap) {
        /* decoder_choice: multimask, number returned, the returned tokens, best of returned */
        const int32_t choice[6] = {
            pr->multimask != 0,          M,        dout.tokens[0], M > 1 ? dout.tokens[1] : -1,
            M > 2 ? dout.tokens[2] : -1, out->best};
        const int64_t sc[1] = {6};
        tap_emit(tap, "decoder_choice", choice, TAP_I32, 1, sc, TAP_AS_SHAPED);
        const int64_t so[4] = {1, M, L, L}, sl[3] = {M, L, L}, si[1] = {M}, sm[3] = {M, H, W};
        tap_emit(tap, "decoder_out_masks", sel, TAP_F32, 4, so, TAP_AS_SHAPED);
        tap_emit(tap, "low_res_masks", out->low_res, TAP_F32, 3, sl, TAP_AS_SHAPED);
        tap_emit(tap, "iou_predictions", out->iou, TAP_F32, 1, si, TAP_AS_SHAPED);
        tap_emit(tap, "masks_logits", logits, TAP_F32, 3, sm, TAP_AS_SHAPED);
        tap_emit(tap, "masks", out->masks, TAP_U8, 3, sm, TAP_AS_SHAPED);
    }
    if (out->logits) memcpy(out->logits, logits, sizeof(float) * M * HW);
    arena_reset(a);
    return 0;
}

int sam2_image_predict(sam2_image_predictor *p, const sam2_prompt *pr, sam2_masks *out,
                       sam2_error *err) {
    return sam2_image_predict_tapped(p, pr, out, NULL, err);
}
