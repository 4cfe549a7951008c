/* Host side of the Vulkan kernels: argument checks, operand extents, push constants and
 * workgroup counts for the shaders in shaders/ (each shader's header says what it computes). */
#include "core/resize_weights.h"
#include "core/vulkan/vulkan_internal.h"
#include "core/vulkan/vulkan_ops.h"

#include <math.h>
#include <string.h>

/* Floats an operand reaches from its start: the largest offset plus one (0 when empty). */
static size_t span(uint64_t count0, uint64_t stride0, uint64_t count1, uint64_t stride1,
                   uint64_t count2, uint64_t stride2, uint64_t last) {
    if (!count0 || !count1 || !count2 || !last) return 0;
    return (size_t)((count0 - 1) * stride0 + (count1 - 1) * stride1 + (count2 - 1) * stride2 +
                    last);
}

static int bad_args(vulkan_stream *s, const char *op, int ok) {
    if (!ok) vulkan_stream_fail(s, SAM2_ERR_ARGUMENT, "Vulkan %s: invalid sizes or strides", op);
    return !ok;
}

static vulkan_operand operand(vulkan_ref r, size_t extent) {
    vulkan_operand o = {r, extent, 0};
    return o;
}

static uint32_t dtype_bytes(vulkan_dtype t) {
    return t == VULKAN_U8 ? 1u : (t == VULKAN_F16 || t == VULKAN_BF16) ? 2u : 4u;
}

/* An absent operand (a missing bias): binds `like`, reads nothing. */
static vulkan_operand absent_or(vulkan_ref r, size_t extent, vulkan_ref like) {
    return r.buf ? operand(r, extent) : operand(like, 0);
}

static void groups_1d(vulkan_stream *s, uint64_t items, uint32_t per_group, uint32_t g[3]) {
    vulkan_groups_1d(vulkan_stream_device(s), items, per_group, g);
}

static uint32_t ceil_div(uint64_t a, uint64_t b) {
    return (uint32_t)((a + b - 1) / b);
}

/* --- GEMM -------------------------------------------------------------------------------- */

static size_t matrix_extent(vulkan_matrix m, int batch, int rows, int cols) {
    return span((uint64_t)batch, m.bs, (uint64_t)rows, m.rs, 1, 0,
                cols > 0 ? (uint64_t)(cols - 1) * m.cs + 1 : 0);
}

void vulkan_gemm_batched(vulkan_stream *s, int batch, int M, int N, int K, float alpha,
                         vulkan_matrix A, vulkan_matrix B, float beta, vulkan_matrix C,
                         vulkan_ref bias) {
    if (bad_args(s, "gemm", batch >= 0 && M >= 0 && N >= 0 && K >= 0 && batch <= 65535)) return;
    if (!batch || !M || !N) return;
    struct {
        uint32_t M, N, K, flags, a_rs, a_cs, a_bs, b_rs, b_cs, b_bs, c_rs, c_cs, c_bs;
        float alpha, beta;
    } p = {(uint32_t)M, (uint32_t)N, (uint32_t)K, (bias.buf ? 1u : 0u) | (beta != 0.0f ? 2u : 0u),
           A.rs,        A.cs,        A.bs,        B.rs,
           B.cs,        B.bs,        C.rs,        C.cs,
           C.bs,        alpha,       beta};
    const vulkan_operand ops[4] = {
        operand(A.at, K ? matrix_extent(A, batch, M, K) : 0),
        operand(B.at, K ? matrix_extent(B, batch, K, N) : 0),
        operand(C.at, matrix_extent(C, batch, M, N)),
        absent_or(bias, (size_t)N, C.at),
    };
    const uint32_t groups[3] = {ceil_div((uint64_t)N, 64), ceil_div((uint64_t)M, 64),
                                (uint32_t)batch};
    vulkan_dispatch(s, VULKAN_KERNEL_GEMM, ops, &p, sizeof p, groups);
}

void vulkan_gemm(vulkan_stream *s, int trans_a, int trans_b, int M, int N, int K, float alpha,
                 vulkan_ref A, int lda, vulkan_ref B, int ldb, float beta, vulkan_ref C, int ldc) {
    if (bad_args(s, "gemm", lda >= 0 && ldb >= 0 && ldc >= 0)) return;
    const vulkan_matrix a = {A, trans_a ? 1u : (uint32_t)lda, trans_a ? (uint32_t)lda : 1u, 0};
    const vulkan_matrix b = {B, trans_b ? 1u : (uint32_t)ldb, trans_b ? (uint32_t)ldb : 1u, 0};
    const vulkan_matrix c = {C, (uint32_t)ldc, 1u, 0};
    vulkan_gemm_batched(s, 1, M, N, K, alpha, a, b, beta, c, VULKAN_NONE);
}

void vulkan_linear_rows(vulkan_stream *s, vulkan_ref out, int ld_out, vulkan_ref in, int ld_in,
                        vulkan_ref w, vulkan_ref b, int N, int IC, int OC) {
    if (bad_args(s, "linear", N >= 0 && IC >= 0 && OC >= 0 && ld_in >= IC && ld_out >= OC)) return;
    const vulkan_matrix a = {in, (uint32_t)ld_in, 1u, 0};
    const vulkan_matrix wt = {w, 1u, (uint32_t)IC, 0}; /* W^T: element (k, o) = w[o][k] */
    const vulkan_matrix c = {out, (uint32_t)ld_out, 1u, 0};
    vulkan_gemm_batched(s, 1, N, OC, IC, 1.0f, a, wt, 0.0f, c, b);
}

void vulkan_linear(vulkan_stream *s, vulkan_ref out, vulkan_ref in, vulkan_ref w, vulkan_ref b,
                   int N, int IC, int OC) {
    vulkan_linear_rows(s, out, OC, in, IC, w, b, N, IC, OC);
}

/* --- attention --------------------------------------------------------------------------- */

static size_t attn_extent(vulkan_attn_operand o, int nwin, int heads, int rows, int cols) {
    return span((uint64_t)nwin, o.ws, (uint64_t)heads, o.hs, (uint64_t)rows, o.ld, (uint64_t)cols);
}

void vulkan_attention_general(vulkan_stream *s, vulkan_attn_operand out, vulkan_attn_operand q,
                              vulkan_attn_operand k, vulkan_attn_operand v, int nwin, int heads,
                              int Lq, int Lk, int D, int Dv) {
    if (bad_args(s, "attention",
                 nwin >= 0 && heads > 0 && heads <= 65535 && Lq >= 0 && Lk > 0 && D > 0 && Dv > 0 &&
                     Lq <= 65535 * 32)) {
        return;
    }
    if (!nwin || !Lq) return;
    const uint32_t max_y = vulkan_stream_device(s)->max_groups[1];
    /* Windows per dispatch so that windows x heads fits the device's y limit. */
    const int per = (int)(max_y / (uint32_t)heads) > 0 ? (int)(max_y / (uint32_t)heads) : 1;
    for (int w0 = 0; w0 < nwin; w0 += per) {
        const int nw = nwin - w0 < per ? nwin - w0 : per;
        vulkan_attn_operand qo = q, ko = k, vo = v, oo = out;
        qo.at = vulkan_at(q.at, (size_t)w0 * q.ws);
        ko.at = vulkan_at(k.at, (size_t)w0 * k.ws);
        vo.at = vulkan_at(v.at, (size_t)w0 * v.ws);
        oo.at = vulkan_at(out.at, (size_t)w0 * out.ws);
        struct {
            uint32_t Lq, Lk, D, Dv, heads;
            float scale;
            uint32_t q_ld, q_ws, q_hs, k_ld, k_ws, k_hs, v_ld, v_ws, v_hs, o_ld, o_ws, o_hs;
        } p = {(uint32_t)Lq,
               (uint32_t)Lk,
               (uint32_t)D,
               (uint32_t)Dv,
               (uint32_t)heads,
               (float)(1.0 / sqrt((double)D)),
               q.ld,
               q.ws,
               q.hs,
               k.ld,
               k.ws,
               k.hs,
               v.ld,
               v.ws,
               v.hs,
               out.ld,
               out.ws,
               out.hs};
        const vulkan_operand ops[4] = {
            operand(qo.at, attn_extent(q, nw, heads, Lq, D)),
            operand(ko.at, attn_extent(k, nw, heads, Lk, D)),
            operand(vo.at, attn_extent(v, nw, heads, Lk, Dv)),
            operand(oo.at, attn_extent(out, nw, heads, Lq, Dv)),
        };
        const uint32_t groups[3] = {ceil_div((uint64_t)Lq, 32), (uint32_t)(nw * heads),
                                    ceil_div((uint64_t)Dv, 128)};
        vulkan_dispatch(s, VULKAN_KERNEL_ATTENTION, ops, &p, sizeof p, groups);
    }
}

static vulkan_attn_operand attn_rows(vulkan_ref r, int ld) {
    vulkan_attn_operand o = {r, (uint32_t)ld, 0, 0};
    return o;
}

void vulkan_attention_dv(vulkan_stream *s, vulkan_ref out, int ldo, vulkan_ref q, int ldq,
                         vulkan_ref k, int ldk, vulkan_ref v, int ldv, int Lq, int Lk, int D,
                         int Dv) {
    if (bad_args(s, "attention", ldo >= 0 && ldq >= 0 && ldk >= 0 && ldv >= 0)) return;
    vulkan_attention_general(s, attn_rows(out, ldo), attn_rows(q, ldq), attn_rows(k, ldk),
                             attn_rows(v, ldv), 1, 1, Lq, Lk, D, Dv);
}

void vulkan_attention(vulkan_stream *s, vulkan_ref out, int ldo, vulkan_ref q, int ldq,
                      vulkan_ref k, int ldk, vulkan_ref v, int ldv, int Lq, int Lk, int D) {
    vulkan_attention_dv(s, out, ldo, q, ldq, k, ldk, v, ldv, Lq, Lk, D, D);
}

void vulkan_attention_batched(vulkan_stream *s, vulkan_ref out, int ldo, vulkan_ref q, int ldq,
                              vulkan_ref k, int ldk, vulkan_ref v, int ldv, int nwin, int heads,
                              int Lq, int Lk, int D) {
    if (bad_args(s, "attention",
                 ldo >= 0 && ldq >= 0 && ldk >= 0 && ldv >= 0 && Lq >= 0 && Lk >= 0 && D >= 0)) {
        return;
    }
    const vulkan_attn_operand o = {out, (uint32_t)ldo, (uint32_t)(Lq * ldo), (uint32_t)D};
    const vulkan_attn_operand qo = {q, (uint32_t)ldq, (uint32_t)(Lq * ldq), (uint32_t)D};
    const vulkan_attn_operand ko = {k, (uint32_t)ldk, (uint32_t)(Lk * ldk), (uint32_t)D};
    const vulkan_attn_operand vo = {v, (uint32_t)ldv, (uint32_t)(Lk * ldv), (uint32_t)D};
    vulkan_attention_general(s, o, qo, ko, vo, nwin, heads, Lq, Lk, D, D);
}

/* --- convolutions ------------------------------------------------------------------------ */

void vulkan_conv2d(vulkan_stream *s, vulkan_ref out, vulkan_ref in, vulkan_ref w, vulkan_ref b,
                   int H, int W, int IC, int OC, int KH, int KW, int stride, int pad, int groups) {
    if (bad_args(s, "conv2d",
                 H > 0 && W > 0 && IC > 0 && OC > 0 && KH > 0 && KW > 0 && stride > 0 && pad >= 0 &&
                     groups > 0 && groups <= 65535 && IC % groups == 0 && OC % groups == 0 &&
                     H + 2 * pad >= KH && W + 2 * pad >= KW)) {
        return;
    }
    const int OH = (H + 2 * pad - KH) / stride + 1, OW = (W + 2 * pad - KW) / stride + 1;
    const size_t in_n = (size_t)H * W * IC, out_n = (size_t)OH * OW * OC;
    const size_t w_n = (size_t)OC * (IC / groups) * KH * KW;
    const vulkan_operand ops[4] = {operand(in, in_n), operand(w, w_n), operand(out, out_n),
                                   absent_or(b, (size_t)OC, out)};
    const uint32_t flags = b.buf ? 1u : 0u;
    if (groups == IC && IC == OC && groups > 1) {
        const uint32_t p[10] = {
            (uint32_t)H,      (uint32_t)W,   (uint32_t)IC, (uint32_t)KH, (uint32_t)KW,
            (uint32_t)stride, (uint32_t)pad, (uint32_t)OH, (uint32_t)OW, flags};
        uint32_t g[3];
        groups_1d(s, out_n, 256, g);
        vulkan_dispatch(s, VULKAN_KERNEL_CONV_DEPTHWISE, ops, p, sizeof p, g);
        return;
    }
    const uint32_t p[12] = {(uint32_t)H,      (uint32_t)W,  (uint32_t)IC,     (uint32_t)OC,
                            (uint32_t)KH,     (uint32_t)KW, (uint32_t)stride, (uint32_t)pad,
                            (uint32_t)groups, (uint32_t)OH, (uint32_t)OW,     flags};
    const uint32_t g[3] = {ceil_div((uint64_t)(OC / groups), 64), ceil_div((uint64_t)OH * OW, 64),
                           (uint32_t)groups};
    vulkan_dispatch(s, VULKAN_KERNEL_CONV2D, ops, p, sizeof p, g);
}

void vulkan_conv_transpose2x2(vulkan_stream *s, vulkan_ref out, vulkan_ref in, vulkan_ref w,
                              vulkan_ref b, int H, int W, int IC, int OC) {
    if (bad_args(s, "conv_transpose2x2", H > 0 && W > 0 && IC > 0 && OC > 0 && H <= 65535)) return;
    /* Each output pixel (2y + ky, 2x + kx) has one input pixel (y, x): per tap (ky, kx), a GEMM
     * over the input rows y (batch) writing every other output pixel. */
    for (int tap = 0; tap < 4; tap++) {
        const int ky = tap / 2, kx = tap % 2;
        const vulkan_matrix a = {in, (uint32_t)IC, 1u, (uint32_t)(W * IC)};
        const vulkan_matrix wm = {vulkan_at(w, (size_t)tap), (uint32_t)(4 * OC), 4u, 0};
        const vulkan_matrix c = {vulkan_at(out, ((size_t)ky * 2 * W + kx) * OC), (uint32_t)(2 * OC),
                                 1u, (uint32_t)(4 * W * OC)};
        vulkan_gemm_batched(s, H, W, OC, IC, 1.0f, a, wm, 0.0f, c, b);
    }
}

/* --- rows ---------------------------------------------------------------------------------- */

void vulkan_layernorm_rows(vulkan_stream *s, vulkan_ref out, int ld_out, vulkan_ref in, int ld_in,
                           vulkan_ref w, vulkan_ref b, int N, int C, float eps) {
    if (bad_args(s, "layernorm", N >= 0 && C > 0 && ld_out >= C && ld_in >= C)) return;
    if (!N) return;
    const struct {
        uint32_t N, C, ld_in, ld_out, flags;
        float eps;
    } p = {(uint32_t)N,
           (uint32_t)C,
           (uint32_t)ld_in,
           (uint32_t)ld_out,
           (w.buf ? 1u : 0u) | (b.buf ? 2u : 0u),
           eps};
    const vulkan_operand ops[4] = {
        operand(in, span((uint64_t)N, (uint64_t)ld_in, 1, 0, 1, 0, (uint64_t)C)),
        operand(out, span((uint64_t)N, (uint64_t)ld_out, 1, 0, 1, 0, (uint64_t)C)),
        absent_or(w, (size_t)C, in), absent_or(b, (size_t)C, in)};
    uint32_t g[3];
    groups_1d(s, (uint64_t)N, 1, g);
    vulkan_dispatch(s, VULKAN_KERNEL_LAYERNORM, ops, &p, sizeof p, g);
}

void vulkan_layernorm(vulkan_stream *s, vulkan_ref out, vulkan_ref in, vulkan_ref w, vulkan_ref b,
                      int N, int C, float eps) {
    vulkan_layernorm_rows(s, out, C, in, C, w, b, N, C, eps);
}

void vulkan_softmax_rows_strided(vulkan_stream *s, vulkan_ref out, int ld_out, vulkan_ref in,
                                 int ld_in, int rows, int cols) {
    if (bad_args(s, "softmax", rows >= 0 && cols > 0 && ld_out >= cols && ld_in >= cols)) return;
    if (!rows) return;
    const uint32_t p[4] = {(uint32_t)rows, (uint32_t)cols, (uint32_t)ld_in, (uint32_t)ld_out};
    const vulkan_operand ops[2] = {
        operand(in, span((uint64_t)rows, (uint64_t)ld_in, 1, 0, 1, 0, (uint64_t)cols)),
        operand(out, span((uint64_t)rows, (uint64_t)ld_out, 1, 0, 1, 0, (uint64_t)cols))};
    uint32_t g[3];
    groups_1d(s, (uint64_t)rows, 1, g);
    vulkan_dispatch(s, VULKAN_KERNEL_SOFTMAX, ops, p, sizeof p, g);
}

void vulkan_softmax_rows(vulkan_stream *s, vulkan_ref x, int rows, int cols) {
    vulkan_softmax_rows_strided(s, x, cols, x, cols, rows, cols);
}

/* --- element-wise and layout ------------------------------------------------------------- */

vulkan_view vulkan_view_flat(vulkan_ref r, size_t n) {
    vulkan_view v = {r, {1, 1, 1, (uint32_t)n}, {0, 0, 0, 1}, VULKAN_F32};
    return v;
}

vulkan_view vulkan_view_rows(vulkan_ref r, int rows, int cols, int ld) {
    vulkan_view v = {
        r, {1, 1, (uint32_t)rows, (uint32_t)cols}, {0, 0, (uint32_t)ld, 1}, VULKAN_F32};
    return v;
}

static uint64_t view_count(const uint32_t shape[4]) {
    return (uint64_t)shape[0] * shape[1] * shape[2] * shape[3];
}

static size_t view_extent(const uint32_t shape[4], const uint32_t stride[4]) {
    if (!view_count(shape)) return 0;
    uint64_t last = 0;
    for (int d = 0; d < 4; d++) last += (uint64_t)(shape[d] - 1) * stride[d];
    return (size_t)(last + 1);
}

void vulkan_unary(vulkan_stream *s, vulkan_view out, vulkan_view in, vulkan_unary_fn fn, float a,
                  float b, float scale, float shift) {
    const uint64_t n = view_count(in.shape);
    if (bad_args(s, "unary", n < (1ull << 32) && in.dtype <= VULKAN_U8 && out.dtype <= VULKAN_U8))
        return;
    if (!n) return;
    struct {
        uint32_t n[4], is[4], os[4], fn, types;
        float a, b, scale, shift;
    } p;
    memcpy(p.n, in.shape, sizeof p.n);
    memcpy(p.is, in.stride, sizeof p.is);
    memcpy(p.os, out.stride, sizeof p.os);
    p.fn = (uint32_t)fn;
    p.types = (uint32_t)in.dtype | (uint32_t)out.dtype << 8;
    p.a = a, p.b = b, p.scale = scale, p.shift = shift;
    const vulkan_operand ops[2] = {
        {in.at, fn == VULKAN_FILL ? 0 : view_extent(in.shape, in.stride), dtype_bytes(in.dtype)},
        {out.at, view_extent(in.shape, out.stride), dtype_bytes(out.dtype)}};
    uint32_t g[3];
    groups_1d(s, n, 256, g);
    vulkan_dispatch(s, VULKAN_KERNEL_UNARY, ops, &p, sizeof p, g);
}

void vulkan_convert(vulkan_stream *s, vulkan_view out, vulkan_view in) {
    vulkan_unary(s, out, in, VULKAN_IDENTITY, 0, 0, 1, 0);
}

void vulkan_fill_view(vulkan_stream *s, vulkan_view out, float value) {
    vulkan_view in = out;
    in.dtype = VULKAN_F32;
    in.at.offset -= in.at.offset % 4; /* not read; any aligned address */
    vulkan_unary(s, out, in, VULKAN_FILL, value, 0, 1, 0);
}

void vulkan_binary(vulkan_stream *s, vulkan_binary_op op, vulkan_view out, vulkan_view a,
                   vulkan_view b, float alpha, float beta) {
    const uint64_t n = view_count(out.shape);
    if (bad_args(s, "binary", n < (1ull << 32) && !out.dtype && !a.dtype && !b.dtype)) return;
    if (!n) return;
    struct {
        uint32_t n[4], as[4], bs[4], os[4], op;
        float alpha, beta;
    } p;
    memcpy(p.n, out.shape, sizeof p.n);
    memcpy(p.as, a.stride, sizeof p.as);
    memcpy(p.bs, b.stride, sizeof p.bs);
    memcpy(p.os, out.stride, sizeof p.os);
    p.op = (uint32_t)op;
    p.alpha = alpha, p.beta = beta;
    const vulkan_operand ops[3] = {operand(a.at, view_extent(out.shape, a.stride)),
                                   operand(b.at, view_extent(out.shape, b.stride)),
                                   operand(out.at, view_extent(out.shape, out.stride))};
    uint32_t g[3];
    groups_1d(s, n, 256, g);
    vulkan_dispatch(s, VULKAN_KERNEL_BINARY, ops, &p, sizeof p, g);
}

void vulkan_gelu(vulkan_stream *s, vulkan_ref out, vulkan_ref in, size_t n) {
    vulkan_unary(s, vulkan_view_flat(out, n), vulkan_view_flat(in, n), VULKAN_GELU, 0, 0, 1, 0);
}
void vulkan_relu(vulkan_stream *s, vulkan_ref out, vulkan_ref in, size_t n) {
    vulkan_unary(s, vulkan_view_flat(out, n), vulkan_view_flat(in, n), VULKAN_RELU, 0, 0, 1, 0);
}
void vulkan_sigmoid(vulkan_stream *s, vulkan_ref out, vulkan_ref in, size_t n) {
    vulkan_unary(s, vulkan_view_flat(out, n), vulkan_view_flat(in, n), VULKAN_SIGMOID, 0, 0, 1, 0);
}
void vulkan_add(vulkan_stream *s, vulkan_ref out, vulkan_ref a, vulkan_ref b, size_t n) {
    vulkan_binary(s, VULKAN_ADD, vulkan_view_flat(out, n), vulkan_view_flat(a, n),
                  vulkan_view_flat(b, n), 1, 1);
}

void vulkan_concat_cols(vulkan_stream *s, vulkan_ref out, int ld_out, int rows, int count,
                        const vulkan_ref *parts, const int *cols, const int *ld) {
    size_t col = 0;
    for (int i = 0; i < count; i++) {
        vulkan_convert(s, vulkan_view_rows(vulkan_at(out, col), rows, cols[i], ld_out),
                       vulkan_view_rows(parts[i], rows, cols[i], ld[i]));
        col += (size_t)cols[i];
    }
    bad_args(s, "concat", col <= (size_t)ld_out);
}

/* --- images and maps ----------------------------------------------------------------------- */

void vulkan_maxpool2x2_strided(vulkan_stream *s, vulkan_ref out, const uint32_t out_strides[3],
                               vulkan_ref in, const uint32_t in_strides[3], int B, int H, int W,
                               int C) {
    if (bad_args(s, "maxpool2x2", B >= 0 && H >= 0 && W >= 0 && C >= 0)) return;
    const int OH = H / 2, OW = W / 2;
    const size_t n = (size_t)B * OH * OW * C;
    if (!n) return;
    const uint32_t p[10] = {(uint32_t)B,    (uint32_t)H,   (uint32_t)W,   (uint32_t)C,
                            in_strides[0],  in_strides[1], in_strides[2], out_strides[0],
                            out_strides[1], out_strides[2]};
    /* the last pixel read is (2 OH - 1, 2 OW - 1) */
    const vulkan_operand ops[2] = {
        operand(in, span((uint64_t)B, in_strides[0], (uint64_t)(2 * OH), in_strides[1],
                         (uint64_t)(2 * OW), in_strides[2], (uint64_t)C)),
        operand(out, span((uint64_t)B, out_strides[0], (uint64_t)OH, out_strides[1], (uint64_t)OW,
                          out_strides[2], (uint64_t)C))};
    uint32_t g[3];
    groups_1d(s, n, 256, g);
    vulkan_dispatch(s, VULKAN_KERNEL_MAXPOOL2X2, ops, p, sizeof p, g);
}

void vulkan_maxpool2x2(vulkan_stream *s, vulkan_ref out, vulkan_ref in, int H, int W, int C) {
    const uint32_t is[3] = {(uint32_t)(H * W * C), (uint32_t)(W * C), (uint32_t)C};
    const uint32_t os[3] = {(uint32_t)((H / 2) * (W / 2) * C), (uint32_t)((W / 2) * C),
                            (uint32_t)C};
    vulkan_maxpool2x2_strided(s, out, os, in, is, 1, H, W, C);
}

void vulkan_upsample_nearest2x(vulkan_stream *s, vulkan_ref out, vulkan_ref in, int H, int W,
                               int C) {
    if (bad_args(s, "upsample_nearest2x", H >= 0 && W >= 0 && C >= 0)) return;
    const size_t n = (size_t)4 * H * W * C;
    const uint32_t p[3] = {(uint32_t)H, (uint32_t)W, (uint32_t)C};
    const vulkan_operand ops[2] = {operand(in, (size_t)H * W * C), operand(out, n)};
    uint32_t g[3];
    groups_1d(s, n, 256, g);
    if (n) vulkan_dispatch(s, VULKAN_KERNEL_UPSAMPLE2X, ops, p, sizeof p, g);
}

typedef enum resize_kind { RESIZE_BILINEAR, RESIZE_BILINEAR_AA, RESIZE_BICUBIC } resize_kind;

static int axis_taps(resize_kind kind, int in, int out) {
    if (kind == RESIZE_BILINEAR) return 2;
    if (kind == RESIZE_BICUBIC) return 4;
    if (in == out) return 1;
    aa_axis a;
    aa_axis_init(&a, in, out);
    return a.max_taps;
}

/* One axis of the tap table (layout in shaders/resize.comp). */
static void fill_axis(uint32_t *t, resize_kind kind, int in, int out, int taps) {
    uint32_t *count = t, *index = t + out;
    float *weight = (float *)(t + out + (size_t)out * taps);
    aa_axis a;
    aa_axis_init(&a, in, out);
    for (int o = 0; o < out; o++) {
        uint32_t *idx = index + (size_t)o * taps;
        float *w = weight + (size_t)o * taps;
        if (kind == RESIZE_BILINEAR) {
            const linear_tap l = linear_tap_at(in, out, o);
            count[o] = 2, idx[0] = (uint32_t)l.i0, idx[1] = (uint32_t)l.i1;
            w[0] = l.w0, w[1] = l.w1;
        } else if (kind == RESIZE_BICUBIC) {
            const cubic_tap c = cubic_tap_at(in, out, o);
            count[o] = 4;
            for (int j = 0; j < 4; j++) idx[j] = (uint32_t)c.idx[j], w[j] = c.w[j];
        } else if (in == out) {
            /* the reference skips this axis's pass: one tap of weight 1 is exactly that */
            count[o] = 1, idx[0] = (uint32_t)o, w[0] = 1.0f;
        } else {
            int first = 0;
            const int n = aa_axis_weights(&a, o, &first, w);
            count[o] = (uint32_t)n;
            for (int j = 0; j < n; j++) idx[j] = (uint32_t)(first + j);
        }
    }
}

static void resize(vulkan_stream *s, resize_kind kind, vulkan_ref out, vulkan_ref in, int C, int H,
                   int W, int OH, int OW) {
    if (bad_args(s, "resize", C >= 0 && H > 0 && W > 0 && OH > 0 && OW > 0)) return;
    if (!C) return;
    const int ty = axis_taps(kind, H, OH), tx = axis_taps(kind, W, OW);
    const size_t y_words = (size_t)OH * (1 + 2 * (size_t)ty),
                 x_words = (size_t)OW * (1 + 2 * (size_t)tx);
    const size_t bytes = (y_words + x_words) * sizeof(uint32_t);
    const vulkan_ref table = vulkan_stream_scratch(s, bytes);
    if (!table.buf) return;
    uint32_t *t = vulkan_upload_in_place(s, table, bytes);
    if (!t) return;
    fill_axis(t, kind, H, OH, ty);
    fill_axis(t + y_words, kind, W, OW, tx);
    const uint32_t p[7] = {(uint32_t)C,  (uint32_t)H,  (uint32_t)W, (uint32_t)OH,
                           (uint32_t)OW, (uint32_t)ty, (uint32_t)tx};
    const size_t n = (size_t)C * OH * OW;
    const vulkan_operand ops[3] = {operand(in, (size_t)C * H * W), operand(out, n),
                                   operand(table, y_words + x_words)};
    uint32_t g[3];
    groups_1d(s, n, 256, g);
    vulkan_dispatch(s, VULKAN_KERNEL_RESIZE, ops, p, sizeof p, g);
}

void vulkan_resize_bilinear(vulkan_stream *s, vulkan_ref out, vulkan_ref in, int C, int H, int W,
                            int OH, int OW, int antialias) {
    resize(s, antialias ? RESIZE_BILINEAR_AA : RESIZE_BILINEAR, out, in, C, H, W, OH, OW);
}

void vulkan_resize_bicubic(vulkan_stream *s, vulkan_ref out, vulkan_ref in, int C, int H, int W,
                           int OH, int OW) {
    resize(s, RESIZE_BICUBIC, out, in, C, H, W, OH, OW);
}

vulkan_window_grid vulkan_window_grid_all(int H, int W, int C, int ld, int wh, int ww) {
    vulkan_window_grid g = {H, W, C, ld, wh, ww, 0, 0};
    if (wh > 0 && ww > 0) g.n = ((H + wh - 1) / wh) * ((W + ww - 1) / ww);
    return g;
}

/* mode: 0 partition, 1 unpartition, 2 unpartition and add, 3 partition with LayerNorm */
static void window_op(vulkan_stream *s, vulkan_ref map, vulkan_ref windows, vulkan_window_grid g,
                      uint32_t mode, vulkan_ref w, vulkan_ref b, float eps) {
    const int nw = g.wh > 0 && g.ww > 0 ? ((g.H + g.wh - 1) / g.wh) * ((g.W + g.ww - 1) / g.ww) : 0;
    if (bad_args(s, "window",
                 g.H > 0 && g.W > 0 && g.C > 0 && g.ld >= g.C && g.wh > 0 && g.ww > 0 &&
                     g.first >= 0 && g.n >= 0 && g.first + g.n <= nw))
        return;
    if (!g.n) return;
    const size_t L = (size_t)g.wh * g.ww, win_n = (size_t)g.n * L * g.C;
    const size_t map_n = ((size_t)g.H * g.W - 1) * g.ld + g.C;
    const struct {
        uint32_t H, W, C, wh, ww, ld, mode, first, n, flags;
        float eps;
    } p = {(uint32_t)g.H,
           (uint32_t)g.W,
           (uint32_t)g.C,
           (uint32_t)g.wh,
           (uint32_t)g.ww,
           (uint32_t)g.ld,
           mode,
           (uint32_t)g.first,
           (uint32_t)g.n,
           (w.buf ? 1u : 0u) | (b.buf ? 2u : 0u),
           eps};
    const int to_windows = mode == 0 || mode == 3;
    const vulkan_operand ops[4] = {to_windows ? operand(map, map_n) : operand(windows, win_n),
                                   to_windows ? operand(windows, win_n) : operand(map, map_n),
                                   absent_or(w, (size_t)g.C, map), absent_or(b, (size_t)g.C, map)};
    uint32_t groups[3];
    if (mode == 3)
        groups_1d(s, (uint64_t)g.n * L, 1, groups); /* a workgroup per window token */
    else
        groups_1d(s, win_n, 128, groups);
    vulkan_dispatch(s, VULKAN_KERNEL_WINDOW, ops, &p, sizeof p, groups);
}

void vulkan_window_partition(vulkan_stream *s, vulkan_ref windows, vulkan_ref map,
                             vulkan_window_grid g) {
    window_op(s, map, windows, g, 0, VULKAN_NONE, VULKAN_NONE, 0.0f);
}

void vulkan_window_partition_norm(vulkan_stream *s, vulkan_ref windows, vulkan_ref map,
                                  vulkan_window_grid g, vulkan_ref w, vulkan_ref b, float eps) {
    window_op(s, map, windows, g, 3, w, b, eps);
}

void vulkan_window_unpartition(vulkan_stream *s, vulkan_ref map, vulkan_ref windows,
                               vulkan_window_grid g, int accumulate) {
    window_op(s, map, windows, g, accumulate ? 2 : 1, VULKAN_NONE, VULKAN_NONE, 0.0f);
}

void vulkan_rope(vulkan_stream *s, vulkan_ref x, int n, int ld, int heads, int head_dim,
                 vulkan_ref cos_table, vulkan_ref sin_table, int table_rows) {
    if (bad_args(s, "rope",
                 n >= 0 && heads > 0 && head_dim > 0 && head_dim % 2 == 0 &&
                     ld >= heads * head_dim && table_rows > 0))
        return;
    if (!n) return;
    const int half = head_dim / 2;
    const uint32_t p[5] = {(uint32_t)n, (uint32_t)ld, (uint32_t)half, (uint32_t)table_rows,
                           (uint32_t)heads};
    const size_t table_n = (size_t)(n < table_rows ? n : table_rows) * half;
    const vulkan_operand ops[3] = {operand(x, ((size_t)n - 1) * ld + (size_t)heads * head_dim),
                                   operand(cos_table, table_n), operand(sin_table, table_n)};
    uint32_t g[3];
    groups_1d(s, (uint64_t)n * heads * half, 256, g);
    vulkan_dispatch(s, VULKAN_KERNEL_ROPE, ops, p, sizeof p, g);
}

void vulkan_stability(vulkan_stream *s, vulkan_ref out, vulkan_ref logits, size_t n, float delta) {
    if (bad_args(s, "stability", n < (1ull << 32))) return;
    const struct {
        uint32_t n;
        float delta;
    } p = {(uint32_t)n, delta};
    const vulkan_operand ops[2] = {operand(logits, n), operand(out, 1)};
    const uint32_t g[3] = {1, 1, 1};
    vulkan_dispatch(s, VULKAN_KERNEL_STABILITY, ops, &p, sizeof p, g);
}
