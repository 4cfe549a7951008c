#include "support/parity_report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct kind_row {
    char name[64];
    double tol;
    int has_numbers; /* at least one numeric comparison */
    double worst, worst_tol, worst_ratio;
    char worst_where[256];
    int ok, failed;
} kind_row;

typedef struct not_run {
    char where[256];
    char why[192];
} not_run;

struct parity_report {
    FILE *log;
    int verbose;
    kind_row *rows;
    int nrows, caprows;
    not_run *skipped;
    int nskipped, capskipped;
    int passed, failed;
};

parity_report *parity_report_new(FILE *log, int verbose) {
    parity_report *r = calloc(1, sizeof *r);
    if (r) r->log = log, r->verbose = verbose;
    return r;
}

void parity_report_free(parity_report *r) {
    if (!r) return;
    free(r->rows);
    free(r->skipped);
    free(r);
}

/* The row for a kind, created on first use. A failed allocation falls back to a static row so
 * that a result is never lost from the pass/fail counts. */
static kind_row *row(parity_report *r, const char *kind) {
    for (int i = 0; i < r->nrows; i++)
        if (!strcmp(r->rows[i].name, kind)) return &r->rows[i];
    if (r->nrows == r->caprows) {
        int cap = r->caprows ? 2 * r->caprows : 16;
        kind_row *nr = realloc(r->rows, cap * sizeof *nr);
        if (!nr) {
            static kind_row overflow;
            return &overflow;
        }
        r->rows = nr, r->caprows = cap;
    }
    kind_row *k = &r->rows[r->nrows++];
    memset(k, 0, sizeof *k);
    snprintf(k->name, sizeof k->name, "%s", kind);
    return k;
}

static void count(parity_report *r, kind_row *k, int ok) {
    if (ok)
        k->ok++, r->passed++;
    else
        k->failed++, r->failed++;
}

void parity_report_add(parity_report *r, const golden_kind *kind, const char *where,
                       const golden_result *res) {
    kind_row *k = row(r, kind ? kind->kind : "unknown");
    double ratio = res->tol > 0 ? res->error / res->tol : (res->error > 0 ? INFINITY : 0);
    if (isnan(ratio)) ratio = INFINITY;
    if (!k->has_numbers || ratio > k->worst_ratio) {
        k->worst = res->error, k->worst_tol = res->tol, k->worst_ratio = ratio;
        snprintf(k->worst_where, sizeof k->worst_where, "%s", where);
    }
    k->has_numbers = 1;
    count(r, k, res->pass);
    if (!res->pass || r->verbose)
        fprintf(r->log, "%s %s (%s): err=%.3g tol=%.3g  %s\n", res->pass ? "  ok" : "FAIL", where,
                k->name, res->error, res->tol, res->detail);
}

static void vrecord(parity_report *r, const char *kind, const char *where, int ok, const char *fmt,
                    va_list ap) {
    kind_row *k = row(r, kind);
    count(r, k, ok);
    if (!ok || r->verbose) {
        fprintf(r->log, "%s %s (%s): ", ok ? "  ok" : "FAIL", where, k->name);
        vfprintf(r->log, fmt, ap);
        fputc('\n', r->log);
    }
}

void parity_report_fail(parity_report *r, const char *kind, const char *where, const char *fmt,
                        ...) {
    va_list ap;
    va_start(ap, fmt);
    vrecord(r, kind, where, 0, fmt, ap);
    va_end(ap);
}

void parity_report_check(parity_report *r, const char *kind, const char *where, int ok,
                         const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vrecord(r, kind, where, ok, fmt, ap);
    va_end(ap);
}

void parity_report_not_run(parity_report *r, const char *where, const char *why) {
    fprintf(r->log, "NOT RUN %s: %s\n", where, why);
    if (r->nskipped == r->capskipped) {
        int cap = r->capskipped ? 2 * r->capskipped : 8;
        not_run *n = realloc(r->skipped, cap * sizeof *n);
        if (!n) return;
        r->skipped = n, r->capskipped = cap;
    }
    not_run *n = &r->skipped[r->nskipped++];
    snprintf(n->where, sizeof n->where, "%s", where);
    snprintf(n->why, sizeof n->why, "%s", why);
}

int parity_report_passed(const parity_report *r) {
    return r->passed;
}
int parity_report_failed(const parity_report *r) {
    return r->failed;
}
int parity_report_not_run_count(const parity_report *r) {
    return r->nskipped;
}

void parity_report_print(const parity_report *r, FILE *out) {
    int width = 4;
    for (int i = 0; i < r->nrows; i++)
        if ((int)strlen(r->rows[i].name) > width) width = (int)strlen(r->rows[i].name);
    for (int i = 0; i < r->nrows; i++) {
        const kind_row *k = &r->rows[i];
        int total = k->ok + k->failed;
        fprintf(out, "%-*s  ", width, k->name);
        if (k->has_numbers)
            fprintf(out, "worst=%.2g tol=%.2g at %s  ", k->worst, k->worst_tol, k->worst_where);
        fprintf(out, "%d/%d ok", k->ok, total);
        if (k->failed) fprintf(out, ", %d FAILED", k->failed);
        fputc('\n', out);
    }
    for (int i = 0; i < r->nskipped; i++)
        fprintf(out, "not run: %s (%s), counted neither as passed nor as failed\n",
                r->skipped[i].where, r->skipped[i].why);
    fprintf(out, "%d passed, %d failed\n", r->passed, r->failed);
}
