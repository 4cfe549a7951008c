/* Building blocks of the modules not yet on the compute seam: the MLP of sam2_utils and a few
 * small tensor helpers (the projected attention lives in model/dev_layers.h). All operate on
 * token-major [N][C] buffers and take their temporaries from an arena. */
#ifndef SAM2_MODEL_LAYERS_H
#define SAM2_MODEL_LAYERS_H

#include "core/arena.h"
#include "core/ops.h"
#include "model/weights.h"

typedef enum { ACT_NONE = 0, ACT_RELU, ACT_GELU, ACT_SIGMOID } activation;

/* sam2_utils.MLP: n Linear layers (in -> hidden ... -> out), `act` between layers, optional
 * sigmoid on the output. in [N][in_dim] -> out [N][out_dim]. */
int mlp_forward(const sam2_backend *be, float *out, const float *in, int N, const sam2_lin *layers,
                int n_layers, int in_dim, int hidden, int out_dim, activation act,
                bool sigmoid_output, arena *scratch);

/* out[n][c] = a[n][c] + b[n][c] for N rows of C (b may be broadcast: b_rows == 1). */
void add_rows(float *out, const float *a, const float *b, int N, int C, int b_rows);
/* Apply an activation in place. */
void activate(const sam2_backend *be, float *x, size_t n, activation act);

#endif
