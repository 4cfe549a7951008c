/* Positional encodings of SAM 2 (modeling/position_encoding.py), computed once per size. */
#ifndef SAM2_MODEL_POSITION_ENCODING_H
#define SAM2_MODEL_POSITION_ENCODING_H

/* PositionEmbeddingSine(num_pos_feats=C, normalize=True, scale=2*pi) of an H x W map, written
 * channels-last: out [H][W][C]; channels [0, C/2) encode y, [C/2, C) encode x, alternating sin
 * (even) and cos (odd) within each half. */
void sine_pe_hwc(float *out, int H, int W, int C, float temperature);

/* PositionEmbeddingRandom: encoding of normalised coordinates (x, y in [0,1]) with the random
 * Fourier matrix gaussian [2][C/2]: out[C] = [sin(2*pi*p), cos(2*pi*p)], p = (2*xy - 1) @ G. */
void random_pe_point(float *out, float x, float y, const float *gaussian, int C);

/* Dense encoding of an H x W grid (cell centres (i + 0.5) / size): out [H][W][C]. */
void random_pe_dense_hwc(float *out, int H, int W, const float *gaussian, int C);

/* get_1d_sine_pe(pos, dim): out[dim] = [sin(pos / t_k), cos(pos / t_k)] over k < dim/2,
 * t_k = temperature^(2*floor(k/2)/(dim/2)). */
void sine_pe_1d(float *out, float pos, int dim, float temperature);

/* compute_axial_cis(dim, end_x=W, end_y=H, theta) as cos/sin tables [H*W][dim/2]: token t at
 * (x = t % W, y = t / W); pair j < dim/4 turns by x * f_j, pair dim/4 + j by y * f_j, with
 * f_j = 1 / theta^(4j / dim). */
void axial_rope_tables(float *cos_out, float *sin_out, int W, int H, int dim, float theta);

/* Rotates consecutive pairs (x[2j], x[2j+1]) of each of n rows (row stride ld, dim values used)
 * by the angles of table row (r % table_rows); in place. */
void apply_rope(float *x, int n, int ld, int dim, const float *cos_t, const float *sin_t,
                int table_rows);

#endif
