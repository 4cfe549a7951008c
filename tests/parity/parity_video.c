/* Video runners of sam2-parity.
 *
 * video/frames: the golden original frames are resized and normalised exactly as the official
 *   JPEG-folder loader does (PIL bicubic, /255 in float64); frames_resized_u8 and preprocessed
 *   are compared.
 * video/api: the SAM2VideoPredictor call sequence recorded in steps[] is replayed on a tracker;
 *   every model call's tensors are compared in the scope of its model_calls[] entry (the tracker
 *   announces each call with a "model_call" tap), the memory bank composition and the decoder's
 *   decisions are checked, and after each API return / propagation yield the stored per-object
 *   state named by objects[].state_entry is compared.
 * video/demo: the demo server's request sequence (responses.json) is replayed with normalised
 *   coordinates; masks are compared with the recorded COCO RLE and stored low-res logits. */
#include "parity.h"

#include "core/error.h"
#include "io/pil_resize.h"
#include "io/rle.h"
#include "parity_common.h"
#include "predict/model_internal.h"
#include "predict/tracker.h"
#include "predict/tracker_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the golden frames, loaded once ---- */

typedef struct golden_video {
    int loaded, T, H, W, S;
    uint8_t *orig;    /* [T][H][W][3] */
    uint8_t *resized; /* [T][S][S][3] */
} golden_video;

static golden_video VID;

static int load_frames(parity_ctx *ctx, const golden_folder *f, sam2_error *err) {
    if (VID.loaded) return 0;
    golden_entry e;
    npy_array a = {0};
    if (golden_folder_entry(f, "frames_orig_u8", &e, err) || golden_load(ctx->golden, &e, &a, err))
        return -1;
    if (a.ndim != 4 || a.shape[3] != 3) {
        npy_free(&a);
        return sam2_fail(err, SAM2_ERR_FORMAT, "frames_orig_u8 is not [T,H,W,3]");
    }
    VID.T = (int)a.shape[0];
    VID.H = (int)a.shape[1];
    VID.W = (int)a.shape[2];
    VID.S = sam2_model_image_size(ctx->model);
    VID.orig = a.data; /* keep the buffer */
    const size_t fs = (size_t)VID.S * VID.S * 3;
    VID.resized = malloc(fs * (size_t)VID.T);
    if (!VID.resized) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    for (int t = 0; t < VID.T; t++)
        if (sam2_pil_resize_rgb8(VID.orig + (size_t)t * VID.H * VID.W * 3, VID.W, VID.H,
                                 (size_t)VID.W * 3, VID.resized + (size_t)t * fs, VID.S, VID.S,
                                 (size_t)VID.S * 3, err))
            return -1;
    VID.loaded = 1;
    return 0;
}

static int provider_load(void *user, int index, int S, float *chw, sam2_error *err) {
    (void)user;
    if (index < 0 || index >= VID.T || S != VID.S)
        return sam2_fail(err, SAM2_ERR_ARGUMENT, "frame %d not available", index);
    sam2_normalize_rgb8(VID.resized + (size_t)index * S * S * 3, S, S, (size_t)S * 3,
                        SAM2_NORM_DIV255_F64, chw);
    return 0;
}

static sam2_tracker *new_tracker(parity_ctx *ctx, sam2_error *err) {
    frame_provider p = {.user = NULL,
                        .num_frames = VID.T,
                        .width = VID.W,
                        .height = VID.H,
                        .load = provider_load,
                        .close = NULL};
    sam2_tracker_options opt = {0}; /* official behaviour: add_all_frames_to_correct_as_cond off */
    return tracker_new_with_provider(ctx->model, p, &opt, err);
}

static int ensure_frames(parity_ctx *ctx, const char *where) {
    if (VID.loaded) return 0;
    sam2_error err = {0};
    golden_folder f;
    if (golden_folder_open(ctx->golden, "video/frames", &f, &err) || load_frames(ctx, &f, &err)) {
        parity_report_fail(ctx->report, "golden data", where, "frames: %s", err.message);
        golden_folder_close(&f);
        return -1;
    }
    golden_folder_close(&f);
    return 0;
}

static int run_frames(parity_ctx *ctx, const golden_folder *f) {
    sam2_error err = {0};
    if (load_frames(ctx, f, &err)) {
        parity_report_fail(ctx->report, "golden data", f->name, "%s", err.message);
        return 0;
    }
    parity_tap_begin(ctx->tap, f->index, f->name, GOLDEN_DOMAIN_VIDEO);
    parity_tap_consume(ctx->tap, "frames_orig_u8");
    const int64_t sr[4] = {VID.T, VID.S, VID.S, 3};
    parity_tap_emit(ctx->tap, "frames_resized_u8", VID.resized, TAP_U8, 4, sr, TAP_AS_SHAPED);
    const size_t per = (size_t)3 * VID.S * VID.S;
    float *pre = malloc(sizeof(float) * per * (size_t)VID.T);
    if (!pre) {
        parity_report_fail(ctx->report, "model", f->name, "out of memory");
        parity_tap_end(ctx->tap);
        return 0;
    }
    for (int t = 0; t < VID.T; t++) provider_load(NULL, t, VID.S, pre + (size_t)t * per, &err);
    const int64_t sp[4] = {VID.T, 3, VID.S, VID.S};
    parity_tap_emit(ctx->tap, "preprocessed", pre, TAP_F32, 4, sp, TAP_AS_SHAPED);
    /* Sets that keep one frame's tensor store it as preprocessed_frame<i> [1,3,S,S]. */
    for (int t = 0; t < VID.T; t++) {
        char name[64];
        snprintf(name, sizeof name, "preprocessed_frame%d", t);
        const int64_t s1[4] = {1, 3, VID.S, VID.S};
        parity_tap_emit(ctx->tap, name, pre + (size_t)t * per, TAP_F32, 4, s1, TAP_AS_SHAPED);
    }
    free(pre);
    parity_tap_end(ctx->tap);
    return 0;
}

/* ---- replay state shared by the api and demo runners ---- */

typedef struct replay {
    parity_ctx *ctx;
    sam2_tracker *t;
    const cJSON *steps; /* api: steps[] */
    int step;           /* current step index */
    int call;           /* next model_calls[] index within the step */
    const cJSON *call_node;
    char where[256];
    /* unfilled low-res logits of the latest call per (object, frame), for the hole-filling
     * exception when stored pred_masks are compared later */
    float *unfilled; /* [MAX_OBJ][T][L*L] */
    unsigned char *have_unfilled;
    int cur_obj, cur_frame, L;
    const int32_t *bank;
    int bank_n;
    /* The binarisation exception (EdgeTAM): the golden stored low-res logits per (object,
     * frame) when the golden set keeps them whole, and the number of flipped mask pixels of the
     * encoding behind each stored memory. */
    float *golden_pm; /* [MAX_OBJ][T][L*L] */
    unsigned char *have_golden_pm;
    int *flips; /* [MAX_OBJ][T] */
} replay;

#define MAX_OBJ 16

static int obj_slot(int obj_id) {
    return obj_id >= 0 && obj_id < MAX_OBJ ? obj_id : -1;
}

static void check_decoder(replay *r, const int32_t *choice) {
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(r->call_node, "decoder");
    if (!cJSON_IsObject(dec)) return;
    const cJSON *mm = cJSON_GetObjectItemCaseSensitive(dec, "multimask_output");
    const cJSON *toks = cJSON_GetObjectItemCaseSensitive(dec, "returned_tokens");
    const cJSON *best = cJSON_GetObjectItemCaseSensitive(dec, "best_of_returned");
    int ok = !mm || cJSON_IsTrue(mm) == (choice[0] != 0);
    if (cJSON_IsArray(toks)) {
        ok = ok && cJSON_GetArraySize(toks) == choice[1];
        for (int i = 0; ok && i < choice[1] && i < 3; i++)
            ok = cJSON_GetArrayItem(toks, i)->valueint == choice[2 + i];
    }
    if (cJSON_IsNumber(best)) ok = ok && best->valueint == choice[5];
    char w[300];
    snprintf(w, sizeof w, "%s/decoder", r->where);
    parity_report_check(r->ctx->report, "decoder decisions", w, ok,
                        "multimask %d, %d tokens from %d, best %d", choice[0], choice[1], choice[2],
                        choice[5]);
}

static void check_bank(replay *r, const int32_t *b, int n) {
    const cJSON *bank = cJSON_GetObjectItemCaseSensitive(r->call_node, "memory_bank");
    if (!cJSON_IsObject(bank) || n < 2) return;
    const cJSON *mf = cJSON_GetObjectItemCaseSensitive(bank, "memory_frames");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(bank, "obj_ptrs");
    const int nmem = b[0], nptr = b[1];
    int ok = cJSON_IsArray(mf) && cJSON_GetArraySize(mf) == nmem && n == 2 + 3 * (nmem + nptr);
    for (int i = 0; ok && i < nmem; i++) {
        const cJSON *m = cJSON_GetArrayItem(mf, i);
        const cJSON *store = cJSON_GetObjectItemCaseSensitive(m, "store");
        ok = cJSON_GetObjectItemCaseSensitive(m, "t_pos")->valueint == b[2 + 3 * i] &&
             cJSON_GetObjectItemCaseSensitive(m, "frame")->valueint == b[3 + 3 * i] &&
             cJSON_IsString(store) &&
             !strcmp(store->valuestring, b[4 + 3 * i] ? "non_cond" : "cond");
    }
    ok = ok && (cJSON_IsArray(op) ? cJSON_GetArraySize(op) : 0) == nptr;
    for (int i = 0; ok && i < nptr; i++) {
        const cJSON *m = cJSON_GetArrayItem(op, i);
        const int32_t *p = b + 2 + 3 * nmem + 3 * i;
        const cJSON *store = cJSON_GetObjectItemCaseSensitive(m, "store");
        ok = cJSON_GetObjectItemCaseSensitive(m, "tpos")->valueint == p[0] &&
             cJSON_GetObjectItemCaseSensitive(m, "frame")->valueint == p[1] &&
             cJSON_IsString(store) && !strcmp(store->valuestring, p[2] ? "non_cond" : "cond");
    }
    char w[300];
    snprintf(w, sizeof w, "%s/memory_bank", r->where);
    parity_report_check(r->ctx->report, "memory bank composition", w, ok,
                        "%d memory frames, %d pointers differ from the recorded bank", nmem, nptr);
}

/* The logits a preflight encoding binarises (memenc_input_logits) against the golden run's:
 * the same upsampling of the golden stored low-res logits gives its mask. Every pixel on the
 * other side of 0 must be within rounding of 0 (|g| <= 1e-4 max(1, max|g|)); their number
 * widens the binarisation exception for this encoding and the memory stored from it. */
static void check_binarisation(replay *r, const float *ours, int S) {
    const int s = obj_slot(r->cur_obj);
    if (s < 0 || r->cur_frame < 0 || r->cur_frame >= VID.T) return;
    const size_t at = (size_t)s * VID.T + r->cur_frame;
    r->flips[at] = 1; /* the README's allowance when the golden mask cannot be rebuilt */
    if (!r->have_golden_pm[at]) return;
    float *g = malloc(sizeof(float) * (size_t)S * S);
    if (!g) return;
    sam2_backend_cpu()->resize_bilinear(g, r->golden_pm + at * (size_t)r->L * r->L, 1, r->L, r->L,
                                        S, S, 0);
    double M = 1;
    for (size_t i = 0; i < (size_t)S * S; i++) M = fmax(M, fabs(g[i]));
    int flips = 0, far = 0;
    double worst = 0;
    for (size_t i = 0; i < (size_t)S * S; i++)
        if ((ours[i] > 0) != (g[i] > 0)) {
            flips++;
            worst = fmax(worst, fabs(g[i]));
            if (fabs(g[i]) > 1e-4 * M) far++;
        }
    free(g);
    r->flips[at] = flips;
    parity_tap_set_flips(r->ctx->tap, flips);
    char w[300];
    snprintf(w, sizeof w, "%s/binarised_mask", r->where);
    parity_report_check(r->ctx->report, "binarisation flips", w, far == 0,
                        "%d pixel(s) binarised differently, %d of them not within rounding of 0 "
                        "(largest golden |logit| %.3g)",
                        flips, far, worst);
}

static void observe(void *user, const char *name, const void *data, tap_dtype dtype, int ndim,
                    const int64_t *shape) {
    replay *r = user;
    if (!strcmp(name, "memenc_input_logits") && dtype == TAP_F32 && ndim == 4 &&
        shape[2] == shape[3]) {
        check_binarisation(r, data, (int)shape[2]);
        return;
    }
    if (!strcmp(name, "model_call") && dtype == TAP_I32) {
        const int32_t *m = data;
        const cJSON *step = r->steps ? cJSON_GetArrayItem(r->steps, r->step) : NULL;
        const cJSON *calls = step ? cJSON_GetObjectItemCaseSensitive(step, "model_calls") : NULL;
        r->cur_frame = m[1];
        r->cur_obj = shape[0] > 2 ? m[2] : -1;
        const int so = obj_slot(r->cur_obj);
        if (m[0] == 0 && so >= 0 && m[1] >= 0 && m[1] < VID.T) /* a track_step: sigmoid input */
            r->flips[(size_t)so * VID.T + m[1]] = 0;
        if (!calls) return; /* demo flow: no per-call records */
        r->call_node = cJSON_GetArrayItem(calls, r->call);
        snprintf(r->where, sizeof r->where, "video/api/step%02d/call%d", r->step, r->call);
        if (!r->call_node)
            parity_report_fail(r->ctx->report, "model calls", r->where,
                               "more model calls than recorded");
        else
            parity_tap_begin(r->ctx->tap, r->call_node, r->where, GOLDEN_DOMAIN_VIDEO);
        r->call++;
    } else if (!strcmp(name, "decoder_choice") && r->call_node) {
        check_decoder(r, data);
    } else if (!strcmp(name, "memory_bank") && r->call_node) {
        check_bank(r, data, (int)shape[0]);
    } else if (!strcmp(name, "pred_masks_before_fill") && dtype == TAP_F32) {
        const int s = obj_slot(r->cur_obj);
        const size_t LL = (size_t)r->L * r->L;
        if (s >= 0 && r->cur_frame >= 0 && r->cur_frame < VID.T && ndim == 4 &&
            shape[2] * shape[3] == (int64_t)LL) {
            memcpy(r->unfilled + ((size_t)s * VID.T + r->cur_frame) * LL, data, sizeof(float) * LL);
            r->have_unfilled[s * VID.T + r->cur_frame] = 1;
        }
    }
}

static int replay_init(replay *r, parity_ctx *ctx) {
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->L = sam2_model_image_size(ctx->model) / 4;
    r->unfilled = malloc(sizeof(float) * MAX_OBJ * (size_t)VID.T * r->L * r->L);
    r->have_unfilled = calloc((size_t)MAX_OBJ * VID.T, 1);
    r->golden_pm = malloc(sizeof(float) * MAX_OBJ * (size_t)VID.T * r->L * r->L);
    r->have_golden_pm = calloc((size_t)MAX_OBJ * VID.T, 1);
    r->flips = calloc((size_t)MAX_OBJ * VID.T, sizeof(int));
    return r->unfilled && r->have_unfilled && r->golden_pm && r->have_golden_pm && r->flips ? 0
                                                                                            : -1;
}

static void replay_free(replay *r) {
    free(r->unfilled);
    free(r->have_unfilled);
    free(r->golden_pm);
    free(r->have_golden_pm);
    free(r->flips);
}

/* A result object's binary mask. */
static uint8_t *binary_mask(const sam2_frame_result *res, int i) {
    const size_t hw = (size_t)res->width * res->height;
    uint8_t *m = malloc(hw);
    if (m)
        for (size_t k = 0; k < hw; k++) m[k] = res->logits[(size_t)i * hw + k] > 0.0f;
    return m;
}

static int result_index(const sam2_frame_result *res, int obj_id) {
    for (int i = 0; i < res->num_objects; i++)
        if (res->object_ids[i] == obj_id) return i;
    return -1;
}

static void compare_rle(parity_ctx *ctx, const char *where, const cJSON *rle,
                        const sam2_frame_result *res, int i) {
    uint8_t *m = binary_mask(res, i);
    golden_result gr;
    sam2_error err = {0};
    if (!m) {
        parity_report_fail(ctx->report, "golden data", where, "out of memory");
        return;
    }
    if (golden_compare_rle(rle, m, res->height, res->width, &gr, &err))
        parity_report_fail(ctx->report, "golden data", where, "%s", err.message);
    else
        parity_report_add(ctx->report, golden_kind_of("mask_rle", GOLDEN_DOMAIN_VIDEO), where, &gr);
    free(m);
}

static tracker_store store_of(const char *s) {
    if (!strcmp(s, "temp:cond_frame_outputs")) return TRACKER_TEMP_COND;
    if (!strcmp(s, "temp:non_cond_frame_outputs")) return TRACKER_TEMP_NONCOND;
    if (!strcmp(s, "output:cond_frame_outputs")) return TRACKER_COND;
    return TRACKER_NONCOND;
}

/* The golden stored low-res logits of an object on a frame (objects[].pred_masks), kept when
 * the set stores them whole, for check_binarisation. */
static void keep_golden_pred_masks(replay *r, const cJSON *obj, int s, int frame) {
    if (s < 0) return;
    const size_t at = (size_t)s * VID.T + frame, LL = (size_t)r->L * r->L;
    r->have_golden_pm[at] = 0;
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(obj, "pred_masks");
    golden_entry e;
    sam2_error err = {0};
    if (!node || golden_entry_parse(node, &e, &err) || !golden_materialisable(&e) ||
        e.numel != (int64_t)LL)
        return;
    npy_array a;
    if (golden_load(r->ctx->golden, &e, &a, &err)) return;
    if (a.dtype == NPY_F32 && a.numel == (int64_t)LL) {
        memcpy(r->golden_pm + at * LL, a.data, sizeof(float) * LL);
        r->have_golden_pm[at] = 1;
    }
    npy_free(&a);
}

/* Compares steps[step].objects[] with the returned masks and the tracker's stored state. */
static void compare_objects(replay *r, const cJSON *step, const sam2_frame_result *res) {
    parity_ctx *ctx = r->ctx;
    const sam2_net *net = &ctx->model->net;
    const int d = net->cfg.d_model, md = net->cfg.mem_dim, E = net->embed, L = r->L;
    const int frame = cJSON_GetObjectItemCaseSensitive(step, "frame_idx")->valueint;
    if (res->frame_index != frame)
        parity_report_fail(ctx->report, "api flow", r->where, "returned frame %d, recorded %d",
                           res->frame_index, frame);
    const cJSON *objs = cJSON_GetObjectItemCaseSensitive(step, "objects");
    const int MT = sam2_config_mem_tokens(&net->cfg); /* E*E, or the Perceiver's latents */
    float *ptr = malloc(sizeof(float) * d), *pm = malloc(sizeof(float) * (size_t)L * L);
    uint16_t *mem = malloc(sizeof(uint16_t) * (size_t)MT * md);
    float *memf = malloc(sizeof(float) * (size_t)MT * md);
    const cJSON *o;
    cJSON_ArrayForEach(o, objs) {
        const int id = cJSON_GetObjectItemCaseSensitive(o, "obj_id")->valueint;
        char where[300];
        snprintf(where, sizeof where, "video/api/step%02d/obj%d", r->step, id);
        const int i = result_index(res, id);
        if (i < 0 || !ptr || !pm || !mem || !memf) {
            parity_report_fail(ctx->report, "api flow", where, "object missing from the result");
            continue;
        }
        parity_tap_begin(ctx->tap, o, where, GOLDEN_DOMAIN_VIDEO);
        const int64_t sv[2] = {res->height, res->width};
        parity_tap_emit(ctx->tap, "video_res_logits",
                        res->logits + (size_t)i * res->width * res->height, TAP_F32, 2, sv,
                        TAP_AS_SHAPED);
        compare_rle(ctx, where, cJSON_GetObjectItemCaseSensitive(o, "mask_rle"), res, i);
        parity_tap_consume(ctx->tap, "mask_rle");
        const cJSON *se = cJSON_GetObjectItemCaseSensitive(o, "state_entry");
        tracker_entry te = {.obj_ptr = ptr, .pred_masks = pm, .maskmem_bf16 = mem};
        sam2_error err = {0};
        if (!cJSON_IsString(se) ||
            tracker_get_entry(r->t, id, frame, store_of(se->valuestring), &te, &err)) {
            parity_report_fail(ctx->report, "api flow", where, "state entry %s: %s",
                               cJSON_IsString(se) ? se->valuestring : "?", err.message);
            parity_tap_end(ctx->tap);
            continue;
        }
        const int s = obj_slot(id);
        if (s >= 0 && r->have_unfilled[s * VID.T + frame])
            parity_tap_set_unfilled(ctx->tap, r->unfilled + ((size_t)s * VID.T + frame) * L * L,
                                    (int64_t)L * L);
        const int64_t spm[4] = {1, 1, L, L}, sp[2] = {1, d}, ss[2] = {1, 1};
        parity_tap_emit(ctx->tap, "pred_masks", pm, TAP_F32, 4, spm, TAP_AS_SHAPED);
        keep_golden_pred_masks(r, o, s, frame);
        if (s >= 0) parity_tap_set_flips(ctx->tap, r->flips[(size_t)s * VID.T + frame]);
        parity_tap_emit(ctx->tap, "obj_ptr", ptr, TAP_F32, 2, sp, TAP_AS_SHAPED);
        parity_tap_emit(ctx->tap, "object_score_logits", &te.object_score, TAP_F32, 2, ss,
                        TAP_AS_SHAPED);
        if (te.has_maskmem) {
            for (size_t k = 0; k < (size_t)MT * md; k++) memf[k] = bf16_to_float(mem[k]);
            if (net->perceiver_pos) { /* EdgeTAM: [1, latents, mem_dim] */
                const int64_t sl[3] = {1, MT, md};
                parity_tap_emit(ctx->tap, "maskmem_features_bf16bits", memf, TAP_F32, 3, sl,
                                TAP_AS_SHAPED);
                parity_tap_emit(ctx->tap, "maskmem_pos_enc", net->perceiver_pos, TAP_F32, 3, sl,
                                TAP_AS_SHAPED);
            } else {
                const int64_t sm[4] = {1, md, E, E};
                parity_tap_emit(ctx->tap, "maskmem_features_bf16bits", memf, TAP_F32, 4, sm,
                                TAP_HWC_FOR_NCHW);
                parity_tap_emit(ctx->tap, "maskmem_pos_enc", net->mem_pos, TAP_F32, 4, sm,
                                TAP_HWC_FOR_NCHW);
            }
        }
        const cJSON *sl = cJSON_GetObjectItemCaseSensitive(o, "object_score_logit");
        if (cJSON_IsNumber(sl))
            parity_report_check(ctx->report, "object-present decisions", where,
                                (te.object_score > 0) == (sl->valuedouble > 0),
                                "object score %g, recorded %g", (double)te.object_score,
                                sl->valuedouble);
        parity_tap_end(ctx->tap);
    }
    free(ptr);
    free(pm);
    free(mem);
    free(memf);
}

typedef struct prop_state {
    replay *r;
    int last; /* one past the pass's last step */
} prop_state;

static int on_yield(void *user, const sam2_frame_result *res) {
    prop_state *ps = user;
    replay *r = ps->r;
    parity_tap_end(r->ctx->tap);
    if (r->step >= ps->last) {
        parity_report_fail(r->ctx->report, "api flow", "video/api", "more yields than recorded");
        return 1;
    }
    const cJSON *step = cJSON_GetArrayItem(r->steps, r->step);
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(step, "model_calls");
    if (r->call != (calls ? cJSON_GetArraySize(calls) : 0))
        parity_report_fail(r->ctx->report, "model calls", r->where, "%d model calls, recorded %d",
                           r->call, calls ? cJSON_GetArraySize(calls) : 0);
    compare_objects(r, step, res);
    r->step++;
    r->call = 0;
    r->call_node = NULL;
    return 0;
}

static int read_points(const cJSON *pts, const cJSON *labels, sam2_point *out, int max) {
    int n = cJSON_IsArray(pts) ? cJSON_GetArraySize(pts) : 0;
    if (n > max || (n && (!cJSON_IsArray(labels) || cJSON_GetArraySize(labels) != n))) return -1;
    for (int i = 0; i < n; i++) {
        const cJSON *p = cJSON_GetArrayItem(pts, i);
        out[i].x = (float)cJSON_GetArrayItem(p, 0)->valuedouble;
        out[i].y = (float)cJSON_GetArrayItem(p, 1)->valuedouble;
        out[i].label = cJSON_GetArrayItem(labels, i)->valueint;
    }
    return n;
}

static int run_api(parity_ctx *ctx, const golden_folder *f) {
    sam2_error err = {0};
    replay r;
    if (ensure_frames(ctx, f->name)) return 0;
    if (replay_init(&r, ctx)) {
        parity_report_fail(ctx->report, "model", f->name, "out of memory");
        return 0;
    }
    r.t = new_tracker(ctx, &err);
    if (!r.t) {
        parity_report_fail(ctx->report, "model", f->name, "tracker: %s", err.message);
        replay_free(&r);
        return 0;
    }
    parity_capture cap;
    sam2_tap tap = parity_capture_tap(&cap, ctx);
    cap.observe = observe;
    cap.observe_user = &r;
    tracker_set_tap(r.t, &tap);
    /* Image-independent tensors the index lists as constants (EdgeTAM: the memory encoder's
     * position encoding, the Perceiver's 1D-path keys' encoding). */
    const cJSON *constants = cJSON_GetObjectItemCaseSensitive(f->index, "constants");
    if (cJSON_IsArray(constants)) {
        const sam2_net *net = &ctx->model->net;
        parity_tap_begin(ctx->tap, constants, "video/api/constants", GOLDEN_DOMAIN_VIDEO);
        const int64_t sp[4] = {1, net->cfg.mem_dim, net->embed, net->embed};
        parity_tap_emit(ctx->tap, "memenc_pos_enc", net->mem_pos, TAP_F32, 4, sp, TAP_HWC_FOR_NCHW);
        parity_tap_end(ctx->tap);
    }
    r.steps = cJSON_GetObjectItemCaseSensitive(f->index, "steps");
    const int n = cJSON_GetArraySize(r.steps);
    while (r.step < n) {
        const cJSON *step = cJSON_GetArrayItem(r.steps, r.step);
        const cJSON *api = cJSON_GetObjectItemCaseSensitive(step, "api");
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(step, "args");
        snprintf(r.where, sizeof r.where, "video/api/step%02d", r.step);
        if (cJSON_IsString(api) && !strcmp(api->valuestring, "add_new_points_or_box")) {
            sam2_point pts[64];
            float box[4], *pbox = NULL;
            const int np = read_points(cJSON_GetObjectItemCaseSensitive(args, "points"),
                                       cJSON_GetObjectItemCaseSensitive(args, "labels"), pts, 64);
            const cJSON *jb = cJSON_GetObjectItemCaseSensitive(args, "box");
            if (cJSON_IsArray(jb) && cJSON_GetArraySize(jb) == 4) {
                for (int k = 0; k < 4; k++) box[k] = (float)cJSON_GetArrayItem(jb, k)->valuedouble;
                pbox = box;
            }
            const int normalize =
                !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(args, "normalize_coords"));
            const int clear_old =
                !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(args, "clear_old_points"));
            sam2_frame_result res;
            r.call = 0;
            if (np < 0 || sam2_tracker_add_prompt(
                              r.t, cJSON_GetObjectItemCaseSensitive(args, "frame_idx")->valueint,
                              cJSON_GetObjectItemCaseSensitive(args, "obj_id")->valueint,
                              &(sam2_prompt){.points = pts,
                                             .n_points = np,
                                             .box = pbox,
                                             .keep_old_points = !clear_old,
                                             .normalized = !normalize},
                              &res, &err)) {
                parity_report_fail(ctx->report, "api flow", r.where, "add_prompt: %s",
                                   np < 0 ? "bad points" : err.message);
                parity_tap_end(ctx->tap);
                r.step++;
                continue;
            }
            parity_tap_end(ctx->tap);
            compare_objects(&r, step, &res);
            r.step++;
        } else if (cJSON_IsString(api) && !strcmp(api->valuestring, "propagate_in_video")) {
            const cJSON *pass = cJSON_GetObjectItemCaseSensitive(args, "pass");
            int last = r.step;
            while (last < n) {
                const cJSON *s2 = cJSON_GetArrayItem(r.steps, last);
                const cJSON *a2 = cJSON_GetObjectItemCaseSensitive(s2, "args");
                const cJSON *p2 = cJSON_GetObjectItemCaseSensitive(a2, "pass");
                const cJSON *api2 = cJSON_GetObjectItemCaseSensitive(s2, "api");
                if (!cJSON_IsString(api2) || strcmp(api2->valuestring, "propagate_in_video") ||
                    !cJSON_IsString(p2) || !cJSON_IsString(pass) ||
                    strcmp(p2->valuestring, pass->valuestring))
                    break;
                last++;
            }
            const cJSON *js = cJSON_GetObjectItemCaseSensitive(args, "start_frame_idx");
            const cJSON *jm = cJSON_GetObjectItemCaseSensitive(args, "max_frame_num_to_track");
            const int start = cJSON_IsNumber(js) ? js->valueint : -1;
            const int maxf = cJSON_IsNumber(jm) ? jm->valueint : -1;
            const int rev = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "reverse"));
            prop_state ps = {&r, last};
            const int first = r.step;
            r.call = 0;
            if (sam2_tracker_propagate(r.t, start, maxf, rev, on_yield, &ps, &err))
                parity_report_fail(ctx->report, "api flow", r.where, "propagate: %s", err.message);
            parity_tap_end(ctx->tap);
            if (r.step != last)
                parity_report_fail(ctx->report, "api flow", r.where, "%d yields, recorded %d",
                                   r.step - first, last - first);
            r.step = last;
        } else {
            parity_report_fail(ctx->report, "api flow", r.where, "unknown api call");
            r.step++;
        }
    }
    sam2_tracker_free(r.t);
    replay_free(&r);
    return 0;
}

/* ---- demo flow ---- */

typedef struct demo_state {
    parity_ctx *ctx;
    sam2_tracker *t;
    const golden_folder *f;
    const cJSON *responses;
    int next; /* next response index */
    int last;
} demo_state;

/* Compares one response's RLE masks and its stored low-res logits (index low_res_masks). */
static void compare_response(demo_state *ds, const sam2_frame_result *res) {
    sam2_tracker *t = ds->t;
    parity_ctx *ctx = ds->ctx;
    const cJSON *item = cJSON_GetArrayItem(ds->responses, ds->next);
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(item, "response");
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(resp, "results");
    const int frame = cJSON_GetObjectItemCaseSensitive(resp, "frame_index")->valueint;
    char where[256];
    snprintf(where, sizeof where, "video/demo/r%02d", ds->next);
    if (frame != res->frame_index)
        parity_report_fail(ctx->report, "demo flow", where, "frame %d, recorded %d",
                           res->frame_index, frame);
    const cJSON *o;
    cJSON_ArrayForEach(o, results) {
        const int id = cJSON_GetObjectItemCaseSensitive(o, "object_id")->valueint;
        const int i = result_index(res, id);
        char w2[300];
        snprintf(w2, sizeof w2, "%s/obj%d", where, id);
        if (i < 0) {
            parity_report_fail(ctx->report, "demo flow", w2, "object missing");
            continue;
        }
        compare_rle(ctx, w2, cJSON_GetObjectItemCaseSensitive(o, "mask"), res, i);
    }
    if (cJSON_GetArraySize(results) != res->num_objects)
        parity_report_fail(ctx->report, "demo flow", where, "%d objects, recorded %d",
                           res->num_objects, cJSON_GetArraySize(results));
    /* Stored low-res logits of propagation responses. */
    const cJSON *lrm = cJSON_GetObjectItemCaseSensitive(ds->f->index, "low_res_masks");
    const cJSON *e;
    const int L = sam2_model_image_size(ctx->model) / 4;
    float *pm = malloc(sizeof(float) * (size_t)L * L);
    cJSON_ArrayForEach(e, lrm) {
        if (cJSON_GetObjectItemCaseSensitive(e, "response")->valueint != ds->next || !pm) continue;
        const int id = cJSON_GetObjectItemCaseSensitive(e, "object_id")->valueint;
        const cJSON *node = cJSON_GetObjectItemCaseSensitive(e, "pred_masks");
        char w2[300];
        snprintf(w2, sizeof w2, "%s/obj%d", where, id);
        sam2_error err = {0};
        tracker_entry te = {.pred_masks = pm};
        /* A propagated frame is a conditioning frame (prompted) or a tracked one. */
        if (tracker_get_entry(t, id, frame, TRACKER_COND, &te, &err) &&
            tracker_get_entry(t, id, frame, TRACKER_NONCOND, &te, &err)) {
            parity_report_fail(ctx->report, "demo flow", w2, "no stored output: %s", err.message);
            continue;
        }
        parity_tap_begin(ctx->tap, node, w2, GOLDEN_DOMAIN_VIDEO);
        const int64_t s[4] = {1, 1, L, L};
        parity_tap_emit(ctx->tap, "pred_masks", pm, TAP_F32, 4, s, TAP_AS_SHAPED);
        parity_tap_end(ctx->tap);
    }
    free(pm);
    ds->next++;
}

static int on_demo_yield(void *user, const sam2_frame_result *res) {
    demo_state *ds = user;
    if (ds->next >= ds->last) {
        parity_report_fail(ds->ctx->report, "demo flow", "video/demo", "more frames than recorded");
        return 1;
    }
    compare_response(ds, res);
    return 0;
}

static int run_demo(parity_ctx *ctx, const golden_folder *f) {
    sam2_error err = {0};
    if (ensure_frames(ctx, f->name)) return 0;
    if (!f->responses || !cJSON_IsArray(f->responses)) {
        parity_report_fail(ctx->report, "golden data", f->name, "responses missing");
        return 0;
    }
    sam2_tracker *t = new_tracker(ctx, &err);
    if (!t) {
        parity_report_fail(ctx->report, "model", f->name, "tracker: %s", err.message);
        return 0;
    }
    demo_state ds = {ctx, t, f, f->responses, 0, cJSON_GetArraySize(f->responses)};
    while (ds.next < ds.last) {
        const cJSON *req =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(f->responses, ds.next), "request");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(req, "type");
        char where[64];
        snprintf(where, sizeof where, "video/demo/r%02d", ds.next);
        if (cJSON_IsString(type) && !strcmp(type->valuestring, "add_points")) {
            sam2_point pts[64];
            const int np = read_points(cJSON_GetObjectItemCaseSensitive(req, "points"),
                                       cJSON_GetObjectItemCaseSensitive(req, "labels"), pts, 64);
            sam2_frame_result res;
            const int clear_old =
                !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(req, "clear_old_points"));
            if (np < 0 || sam2_tracker_add_prompt(
                              t, cJSON_GetObjectItemCaseSensitive(req, "frame_index")->valueint,
                              cJSON_GetObjectItemCaseSensitive(req, "object_id")->valueint,
                              &(sam2_prompt){.points = pts,
                                             .n_points = np,
                                             .keep_old_points = !clear_old,
                                             .normalized = 1},
                              &res, &err)) {
                parity_report_fail(ctx->report, "demo flow", where, "add_prompt: %s",
                                   np < 0 ? "bad points" : err.message);
                ds.next++;
                continue;
            }
            compare_response(&ds, &res);
        } else if (cJSON_IsString(type) && !strcmp(type->valuestring, "propagate_in_video")) {
            const cJSON *dir = cJSON_GetObjectItemCaseSensitive(req, "direction");
            const int rev = cJSON_IsString(dir) && !strcmp(dir->valuestring, "reverse");
            const int start = cJSON_GetObjectItemCaseSensitive(req, "start_frame_index")->valueint;
            int last = ds.next;
            while (last < ds.last) {
                const cJSON *r2 = cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetArrayItem(f->responses, last), "request");
                const cJSON *t2 = cJSON_GetObjectItemCaseSensitive(r2, "type");
                const cJSON *d2 = cJSON_GetObjectItemCaseSensitive(r2, "direction");
                if (!cJSON_IsString(t2) || strcmp(t2->valuestring, "propagate_in_video") ||
                    !cJSON_IsString(d2) || !cJSON_IsString(dir) ||
                    strcmp(d2->valuestring, dir->valuestring))
                    break;
                last++;
            }
            const int saved_last = ds.last, first = ds.next;
            ds.last = last;
            if (sam2_tracker_propagate(t, start, -1, rev, on_demo_yield, &ds, &err))
                parity_report_fail(ctx->report, "demo flow", where, "propagate: %s", err.message);
            if (ds.next != last)
                parity_report_fail(ctx->report, "demo flow", where, "%d frames, recorded %d",
                                   ds.next - first, last - first);
            ds.next = last;
            ds.last = saved_last;
        } else {
            parity_report_fail(ctx->report, "demo flow", where, "unknown request type");
            ds.next++;
        }
    }
    sam2_tracker_free(t);
    return 0;
}

int parity_run_video(parity_ctx *ctx, const char *folder) {
    if (parity_load_model(ctx)) return 1;
    sam2_error err = {0};
    golden_folder f;
    if (golden_folder_open(ctx->golden, folder, &f, &err)) {
        parity_report_fail(ctx->report, "golden data", folder, "%s", err.message);
        return 0;
    }
    switch (f.kind) {
    case GOLDEN_FOLDER_VIDEO_FRAMES:
        run_frames(ctx, &f);
        break;
    case GOLDEN_FOLDER_VIDEO_API:
        run_api(ctx, &f);
        break;
    case GOLDEN_FOLDER_VIDEO_DEMO:
        run_demo(ctx, &f);
        break;
    default:
        parity_report_fail(ctx->report, "golden data", folder, "unknown video folder kind");
    }
    golden_folder_close(&f);
    return 0;
}
