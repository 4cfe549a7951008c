#include "io/checkpoint.h"

#include "core/error.h"
#include "io/pickle.h"
#include "io/zipfile.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PICKLE_BYTES (64u << 20) /* the large model's is about 200 KB */

typedef struct ckpt_storage {
    int entry; /* zip entry holding the bytes */
    int dtype; /* pk_dtype */
    int64_t numel;
    const uint8_t *base;
} ckpt_storage;

typedef struct ckpt_name {
    const char *name;
    int index;
} ckpt_name;

struct ckpt {
    char *path;
    const uint8_t *data;
    size_t size;
    bool mapped; /* data is our mmap of the file */
    zipf *zip;
    int ntensors, nstorages;
    ckpt_tensor *tensors;
    ckpt_storage *storages;
    ckpt_name *by_name;
    char *names;
    int64_t scalars;
};

/* ---- element conversion -------------------------------------------------------------------- */

static int dtype_size(int dtype) {
    return dtype == CKPT_F32 ? 4 : dtype == CKPT_I64 ? 8 : 2;
}

/* IEEE half -> single, exact for every input (subnormals normalised, NaN payload kept). */
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | mant << 13;
    } else if (exp) {
        bits = sign | (exp + 112) << 23 | mant << 13;
    } else if (!mant) {
        bits = sign;
    } else {
        uint32_t e = 113;
        while (!(mant & 0x400u)) {
            mant <<= 1;
            e--;
        }
        bits = sign | e << 23 | (mant & 0x3ffu) << 13;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* All 65536 upcasts, built once: a table lookup is several times faster than the branches. */
static float half_table[65536];
static pthread_once_t half_table_once = PTHREAD_ONCE_INIT;

static void build_half_table(void) {
    for (uint32_t h = 0; h < 65536; h++) half_table[h] = half_to_float((uint16_t)h);
}

static void convert_run(int dtype, const uint8_t *src, int64_t n, float *out) {
    if (dtype == CKPT_F32) {
        memcpy(out, src, (size_t)n * sizeof(float)); /* the map may be unaligned */
    } else if (dtype == CKPT_F16) {
        pthread_once(&half_table_once, build_half_table);
        for (int64_t i = 0; i < n; i++) out[i] = half_table[src[2 * i] | src[2 * i + 1] << 8];
    } else if (dtype == CKPT_I64) {
        for (int64_t i = 0; i < n; i++) {
            int64_t v;
            memcpy(&v, src + 8 * i, sizeof v);
            out[i] = (float)v;
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            uint32_t bits = (uint32_t)(src[2 * i] | src[2 * i + 1] << 8) << 16;
            memcpy(&out[i], &bits, sizeof bits);
        }
    }
}

static void convert_strided(int dtype, const uint8_t *base, int64_t pos, int64_t stride, int64_t n,
                            float *out) {
    int es = dtype_size(dtype);
    for (int64_t i = 0; i < n; i++) convert_run(dtype, base + (pos + i * stride) * es, 1, out + i);
}

void ckpt_tensor_read_f32(const ckpt_tensor *t, int64_t start, int64_t count, float *out) {
    if (count <= 0) return;
    int es = dtype_size(t->dtype);
    if (t->contiguous || t->ndim == 0) {
        convert_run(t->dtype, t->base + (t->offset + start) * es, count, out);
        return;
    }
    /* Walk the index space from `start`, one run of the last dimension at a time. */
    int64_t idx[CKPT_MAX_DIMS], rem = start, pos = t->offset;
    for (int d = t->ndim - 1; d >= 0; d--) {
        idx[d] = rem % t->shape[d];
        rem /= t->shape[d];
        pos += idx[d] * t->stride[d];
    }
    const int last = t->ndim - 1;
    while (count > 0) {
        int64_t run = t->shape[last] - idx[last];
        if (run > count) run = count;
        if (t->stride[last] == 1)
            convert_run(t->dtype, t->base + pos * es, run, out);
        else
            convert_strided(t->dtype, t->base, pos, t->stride[last], run, out);
        out += run;
        count -= run;
        idx[last] += run;
        pos += run * t->stride[last];
        for (int d = last; d > 0 && idx[d] == t->shape[d]; d--) {
            pos -= idx[d] * t->stride[d];
            idx[d] = 0;
            idx[d - 1]++;
            pos += t->stride[d - 1];
        }
    }
}

bool ckpt_tensor_is_direct(const ckpt_tensor *t) {
    const uint8_t *p = t->base + t->offset * 4;
    return t->dtype == CKPT_F32 && t->contiguous && ((uintptr_t)p % sizeof(float)) == 0;
}

const float *ckpt_tensor_f32(const ckpt_tensor *t, float *scratch) {
    if (ckpt_tensor_is_direct(t)) return (const float *)(const void *)(t->base + t->offset * 4);
    if (!scratch) return NULL;
    ckpt_tensor_read_f32(t, 0, t->numel, scratch);
    return scratch;
}

const char *ckpt_dtype_name(int dtype) {
    return dtype == CKPT_F32    ? "float32"
           : dtype == CKPT_F16  ? "float16"
           : dtype == CKPT_BF16 ? "bfloat16"
           : dtype == CKPT_I64  ? "int64"
                                : "?";
}

/* ---- opening --------------------------------------------------------------------------------- */

static int fail_file(const ckpt *ck, sam2_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_file(const ckpt *ck, sam2_error *err, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sam2_vfail(err, code, fmt, ap);
    va_end(ap);
    sam2_error_prefix(err, "%s", ck->path);
    return code;
}

/* Re-labels an error from a lower layer with the file name. */
static int prefix_file(const ckpt *ck, sam2_error *err, int code) {
    sam2_error_prefix(err, "%s", ck->path);
    return code;
}

/* Finds <archive>/data.pkl (the archive folder's name varies with the saved file's name);
 * returns its entry index, or -1 with err set. */
static int find_pickle(const ckpt *ck, char *prefix, size_t prefix_size, sam2_error *err) {
    int found = -1;
    for (int i = 0; i < zipf_count(ck->zip); i++) {
        const char *name = zipf_entry_at(ck->zip, i)->name;
        const char *slash = strchr(name, '/');
        bool top = !slash && !strcmp(name, "data.pkl");
        bool nested = slash && !strcmp(slash + 1, "data.pkl");
        if (!top && !nested) continue;
        if (found >= 0) {
            fail_file(ck, err, SAM2_ERR_FORMAT, "zip holds more than one data.pkl");
            return -1;
        }
        found = i;
        size_t len = top ? 0 : (size_t)(slash - name) + 1;
        if (len >= prefix_size) {
            fail_file(ck, err, SAM2_ERR_FORMAT, "archive folder name too long");
            return -1;
        }
        memcpy(prefix, name, len);
        prefix[len] = 0;
    }
    if (found < 0)
        fail_file(ck, err, SAM2_ERR_FORMAT,
                  "zip archive has no data.pkl entry (not a torch.save checkpoint)");
    return found;
}

static int check_byteorder(ckpt *ck, const char *prefix, sam2_error *err) {
    char name[512];
    snprintf(name, sizeof name, "%sbyteorder", prefix);
    int i = zipf_find(ck->zip, name);
    if (i < 0) return 0; /* torch 1.x wrote none: little-endian */
    uint8_t *buf;
    size_t n;
    if (zipf_read(ck->zip, i, 64, &buf, &n, err)) return prefix_file(ck, err, err ? err->code : 1);
    bool little = n == 6 && !memcmp(buf, "little", 6);
    free(buf);
    if (!little)
        return fail_file(ck, err, SAM2_ERR_UNSUPPORTED, "big-endian checkpoints are not supported");
    return 0;
}

static bool row_major(const ckpt_tensor *t) {
    int64_t expect = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->shape[d] != 1 && t->stride[d] != expect) return false;
        expect *= t->shape[d];
    }
    return true;
}

/* Storage for a tensor's persistent id: the zip entry <archive>/data/<key>, shared by every
 * tensor naming the same key. */
static int resolve_storage(ckpt *ck, const char *prefix, const char *tname, const pk_value *s,
                           int *storage_of_entry, int *out, sam2_error *err) {
    char name[1024];
    if ((size_t)snprintf(name, sizeof name, "%sdata/%s", prefix, s->u.storage.key) >= sizeof name)
        return fail_file(ck, err, SAM2_ERR_FORMAT, "tensor '%s': storage key too long", tname);
    int entry = zipf_find(ck->zip, name);
    if (entry < 0)
        return fail_file(ck, err, SAM2_ERR_FORMAT, "tensor '%s': storage entry '%s' is missing",
                         tname, name);
    /* pk_dtype -> ckpt_dtype: the floating types share their numbers; int64 is CKPT_I64 */
    const int dtype = s->u.storage.dtype == PK_INT64 ? CKPT_I64 : (int)s->u.storage.dtype;
    int si = storage_of_entry[entry];
    if (si >= 0) {
        if (ck->storages[si].dtype != dtype || ck->storages[si].numel != s->u.storage.numel)
            return fail_file(ck, err, SAM2_ERR_FORMAT,
                             "tensor '%s': storage '%s' is described two different ways", tname,
                             name);
        *out = si;
        return 0;
    }
    if (s->u.storage.dtype > PK_BFLOAT16 && s->u.storage.dtype != PK_INT64)
        return fail_file(ck, err, SAM2_ERR_UNSUPPORTED,
                         "tensor '%s' has dtype %s; only float32, float16, bfloat16 and int64 "
                         "are supported",
                         tname, pk_dtype_name(s->u.storage.dtype));
    const uint8_t *base = zipf_stored_data(ck->zip, entry, err);
    if (!base) return prefix_file(ck, err, err ? err->code : SAM2_ERR_FORMAT);
    uint64_t have = zipf_entry_at(ck->zip, entry)->size;
    int es = pk_dtype_size(s->u.storage.dtype);
    if (s->u.storage.numel > INT64_MAX / es || have != (uint64_t)(s->u.storage.numel * es))
        return fail_file(
            ck, err, SAM2_ERR_FORMAT,
            "tensor '%s': storage '%s' holds %llu bytes, but its header says %lld "
            "%s elements (%lld bytes)",
            tname, name, (unsigned long long)have, (long long)s->u.storage.numel,
            pk_dtype_name(s->u.storage.dtype),
            s->u.storage.numel > INT64_MAX / es ? -1LL : (long long)(s->u.storage.numel * es));
    si = ck->nstorages++;
    ck->storages[si] = (ckpt_storage){entry, dtype, s->u.storage.numel, base};
    storage_of_entry[entry] = si;
    *out = si;
    return 0;
}

/* Fills t from a PK_TENSOR node and checks that every element lies inside its storage. */
static int describe_tensor(ckpt *ck, ckpt_tensor *t, const pk_value *v, int si, sam2_error *err) {
    const ckpt_storage *s = &ck->storages[si];
    t->dtype = s->dtype;
    t->storage = si;
    t->base = s->base;
    t->ndim = v->u.tensor.ndim;
    t->offset = v->u.tensor.offset;
    int64_t numel = 1, last = t->offset;
    for (int d = 0; d < t->ndim; d++) {
        t->shape[d] = v->u.tensor.shape[d];
        t->stride[d] = v->u.tensor.stride[d];
        if (t->shape[d] < 0 || t->stride[d] < 0)
            return fail_file(ck, err, SAM2_ERR_FORMAT, "tensor '%s' has a negative size or stride",
                             t->name);
        if (__builtin_mul_overflow(numel, t->shape[d], &numel))
            return fail_file(ck, err, SAM2_ERR_FORMAT, "tensor '%s' is too large", t->name);
    }
    t->numel = numel;
    if (t->offset < 0 || t->offset > s->numel)
        return fail_file(ck, err, SAM2_ERR_FORMAT,
                         "tensor '%s' has storage offset %lld outside its storage of %lld", t->name,
                         (long long)t->offset, (long long)s->numel);
    if (numel > 0) {
        for (int d = 0; d < t->ndim; d++) {
            int64_t span;
            if (__builtin_mul_overflow(t->shape[d] - 1, t->stride[d], &span) ||
                __builtin_add_overflow(last, span, &last))
                return fail_file(ck, err, SAM2_ERR_FORMAT, "tensor '%s' is too large", t->name);
        }
        if (last >= s->numel)
            return fail_file(ck, err, SAM2_ERR_FORMAT,
                             "tensor '%s' needs element %lld of its storage, which holds only "
                             "%lld (storage shorter than its tensor)",
                             t->name, (long long)last, (long long)s->numel);
    }
    t->contiguous = row_major(t);
    return 0;
}

static int name_cmp(const void *a, const void *b) {
    return strcmp(((const ckpt_name *)a)->name, ((const ckpt_name *)b)->name);
}

/* The state dict: {"model": state_dict} as Meta saves it, or a bare state dict. */
static const pk_value *find_state_dict(const ckpt *ck, const pk_value *root, sam2_error *err) {
    if (root->kind != PK_DICT) {
        fail_file(ck, err, SAM2_ERR_FORMAT, "checkpoint holds a %s, not a dict of tensors",
                  pk_kind_name(root->kind));
        return NULL;
    }
    const pk_value *model = pk_dict_get(root, "model");
    if (model && model->kind == PK_DICT) return model;
    for (size_t i = 0; i < root->u.dict.n; i++)
        if (root->u.dict.vals[i]->kind == PK_TENSOR) return root;
    fail_file(ck, err, SAM2_ERR_FORMAT,
              "no state dict found (expected {'model': state_dict} or a dict of tensors)");
    return NULL;
}

static int load_tensors(ckpt *ck, const pk_value *sd, const char *prefix, sam2_error *err) {
    size_t n = sd->u.dict.n;
    if (n == 0) return fail_file(ck, err, SAM2_ERR_FORMAT, "the state dict holds no tensors");
    if (n > INT32_MAX / 2) return fail_file(ck, err, SAM2_ERR_LIMIT, "too many tensors");
    size_t name_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const pk_value *k = sd->u.dict.keys[i], *v = sd->u.dict.vals[i];
        if (k->kind != PK_STR || strlen(k->u.str.s) != k->u.str.len)
            return fail_file(ck, err, SAM2_ERR_FORMAT, "state dict key %zu is not a plain string",
                             i);
        if (v->kind != PK_TENSOR)
            return fail_file(ck, err, SAM2_ERR_FORMAT,
                             "state dict entry '%s' is a %s, not a tensor", k->u.str.s,
                             pk_kind_name(v->kind));
        name_bytes += k->u.str.len + 1;
    }
    ck->tensors = calloc(n, sizeof *ck->tensors);
    ck->storages = calloc(n, sizeof *ck->storages);
    ck->by_name = calloc(n, sizeof *ck->by_name);
    ck->names = malloc(name_bytes);
    int *storage_of_entry = malloc(sizeof(int) * (size_t)(zipf_count(ck->zip) + 1));
    if (!ck->tensors || !ck->storages || !ck->by_name || !ck->names || !storage_of_entry) {
        free(storage_of_entry);
        return fail_file(ck, err, SAM2_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < zipf_count(ck->zip); i++) storage_of_entry[i] = -1;
    char *np = ck->names;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const pk_value *k = sd->u.dict.keys[i], *v = sd->u.dict.vals[i];
        ckpt_tensor *t = &ck->tensors[i];
        memcpy(np, k->u.str.s, k->u.str.len + 1);
        t->name = np;
        np += k->u.str.len + 1;
        int si = -1;
        rc = resolve_storage(ck, prefix, t->name, v->u.tensor.storage, storage_of_entry, &si, err);
        if (rc == 0) rc = describe_tensor(ck, t, v, si, err);
        if (rc == 0) ck->scalars += t->numel;
        ck->by_name[i] = (ckpt_name){t->name, (int)i};
    }
    free(storage_of_entry);
    if (rc) return rc;
    ck->ntensors = (int)n;
    qsort(ck->by_name, n, sizeof *ck->by_name, name_cmp);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(ck->by_name[i].name, ck->by_name[i - 1].name))
            return fail_file(ck, err, SAM2_ERR_FORMAT, "the state dict names tensor '%s' twice",
                             ck->by_name[i].name);
    return 0;
}

static int open_archive(ckpt *ck, sam2_error *err) {
    ck->zip = zipf_open(ck->data, ck->size, err);
    if (!ck->zip) {
        const uint8_t *d = ck->data;
        if (ck->size >= 2 && d[0] == 0x80 && d[1] <= 5)
            return fail_file(ck, err, SAM2_ERR_UNSUPPORTED,
                             "legacy (pre-zip, torch < 1.6) checkpoint format is not supported");
        if (ck->size < 4 || d[0] != 'P' || d[1] != 'K')
            return fail_file(ck, err, SAM2_ERR_FORMAT,
                             "not a zip archive (torch.save checkpoints are zip files)");
        sam2_error_prefix(err, "truncated or corrupt zip archive");
        return prefix_file(ck, err, SAM2_ERR_FORMAT);
    }
    char prefix[256];
    int pkl = find_pickle(ck, prefix, sizeof prefix, err);
    if (pkl < 0) return err ? err->code : SAM2_ERR_FORMAT;
    if (check_byteorder(ck, prefix, err)) return err ? err->code : SAM2_ERR_FORMAT;
    uint8_t *bytes;
    size_t n;
    if (zipf_read(ck->zip, pkl, MAX_PICKLE_BYTES, &bytes, &n, err))
        return prefix_file(ck, err, err ? err->code : SAM2_ERR_FORMAT);
    pk_doc *doc = pk_load(bytes, n, err);
    free(bytes);
    if (!doc) return prefix_file(ck, err, err ? err->code : SAM2_ERR_FORMAT);
    const pk_value *sd = find_state_dict(ck, pk_root(doc), err);
    int rc = sd ? load_tensors(ck, sd, prefix, err) : (err ? err->code : SAM2_ERR_FORMAT);
    pk_free(doc);
    return rc;
}

static ckpt *new_ckpt(const char *path) {
    ckpt *ck = calloc(1, sizeof *ck);
    if (ck) ck->path = strdup(path ? path : "(null)");
    if (ck && !ck->path) {
        free(ck);
        ck = NULL;
    }
    return ck;
}

ckpt *ckpt_open(const char *path, sam2_error *err) {
    sam2_error local_err;
    if (!err) err = &local_err; /* the code below reads err->code */
    ckpt *ck = new_ckpt(path);
    if (!ck) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fail_file(ck, err, SAM2_ERR_IO, "cannot open: %s", strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        fail_file(ck, err, SAM2_ERR_IO, "is a directory, not a checkpoint file");
    } else if (!S_ISREG(st.st_mode)) {
        fail_file(ck, err, SAM2_ERR_IO, "not a regular file");
    } else if (st.st_size == 0) {
        fail_file(ck, err, SAM2_ERR_FORMAT, "empty file, not a checkpoint");
    } else if ((uint64_t)st.st_size > SIZE_MAX) {
        fail_file(ck, err, SAM2_ERR_LIMIT, "file too large to map");
    } else {
        void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            fail_file(ck, err, SAM2_ERR_IO, "cannot map: %s", strerror(errno));
        } else {
            ck->data = map;
            ck->size = (size_t)st.st_size;
            ck->mapped = true;
        }
    }
    if (fd >= 0) close(fd);
    if (!ck->data || open_archive(ck, err)) {
        ckpt_close(ck);
        return NULL;
    }
    return ck;
}

void ckpt_close(ckpt *ck) {
    if (!ck) return;
    zipf_close(ck->zip);
    if (ck->mapped) munmap((void *)ck->data, ck->size);
    free(ck->tensors);
    free(ck->storages);
    free(ck->by_name);
    free(ck->names);
    free(ck->path);
    free(ck);
}

/* ---- queries ------------------------------------------------------------------------------------
 */

const char *ckpt_path(const ckpt *ck) {
    return ck->path;
}
int64_t ckpt_file_size(const ckpt *ck) {
    return (int64_t)ck->size;
}
int ckpt_num_tensors(const ckpt *ck) {
    return ck->ntensors;
}
int64_t ckpt_num_scalars(const ckpt *ck) {
    return ck->scalars;
}

const ckpt_tensor *ckpt_tensor_at(const ckpt *ck, int i) {
    return i >= 0 && i < ck->ntensors ? &ck->tensors[i] : NULL;
}

const ckpt_tensor *ckpt_find(const ckpt *ck, const char *name) {
    int lo = 0, hi = ck->ntensors - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(ck->by_name[mid].name, name);
        if (c == 0) return &ck->tensors[ck->by_name[mid].index];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

int ckpt_verify_tensor(const ckpt *ck, const ckpt_tensor *t, sam2_error *err) {
    sam2_error local_err;
    if (!err) err = &local_err; /* the code below reads err->code */
    if (zipf_check_crc(ck->zip, ck->storages[t->storage].entry, err))
        return prefix_file(ck, err, err ? err->code : SAM2_ERR_FORMAT);
    return 0;
}

int ckpt_verify(const ckpt *ck, sam2_error *err) {
    sam2_error local_err;
    if (!err) err = &local_err; /* the code below reads err->code */
    for (int s = 0; s < ck->nstorages; s++)
        if (zipf_check_crc(ck->zip, ck->storages[s].entry, err))
            return prefix_file(ck, err, err ? err->code : SAM2_ERR_FORMAT);
    return 0;
}

void ckpt_release_tensor(const ckpt *ck, const ckpt_tensor *t) {
    if (!ck->mapped || t->numel == 0) return;
    int64_t last = t->offset;
    for (int d = 0; d < t->ndim; d++) last += (t->shape[d] - 1) * t->stride[d];
    int es = dtype_size(t->dtype);
    uintptr_t from = (uintptr_t)(t->base + t->offset * es);
    uintptr_t to = (uintptr_t)(t->base + (last + 1) * es);
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    /* Only whole pages inside the tensor: neighbours may still be in use. */
    from = (from + page - 1) & ~(page - 1);
    to &= ~(page - 1);
    if (to > from) madvise((void *)from, to - from, MADV_DONTNEED);
}
