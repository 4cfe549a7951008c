/* The parity machinery (tests/support: npy, golden, parity_report, the tap bridge), driven
 * directly on the real golden sets: every stored form (npy, derived, patched, rle, png, crops,
 * skipped, dedup, bf16 bits) is materialised and checked against its sha256 where it has one;
 * feeding the golden tensors back through the tap bridge passes; perturbations just above a
 * tolerance fail and just below pass; every tensor name of both sets has a tolerance row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support/golden.h"
#include "support/npy.h"
#include "support/parity_report.h"
#include "support/testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------------------ */

static golden_set *open_set(const char *name) {
    static golden_set sets[2];
    golden_set *g = &sets[strcmp(name, "micro_golden") != 0];
    if (g->index) return g;
    sam2_error err = {0};
    if (golden_open(g, test_path(test_golden_dir(), name), &err)) fail_msg("%s", err.message);
    return g;
}

static void close_sets(void) {
    golden_close(open_set("micro_golden"));
    golden_close(open_set("tiny_golden"));
}

static golden_entry find_entry(golden_folder *f, const char *folder, const golden_set *g,
                               const char *name) {
    sam2_error err = {0};
    if (golden_folder_open(g, folder, f, &err)) fail_msg("%s", err.message);
    golden_entry e;
    if (golden_folder_entry(f, name, &e, &err)) fail_msg("%s", err.message);
    return e;
}

static npy_array load(const golden_set *g, const golden_entry *e) {
    npy_array a;
    sam2_error err = {0};
    if (golden_load(g, e, &a, &err)) fail_msg("%s", err.message);
    return a;
}

/* A full float tensor consistent with a crops/skipped entry: its windows where it has them,
 * stats.min and stats.max once each, and the remaining values two-valued (a +- d) so that the
 * mean and the (population) std equal the recorded stats. */
static float *synthesize(const golden_set *g, const golden_entry *e) {
    float *x = malloc((size_t)e->numel * sizeof *x);
    uint8_t *in_window = calloc((size_t)e->numel, 1);
    assert_non_null(x);
    assert_non_null(in_window);
    for (int w = 0; w < golden_window_count(e); w++) {
        npy_array win;
        int64_t index[NPY_MAX_DIMS][2];
        sam2_error err = {0};
        if (golden_load_window(g, e, w, &win, index, NULL, &err)) fail_msg("%s", err.message);
        float *v = malloc((size_t)win.numel * sizeof *v);
        uint8_t *ones = malloc((size_t)win.numel);
        for (int64_t i = 0; i < win.numel; i++)
            v[i] = win.dtype == NPY_U16 ? golden_bf16_to_f32(((uint16_t *)win.data)[i])
                                        : ((float *)win.data)[i];
        memset(ones, 1, (size_t)win.numel);
        golden_window_insert(x, e->shape, e->ndim, index, v, sizeof *v);
        golden_window_insert(in_window, e->shape, e->ndim, index, ones, 1);
        free(v), free(ones);
        npy_free(&win);
    }
    double s1 = 0, q1 = 0; /* windows may overlap: sum each covered element once */
    int64_t known = 0;
    for (int64_t i = 0; i < e->numel; i++)
        if (in_window[i]) known++, s1 += x[i], q1 += (double)x[i] * x[i];
    double n = (double)e->numel, mn = e->stats.min, mx = e->stats.max;
    double sum = n * e->stats.mean - s1,
           sq = n * (e->stats.std * e->stats.std + e->stats.mean * e->stats.mean) - q1;
    int64_t free_n = e->numel - known, placed = 0, r = free_n - 2;
    double a = 0, d = 0;
    if (r > 0) {
        sum -= mn + mx, sq -= mn * mn + mx * mx;
        a = sum / (double)r;
        double var = sq / (double)r - a * a;
        d = sqrt(fmax(var, 0) * (double)r / (double)(r - r % 2));
        if (a - d < mn || a + d > mx)
            fail_msg("%s: stats cannot be matched inside [min, max]", e->name);
    }
    for (int64_t i = 0; i < e->numel; i++) {
        if (in_window[i]) continue;
        if (placed == 0)
            x[i] = (float)mn;
        else if (placed == 1)
            x[i] = (float)mx;
        else if (placed - 2 == r - 1 && r % 2)
            x[i] = (float)a;
        else
            x[i] = (float)(((placed - 2) & 1) ? a - d : a + d);
        placed++;
    }
    free(in_window);
    return x;
}

/* The golden tensor as the model would emit it: float32 for float and bf16 entries, bytes for
 * bool/uint8, int32 for labels. Partial png entries cannot be rebuilt (NULL). */
static void *golden_as_computed(const golden_set *g, const golden_entry *e, tap_dtype *dt) {
    if (!golden_materialisable(e)) {
        if (e->storage == GOLDEN_STORED_PNG) return NULL;
        *dt = TAP_F32;
        return synthesize(g, e);
    }
    npy_array a = load(g, e);
    if (a.dtype == NPY_U16) {
        float *f = malloc((size_t)a.numel * sizeof *f);
        for (int64_t i = 0; i < a.numel; i++) f[i] = golden_bf16_to_f32(((uint16_t *)a.data)[i]);
        npy_free(&a);
        *dt = TAP_F32;
        return f;
    }
    *dt = a.dtype == NPY_F32 ? TAP_F32 : a.dtype == NPY_I32 ? TAP_I32 : TAP_U8;
    assert_true(a.dtype == NPY_F32 || a.dtype == NPY_I32 || a.dtype == NPY_U8 ||
                a.dtype == NPY_BOOL);
    return a.data; /* ownership moves to the caller */
}

static golden_result compare(const golden_set *g, const golden_entry *e, golden_domain dom,
                             golden_cdtype dt, const void *data, const float *unfilled) {
    golden_computed c = {dt, data, e->ndim, e->shape, unfilled, 0};
    golden_result r;
    sam2_error err = {0};
    if (golden_compare(g, e, golden_kind_of(e->name, dom), &c, &r, &err))
        fail_msg("%s: %s", e->name, err.message);
    return r;
}

static void expect_pass(const golden_result *r, const char *what) {
    if (!r->pass)
        fail_msg("%s should pass: err %.3g tol %.3g: %s", what, r->error, r->tol, r->detail);
}
static void expect_fail(const golden_result *r, const char *what) {
    if (r->pass)
        fail_msg("%s should fail: err %.3g tol %.3g: %s", what, r->error, r->tol, r->detail);
}

/* ---- npy ---------------------------------------------------------------------------------- */

static void expect_npy_error(const char *bytes, size_t n, int code, const char *what) {
    npy_array a;
    sam2_error err = {0};
    int rc = npy_parse(bytes, n, &a, &err);
    if (rc != code) fail_msg("%s: rc %d (%s), expected %d", what, rc, err.message, code);
    assert_null(a.data);
}

/* A version 1.0 header with the given fields into h (200 bytes, zero data after it); returns
 * its length. */
static size_t npy_header(char *h, const char *descr, const char *fortran, const char *shape) {
    memset(h, 0, 200);
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    int n = snprintf(h + 10, 190, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }\n", descr,
                     fortran, shape);
    h[8] = (char)n;
    return 10 + (size_t)n;
}

static void test_npy(void **state) {
    (void)state;
    for (int t = 0; t < NPY_DTYPE_COUNT; t++) {
        int64_t shape[3] = {2, 3, 5};
        npy_array a, b;
        sam2_error err = {0};
        assert_int_equal(npy_alloc(&a, (npy_dtype)t, 3, shape, &err), 0);
        for (size_t i = 0; i < a.numel * npy_dtype_size(a.dtype); i++)
            ((uint8_t *)a.data)[i] = (uint8_t)(i * 7 + t);
        if (t == NPY_BOOL) memset(a.data, 1, a.numel);
        uint8_t *buf;
        size_t n;
        assert_int_equal(npy_serialize(&a, &buf, &n, &err), 0);
        assert_int_equal(npy_parse(buf, n, &b, &err), 0);
        assert_int_equal(b.dtype, t);
        assert_int_equal(b.ndim, 3);
        assert_int_equal(b.shape[2], 5);
        assert_memory_equal(a.data, b.data, a.numel * npy_dtype_size(a.dtype));
        assert_int_equal(npy_dtype_from_name(npy_dtype_name((npy_dtype)t)), t);
        /* truncated data and trailing bytes */
        expect_npy_error((char *)buf, n - 1, SAM2_ERR_FORMAT, "short data");
        uint8_t *longer = malloc(n + 1);
        memcpy(longer, buf, n);
        longer[n] = 0;
        expect_npy_error((char *)longer, n + 1, SAM2_ERR_FORMAT, "trailing byte");
        free(longer);
        npy_free(&a), npy_free(&b), free(buf);
    }
    /* version 2.0 header (4-byte length), 0-d and 1-d shapes */
    const char v2[] = "\x93NUMPY\x02\x00\x2c\x00\x00\x00{'descr': '<f4', 'fortran_order': False, "
                      "'shape': (), }\n";
    char buf[128];
    size_t hl = sizeof v2 - 1;
    memcpy(buf, v2, hl);
    buf[8] = (char)(hl - 12);
    float one = 1.5f;
    memcpy(buf + hl, &one, 4);
    npy_array a;
    sam2_error err = {0};
    if (npy_parse(buf, hl + 4, &a, &err)) fail_msg("v2: %s", err.message);
    assert_int_equal(a.ndim, 0);
    assert_int_equal(a.numel, 1);
    assert_true(((float *)a.data)[0] == 1.5f);
    npy_free(&a);

    char h[200];
    size_t n = npy_header(h, "<f4", "False", "(1,)");
    if (npy_parse(h, n + 4, &a, &err)) fail_msg("1-d: %s", err.message);
    assert_int_equal(a.shape[0], 1);
    npy_free(&a);
    n = npy_header(h, ">f4", "False", "(1,)");
    expect_npy_error(h, n + 4, SAM2_ERR_UNSUPPORTED, "big-endian");
    n = npy_header(h, "<f4", "True", "(1,)");
    expect_npy_error(h, n + 4, SAM2_ERR_UNSUPPORTED, "Fortran order");
    n = npy_header(h, "<c8", "False", "(1,)");
    expect_npy_error(h, n + 8, SAM2_ERR_UNSUPPORTED, "complex");
    n = npy_header(h, "<f4", "False", "(1, x)");
    expect_npy_error(h, n + 4, SAM2_ERR_FORMAT, "bad shape");
    n = npy_header(h, "<f4", "False", "(99999999999999999,)");
    expect_npy_error(h, n + 4, SAM2_ERR_FORMAT, "huge shape");
    n = npy_header(h, "<f4", "False", "(1, 2, 3, 4, 5, 6, 7, 8, 9)");
    expect_npy_error(h, n + 4, SAM2_ERR_UNSUPPORTED, "9 dimensions");
    expect_npy_error("\x93NUMPX\x01\x00\x00\x00", 10, SAM2_ERR_FORMAT, "bad magic");
    expect_npy_error("\x93NUMPY\x04\x00\x00\x00", 10, SAM2_ERR_UNSUPPORTED, "version 4");
    expect_npy_error("\x93NUMPY\x01\x00\x40\x00{", 11, SAM2_ERR_FORMAT, "truncated header");
    expect_npy_error("\x93NUMPY\x01\x00\x02\x00[]", 12, SAM2_ERR_FORMAT, "not a dict");
    expect_npy_error("\x93NUMPY\x01\x00\x02\x00{}", 12, SAM2_ERR_FORMAT, "missing keys");
    assert_int_equal(npy_load("/nonexistent.npy", &a, &err), SAM2_ERR_IO);
}

/* ---- sets, config resolution, names ------------------------------------------------------- */

static void write_text(const char *path, const char *text) {
    assert_int_equal(test_write_file(path, text, strlen(text)), 0);
}

static void test_open_sets(void **state) {
    (void)state;
    golden_set *m = open_set("micro_golden"), *t = open_set("tiny_golden");
    assert_non_null(strstr(m->checkpoint, "/micro/sam2.1_hiera_micro.pt"));
    assert_true(m->config_is_file); /* micro/sam2.1_hiera_micro.yaml beside the checkpoint */
    assert_non_null(strstr(m->config, "/micro/sam2.1_hiera_micro.yaml"));
    assert_non_null(strstr(t->checkpoint, "/ckpt/sam2.1_hiera_tiny.random.f16.pt"));
    assert_false(t->config_is_file);
    assert_string_equal(t->config, "sam2.1_hiera_t");
    assert_int_equal(m->nfolders, 15);
    assert_int_equal(golden_folder_kind_of("image/truck"), GOLDEN_FOLDER_IMAGE);
    assert_int_equal(golden_folder_kind_of("image/truck/box"), GOLDEN_FOLDER_IMAGE_CASE);
    assert_int_equal(golden_folder_kind_of("image/truck/box/x"), GOLDEN_FOLDER_OTHER);
    assert_int_equal(golden_folder_kind_of("video/api"), GOLDEN_FOLDER_VIDEO_API);
    assert_int_equal(golden_folder_kind_of("common"), GOLDEN_FOLDER_OTHER);

    /* config resolution on a made-up set: root YAML, then beside the checkpoint, then a name */
    const char *tmp = test_make_tmpdir();
    char set[512], path[600];
    snprintf(set, sizeof set, "%s/myset", tmp);
    snprintf(path, sizeof path, "mkdir -p %s %s/configs/x %s/weights", set, tmp, tmp);
    assert_int_equal(system(path), 0);
    snprintf(path, sizeof path, "%s/index.json", set);
    write_text(path, "{\"checkpoint\": \"weights/m.pt\", \"config\": \"configs/x/m.yaml\", "
                     "\"folders\": [\"image/a\"]}");
    golden_set g;
    sam2_error err = {0};
    assert_int_equal(golden_open(&g, set, &err), 0);
    assert_false(g.config_is_file);
    assert_string_equal(g.config, "m");
    golden_close(&g);
    snprintf(path, sizeof path, "%s/weights/m.yaml", tmp);
    write_text(path, "model: {}\n");
    assert_int_equal(golden_open(&g, set, &err), 0);
    assert_true(g.config_is_file);
    assert_non_null(strstr(g.config, "/weights/m.yaml"));
    golden_close(&g);
    snprintf(path, sizeof path, "%s/configs/x/m.yaml", tmp);
    write_text(path, "model: {}\n");
    assert_int_equal(golden_open(&g, set, &err), 0);
    assert_non_null(strstr(g.config, "/configs/x/m.yaml"));
    golden_close(&g);
    snprintf(path, sizeof path, "%s/index.json", set);
    write_text(path, "{\"checkpoint\": 3}");
    assert_int_equal(golden_open(&g, set, &err), SAM2_ERR_FORMAT);
    write_text(path, "{not json");
    assert_int_equal(golden_open(&g, set, &err), SAM2_ERR_FORMAT);
    assert_int_equal(golden_open(&g, "/nonexistent-golden", &err), SAM2_ERR_IO);
}

static void test_names_and_rows(void **state) {
    (void)state;
    char b[128];
    golden_base_name("s03_f1_call0_memattn_out", b, sizeof b);
    assert_string_equal(b, "memattn_out");
    golden_base_name("s02_f0_pred_masks_obj1", b, sizeof b);
    assert_string_equal(b, "pred_masks");
    golden_base_name("s02_f0_preflight_maskmem_f32_1", b, sizeof b);
    assert_string_equal(b, "preflight_maskmem_f32_1");
    golden_base_name("r05_pred_masks_obj2", b, sizeof b);
    assert_string_equal(b, "pred_masks");
    golden_base_name("sparse_embeddings", b, sizeof b);
    assert_string_equal(b, "sparse_embeddings");
    golden_base_name("s1_masks", b, sizeof b); /* no frame tag: not a step prefix */
    assert_string_equal(b, "s1_masks");

    /* rows of the README's table */
    struct {
        const char *name;
        golden_domain dom;
        golden_rule rule;
        double tol;
    } rows[] = {
        {"prompt_encoder_points", GOLDEN_DOMAIN_IMAGE, GOLDEN_RULE_TOL, 5e-7},
        {"input_image", GOLDEN_DOMAIN_IMAGE, GOLDEN_RULE_TOL, 1e-5},
        {"trunk_stage3", GOLDEN_DOMAIN_IMAGE, GOLDEN_RULE_TOL, 2e-5},
        {"high_res_feats_1", GOLDEN_DOMAIN_IMAGE, GOLDEN_RULE_TOL, 2e-5},
        {"image_pe", GOLDEN_DOMAIN_IMAGE, GOLDEN_RULE_TOL, 2e-5},
        {"dense_embeddings", GOLDEN_DOMAIN_IMAGE, GOLDEN_RULE_TOL, 2e-4},
        {"decoder_mask_tokens_out", GOLDEN_DOMAIN_IMAGE, GOLDEN_RULE_TOL, 1e-5},
        {"low_res_masks", GOLDEN_DOMAIN_IMAGE, GOLDEN_RULE_TOL, 5e-5},
        {"iou_predictions", GOLDEN_DOMAIN_IMAGE, GOLDEN_RULE_TOL, 5e-6},
        {"decoder_object_score_logits", GOLDEN_DOMAIN_IMAGE, GOLDEN_RULE_TOL, 2e-5},
        {"masks_logits", GOLDEN_DOMAIN_IMAGE, GOLDEN_RULE_TOL, 2e-4},
        {"masks", GOLDEN_DOMAIN_IMAGE, GOLDEN_RULE_MASK, 1e-3},
        {"s11_f3_pred_masks_obj1", GOLDEN_DOMAIN_VIDEO, GOLDEN_RULE_TOL, 1e-4},
        {"s04_f2_video_res_logits_obj2", GOLDEN_DOMAIN_VIDEO, GOLDEN_RULE_TOL, 1e-4},
        {"s05_f3_obj_ptr_obj1", GOLDEN_DOMAIN_VIDEO, GOLDEN_RULE_TOL, 2e-6},
        {"s03_f1_call0_memattn_curr_pos", GOLDEN_DOMAIN_VIDEO, GOLDEN_RULE_TOL, 2e-5},
        {"s03_f1_call0_memattn_out", GOLDEN_DOMAIN_VIDEO, GOLDEN_RULE_TOL, 1e-5},
        {"s03_f1_call0_maskmem_features_f32", GOLDEN_DOMAIN_VIDEO, GOLDEN_RULE_TOL, 1e-4},
        {"s03_f1_maskmem_features_bf16bits_obj1", GOLDEN_DOMAIN_VIDEO, GOLDEN_RULE_BF16, 1e-1},
        {"s03_f1_call0_memattn_memory", GOLDEN_DOMAIN_VIDEO, GOLDEN_RULE_BF16, 1e-1},
        {"maskmem_pos_enc", GOLDEN_DOMAIN_VIDEO, GOLDEN_RULE_TOL, 2e-5},
        {"preprocessed_frame0", GOLDEN_DOMAIN_VIDEO, GOLDEN_RULE_TOL, 1e-5},
        {"frames_resized_u8", GOLDEN_DOMAIN_VIDEO, GOLDEN_RULE_EXACT, 0},
        {"mystery_tensor", GOLDEN_DOMAIN_IMAGE, GOLDEN_RULE_UNKNOWN, 0},
        {"pred_masks", GOLDEN_DOMAIN_IMAGE, GOLDEN_RULE_UNKNOWN,
         0}, /* a video name in an image folder */
        {"masks", GOLDEN_DOMAIN_VIDEO, GOLDEN_RULE_UNKNOWN, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        const golden_kind *k = golden_kind_of(rows[i].name, rows[i].dom);
        if (k->rule != rows[i].rule || k->tol != rows[i].tol)
            fail_msg("%s: row \"%s\" rule %d tol %g, expected rule %d tol %g", rows[i].name,
                     k->kind, k->rule, k->tol, rows[i].rule, rows[i].tol);
    }
    assert_true(golden_kind_of("r03_pred_masks_obj1", GOLDEN_DOMAIN_VIDEO)->hole_fill);
    assert_false(golden_kind_of("s03_f1_video_res_logits_obj1", GOLDEN_DOMAIN_VIDEO)->hole_fill);
    assert_string_equal(golden_kind_of("mystery", GOLDEN_DOMAIN_VIDEO)->kind, "unknown");
}

/* Every entry of both sets: a known row, a parseable entry, and the stats convention. */
static void test_every_entry_has_a_row(void **state) {
    (void)state;
    const char *sets[] = {"micro_golden", "tiny_golden"};
    int entries = 0, stats_checked = 0;
    for (int s = 0; s < 2; s++) {
        golden_set *g = open_set(sets[s]);
        for (int i = 0; i < g->nfolders; i++) {
            golden_folder f;
            sam2_error err = {0};
            if (golden_folder_open(g, g->folders[i], &f, &err)) fail_msg("%s", err.message);
            golden_entry_list l;
            assert_int_equal(golden_collect(f.index, &l, &err), 0);
            assert_true(l.count > 0);
            for (int k = 0; k < l.count; k++) {
                golden_entry e;
                if (golden_entry_parse(l.items[k], &e, &err))
                    fail_msg("%s/%s: %s", f.name, sets[s], err.message);
                const golden_kind *kind = golden_kind_of(e.name, golden_domain_of(f.kind));
                if (kind->rule == GOLDEN_RULE_UNKNOWN)
                    fail_msg("%s/%s/%s has no tolerance row", sets[s], f.name, e.name);
                entries++;
                /* stats are float64 over the full tensor with numpy's population std */
                if (sets[s][0] == 'm' && e.storage == GOLDEN_STORED_NPY && e.dtype == NPY_F32 &&
                    e.stats.present && e.numel > 1) {
                    npy_array a = load(g, &e);
                    double sum = 0, ss = 0, mn = INFINITY, mx = -INFINITY;
                    for (int64_t j = 0; j < a.numel; j++) sum += ((float *)a.data)[j];
                    double mean = sum / a.numel;
                    for (int64_t j = 0; j < a.numel; j++) {
                        double v = ((float *)a.data)[j];
                        ss += (v - mean) * (v - mean), mn = fmin(mn, v), mx = fmax(mx, v);
                    }
                    double scale = fmax(1.0, fmax(fabs(mn), fabs(mx)));
                    if (fabs(mean - e.stats.mean) > 1e-9 * scale ||
                        fabs(sqrt(ss / a.numel) - e.stats.std) > 1e-9 * scale ||
                        mn != e.stats.min || mx != e.stats.max)
                        fail_msg("%s: stats do not match the data", e.name);
                    stats_checked++;
                    npy_free(&a);
                }
            }
            golden_entry_list_free(&l);
            golden_folder_close(&f);
        }
    }
    printf("%d entries, all with a tolerance row; stats convention checked on %d\n", entries,
           stats_checked);
    assert_true(entries > 1000);
    assert_true(stats_checked > 100);
}

/* ---- materialising ------------------------------------------------------------------------ */

static void test_materialise_sha256(void **state) {
    (void)state;
    const char *sets[] = {"micro_golden", "tiny_golden"};
    int verified[GOLDEN_STORED_SKIPPED + 1] = {0}, dedup = 0, partial = 0;
    for (int s = 0; s < 2; s++) {
        golden_set *g = open_set(sets[s]);
        for (int i = 0; i < g->nfolders; i++) {
            golden_folder f;
            sam2_error err = {0};
            if (golden_folder_open(g, g->folders[i], &f, &err)) fail_msg("%s", err.message);
            golden_entry_list l;
            assert_int_equal(golden_collect(f.index, &l, &err), 0);
            for (int k = 0; k < l.count; k++) {
                golden_entry e;
                assert_int_equal(golden_entry_parse(l.items[k], &e, &err), 0);
                if (!golden_materialisable(&e)) {
                    npy_array a;
                    assert_int_equal(golden_load(g, &e, &a, &err), SAM2_ERR_UNSUPPORTED);
                    partial += e.storage == GOLDEN_STORED_PNG;
                    continue;
                }
                npy_array a = load(g, &e);
                assert_int_equal(a.numel, e.numel);
                if (e.sha256) {
                    if (golden_check_sha256(&e, a.data,
                                            (size_t)a.numel * npy_dtype_size(a.dtype)) != 1)
                        fail_msg("%s/%s/%s (%s): materialised tensor does not match its sha256",
                                 sets[s], f.name, e.name, golden_storage_name(e.storage));
                    verified[e.storage]++;
                    dedup += e.dedup;
                }
                npy_free(&a);
            }
            golden_entry_list_free(&l);
            golden_folder_close(&f);
        }
    }
    printf("sha256 verified: derived %d, patched %d, rle %d, png %d (dedup %d); partial png %d\n",
           verified[GOLDEN_STORED_DERIVED], verified[GOLDEN_STORED_PATCHED],
           verified[GOLDEN_STORED_RLE], verified[GOLDEN_STORED_PNG], dedup, partial);
    assert_true(verified[GOLDEN_STORED_DERIVED] >= 30);
    assert_true(verified[GOLDEN_STORED_PATCHED] >= 10);
    assert_true(verified[GOLDEN_STORED_RLE] >= 20);
    assert_true(verified[GOLDEN_STORED_PNG] >= 4);
    assert_true(dedup > 0);
    assert_true(partial >= 1); /* tiny frames_resized_u8 keeps frame 0 only */
}

/* ---- feeding the golden data back through the tap bridge --------------------------------- */

typedef struct feed_stats {
    int emitted, consumed, hwc;
} feed_stats;

/* Emits every entry under `scope` (by full name, base name or key, in turn) and ends the
 * scope; entries that cannot be rebuilt (partial png) are consumed. */
static void feed_scope(parity_tap *t, const golden_set *g, const cJSON *scope, const char *where,
                       golden_domain dom, feed_stats *fs) {
    assert_int_equal(parity_tap_begin(t, scope, where, dom), 0);
    golden_entry_list l;
    sam2_error err = {0};
    assert_int_equal(golden_collect(scope, &l, &err), 0);
    for (int k = 0; k < l.count; k++) {
        golden_entry e;
        assert_int_equal(golden_entry_parse(l.items[k], &e, &err), 0);
        tap_dtype dt;
        void *data = golden_as_computed(g, &e, &dt);
        if (!data) {
            assert_int_equal(parity_tap_consume(t, e.name), 0);
            fs->consumed++;
            continue;
        }
        char base[128];
        golden_base_name(e.name, base, sizeof base);
        const char *name = (k % 3 == 1)                                              ? base
                           : (k % 3 == 2 && l.keys[k] && strcmp(l.keys[k], "files")) ? l.keys[k]
                                                                                     : e.name;
        if (dt == TAP_F32 && e.ndim == 4 && e.shape[0] == 1 && (k & 1)) {
            /* channels-last emission of an NCHW tensor */
            int64_t C = e.shape[1], H = e.shape[2], W = e.shape[3];
            float *hwc = malloc((size_t)e.numel * sizeof *hwc), *src = data;
            for (int64_t c = 0; c < C; c++)
                for (int64_t p = 0; p < H * W; p++) hwc[p * C + c] = src[c * H * W + p];
            parity_tap_emit(t, name, hwc, dt, e.ndim, e.shape, TAP_HWC_FOR_NCHW);
            free(hwc);
            fs->hwc++;
        } else {
            parity_tap_emit(t, name, data, dt, e.ndim, e.shape, TAP_AS_SHAPED);
        }
        fs->emitted++;
        free(data);
    }
    golden_entry_list_free(&l);
    assert_int_equal(parity_tap_end(t), 0);
}

static void feed_folder(parity_tap *t, const golden_set *g, const golden_folder *f,
                        feed_stats *fs) {
    golden_domain dom = golden_domain_of(f->kind);
    char where[512];
    if (f->kind == GOLDEN_FOLDER_VIDEO_API) {
        /* one scope per step object and per model call */
        const cJSON *step, *o;
        cJSON_ArrayForEach(step, cJSON_GetObjectItemCaseSensitive(f->index, "steps")) {
            int sn = cJSON_GetObjectItemCaseSensitive(step, "step")->valueint;
            cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(step, "objects")) {
                snprintf(where, sizeof where, "%s/step%d/obj%d", f->name, sn,
                         cJSON_GetObjectItemCaseSensitive(o, "obj_id")->valueint);
                feed_scope(t, g, o, where, dom, fs);
            }
            int c = 0;
            cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(step, "model_calls")) {
                snprintf(where, sizeof where, "%s/step%d/call%d", f->name, sn, c++);
                feed_scope(t, g, o, where, dom, fs);
            }
        }
    } else if (f->kind == GOLDEN_FOLDER_VIDEO_DEMO) {
        const cJSON *o;
        int r = 0;
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(f->index, "low_res_masks")) {
            snprintf(where, sizeof where, "%s/%d", f->name, r++);
            feed_scope(t, g, o, where, dom, fs);
        }
    } else {
        feed_scope(t, g, f->index, f->name, dom, fs);
    }
}

static void test_feed_back_passes(void **state) {
    (void)state;
    /* Emulated (make test-arm64), the tiny set's few hundred MB take minutes: micro only. */
    const char *sets[] = {"micro_golden", "tiny_golden"};
    for (int s = 0; s < (test_emulated() ? 1 : 2); s++) {
        golden_set *g = open_set(sets[s]);
        char *log = NULL;
        size_t logn = 0;
        FILE *lf = open_memstream(&log, &logn);
        parity_report *r = parity_report_new(lf, 0);
        parity_tap *t = parity_tap_new(g, r);
        feed_stats fs = {0};
        int total = 0;
        for (int i = 0; i < g->nfolders; i++) {
            golden_folder f;
            sam2_error err = {0};
            if (golden_folder_open(g, g->folders[i], &f, &err)) fail_msg("%s", err.message);
            golden_entry_list l;
            assert_int_equal(golden_collect(f.index, &l, &err), 0);
            total += l.count;
            golden_entry_list_free(&l);
            feed_folder(t, g, &f, &fs);
            golden_folder_close(&f);
        }
        fflush(lf);
        if (parity_report_failed(r))
            fail_msg("%s: %d failures feeding golden data back:\n%.4000s", sets[s],
                     parity_report_failed(r), log);
        assert_int_equal(fs.emitted + fs.consumed, total);     /* the scopes cover every entry */
        assert_int_equal(parity_report_passed(r), fs.emitted); /* ... and each emission matched */
        assert_int_equal(parity_tap_unmatched(t), 0);
        assert_true(fs.hwc > 0);
        printf("%s: %d tensors fed back and passed (%d channels-last), %d consumed\n", sets[s],
               fs.emitted, fs.hwc, fs.consumed);
        parity_tap_free(t);
        parity_report_free(r);
        fclose(lf);
        free(log);
    }
}

/* ---- perturbations ------------------------------------------------------------------------ */

/* Float entry: one value moved by `factor` * tol * max(1, max|g|). */
static golden_result nudge(const golden_set *g, const golden_entry *e, golden_domain dom, float *x,
                           int64_t at, double factor) {
    double M = golden_stats_max_abs(e);
    if (golden_materialisable(e)) {
        npy_array a = load(g, e);
        M = 0;
        for (int64_t i = 0; i < a.numel; i++) M = fmax(M, fabs(npy_get(&a, i)));
        npy_free(&a);
    }
    const golden_kind *k = golden_kind_of(e->name, dom);
    float save = x[at];
    x[at] = (float)(x[at] + factor * k->tol * fmax(1.0, M));
    golden_result r = compare(g, e, dom, GOLDEN_C_F32, x, NULL);
    x[at] = save;
    return r;
}

static void perturb_float(const char *set, const char *folder, const char *name,
                          golden_storage want_storage, int64_t at) {
    golden_set *g = open_set(set);
    golden_folder f;
    golden_entry e = find_entry(&f, folder, g, name);
    assert_int_equal(e.storage, want_storage);
    golden_domain dom = golden_domain_of(f.kind);
    tap_dtype dt;
    float *x = golden_as_computed(g, &e, &dt);
    char what[256];
    snprintf(what, sizeof what, "%s/%s/%s (%s)", set, folder, name, golden_storage_name(e.storage));
    golden_result r = compare(g, &e, dom, GOLDEN_C_F32, x, NULL);
    expect_pass(&r, what);
    r = nudge(g, &e, dom, x, at, 0.8);
    expect_pass(&r, what);
    r = nudge(g, &e, dom, x, at, 1.2);
    expect_fail(&r, what);
    free(x);
    golden_folder_close(&f);
}

static void test_perturb_whole(void **state) {
    (void)state;
    perturb_float("micro_golden", "image/truck", "trunk_stage2", GOLDEN_STORED_NPY, 100);
    perturb_float("micro_golden", "image/truck/point1_multi", "low_res_masks",
                  GOLDEN_STORED_DERIVED, 4000);
    perturb_float("micro_golden", "image/groceries/box", "decoder_out_masks", GOLDEN_STORED_DERIVED,
                  7);
    perturb_float("tiny_golden", "image/truck/mask_input", "mask_input", GOLDEN_STORED_DERIVED,
                  300);
    perturb_float("tiny_golden", "video/api", "s00_f0_call0_pred_masks_before_fill",
                  GOLDEN_STORED_PATCHED, 1000);
    perturb_float("micro_golden", "image/truck/box", "iou_predictions", GOLDEN_STORED_NPY, 0);
    perturb_float("tiny_golden", "video/api", "s05_f3_obj_ptr_obj1", GOLDEN_STORED_NPY, 63);
}

/* Index (flat) of the first element of crop window w. */
static int64_t window_start(const golden_set *g, const golden_entry *e, int w) {
    npy_array win;
    int64_t index[NPY_MAX_DIMS][2], off = 0, stride = 1;
    sam2_error err = {0};
    assert_int_equal(golden_load_window(g, e, w, &win, index, NULL, &err), 0);
    npy_free(&win);
    for (int d = e->ndim - 1; d >= 0; d--) off += index[d][0] * stride, stride *= e->shape[d];
    return off;
}

static void test_perturb_crops_and_stats(void **state) {
    (void)state;
    const struct {
        const char *set, *folder, *name;
    } cases[] = {
        {"micro_golden", "image/truck", "neck_fpn_raw_l0"},
        {"tiny_golden", "image/groceries", "trunk_stage0"},
        {"tiny_golden", "image/truck/point1_multi", "masks_logits"},
        {"tiny_golden", "video/api", "s02_f0_video_res_logits_obj1"},
        {"tiny_golden", "video/demo", "r05_pred_masks_obj2"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        golden_set *g = open_set(cases[c].set);
        golden_folder f;
        golden_entry e = find_entry(&f, cases[c].folder, g, cases[c].name);
        assert_int_equal(e.storage, GOLDEN_STORED_CROPS);
        golden_domain dom = golden_domain_of(f.kind);
        const golden_kind *k = golden_kind_of(e.name, dom);
        float *x = synthesize(g, &e);
        char what[256];
        snprintf(what, sizeof what, "%s/%s/%s", cases[c].set, cases[c].folder, cases[c].name);
        golden_result r = compare(g, &e, dom, GOLDEN_C_F32, x, NULL);
        expect_pass(&r, what);
        /* inside the last window */
        int64_t at = window_start(g, &e, golden_window_count(&e) - 1);
        r = nudge(g, &e, dom, x, at, 0.8);
        expect_pass(&r, what);
        r = nudge(g, &e, dom, x, at, 1.2);
        expect_fail(&r, what);
        /* outside the windows only the stats can notice: shift every value by 1.2 tol M1 (mean
         * moves, std does not), then by 0.8 */
        double M1 = fmax(1.0, golden_stats_max_abs(&e));
        for (int sgn = 0; sgn < 2; sgn++) {
            double shift = (sgn ? 0.8 : 1.2) * k->tol * M1;
            float *y = malloc((size_t)e.numel * sizeof *y);
            for (int64_t i = 0; i < e.numel; i++) y[i] = (float)(x[i] + shift);
            r = compare(g, &e, dom, GOLDEN_C_F32, y, NULL);
            if (sgn)
                expect_pass(&r, what);
            else
                expect_fail(&r, what);
            free(y);
        }
        free(x);
        golden_folder_close(&f);
    }
}

static void test_skipped(void **state) {
    (void)state;
    golden_set *g = open_set("tiny_golden");
    golden_folder f;
    golden_entry e = find_entry(&f, "image/groceries", g, "neck_fpn_raw_l0");
    assert_int_equal(e.storage, GOLDEN_STORED_SKIPPED);
    float *x = synthesize(g, &e);
    golden_result r = compare(g, &e, GOLDEN_DOMAIN_IMAGE, GOLDEN_C_F32, x, NULL);
    expect_pass(&r, "skipped entry, matching stats");
    /* widen the spread around the mean: std grows by 1.2 tol M1 */
    double M1 = fmax(1.0, golden_stats_max_abs(&e)),
           tol = golden_kind_of(e.name, GOLDEN_DOMAIN_IMAGE)->tol;
    double scale = 1 + 1.2 * tol * M1 / e.stats.std;
    for (int64_t i = 2; i < e.numel; i++)
        x[i] = (float)(e.stats.mean + (x[i] - e.stats.mean) * scale);
    r = compare(g, &e, GOLDEN_DOMAIN_IMAGE, GOLDEN_C_F32, x, NULL);
    expect_fail(&r, "skipped entry, std off by 1.2 tol");
    assert_non_null(strstr(r.detail, "stats.std"));
    free(x);
    golden_folder_close(&f);
}

static void test_masks_and_exact(void **state) {
    (void)state;
    golden_set *g = open_set("micro_golden");
    golden_folder f;
    /* rle masks [3, 1200, 1800]: 0.05% flipped passes, 0.2% fails */
    golden_entry e = find_entry(&f, "image/truck/point1_multi", g, "masks");
    assert_int_equal(e.storage, GOLDEN_STORED_RLE);
    npy_array a = load(g, &e);
    golden_result r = compare(g, &e, GOLDEN_DOMAIN_IMAGE, GOLDEN_C_U8, a.data, NULL);
    expect_pass(&r, "masks as given");
    int64_t step = 2000; /* one pixel in 2000 = 0.05 % */
    for (int64_t i = 0; i < a.numel; i += step) ((uint8_t *)a.data)[i] ^= 1;
    r = compare(g, &e, GOLDEN_DOMAIN_IMAGE, GOLDEN_C_U8, a.data, NULL);
    expect_pass(&r, "masks with 0.05% flipped");
    assert_int_equal(r.ndiff, (a.numel + step - 1) / step);
    for (int64_t i = 1; i < a.numel; i += 2000 / 3) ((uint8_t *)a.data)[i] ^= 1;
    r = compare(g, &e, GOLDEN_DOMAIN_IMAGE, GOLDEN_C_U8, a.data, NULL);
    expect_fail(&r, "masks with 0.2% flipped");
    npy_free(&a);
    /* masks compared from float logits: > 0 is foreground */
    golden_folder_close(&f);
    e = find_entry(&f, "image/groceries/box", g, "masks");
    a = load(g, &e);
    float *logits = malloc((size_t)a.numel * sizeof *logits);
    for (int64_t i = 0; i < a.numel; i++) logits[i] = ((uint8_t *)a.data)[i] ? 0.5f : 0.0f;
    r = compare(g, &e, GOLDEN_DOMAIN_IMAGE, GOLDEN_C_F32, logits, NULL);
    expect_pass(&r, "masks from logits");
    free(logits);
    npy_free(&a);
    golden_folder_close(&f);

    /* png uint8 image: exact */
    e = find_entry(&f, "image/groceries", g, "image_rgb_u8");
    assert_int_equal(e.storage, GOLDEN_STORED_PNG);
    a = load(g, &e);
    r = compare(g, &e, GOLDEN_DOMAIN_IMAGE, GOLDEN_C_U8, a.data, NULL);
    expect_pass(&r, "image_rgb_u8");
    ((uint8_t *)a.data)[12345] ^= 1;
    r = compare(g, &e, GOLDEN_DOMAIN_IMAGE, GOLDEN_C_U8, a.data, NULL);
    expect_fail(&r, "image_rgb_u8 with one byte changed");
    assert_int_equal(r.ndiff, 1);
    npy_free(&a);
    golden_folder_close(&f);

    /* int32 labels: exact */
    e = find_entry(&f, "image/truck/points3_single", g, "prompt_encoder_labels");
    a = load(g, &e);
    r = compare(g, &e, GOLDEN_DOMAIN_IMAGE, GOLDEN_C_I32, a.data, NULL);
    expect_pass(&r, "labels");
    ((int32_t *)a.data)[1] = 3;
    r = compare(g, &e, GOLDEN_DOMAIN_IMAGE, GOLDEN_C_I32, a.data, NULL);
    expect_fail(&r, "labels with one changed");
    npy_free(&a);
    golden_folder_close(&f);

    /* partial png (tiny frames_resized_u8 keeps frame 0): window exact, other frames by hash */
    g = open_set("tiny_golden");
    e = find_entry(&f, "video/frames", g, "frames_resized_u8");
    assert_false(golden_materialisable(&e));
    uint8_t *frames = calloc((size_t)e.numel, 1);
    npy_array win;
    int64_t index[NPY_MAX_DIMS][2];
    sam2_error err = {0};
    assert_int_equal(golden_load_window(g, &e, 0, &win, index, NULL, &err), 0);
    memcpy(frames, win.data, (size_t)win.numel); /* frame 0 */
    npy_free(&win);
    r = compare(g, &e, GOLDEN_DOMAIN_VIDEO, GOLDEN_C_U8, frames, NULL);
    expect_fail(&r, "frames 1..7 left black");
    assert_int_equal(r.ndiff, 0);                         /* the stored frame itself matches ... */
    assert_non_null(strstr(r.detail, "frame 1 differs")); /* ... the hashes catch the rest */
    frames[5] ^= 1;
    r = compare(g, &e, GOLDEN_DOMAIN_VIDEO, GOLDEN_C_U8, frames, NULL);
    assert_int_equal(r.ndiff, 1);
    free(frames);
    golden_folder_close(&f);
}

static void test_bf16(void **state) {
    (void)state;
    assert_int_equal(golden_f32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(golden_f32_to_bf16(1.00390625f), 0x3f80); /* halfway: to even */
    assert_int_equal(golden_f32_to_bf16(1.01171875f), 0x3f82); /* halfway: to even (up) */
    assert_int_equal(golden_f32_to_bf16(-2.0f), 0xc000);
    assert_true(isnan(golden_bf16_to_f32(golden_f32_to_bf16(NAN))));

    golden_set *g = open_set("micro_golden");
    golden_folder f;
    golden_entry e = find_entry(&f, "video/api", g, "s02_f0_maskmem_features_bf16bits_obj1");
    assert_int_equal(e.storage, GOLDEN_STORED_NPY);
    npy_array a = load(g, &e);
    assert_int_equal(a.dtype, NPY_U16);
    uint16_t *bits = a.data;
    golden_result r = compare(g, &e, GOLDEN_DOMAIN_VIDEO, GOLDEN_C_BF16, bits, NULL);
    expect_pass(&r, "bf16 bits as given");
    assert_int_equal(r.ndiff, 0);
    /* float32 results are rounded to bf16 first: values within half a bf16 step still match */
    float *x = malloc((size_t)a.numel * sizeof *x);
    for (int64_t i = 0; i < a.numel; i++) x[i] = golden_bf16_to_f32(bits[i]) * (1.0f + 0x1p-10f);
    r = compare(g, &e, GOLDEN_DOMAIN_VIDEO, GOLDEN_C_F32, x, NULL);
    expect_pass(&r, "float32 slightly off, same bf16");
    assert_int_equal(r.ndiff, 0);
    /* one bf16 step on 0.5% of the values: allowed; on 2%: fewer than 99% identical */
    uint16_t *y = malloc((size_t)a.numel * sizeof *y);
    memcpy(y, bits, (size_t)a.numel * 2);
    int64_t stepped = 0;
    for (int64_t i = 0; i < a.numel; i += 200) y[i] += 1, stepped++;
    r = compare(g, &e, GOLDEN_DOMAIN_VIDEO, GOLDEN_C_BF16, y, NULL);
    expect_pass(&r, "0.5% one step off");
    assert_int_equal(r.ndiff, stepped);
    for (int64_t i = 100; i < a.numel; i += 200 / 3) y[i] += 1;
    r = compare(g, &e, GOLDEN_DOMAIN_VIDEO, GOLDEN_C_BF16, y, NULL);
    expect_fail(&r, "2% one step off");
    assert_non_null(strstr(r.detail, "< 99%"));
    /* one value far off: breaks the per-value bound though the tolerance 1e-1 holds */
    memcpy(y, bits, (size_t)a.numel * 2);
    int64_t big = 0;
    for (int64_t i = 0; i < a.numel; i++)
        if (fabsf(golden_bf16_to_f32(bits[i])) > fabsf(golden_bf16_to_f32(bits[big]))) big = i;
    y[big] = golden_f32_to_bf16(golden_bf16_to_f32(bits[big]) * 1.05f);
    r = compare(g, &e, GOLDEN_DOMAIN_VIDEO, GOLDEN_C_BF16, y, NULL);
    expect_fail(&r, "one value 5% off");
    assert_non_null(strstr(r.detail, "break"));
    free(x), free(y);
    npy_free(&a);
    golden_folder_close(&f);

    /* memattn_memory (float32 under the bf16 rule): object-pointer rows a hair off still pass */
    e = find_entry(&f, "video/api", g, "s03_f1_call0_memattn_memory");
    a = load(g, &e);
    float *m = a.data;
    int64_t tail = 4 * e.shape[2]; /* the last 4 tokens are the object pointer */
    for (int64_t i = a.numel - tail; i < a.numel; i++) m[i] *= 1.0f + 1e-7f;
    r = compare(g, &e, GOLDEN_DOMAIN_VIDEO, GOLDEN_C_F32, m, NULL);
    expect_pass(&r, "memattn_memory, pointer rows 1e-7 off");
    for (int64_t i = 0; i < a.numel; i += 50)
        m[i] = golden_bf16_to_f32(golden_f32_to_bf16(m[i]) + 1);
    r = compare(g, &e, GOLDEN_DOMAIN_VIDEO, GOLDEN_C_F32, m, NULL);
    expect_fail(&r, "memattn_memory, 2% one bf16 step off");
    npy_free(&a);
    golden_folder_close(&f);

    /* tiny: bf16 crops */
    g = open_set("tiny_golden");
    e = find_entry(&f, "video/api", g, "s03_f1_maskmem_features_bf16bits_obj1");
    assert_int_equal(e.storage, GOLDEN_STORED_CROPS);
    x = synthesize(g, &e);
    r = compare(g, &e, GOLDEN_DOMAIN_VIDEO, GOLDEN_C_F32, x, NULL);
    expect_pass(&r, "tiny bf16 crops");
    int64_t at = window_start(g, &e, 0);
    x[at] = x[at] * 1.5f + 0.5f;
    r = compare(g, &e, GOLDEN_DOMAIN_VIDEO, GOLDEN_C_F32, x, NULL);
    expect_fail(&r, "tiny bf16 crops, one window value off");
    free(x);
    golden_folder_close(&f);
}

static void test_hole_filling_exception(void **state) {
    (void)state;
    golden_set *g = open_set("micro_golden");
    golden_folder f;
    golden_entry e = find_entry(&f, "video/api", g, "s03_f1_pred_masks_obj1");
    npy_array a = load(g, &e);
    float *x = malloc((size_t)a.numel * sizeof *x), *unfilled = malloc((size_t)a.numel * sizeof *x);
    memcpy(x, a.data, (size_t)a.numel * 4);
    memcpy(unfilled, a.data, (size_t)a.numel * 4);
    int64_t p = a.numel / 2 + 17;
    unfilled[p] = 3e-7f; /* the unfilled logit was (almost) zero here ... */
    x[p] += 0.09f;       /* ... and hole filling moved our value */
    golden_result r = compare(g, &e, GOLDEN_DOMAIN_VIDEO, GOLDEN_C_F32, x, NULL);
    expect_fail(&r, "0.09 off without the unfilled logits");
    r = compare(g, &e, GOLDEN_DOMAIN_VIDEO, GOLDEN_C_F32, x, unfilled);
    expect_pass(&r, "0.09 off at a near-zero unfilled logit");
    assert_non_null(strstr(r.detail, "excused"));
    x[p] += 0.05f;
    r = compare(g, &e, GOLDEN_DOMAIN_VIDEO, GOLDEN_C_F32, x, unfilled);
    expect_fail(&r, "0.14 off at a near-zero unfilled logit");
    x[p] -= 0.14f;
    unfilled[p] = 0.5f; /* not near zero: no excuse */
    x[p] += 0.09f;
    r = compare(g, &e, GOLDEN_DOMAIN_VIDEO, GOLDEN_C_F32, x, unfilled);
    expect_fail(&r, "0.09 off at an ordinary pixel");

    /* through the tap bridge: pred_masks_before_fill emitted first supplies the unfilled logits */
    char *log = NULL;
    size_t logn = 0;
    FILE *lf = open_memstream(&log, &logn);
    parity_report *rep = parity_report_new(lf, 0);
    parity_tap *t = parity_tap_new(g, rep);
    const cJSON *objs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(f.index, "steps"), 3), "objects");
    unfilled[p] = 3e-7f;
    parity_tap_begin(t, cJSON_GetArrayItem(objs, 0), "video/api/step3/obj1", GOLDEN_DOMAIN_VIDEO);
    parity_tap_emit(t, "pred_masks_before_fill", unfilled, TAP_F32, e.ndim, e.shape, TAP_AS_SHAPED);
    parity_tap_emit(t, "pred_masks", x, TAP_F32, e.ndim, e.shape, TAP_AS_SHAPED);
    assert_int_equal(parity_report_passed(rep), 1);
    parity_tap_set_unfilled(t, a.data, a.numel); /* explicit, and without the near-zero pixel */
    parity_tap_emit(t, "pred_masks", x, TAP_F32, e.ndim, e.shape, TAP_AS_SHAPED);
    assert_int_equal(parity_report_failed(rep), 1);
    parity_tap_end(t); /* the other tensors of the object were not produced */
    parity_tap_free(t);
    parity_report_free(rep);
    fclose(lf);
    free(log);
    free(x), free(unfilled);
    npy_free(&a);
    golden_folder_close(&f);
}

/* ---- bridge bookkeeping and the report ---------------------------------------------------- */

static void test_bridge_bookkeeping(void **state) {
    (void)state;
    golden_set *g = open_set("micro_golden");
    golden_folder f;
    golden_entry e = find_entry(&f, "image/truck/box", g, "iou_predictions");
    char *log = NULL;
    size_t logn = 0;
    FILE *lf = open_memstream(&log, &logn);
    parity_report *r = parity_report_new(lf, 0);
    parity_tap *t = parity_tap_new(g, r);
    golden_entry_list l;
    sam2_error err = {0};
    assert_int_equal(golden_collect(f.index, &l, &err), 0);
    assert_int_equal(parity_tap_begin(t, f.index, "image/truck/box", GOLDEN_DOMAIN_IMAGE), 0);
    assert_int_equal(parity_tap_consume(t, "prompt_encoder_points"), 0);
    assert_int_equal(parity_tap_consume(t, "prompt_encoder_labels"), 0);
    assert_int_equal(parity_tap_consume(t, "no_such_tensor"), -1);
    npy_array a = load(g, &e);
    parity_tap_emit(t, "iou_predictions", a.data, TAP_F32, e.ndim, e.shape, TAP_AS_SHAPED);
    parity_tap_emit(t, "not_in_golden", a.data, TAP_F32, e.ndim, e.shape, TAP_AS_SHAPED);
    parity_tap_emit(t, "files", a.data, TAP_F32, e.ndim, e.shape,
                    TAP_AS_SHAPED); /* a list, not a tensor */
    int64_t wrong[2] = {2, 1};
    parity_tap_emit(t, "iou_predictions", a.data, TAP_F32, 2, wrong,
                    TAP_AS_SHAPED); /* wrong shape */
    int64_t same[3] = {1, 1, 1};    /* [1] and [1,1,1] agree up to size-1 dimensions */
    parity_tap_emit(t, "iou_predictions", a.data, TAP_F32, 3, same, TAP_AS_SHAPED);
    parity_tap_emit(t, "iou_predictions", a.data, TAP_U8, e.ndim, e.shape,
                    TAP_AS_SHAPED); /* wrong dtype */
    npy_free(&a);
    assert_int_equal(parity_tap_unmatched(t), 2);
    int missing = parity_tap_end(t);
    assert_int_equal(missing, l.count - 3);
    assert_int_equal(parity_report_passed(r), 2);
    assert_int_equal(parity_report_failed(r), 2 + missing);
    fflush(lf);
    assert_non_null(strstr(log, "not produced"));
    assert_non_null(strstr(log, "differs from golden"));
    golden_entry_list_free(&l);

    /* an entry whose name has no row fails, emitted or not */
    cJSON *scope = cJSON_Parse(
        "{\"files\": [{\"name\": \"mystery_tensor\", \"shape\": [1], \"dtype\": \"float32\","
        " \"stored\": \"npy\", \"file\": \"image/truck/box/iou_predictions.npy\"}]}");
    parity_tap_begin(t, scope, "synthetic", GOLDEN_DOMAIN_IMAGE);
    float v = 0.5f;
    int64_t one = 1;
    parity_tap_emit(t, "mystery_tensor", &v, TAP_F32, 1, &one, TAP_AS_SHAPED);
    assert_int_equal(parity_tap_end(t), 0);
    assert_int_equal(parity_report_failed(r), 3 + missing);
    fflush(lf);
    assert_non_null(strstr(log, "no tolerance rule"));
    parity_tap_begin(t, scope, "synthetic", GOLDEN_DOMAIN_IMAGE);
    assert_int_equal(parity_tap_end(t), 1);
    cJSON_Delete(scope);
    parity_tap_free(t);
    parity_report_free(r);
    fclose(lf);
    free(log);
    golden_folder_close(&f);
}

static void test_report_format(void **state) {
    (void)state;
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    FILE *devnull = fopen("/dev/null", "w");
    parity_report *r = parity_report_new(devnull, 1);
    const golden_kind *trunk = golden_kind_of("trunk_stage2", GOLDEN_DOMAIN_IMAGE);
    golden_result a = {.pass = 1, .error = 1.2e-6, .tol = 2e-5},
                  b = {.pass = 1, .error = 3e-7, .tol = 2e-5};
    golden_result c = {.pass = 0, .error = 4e-4, .tol = 2e-4};
    parity_report_add(r, trunk, "image/truck/trunk_stage2", &a);
    parity_report_add(r, trunk, "image/truck/trunk_stage1", &b);
    parity_report_add(r, golden_kind_of("masks_logits", GOLDEN_DOMAIN_IMAGE),
                      "image/truck/box/masks_logits", &c);
    parity_report_check(r, "decisions", "image/truck/box", 1, "multimask choice %d", 0);
    parity_report_fail(r, "position encodings", "image/truck/image_pe", "not produced");
    parity_report_not_run(r, "video/api", "video predictor not implemented yet");
    parity_report_print(r, f);
    fclose(f);
    fclose(devnull);
    const char *want[] = {
        "Hiera trunk stages             worst=1.2e-06 tol=2e-05 at image/truck/trunk_stage2  2/2 "
        "ok\n",
        "mask logits, image resolution  worst=0.0004 tol=0.0002 at image/truck/box/masks_logits  "
        "0/1 ok, 1 FAILED\n",
        "decisions                      1/1 ok\n",
        "position encodings             0/1 ok, 1 FAILED\n",
        "not run: video/api (video predictor not implemented yet), counted neither as passed nor "
        "as failed\n",
        "3 passed, 2 failed\n",
    };
    const char *p = out;
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        if (strncmp(p, want[i], strlen(want[i])))
            fail_msg("line %zu:\n got: %.*s\nwant: %s", i, (int)strcspn(p, "\n"), p, want[i]);
        p += strlen(want[i]);
    }
    assert_int_equal(*p, 0); /* "N passed, N failed" is the last line */
    assert_int_equal(parity_report_not_run_count(r), 1);
    free(out);
    parity_report_free(r);
}

int main(void) {
    const struct CMUnitTest unit[] = {cmocka_unit_test(test_npy),
                                      cmocka_unit_test(test_report_format)};
    int failed = cmocka_run_group_tests_name("golden-support-unit", unit, NULL, NULL);
    if (failed) return failed; /* a skip must not hide a failure */
    test_require_dir(test_golden_dir(), "golden data (../shared/golden)");
    const struct CMUnitTest golden[] = {
        cmocka_unit_test(test_open_sets),
        cmocka_unit_test(test_names_and_rows),
        cmocka_unit_test(test_every_entry_has_a_row),
        cmocka_unit_test(test_materialise_sha256),
        cmocka_unit_test(test_feed_back_passes),
        cmocka_unit_test(test_perturb_whole),
        cmocka_unit_test(test_perturb_crops_and_stats),
        cmocka_unit_test(test_skipped),
        cmocka_unit_test(test_masks_and_exact),
        cmocka_unit_test(test_bf16),
        cmocka_unit_test(test_hole_filling_exception),
        cmocka_unit_test(test_bridge_bookkeeping),
    };
    failed |= cmocka_run_group_tests_name("golden-support", golden, NULL, NULL);
    close_sets();
    return failed;
}
