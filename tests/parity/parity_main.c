/* sam2-parity DIR: see parity.h. Exit status 0 only when nothing failed and at least one
 * tensor was compared; 1 otherwise; 2 for usage errors and unreadable golden sets; 77 (skip)
 * when DIR does not exist, as for the other tests that need the golden data, or when every
 * folder was reported "not run" and nothing was compared. */
#include "parity.h"

#include "app/sha256.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Fallback until tests/parity/parity_image.c provides the image runner: reports the image
 * folders as not run (never as passed). The real definition replaces this weak one. */
__attribute__((weak)) int parity_run_image(parity_ctx *ctx, const char *image_folder,
                                           const char *const *case_folders, int ncases) {
    (void)case_folders, (void)ncases;
    parity_report_not_run(ctx->report, image_folder,
                          "image runner not built into this sam2-parity");
    return 0;
}

static void usage(FILE *f) {
    fprintf(f, "usage: sam2-parity [--only image|video] [--backend NAME] [--verbose] DIR\n"
               "  DIR: a golden set folder (e.g. ../shared/golden/micro_golden) with index.json\n"
               "  --backend: auto, cpu, ref or check (default: $SAM2_BACKEND, else auto)\n");
}

/* sha256 of the checkpoint file against index.json; 1 match, 0 mismatch, -1 unreadable. */
static int check_checkpoint(const golden_set *g, char hex[65]) {
    FILE *f = fopen(g->checkpoint, "rb");
    if (!f) return -1;
    sam2_sha256 s;
    sam2_sha256_init(&s);
    static unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) sam2_sha256_update(&s, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) return -1;
    sam2_sha256_final_hex(&s, hex);
    return !g->checkpoint_sha256 || !strcmp(hex, g->checkpoint_sha256);
}

static int wanted(const parity_options *o, const char *domain) {
    return !o->only || !strcmp(o->only, domain);
}

/* Image folders with their cases (folders directly below them), then video folders, in the
 * order of index.json; anything else is a failure, never silently skipped. */
static void run_folders(parity_ctx *ctx) {
    const golden_set *g = ctx->golden;
    const char **cases = calloc(g->nfolders ? g->nfolders : 1, sizeof *cases);
    if (!cases) {
        parity_report_fail(ctx->report, "golden data", g->dir, "out of memory");
        return;
    }
    for (int i = 0; i < g->nfolders; i++) {
        const char *f = g->folders[i];
        golden_folder_kind k = golden_folder_kind_of(f);
        int stop = 0;
        if (k == GOLDEN_FOLDER_IMAGE) {
            if (!wanted(&ctx->opt, "image")) continue;
            size_t len = strlen(f);
            int n = 0;
            for (int j = 0; j < g->nfolders; j++)
                if (golden_folder_kind_of(g->folders[j]) == GOLDEN_FOLDER_IMAGE_CASE &&
                    !strncmp(g->folders[j], f, len) && g->folders[j][len] == '/')
                    cases[n++] = g->folders[j];
            stop = parity_run_image(ctx, f, cases, n);
        } else if (k == GOLDEN_FOLDER_IMAGE_CASE) {
            if (!wanted(&ctx->opt, "image")) continue;
            const char *slash = strrchr(f, '/');
            int found = 0;
            for (int j = 0; j < g->nfolders; j++)
                if (golden_folder_kind_of(g->folders[j]) == GOLDEN_FOLDER_IMAGE &&
                    strlen(g->folders[j]) == (size_t)(slash - f) &&
                    !strncmp(g->folders[j], f, slash - f))
                    found = 1;
            if (!found)
                parity_report_fail(ctx->report, "golden data", f,
                                   "image case without its image folder in index.json");
        } else if (k == GOLDEN_FOLDER_OTHER) {
            parity_report_fail(
                ctx->report, "golden data", f,
                "folder of unknown type (not image/<img>[/<case>] or video/{frames,api,demo})");
        } else {
            if (!wanted(&ctx->opt, "video")) continue;
            stop = parity_run_video(ctx, f);
        }
        if (stop) {
            fprintf(stdout, "stopping: the runner for %s cannot continue\n", f);
            break;
        }
    }
    free(cases);
}

int main(int argc, char **argv) {
    parity_options opt = {0};
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
            opt.verbose = 1;
        } else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
            opt.only = argv[++i];
            if (strcmp(opt.only, "image") && strcmp(opt.only, "video")) {
                fprintf(stderr, "sam2-parity: --only takes image or video, not %s\n", opt.only);
                return 2;
            }
        } else if (!strcmp(argv[i], "--backend") && i + 1 < argc) {
            /* The model the runners load computes on this backend (tolerances unchanged). */
            if (sam2_set_backend(argv[++i]) != SAM2_OK) {
                fprintf(stderr, "sam2-parity: --backend takes auto, cpu, ref or check, not %s\n",
                        argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' || dir) {
            fprintf(stderr, "sam2-parity: unexpected argument %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else {
            dir = argv[i];
        }
    }
    if (!dir) {
        usage(stderr);
        return 2;
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
        printf("SKIP: golden folder %s not found (%s); nothing was compared\n", dir,
               strerror(errno));
        return 77;
    }
    golden_set g;
    sam2_error err = {0};
    if (golden_open(&g, dir, &err)) {
        fprintf(stderr, "sam2-parity: cannot use %s: %s\n", dir, err.message);
        return 2;
    }
    printf("golden set: %s\n  %s\n", g.dir, g.description);
    char hex[65] = "";
    int ck = check_checkpoint(&g, hex);
    if (ck < 0) {
        fprintf(stderr, "sam2-parity: checkpoint %s cannot be read\n", g.checkpoint);
        golden_close(&g);
        return 2;
    }
    printf("  checkpoint: %s (sha256 %s)\n", g.checkpoint,
           !g.checkpoint_sha256 ? "not listed"
           : ck                 ? "matches index.json"
                                : "DIFFERS from index.json");
    printf("  config: %s (%s)\n", g.config, g.config_is_file ? "YAML file" : "built-in preset");
    printf("  folders: %d%s%s\n", g.nfolders, opt.only ? ", only " : "", opt.only ? opt.only : "");

    parity_ctx ctx = {.golden = &g, .opt = opt};
    ctx.report = parity_report_new(stdout, opt.verbose);
    ctx.tap = ctx.report ? parity_tap_new(&g, ctx.report) : NULL;
    if (!ctx.tap) {
        fprintf(stderr, "sam2-parity: out of memory\n");
        parity_report_free(ctx.report);
        golden_close(&g);
        return 2;
    }
    if (!ck)
        parity_report_fail(ctx.report, "checkpoint", g.checkpoint, "sha256 %s, index.json says %s",
                           hex, g.checkpoint_sha256);
    run_folders(&ctx);
    parity_tap_end(ctx.tap); /* a scope a runner left open reports its missing tensors now */

    int passed = parity_report_passed(ctx.report), failed = parity_report_failed(ctx.report);
    int not_run = parity_report_not_run_count(ctx.report);
    if (passed + failed == 0) printf("nothing was compared\n");
    parity_report_print(ctx.report, stdout);
    if (ctx.model && ctx.free_model) ctx.free_model(ctx.model);
    parity_tap_free(ctx.tap);
    parity_report_free(ctx.report);
    golden_close(&g);
    if (failed == 0 && passed > 0) return 0;
    /* every folder reported "not run" (runners missing): a skip for ctest, never a pass */
    return failed == 0 && passed == 0 && not_run > 0 ? 77 : 1;
}
