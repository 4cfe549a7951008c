/* Golden data sets (../shared/golden/README.md): opening a set, its folders and their entries,
 * materialising stored tensors, the tolerance table, and comparing a computed tensor with an
 * entry by the README's rules.
 *
 * A golden set is a folder DIR with DIR/index.json (model, checkpoint, config, folder list).
 * Every folder has an index.json; "entries" are the JSON objects anywhere in it that carry
 * name, shape, dtype and stored (image folders list them in "files", video/api nests them in
 * steps[].objects[] and steps[].model_calls[], video/demo in low_res_masks[]). Nothing here
 * depends on a particular golden set: names, shapes and storage come from the index files. */
#ifndef SAM2_TEST_GOLDEN_H
#define SAM2_TEST_GOLDEN_H

#include "sam2.h"
#include "support/npy.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define GOLDEN_PATH_MAX 4096

/* ---- sets and folders --------------------------------------------------------------------- */
typedef struct golden_set {
    char dir[GOLDEN_PATH_MAX];        /* DIR (without trailing slash) */
    char root[GOLDEN_PATH_MAX];       /* DIR/..: checkpoint and config are relative to it */
    cJSON *index;                     /* DIR/index.json */
    const char *description;          /* index "description" ("" when absent) */
    const char *config_name;          /* index "config" as written */
    char checkpoint[GOLDEN_PATH_MAX]; /* DIR/../<checkpoint> */
    const char *checkpoint_sha256;    /* expected sha256 of the checkpoint file, or NULL */
    /* A YAML file found at DIR/../<config> or beside the checkpoint (config_is_file = 1), else
     * the config's base name without .yaml (e.g. "sam2.1_hiera_t"), a built-in preset name. */
    char config[GOLDEN_PATH_MAX];
    int config_is_file;
    int nfolders;
    const char **folders; /* index "folders", in order (strings owned by index) */
    /* The set's tolerance table: the README's EdgeTAM table when the index has an "edgetam"
     * member (edgetam_golden), else the SAM 2 one. */
    int edgetam;
} golden_set;

int golden_open(golden_set *g, const char *dir, sam2_error *err);
void golden_close(golden_set *g);
/* DIR/<rel> into out; fails (SAM2_ERR_LIMIT) when it does not fit. */
int golden_path(const golden_set *g, const char *rel, char *out, size_t size, sam2_error *err);

typedef enum golden_folder_kind {
    GOLDEN_FOLDER_OTHER = 0,
    GOLDEN_FOLDER_IMAGE,      /* image/<img>: preprocessing + image encoder */
    GOLDEN_FOLDER_IMAGE_CASE, /* image/<img>/<case>: one predict call */
    GOLDEN_FOLDER_VIDEO_FRAMES,
    GOLDEN_FOLDER_VIDEO_API,
    GOLDEN_FOLDER_VIDEO_DEMO
} golden_folder_kind;

/* Which part of the tolerance table applies to a folder's tensors. */
typedef enum golden_domain { GOLDEN_DOMAIN_IMAGE = 0, GOLDEN_DOMAIN_VIDEO } golden_domain;

golden_folder_kind golden_folder_kind_of(const char *folder);
golden_domain golden_domain_of(golden_folder_kind kind);

typedef struct golden_folder {
    const golden_set *set;
    char name[256]; /* "image/truck/box", "video/api", ... */
    golden_folder_kind kind;
    cJSON *index;     /* <folder>/index.json */
    cJSON *responses; /* video/demo: the file named by "responses_file", else NULL */
} golden_folder;

int golden_folder_open(const golden_set *g, const char *name, golden_folder *f, sam2_error *err);
void golden_folder_close(golden_folder *f);

/* ---- entries ------------------------------------------------------------------------------ */
typedef enum golden_storage {
    GOLDEN_STORED_UNKNOWN = 0,
    GOLDEN_STORED_NPY,
    GOLDEN_STORED_CROPS,
    GOLDEN_STORED_RLE,
    GOLDEN_STORED_PNG,
    GOLDEN_STORED_DERIVED,
    GOLDEN_STORED_PATCHED,
    GOLDEN_STORED_SKIPPED
} golden_storage;

const char *golden_storage_name(golden_storage s);

typedef struct golden_stats {
    int present;
    double min, max, mean, std; /* over the full original tensor, float64 */
} golden_stats;

typedef struct golden_entry {
    const cJSON *json;
    const char *name;
    golden_storage storage;
    int dtype; /* npy_dtype of the original tensor, -1 when the index names another type */
    int ndim;
    int64_t shape[NPY_MAX_DIMS];
    int64_t numel;
    golden_stats stats;
    const char *sha256;         /* of the full tensor's bytes, or NULL */
    const char *sha256_float32; /* skipped entries */
    int dedup;
} golden_entry;

/* The string member `key` of a JSON object, or NULL. */
const char *golden_json_string(const cJSON *o, const char *key);
/* 1 when node is an entry: a JSON object with name, shape, dtype and stored. */
int golden_is_entry(const cJSON *node);
int golden_entry_parse(const cJSON *node, golden_entry *e, sam2_error *err);

/* Every entry under node, depth-first in document order, with the key of the nearest
 * enclosing object member ("pred_masks", "memattn_out", "files" for image lists, ...). */
typedef struct golden_entry_list {
    const cJSON **items;
    const char **keys;
    int count;
} golden_entry_list;
int golden_collect(const cJSON *node, golden_entry_list *out, sam2_error *err);
void golden_entry_list_free(golden_entry_list *l);
/* First entry named `name` under node, or NULL. */
const cJSON *golden_find(const cJSON *node, const char *name);
/* golden_find + golden_entry_parse; SAM2_ERR_ARGUMENT naming the folder when absent. */
int golden_folder_entry(const golden_folder *f, const char *name, golden_entry *e, sam2_error *err);

/* Name without the video prefixes and suffixes: "s03_f1_call0_memattn_out" -> "memattn_out",
 * "s02_f0_pred_masks_obj1" -> "pred_masks", "r05_pred_masks_obj2" -> "pred_masks". */
void golden_base_name(const char *name, char *out, size_t size);

/* ---- materialising ------------------------------------------------------------------------ */
/* 1 when golden_load can rebuild the whole tensor: npy, derived, patched, rle, and png whose
 * windows cover the whole array. crops and skipped (and partial png) cannot. */
int golden_materialisable(const golden_entry *e);
/* The whole tensor in its original dtype and shape (bool masks as 0/1 bytes). */
int golden_load(const golden_set *g, const golden_entry *e, npy_array *out, sam2_error *err);
/* Windows kept by crops and png entries: golden_window_count() of them; window i's data,
 * its [start, stop) per dimension of the original tensor and its "where" (may be NULL). */
int golden_window_count(const golden_entry *e);
int golden_load_window(const golden_set *g, const golden_entry *e, int i, npy_array *out,
                       int64_t index[][2], const char **where, sam2_error *err);
/* Copies window `index` ([start, stop) per dimension) of a C-order array of `shape` into the
 * packed buffer `win` (elements of esz bytes). */
void golden_window_extract(const void *full, const int64_t *shape, int ndim, int64_t index[][2],
                           void *win, size_t esz);
/* The reverse: writes the packed window `win` into its place in `full`. */
void golden_window_insert(void *full, const int64_t *shape, int ndim, int64_t index[][2],
                          const void *win, size_t esz);
/* max|g| of the full tensor from its stats (max(|min|, |max|)); -1 without stats. */
double golden_stats_max_abs(const golden_entry *e);
/* 1 when sha256(data[0..bytes)) equals the entry's sha256, 0 when it differs, -1 without one. */
int golden_check_sha256(const golden_entry *e, const void *data, size_t bytes);

/* ---- tolerance table ---------------------------------------------------------------------- */
typedef enum golden_rule {
    GOLDEN_RULE_UNKNOWN = 0,  /* no row for this name: always a failure */
    GOLDEN_RULE_TOL,          /* max|x - g| / max(1, max|g|) <= tol */
    GOLDEN_RULE_MASK,         /* binary masks: >= 99.9 % of pixels agree */
    GOLDEN_RULE_EXACT,        /* uint8 images, integer labels: identical */
    GOLDEN_RULE_BF16,         /* bf16 memory: per-value bound + >= 99 % bit-identical + tol */
    GOLDEN_RULE_TOL_BINARISED /* EdgeTAM's binarisation exception: tol for >= 99 % of the
                                 values, 5e-2 * max(1, max|g|) for all */
} golden_rule;

typedef struct golden_kind {
    const char *kind; /* the README table's "kind of tensor", shortened */
    golden_rule rule;
    double tol;
    int hole_fill; /* low-res video logits: the hole-filling exception applies */
} golden_kind;

/* The row for a tensor name (full or base name) in a folder of the given domain. Unknown names
 * get the "unknown" row (GOLDEN_RULE_UNKNOWN), never a default tolerance. */
const golden_kind *golden_kind_of(const char *name, golden_domain domain);
/* Every row, for listing (count in *n). */
const golden_kind *golden_kind_table(int *n);
/* The row for a name under the set's own table (golden_set.edgetam picks EdgeTAM's). */
const golden_kind *golden_kind_of_set(const golden_set *g, const char *name, golden_domain domain);
/* The EdgeTAM table's row for a name (golden README, "Tolerances (EdgeTAM)"). */
const golden_kind *golden_kind_of_edgetam(const char *name, golden_domain domain);

/* ---- comparing ---------------------------------------------------------------------------- */
typedef enum golden_cdtype {
    GOLDEN_C_F32 = 0,
    GOLDEN_C_U8, /* bytes: images exactly, masks as nonzero = true */
    GOLDEN_C_I32,
    GOLDEN_C_BF16 /* uint16 bfloat16 bit patterns */
} golden_cdtype;

typedef struct golden_computed {
    golden_cdtype dtype;
    const void *data; /* C order in `shape` */
    int ndim;
    const int64_t *shape; /* must equal the entry's shape up to dimensions of size 1 */
    /* Optional, low-res video logits only: the same logits before hole filling (same shape).
     * Pixels whose unfilled logit is within 1e-4 * max(1, max|g|) of 0 may differ by up to 0.1
     * (the README's hole-filling exception). */
    const float *unfilled;
    /* Binarised-input encodings (EdgeTAM): pixels of the encoder's binarised mask that fell on
     * the other side of 0 than in the golden run (parity_tap_set_flips); > 1 widens the
     * binarisation exception to that many percent of the values, for the stored bf16 memory
     * too (its per-value rule then holds for all but that share, all within 5e-2). */
    int binarisation_flips;
} golden_computed;

typedef struct golden_result {
    int pass;
    double error;     /* TOL/BF16: normalised error; MASK: fraction of pixels that differ;
                         EXACT: fraction of values that differ */
    double tol;       /* the bound `error` is held to */
    int64_t ndiff;    /* values/pixels that differ (exact and mask rules, bf16 non-identical) */
    int64_t count;    /* values compared */
    char detail[384]; /* what failed / where the worst value is */
} golden_result;

/* Compares a computed tensor with an entry under the rule of `kind` (the rule follows the
 * entry's dtype where that decides it: bool -> MASK, uint8/int32 -> EXACT, *bf16bits* -> BF16).
 * Whole entries (npy, derived, patched) are compared value by value with max|g| of the data;
 * crops compare the same windows cut from the computed tensor, with max|g| from the stats, and
 * the computed tensor's float64 mean and std (and min and max, which the full-tensor bound
 * implies) against the stats within tol * max(1, max|g|); skipped entries compare the stats
 * only. bf16 entries take float32 results (rounded to bf16, nearest even, as the predictor
 * stores them) or bf16 bits; "identical" means equal as bf16 (for memattn_memory, both sides
 * rounded). uint8 entries whose png windows do not cover the array are checked through the
 * stored windows, the whole-array sha256 and the per-frame frame_sha256.
 * Returns 0 with r filled (r->pass says the verdict) or non-zero when the golden data could not
 * be read (err says why; count that as a failure too). */
int golden_compare(const golden_set *g, const golden_entry *e, const golden_kind *kind,
                   const golden_computed *c, golden_result *r, sam2_error *err);

/* A binary mask (row-major h x w, nonzero = true) against a COCO RLE object {size, counts}
 * (video/api mask_rle, video/demo responses): >= 99.9 % agreement; r->detail also says
 * whether our encoder reproduces the counts string byte for byte. */
int golden_compare_rle(const cJSON *rle, const uint8_t *mask, int h, int w, golden_result *r,
                       sam2_error *err);

/* bfloat16 helpers: round to nearest even (NaN stays NaN) and back. */
uint16_t golden_f32_to_bf16(float x);
float golden_bf16_to_f32(uint16_t bits);

#endif
