/* One model step of the video tracker: SAM2Base.track_step and the pieces of
 * SAM2VideoPredictor._run_single_frame_inference around it (bfloat16 memory storage, hole
 * filling), for one object on one frame. */
#include "core/error.h"
#include "core/platform.h"
#include "model/mask_decoder.h"
#include "model/memory_attention.h"
#include "model/memory_encoder.h"
#include "model/perceiver.h"
#include "model/layers.h"
#include "model/position_encoding.h"
#include "model/prompt_encoder.h"
#include "predict/tracker_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NO_OBJ_SCORE (-1024.0f)

uint16_t float_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest even */
    return (uint16_t)(u >> 16);
}

float bf16_to_float(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- image features ---- */

const image_features *tracker_features(sam2_tracker *t, int frame, sam2_error *err) {
    feature_slot *victim = &t->feat[0];
    for (int i = 0; i < t->feat_slots; i++) {
        feature_slot *s = &t->feat[i];
        if (s->frame == frame) {
            s->used = ++t->feat_clock;
            return &s->f;
        }
        if (s->frame < 0 || s->used < victim->used) victim = s;
    }
    /* The frame goes into the slot's own storage (see feature_slot): its features are dead. */
    victim->frame = -1;
    float *frame_chw = victim->storage;
    if (t->src.load(t->src.user, frame, t->S, frame_chw, err)) return NULL;
    victim->memattn_frame_valid = false;
    /* The encoder's temporaries share the step arena: both callers reset it right after, and
     * one arena sized for the larger stage holds a fraction of two. */
    arena_reset(&t->step_arena);
    /* A frame stopped part of the way is not cached: the slot stays empty (frame -1). */
    int rc =
        image_encoder_forward(t->net, frame_chw, &victim->f, &t->step_arena, NULL, t->checking);
    platform_mem_probe("image encoder (arena high water)", (int64_t)t->step_arena.high_water);
    arena_reset(&t->step_arena);
    if (rc == CANCEL_STOPPED) {
        sam2_fail(err, SAM2_ERR_CANCELLED, "propagation cancelled in frame %d", frame);
        return NULL;
    }
    if (rc) {
        sam2_fail(err, SAM2_ERR_NOMEM, "image encoder failed on frame %d", frame);
        return NULL;
    }
    victim->frame = frame;
    victim->used = ++t->feat_clock;
    return &victim->f;
}

void tracker_features_touch(sam2_tracker *t, int frame) {
    for (int i = 0; i < t->feat_slots; i++)
        if (t->feat[i].frame == frame) t->feat[i].used = ++t->feat_clock;
}

/* ---- small helpers ---- */

void tracker_video_res(const sam2_tracker *t, const float *low_res, float *out) {
    t->net->be->resize_bilinear(out, low_res, 1, t->L, t->L, t->height, t->width, 0);
}

void fill_holes(float *logits, int H, int W, int max_area, int32_t *work) {
    /* work: H*W labels (0 unvisited) + H*W stack */
    int32_t *label = work, *stack = work + (size_t)H * W;
    memset(label, 0, sizeof(int32_t) * (size_t)H * W);
    int next = 0;
    for (int start = 0; start < H * W; start++) {
        if (label[start] || logits[start] > 0.0f) continue;
        /* Flood the background component (8-connectivity) and count its area. */
        int sp = 0, area = 0, id = ++next, head = 0;
        stack[sp++] = start;
        label[start] = id;
        /* The stack doubles as the component's member list: members are stack[0..area). */
        while (head < sp) {
            int p = stack[head++];
            area++;
            int y = p / W, x = p % W;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int yy = y + dy, xx = x + dx;
                    if ((dy | dx) == 0 || yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                    int q = yy * W + xx;
                    if (label[q] || logits[q] > 0.0f) continue;
                    label[q] = id;
                    stack[sp++] = q;
                }
        }
        if (area <= max_area)
            for (int i = 0; i < sp; i++) logits[stack[i]] = 0.1f;
    }
}

/* obj_ptr_proj: MLP (3 layers, ReLU), a Linear, or the identity. */
static int project_obj_ptr(sam2_tracker *t, const float *token, float *out) {
    const sam2_net *net = t->net;
    const int d = t->d;
    if (net->w.obj_ptr_proj_layers == 0) {
        memcpy(out, token, sizeof(float) * d);
        return 0;
    }
    return mlp_forward(net->be, out, token, 1, net->w.obj_ptr_proj, net->w.obj_ptr_proj_layers, d,
                       d, d, ACT_RELU, false, &t->step_arena);
}

/* Mixes in the learned no-object pointer by the object-presence weight. */
static void no_obj_ptr_mix(const sam2_tracker *t, float *ptr, float lambda) {
    const sam2_config *c = &t->net->cfg;
    if (!c->pred_obj_scores || !t->net->w.no_obj_ptr) return;
    for (int i = 0; i < t->d; i++) {
        float v = c->fixed_no_obj_ptr ? lambda * ptr[i] : ptr[i];
        ptr[i] = v + (1.0f - lambda) * t->net->w.no_obj_ptr[i];
    }
}

typedef struct heads_out {
    float *low_res;  /* [L*L] chosen mask */
    float *high_res; /* [S*S] chosen mask upsampled */
    float *obj_ptr;  /* [d] */
    float score;
} heads_out;

/* SAM2Base._forward_sam_heads for one object. backbone [P][d]; points may be NULL (a padding
 * point is used); mask_in [L*L] may be NULL. */
static int sam_heads(sam2_tracker *t, const float *backbone, const image_features *f,
                     const point_set *points, const float *mask_in, bool multimask, heads_out *ho,
                     sam2_error *err) {
    const sam2_net *net = t->net;
    const sam2_config *c = &net->cfg;
    const int d = t->d, L = t->L, E = t->E;
    arena *a = &t->step_arena;
    const int n = points ? points->n : 1;
    float dummy_xy[2] = {0.0f, 0.0f};
    int dummy_label = -1;
    float *sparse = arena_floats(a, (size_t)(n + 1) * d, 0);
    float *dense = mask_in ? arena_floats(a, (size_t)E * E * d, 0) : NULL;
    float *all = arena_floats(a, (size_t)4 * L * L, 0);
    float *tokens = arena_floats(a, (size_t)4 * d, 0);
    if (!sparse || (mask_in && !dense) || !all || !tokens) goto oom;
    if (prompt_encode_points(net, points ? points->xy : dummy_xy,
                             points ? points->labels : &dummy_label, n, sparse) != 0)
        goto oom;
    if (mask_in && prompt_encode_mask(net, mask_in, dense)) goto oom;
    mask_decoder_in din = {.image_embed = backbone,
                           .high_res = {f->fpn[0], f->fpn[1]},
                           .sparse = sparse,
                           .n_sparse = n + 1,
                           .dense = dense,
                           .multimask = multimask};
    mask_decoder_out dout = {.all_masks = all, .mask_tokens_out = tokens};
    if (mask_decoder_forward(net, &din, &dout, a, t->tap)) goto oom;
    ho->score = dout.object_score;
    const bool present = !c->pred_obj_scores || dout.object_score > 0.0f;
    int best = 0;
    for (int i = 1; i < dout.n_out; i++)
        if (dout.all_iou[dout.tokens[i]] > dout.all_iou[dout.tokens[best]]) best = i;
    if (t->tap) {
        /* decoder_choice: multimask, number returned, the returned tokens, best of returned */
        const int32_t choice[6] = {multimask,
                                   dout.n_out,
                                   dout.tokens[0],
                                   dout.n_out > 1 ? dout.tokens[1] : -1,
                                   dout.n_out > 2 ? dout.tokens[2] : -1,
                                   best};
        const int64_t sh[1] = {6};
        tap_emit(t->tap, "decoder_choice", choice, TAP_I32, 1, sh, TAP_AS_SHAPED);
    }
    ho->low_res = arena_floats(a, (size_t)L * L, 0);
    ho->high_res = arena_floats(a, (size_t)t->S * t->S, 0);
    ho->obj_ptr = arena_floats(a, (size_t)d, 0);
    if (!ho->low_res || !ho->high_res || !ho->obj_ptr) goto oom;
    const float *chosen = all + (size_t)dout.tokens[best] * L * L;
    for (size_t i = 0; i < (size_t)L * L; i++) ho->low_res[i] = present ? chosen[i] : NO_OBJ_SCORE;
    net->be->resize_bilinear(ho->high_res, ho->low_res, 1, L, L, t->S, t->S, 0);
    const int ptr_token = multimask && c->use_multimask_token_for_obj_ptr ? 1 + best : 0;
    if (project_obj_ptr(t, tokens + (size_t)ptr_token * d, ho->obj_ptr)) goto oom;
    float lambda = present ? 1.0f : 0.0f;
    if (c->soft_no_obj_ptr) lambda = 1.0f / (1.0f + expf(-dout.object_score));
    no_obj_ptr_mix(t, ho->obj_ptr, lambda);
    return 0;
oom:
    return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory in the SAM heads");
}

/* SAM2Base._use_mask_as_output: a mask prompt becomes the output directly. */
static int mask_as_output(sam2_tracker *t, const image_features *f, const uint8_t *mask,
                          heads_out *ho, sam2_error *err) {
    const sam2_net *net = t->net;
    const int S = t->S, L = t->L;
    arena *a = &t->step_arena;
    float *mf = arena_floats(a, (size_t)S * S, 0);
    ho->high_res = arena_floats(a, (size_t)S * S, 0);
    ho->low_res = arena_floats(a, (size_t)L * L, 0);
    ho->obj_ptr = arena_floats(a, (size_t)t->d, 1);
    if (!mf || !ho->high_res || !ho->low_res || !ho->obj_ptr)
        return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for a mask prompt");
    bool any = false;
    for (size_t i = 0; i < (size_t)S * S; i++) {
        mf[i] = mask[i] ? 1.0f : 0.0f;
        ho->high_res[i] = mf[i] * 20.0f - 10.0f;
        any |= mask[i] != 0;
    }
    net->be->resize_bilinear(ho->low_res, ho->high_res, 1, S, S, L, L, 1);
    if (net->cfg.use_obj_ptrs_in_encoder) {
        /* The pointer comes from the SAM heads on the raw features with the mask, downsampled
         * by the learned 4x4/4 convolution, as the mask prompt. */
        float *md = arena_floats(a, (size_t)L * L, 0);
        float *cs = arena_floats(a, conv2d_scratch_floats(S, S, 1, 1, 4, 4, 4, 0, 1), 0);
        if (!md || !cs) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for a mask prompt");
        net->be->conv2d(md, mf, net->w.mask_downsample.w, net->w.mask_downsample.b, S, S, 1, 1, 4,
                        4, 4, 0, 1, cs);
        heads_out tmp;
        if (sam_heads(t, f->fpn[2], f, NULL, md, false, &tmp, err)) return -1;
        memcpy(ho->obj_ptr, tmp.obj_ptr, sizeof(float) * t->d);
    }
    const float lambda = any ? 1.0f : 0.0f;
    ho->score = 20.0f * lambda - 10.0f;
    no_obj_ptr_mix(t, ho->obj_ptr, lambda);
    return 0;
}

/* ---- memory bank (SAM2Base._prepare_memory_conditioned_features) ---- */

typedef struct bank_item {
    int frame;
    int t_pos; /* memory frames: temporal slot; pointers: signed temporal distance */
    int store; /* 0 cond, 1 non-cond */
    frame_out *fo;
} bank_item;

/* select_closest_cond_frames; returns the number selected, fills sel (insertion order) and
 * marks the unselected ones. */
static int select_cond(sam2_tracker *t, const obj_state *o, int frame, int *sel, bool *unsel) {
    int *all = malloc(sizeof(int) * (size_t)t->num_frames);
    if (!all) return -1;
    int n = map_frames_in_order(t, o, MAP_COND, all);
    const int maxc = t->net->cfg.max_cond_frames_in_attn;
    memset(unsel, 0, sizeof(bool) * (size_t)t->num_frames);
    if (maxc == -1 || n <= maxc) {
        memcpy(sel, all, sizeof(int) * (size_t)n);
        free(all);
        return n;
    }
    bool *take = calloc((size_t)t->num_frames, sizeof(bool));
    if (!take) {
        free(all);
        return -1;
    }
    int before = -1, after = -1;
    for (int i = 0; i < n; i++) {
        if (all[i] < frame && (before < 0 || all[i] > before)) before = all[i];
        if (all[i] >= frame && (after < 0 || all[i] < after)) after = all[i];
    }
    /* Python builds the selected dict as: the closest before, the closest after, then the
     * remaining closest ones (stable sort by distance: ties keep insertion order). */
    int k = 0;
    if (before >= 0) take[before] = true, sel[k++] = before;
    if (after >= 0 && !take[after]) take[after] = true, sel[k++] = after;
    while (k < maxc) {
        int bi = -1;
        for (int i = 0; i < n; i++)
            if (!take[all[i]] && (bi < 0 || abs(all[i] - frame) < abs(all[bi] - frame))) bi = i;
        if (bi < 0) break;
        take[all[bi]] = true;
        sel[k++] = all[bi];
    }
    for (int i = 0; i < n; i++)
        if (!take[all[i]]) unsel[all[i]] = true;
    free(take);
    free(all);
    return k;
}

/* Memory attention's frame part for the features f into out [P][d]: computed once per cached
 * frame and copied for every further object on it (it does not depend on the memory).
 * 0, or what memory_attention_frame_part returns. */
static int memattn_frame_part(sam2_tracker *t, const image_features *f, float *out) {
    const sam2_net *net = t->net;
    const size_t n = (size_t)t->P * t->d;
    feature_slot *slot = NULL;
    for (int i = 0; i < t->feat_slots; i++)
        if (&t->feat[i].f == f) slot = &t->feat[i];
    if (slot && !slot->memattn_frame) slot->memattn_frame = malloc(sizeof(float) * n);
    if (!slot || !slot->memattn_frame) /* not cached (or no memory for it): compute in place */
        return memory_attention_frame_part(net, f->fpn[2], net->neck_pos[2], out, &t->step_arena);
    if (!slot->memattn_frame_valid) {
        int rc = memory_attention_frame_part(net, f->fpn[2], net->neck_pos[2], slot->memattn_frame,
                                             &t->step_arena);
        if (rc) return rc;
        slot->memattn_frame_valid = true;
    }
    memcpy(out, slot->memattn_frame, sizeof(float) * n);
    return 0;
}

static int memory_conditioned(sam2_tracker *t, obj_state *o, const step_request *req,
                              const image_features *f, float *pix, sam2_error *err) {
    const sam2_net *net = t->net;
    const sam2_config *c = &net->cfg;
    const int P = t->P, d = t->d, md = t->md, frame = req->frame, nf = t->num_frames;
    const bool rev = req->reverse;
    arena *a = &t->step_arena;

    int *sel = malloc(sizeof(int) * (size_t)nf);
    bool *unsel = malloc(sizeof(bool) * (size_t)nf);
    bank_item *mem = malloc(sizeof(bank_item) * (size_t)(nf + c->num_maskmem));
    bank_item *ptr = malloc(sizeof(bank_item) * (size_t)(nf + c->max_obj_ptrs_in_encoder));
    int rc = -1;
    if (!sel || !unsel || !mem || !ptr) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory assembling the memory bank");
        goto done;
    }
    int nsel = select_cond(t, o, frame, sel, unsel);
    if (nsel < 0) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory assembling the memory bank");
        goto done;
    }
    int nmem = 0, nptr = 0;
    for (int i = 0; i < nsel; i++)
        mem[nmem++] = (bank_item){sel[i], 0, 0, map_get(o, MAP_COND, sel[i])};
    const int stride = c->memory_temporal_stride_for_eval;
    for (int t_pos = 1; t_pos < c->num_maskmem; t_pos++) {
        const int t_rel = c->num_maskmem - t_pos;
        int prev;
        if (t_rel == 1)
            prev = rev ? frame + 1 : frame - 1;
        else if (!rev) {
            int base = frame - 2;
            base = (base >= 0 ? base / stride : -((-base + stride - 1) / stride)) * stride;
            prev = base - (t_rel - 2) * stride;
        } else {
            int base = frame + 2;
            base = ((base + stride - 1) / stride) * stride;
            prev = base + (t_rel - 2) * stride;
        }
        if (prev < 0 || prev >= nf) continue;
        frame_out *fo = map_get(o, MAP_NONCOND, prev);
        int store = 1;
        if (!fo && unsel[prev]) fo = map_get(o, MAP_COND, prev), store = 0;
        if (fo) mem[nmem++] = (bank_item){prev, t_pos, store, fo};
    }
    if (c->use_obj_ptrs_in_encoder) {
        const int max_ptrs = nf < c->max_obj_ptrs_in_encoder ? nf : c->max_obj_ptrs_in_encoder;
        for (int i = 0; i < nsel; i++) {
            const int tf = sel[i];
            if (c->only_obj_ptrs_in_the_past_for_eval && (rev ? tf < frame : tf > frame)) continue;
            const int pos = c->use_signed_tpos_enc_to_obj_ptrs ? (frame - tf) * (rev ? -1 : 1)
                                                               : abs(frame - tf);
            ptr[nptr++] = (bank_item){tf, pos, 0, map_get(o, MAP_COND, tf)};
        }
        for (int t_diff = 1; t_diff < max_ptrs; t_diff++) {
            const int tf = rev ? frame + t_diff : frame - t_diff;
            if (tf < 0 || tf >= nf) break;
            frame_out *fo = map_get(o, MAP_NONCOND, tf);
            int store = 1;
            if (!fo && unsel[tf]) fo = map_get(o, MAP_COND, tf), store = 0;
            if (fo) ptr[nptr++] = (bank_item){tf, t_diff, store, fo};
        }
    }

    const int split = c->mem_dim < d ? d / md : 1;
    const int MT = t->MT; /* tokens per memory frame: P, or the Perceiver's latents */
    const int M = nmem * MT + nptr * split;
    float *memory = arena_floats(a, (size_t)M * md, 0);
    float *mpos = arena_floats(a, (size_t)M * md, 0);
    if (!memory || !mpos) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory for %d memory tokens", M);
        goto done;
    }
    for (int i = 0; i < nmem; i++) {
        const uint16_t *bf = fo_maskmem(t, mem[i].fo, err);
        if (!bf) {
            if (err && !err->code)
                sam2_fail(err, SAM2_ERR_STATE, "frame %d has no memory features", mem[i].frame);
            goto done;
        }
        float *dst = memory + (size_t)i * MT * md, *pdst = mpos + (size_t)i * MT * md;
        const float *tpos =
            net->w.maskmem_tpos_enc + (size_t)(c->num_maskmem - mem[i].t_pos - 1) * md;
        const float *spos = net->perceiver_pos ? net->perceiver_pos : net->mem_pos;
        for (size_t k = 0; k < (size_t)MT * md; k++) {
            dst[k] = bf16_to_float(bf[k]);
            pdst[k] = spos[k] + tpos[k % md];
        }
    }
    if (nptr > 0) {
        const int t_diff_max =
            (nf < c->max_obj_ptrs_in_encoder ? nf : c->max_obj_ptrs_in_encoder) - 1;
        const int tpos_dim = c->proj_tpos_enc_in_obj_ptrs ? d : md;
        float *pe = arena_floats(a, (size_t)tpos_dim, 0);
        float *ppos = arena_floats(a, (size_t)md, 0);
        if (!pe || !ppos) goto done;
        for (int i = 0; i < nptr; i++) {
            float *dst = memory + ((size_t)nmem * MT + (size_t)i * split) * md;
            float *pdst = mpos + ((size_t)nmem * MT + (size_t)i * split) * md;
            memcpy(dst, ptr[i].fo->obj_ptr, sizeof(float) * (size_t)split * md);
            if (c->add_tpos_enc_to_obj_ptrs) {
                const float x = t_diff_max > 0 ? (float)ptr[i].t_pos / (float)t_diff_max : 0.0f;
                sine_pe_1d(pe, x, tpos_dim, 10000.0f);
                if (c->proj_tpos_enc_in_obj_ptrs)
                    net->be->linear(ppos, pe, net->w.obj_ptr_tpos_proj.w,
                                    net->w.obj_ptr_tpos_proj.b, 1, d, md);
                else
                    memcpy(ppos, pe, sizeof(float) * md);
            } else {
                memset(ppos, 0, sizeof(float) * md);
            }
            for (int s = 0; s < split; s++) memcpy(pdst + (size_t)s * md, ppos, sizeof(float) * md);
        }
    }
    if (t->tap) {
        /* memory_bank: (t_pos, frame, store) per memory frame, then (t_pos, frame, store) per
         * pointer, preceded by the two counts. */
        int32_t *desc = arena_alloc(a, sizeof(int32_t) * (size_t)(2 + 3 * (nmem + nptr)));
        if (desc) {
            desc[0] = nmem;
            desc[1] = nptr;
            for (int i = 0; i < nmem; i++) {
                desc[2 + 3 * i] = mem[i].t_pos;
                desc[3 + 3 * i] = mem[i].frame;
                desc[4 + 3 * i] = mem[i].store;
            }
            for (int i = 0; i < nptr; i++) {
                int32_t *p = desc + 2 + 3 * nmem + 3 * i;
                p[0] = ptr[i].t_pos;
                p[1] = ptr[i].frame;
                p[2] = ptr[i].store;
            }
            const int64_t sh[1] = {2 + 3 * (nmem + nptr)};
            tap_emit(t->tap, "memory_bank", desc, TAP_I32, 1, sh, TAP_AS_SHAPED);
        }
        const int64_t sc[3] = {P, 1, d}, sm[3] = {M, 1, md};
        tap_emit(t->tap, "memattn_curr", f->fpn[2], TAP_F32, 3, sc, TAP_AS_SHAPED);
        tap_emit(t->tap, "memattn_curr_pos", net->neck_pos[2], TAP_F32, 3, sc, TAP_AS_SHAPED);
        tap_emit(t->tap, "memattn_memory", memory, TAP_F32, 3, sm, TAP_AS_SHAPED);
        tap_emit(t->tap, "memattn_memory_pos", mpos, TAP_F32, 3, sm, TAP_AS_SHAPED);
    }
    int mrc = memattn_frame_part(t, f, pix);
    if (!mrc)
        mrc = memory_attention_memory_part(net, net->neck_pos[2], memory, mpos, M, nptr * split,
                                           pix, a, t->checking);
    if (mrc == CANCEL_STOPPED) {
        sam2_fail(err, SAM2_ERR_CANCELLED, "propagation cancelled in frame %d", frame);
        goto done;
    }
    if (mrc) {
        sam2_fail(err, mrc == -1 ? SAM2_ERR_NOMEM : SAM2_ERR_STATE,
                  "memory attention failed on frame %d", frame);
        goto done;
    }
    if (t->tap) {
        const int64_t sc[3] = {P, 1, d};
        tap_emit(t->tap, "memattn_out", pix, TAP_F32, 3, sc, TAP_AS_SHAPED);
    }
    rc = 0;
done:
    free(sel);
    free(unsel);
    free(mem);
    free(ptr);
    return rc;
}

/* ---- memory encoding ---- */

static int encode_memory(sam2_tracker *t, const image_features *f, const float *high_res,
                         bool from_points, float score, frame_out *fo, sam2_error *err) {
    const sam2_config *c = &t->net->cfg;
    const size_t n = (size_t)t->MT * t->md;
    float *mem = arena_floats(&t->step_arena, (size_t)t->P * t->md, 0);
    if (!mem) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory in the memory encoder");
    const bool binarize = c->binarize_mask_from_pts_for_mem_enc && from_points;
    if (memory_encoder_forward(t->net, f->fpn[2], high_res, binarize, score, mem, &t->step_arena))
        return sam2_fail(err, SAM2_ERR_NOMEM, "memory encoder failed");
    if (sam2_config_has_perceiver(c)) {
        /* EdgeTAM: the Perceiver compresses the memory to its latents (_encode_new_memory) */
        if (t->tap) tap_hwc(t->tap, "memenc_out_f32", mem, t->E, t->E, t->md);
        float *lat = arena_floats(&t->step_arena, n, 0);
        if (!lat || perceiver_forward(t->net, mem, t->net->mem_pos, lat, &t->step_arena, t->tap))
            return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory in the Perceiver");
        mem = lat;
        if (t->tap) {
            const int64_t sh[3] = {1, t->MT, t->md};
            tap_emit(t->tap, "maskmem_features_f32", mem, TAP_F32, 3, sh, TAP_AS_SHAPED);
        }
    } else if (t->tap) {
        tap_hwc(t->tap, "maskmem_features_f32", mem, t->E, t->E, t->md);
    }
    if (fo_add_maskmem(t, fo, err)) return -1;
    uint16_t *dst = (uint16_t *)fo->payload;
    for (size_t i = 0; i < n; i++) dst[i] = float_to_bf16(mem[i]);
    return 0;
}

int tracker_encode_memory(sam2_tracker *t, obj_state *o, int frame, frame_out *fo,
                          sam2_error *err) {
    const image_features *f = tracker_features(t, frame, err);
    if (!f) return -1;
    arena_reset(&t->step_arena);
    float *hr = arena_floats(&t->step_arena, (size_t)t->S * t->S, 0);
    if (!hr) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory in the memory encoder");
    const float *pm = fo_pred_masks(t, fo, err);
    if (!pm) return -1;
    t->net->be->resize_bilinear(hr, pm, 1, t->L, t->L, t->S, t->S, 0);
    if (t->tap) {
        const int32_t marker[3] = {1, frame, o->id};
        const int64_t sh[1] = {3};
        tap_emit(t->tap, "model_call", marker, TAP_I32, 1, sh, TAP_AS_SHAPED);
    }
    if (tap_wants_data(t->tap)) {
        /* the logits the encoder binarises: lets the parity tool find pixels within rounding
         * of 0 that landed on the other side in the golden run */
        const int64_t sh[4] = {1, 1, t->S, t->S};
        tap_emit(t->tap, "memenc_input_logits", hr, TAP_F32, 4, sh, TAP_AS_SHAPED);
    }
    int rc = encode_memory(t, f, hr, true, fo->object_score, fo, err);
    if (!rc) rc = fo_enforce_budget(t, err);
    arena_reset(&t->step_arena);
    return rc;
}

/* ---- one step ---- */

frame_out *tracker_step(sam2_tracker *t, obj_state *o, const step_request *req, sam2_error *err) {
    const sam2_net *net = t->net;
    const sam2_config *c = &net->cfg;
    const int P = t->P, d = t->d, L = t->L;
    const image_features *f = tracker_features(t, req->frame, err);
    if (!f) return NULL;
    arena *a = &t->step_arena;
    arena_reset(a);
    if (t->tap) {
        const int32_t marker[3] = {0, req->frame, o->id};
        const int64_t sh[1] = {3};
        tap_emit(t->tap, "model_call", marker, TAP_I32, 1, sh, TAP_AS_SHAPED);
        if (req->points) {
            const int64_t sp[3] = {1, req->points->n, 2};
            tap_emit(t->tap, "point_coords", req->points->xy, TAP_F32, 3, sp, TAP_AS_SHAPED);
        }
        if (req->prev_sam_mask_logits) {
            const int64_t sm[4] = {1, 1, L, L};
            tap_emit(t->tap, "prev_sam_mask_logits", req->prev_sam_mask_logits, TAP_F32, 4, sm,
                     TAP_AS_SHAPED);
        }
    }

    heads_out ho;
    if (req->mask_input && c->use_mask_input_as_output_without_sam) {
        if (mask_as_output(t, f, req->mask_input, &ho, err)) return NULL;
    } else {
        float *pix = arena_floats(a, (size_t)P * d, 0);
        if (!pix) {
            sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
            return NULL;
        }
        if (req->is_init_cond) {
            if (c->directly_add_no_mem_embed)
                add_rows(pix, f->fpn[2], net->w.no_mem_embed, P, d, 1);
            else
                memcpy(pix, f->fpn[2], sizeof(float) * (size_t)P * d);
        } else if (tracker_check_cancel(t, req->frame, err) ||
                   memory_conditioned(t, o, req, f, pix, err) ||
                   tracker_check_cancel(t, req->frame, err)) {
            return NULL;
        }
        const float *mask_in = req->prev_sam_mask_logits;
        float *resized = NULL;
        if (!mask_in && req->mask_input) {
            /* A mask prompt without use_mask_input_as_output: antialiased to the decoder's
             * mask-input size. */
            float *mf = arena_floats(a, (size_t)t->S * t->S, 0);
            resized = arena_floats(a, (size_t)L * L, 0);
            if (!mf || !resized) {
                sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
                return NULL;
            }
            for (size_t i = 0; i < (size_t)t->S * t->S; i++) mf[i] = req->mask_input[i] ? 1.f : 0.f;
            net->be->resize_bilinear(resized, mf, 1, t->S, t->S, L, L, 1);
            mask_in = resized;
        }
        const int npts = req->points ? req->points->n : 0;
        const bool multimask = c->multimask_output_in_sam &&
                               (req->is_init_cond || c->multimask_output_for_tracking) &&
                               c->multimask_min_pt_num <= npts && npts <= c->multimask_max_pt_num;
        if (sam_heads(t, pix, f, req->points, mask_in, multimask, &ho, err)) return NULL;
    }
    if (t->tap) {
        const int64_t sm[4] = {1, 1, L, L}, sp[2] = {1, d}, ss[2] = {1, 1};
        tap_emit(t->tap, "pred_masks_before_fill", ho.low_res, TAP_F32, 4, sm, TAP_AS_SHAPED);
        tap_emit(t->tap, "obj_ptr", ho.obj_ptr, TAP_F32, 2, sp, TAP_AS_SHAPED);
        tap_emit(t->tap, "object_score_logits", &ho.score, TAP_F32, 2, ss, TAP_AS_SHAPED);
    }

    /* the memory encoder is the last big stage of a tracked frame */
    if (req->run_mem_encoder && tracker_check_cancel(t, req->frame, err)) return NULL;
    frame_out *fo = fo_new(t, false, err);
    if (!fo) return NULL;
    fo->object_score = ho.score;
    memcpy(fo->obj_ptr, ho.obj_ptr, sizeof(float) * d);
    if (req->run_mem_encoder && c->num_maskmem > 0 &&
        encode_memory(t, f, ho.high_res, req->points != NULL, ho.score, fo, err)) {
        fo_free(t, fo);
        return NULL;
    }
    float *pm = fo_pred_masks(t, fo, err);
    if (!pm) {
        fo_free(t, fo);
        return NULL;
    }
    memcpy(pm, ho.low_res, sizeof(float) * (size_t)L * L);
    if (c->fill_hole_area > 0) {
        int32_t *work = arena_alloc(a, sizeof(int32_t) * 2 * (size_t)L * L);
        if (!work) {
            fo_free(t, fo);
            sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
            return NULL;
        }
        fill_holes(pm, L, L, c->fill_hole_area, work);
    }
    if (fo_enforce_budget(t, err)) {
        fo_free(t, fo);
        return NULL;
    }
    platform_mem_probe("step (arena high water)", (int64_t)a->high_water);
    arena_reset(a);
    return fo;
}
