/* Parity results: a report that accumulates comparisons per kind of tensor and prints
 *     <kind>  worst=1.2e-06 tol=2e-05 at image/truck/trunk_stage2  12/12 ok
 * per kind, then exactly "N passed, N failed"; and a tap bridge that compares tensors emitted
 * by the model (core/tap.h) with the entries of the current golden scope. */
#ifndef SAM2_TEST_PARITY_REPORT_H
#define SAM2_TEST_PARITY_REPORT_H

#include "core/tap.h"
#include "support/golden.h"

#include <stdio.h>

typedef struct parity_report parity_report;

/* Lines for failures (always) and for every comparison (verbose) go to `log` as they happen. */
parity_report *parity_report_new(FILE *log, int verbose);
void parity_report_free(parity_report *r);

/* One comparison result under its tolerance row; `where` is e.g. "image/truck/trunk_stage2". */
void parity_report_add(parity_report *r, const golden_kind *kind, const char *where,
                       const golden_result *res);
/* A failure that is not a numeric comparison (not produced, unreadable golden data, unknown
 * tensor, a wrong decision); counted as one failed tensor under `kind`. */
void parity_report_fail(parity_report *r, const char *kind, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A yes/no check (multimask choice, returned tokens, object-present decision). */
void parity_report_check(parity_report *r, const char *kind, const char *where, int ok,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A folder or step that did not run: neither passed nor failed, listed in the summary. */
void parity_report_not_run(parity_report *r, const char *where, const char *why);

int parity_report_passed(const parity_report *r);
int parity_report_failed(const parity_report *r);
int parity_report_not_run_count(const parity_report *r);
/* One line per kind (in order of first appearance), the not-run list, then the last line
 * "N passed, N failed". */
void parity_report_print(const parity_report *r, FILE *out);

/* ---- tap bridge --------------------------------------------------------------------------- */
typedef struct parity_tap parity_tap;

parity_tap *parity_tap_new(const golden_set *g, parity_report *r);
void parity_tap_free(parity_tap *t);
/* The callback to hand to the model; its user pointer is t. */
sam2_tap parity_tap_callback(parity_tap *t);

/* Starts a scope: the entries under `node` (a folder's index, one step object, one model
 * call). Emitted tensors are matched to the scope's entries by full name, then by base name
 * (golden_base_name), then by the JSON key holding the entry (not the generic "files" list);
 * among equal matches the first entry not yet emitted wins. `where` prefixes the reported names;
 * `domain` picks the rows of the tolerance table. A scope left open is ended by the next begin. */
int parity_tap_begin(parity_tap *t, const cJSON *node, const char *where, golden_domain domain);
/* Marks an entry the runner fed to the model (image_rgb_u8, mask_input, prompts...) so that
 * it is not reported as "not produced". Returns 0, or -1 when the scope has no such entry. */
int parity_tap_consume(parity_tap *t, const char *name);
/* Ends the scope: every entry neither emitted nor consumed is recorded as a failure ("not
 * produced"). Returns the number of such entries. */
int parity_tap_end(parity_tap *t);

/* What the callback does: convert the layout, find the entry, compare, record. Emissions with
 * no entry in the scope are counted (parity_tap_unmatched), not failed: golden sets store
 * different subsets of the tensors the model can emit. */
void parity_tap_emit(parity_tap *t, const char *name, const void *data, tap_dtype dtype, int ndim,
                     const int64_t *shape, tap_layout layout);
int parity_tap_unmatched(const parity_tap *t);

/* Hole-filling exception: unfilled logits for the next comparison of a low-res video logits
 * entry with `numel` values (copied). Without this call, the bridge uses the most recent
 * emission named pred_masks_before_fill of the same size. */
void parity_tap_set_unfilled(parity_tap *t, const float *unfilled, int64_t numel);

/* Binarisation exception (EdgeTAM): the encoding behind the rest of this scope's tensors was
 * made from a mask in which `flips` pixels fell on the other side of 0 than in the golden run,
 * each at a logit within rounding of 0 (the caller checked that). The README's exception,
 * measured with one such pixel, then allows `flips` percent instead of 1 %. Reset by begin. */
void parity_tap_set_flips(parity_tap *t, int flips);

#endif
