#include "support/torch_zip_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} buf;

static void put(buf *b, const void *data, size_t n) {
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->n + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void op(buf *b, int code) {
    uint8_t c = (uint8_t)code;
    put(b, &c, 1);
}

static void le(buf *b, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) op(b, (int)(v >> (8 * i) & 0xff));
}

typedef struct writer {
    buf b;
    const tzw_options *o;
    uint32_t next_memo;
    int64_t memo_rebuild, memo_odict; /* memo slots of reused globals, -1: none yet */
} writer;

static void memoize(writer *w) {
    if (w->o->protocol4) {
        op(&w->b, 0x94); /* MEMOIZE */
    } else if (w->next_memo < 256) {
        op(&w->b, 'q');
        le(&w->b, w->next_memo, 1);
    } else {
        op(&w->b, 'r');
        le(&w->b, w->next_memo, 4);
    }
    w->next_memo++;
}

static void get_memo(writer *w, uint32_t i) {
    if (i < 256) {
        op(&w->b, 'h');
        le(&w->b, i, 1);
    } else {
        op(&w->b, 'j');
        le(&w->b, i, 4);
    }
}

static void str(writer *w, const char *s) {
    size_t n = strlen(s);
    if (w->o->protocol4 && n < 256) {
        op(&w->b, 0x8c);
        le(&w->b, n, 1);
    } else {
        op(&w->b, 'X');
        le(&w->b, n, 4);
    }
    put(&w->b, s, n);
    memoize(w);
}

static void integer(writer *w, int64_t v) {
    if (v >= 0 && v < 256) {
        op(&w->b, 'K');
        le(&w->b, (uint64_t)v, 1);
    } else if (v >= 0 && v < 65536) {
        op(&w->b, 'M');
        le(&w->b, (uint64_t)v, 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        op(&w->b, 'J');
        le(&w->b, (uint64_t)(uint32_t)(int32_t)v, 4);
    } else {
        op(&w->b, 0x8a);
        op(&w->b, 8);
        le(&w->b, (uint64_t)v, 8);
    }
}

static void global(writer *w, const char *module, const char *name, int64_t *memo_slot) {
    if (memo_slot && *memo_slot >= 0) {
        get_memo(w, (uint32_t)*memo_slot);
        return;
    }
    if (w->o->protocol4) {
        str(w, module);
        str(w, name);
        op(&w->b, 0x93); /* STACK_GLOBAL */
    } else {
        op(&w->b, 'c');
        put(&w->b, module, strlen(module));
        op(&w->b, '\n');
        put(&w->b, name, strlen(name));
        op(&w->b, '\n');
    }
    if (memo_slot) *memo_slot = w->next_memo;
    memoize(w);
}

static void ordered_dict(writer *w) {
    global(w, "collections", "OrderedDict", &w->memo_odict);
    op(&w->b, ')');
    op(&w->b, 'R');
    memoize(w);
}

static const char *storage_class(int dtype) {
    static const char *names[] = {"FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage",
                                  "LongStorage"};
    return names[dtype];
}

static int elem_size(int dtype) {
    return dtype == TZW_F32 ? 4 : dtype <= TZW_BF16 ? 2 : 8;
}

static void int_tuple(writer *w, const int64_t *v, int n) {
    op(&w->b, '(');
    for (int i = 0; i < n; i++) integer(w, v[i]);
    op(&w->b, 't');
    memoize(w);
}

static void tensor(writer *w, const tzw_storage *s, int si, const tzw_tensor *t) {
    int64_t stride[8];
    bool given = false;
    for (int d = 0; d < t->ndim; d++) given |= t->stride[d] != 0;
    int64_t acc = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        stride[d] = given ? t->stride[d] : acc;
        acc = (int64_t)((uint64_t)acc * (uint64_t)t->shape[d]); /* may wrap: bogus test sizes */
    }
    if (w->o->parameters) global(w, "torch._utils", "_rebuild_parameter", NULL);
    global(w, "torch._utils", "_rebuild_tensor_v2", &w->memo_rebuild);
    op(&w->b, '(');
    /* persistent id ('storage', torch.<X>Storage, key, 'cpu', numel) */
    op(&w->b, '(');
    str(w, "storage");
    global(w, "torch", storage_class(s->dtype), NULL);
    char key[32];
    snprintf(key, sizeof key, "%d", si);
    str(w, key);
    str(w, "cpu");
    integer(w, s->numel);
    op(&w->b, 't');
    memoize(w);
    op(&w->b, 'Q'); /* BINPERSID */
    integer(w, t->offset);
    int_tuple(w, t->shape, t->ndim);
    int_tuple(w, stride, t->ndim);
    op(&w->b, 0x89); /* requires_grad False */
    ordered_dict(w); /* backward hooks */
    op(&w->b, 't');
    memoize(w);
    op(&w->b, 'R');
    memoize(w);
    if (w->o->parameters) {
        op(&w->b, 0x89);
        ordered_dict(w);
        op(&w->b, 0x87); /* TUPLE3 */
        op(&w->b, 'R');
        memoize(w);
    }
}

uint8_t *tzw_pickle(const tzw_storage *storages, int nstorages, const tzw_tensor *tensors,
                    int ntensors, const tzw_options *opt, size_t *n) {
    (void)nstorages;
    tzw_options none = {0};
    writer w = {.o = opt ? opt : &none, .memo_rebuild = -1, .memo_odict = -1};
    op(&w.b, 0x80);
    op(&w.b, w.o->protocol4 ? 4 : 2);
    if (!w.o->bare) {
        op(&w.b, '}');
        memoize(&w);
        str(&w, "model");
    }
    ordered_dict(&w);
    op(&w.b, '(');
    for (int i = 0; i < ntensors; i++) {
        str(&w, tensors[i].name);
        tensor(&w, &storages[tensors[i].storage], tensors[i].storage, &tensors[i]);
    }
    op(&w.b, 'u'); /* SETITEMS */
    if (w.o->metadata) {
        /* state = {'_metadata': OrderedDict([('', {'version': 1})])}; BUILD */
        op(&w.b, '}');
        memoize(&w);
        str(&w, "_metadata");
        ordered_dict(&w);
        str(&w, "");
        op(&w.b, '}');
        memoize(&w);
        str(&w, "version");
        integer(&w, 1);
        op(&w.b, 's');
        op(&w.b, 's');
        op(&w.b, 's');
        op(&w.b, 'b');
    }
    if (!w.o->bare) op(&w.b, 's');
    op(&w.b, '.');
    if (w.b.oom) {
        free(w.b.p);
        return NULL;
    }
    if (w.o->protocol4) {
        /* A FRAME covering everything after PROTO, as protocol 4 picklers write. */
        buf framed = {0};
        put(&framed, w.b.p, 2);
        op(&framed, 0x95);
        le(&framed, w.b.n - 2, 8);
        put(&framed, w.b.p + 2, w.b.n - 2);
        free(w.b.p);
        if (framed.oom) {
            free(framed.p);
            return NULL;
        }
        w.b = framed;
    }
    *n = w.b.n;
    return w.b.p;
}

static int add_entry(zip_t *z, const char *name, const void *data, size_t n) {
    zip_source_t *src = zip_source_buffer(z, data, n, 0);
    if (!src) return -1;
    zip_int64_t i = zip_file_add(z, name, src, ZIP_FL_OVERWRITE);
    if (i < 0) {
        zip_source_free(src);
        return -1;
    }
    return zip_set_file_compression(z, (zip_uint64_t)i, ZIP_CM_STORE, 0);
}

int tzw_write(const char *path, const tzw_storage *storages, int nstorages,
              const tzw_tensor *tensors, int ntensors, const tzw_options *opt) {
    tzw_options none = {0};
    if (!opt) opt = &none;
    const char *archive = opt->archive ? opt->archive : "archive";
    size_t pkl_n;
    uint8_t *pkl = tzw_pickle(storages, nstorages, tensors, ntensors, opt, &pkl_n);
    if (!pkl) return -1;
    int zerr;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!z) {
        free(pkl);
        return -1;
    }
    char name[256];
    int rc = 0;
    snprintf(name, sizeof name, "%s/data.pkl", archive);
    rc |= add_entry(z, name, pkl, pkl_n);
    if (opt->torch2_entries) {
        snprintf(name, sizeof name, "%s/byteorder", archive);
        rc |= add_entry(z, name, "little", 6);
    }
    for (int i = 0; i < nstorages; i++) {
        int64_t bytes = storages[i].bytes >= 0 ? storages[i].bytes
                                               : storages[i].numel * elem_size(storages[i].dtype);
        snprintf(name, sizeof name, "%s/data/%d", archive, i);
        rc |= add_entry(z, name, storages[i].data, (size_t)bytes);
    }
    snprintf(name, sizeof name, "%s/version", archive);
    rc |= add_entry(z, name, "3\n", 2);
    if (opt->torch2_entries) {
        snprintf(name, sizeof name, "%s/.data/serialization_id", archive);
        rc |= add_entry(z, name, "1234567890123456789012345678901234567890", 40);
    }
    if (rc) {
        zip_discard(z);
        free(pkl);
        return -1;
    }
    rc = zip_close(z) == 0 ? 0 : -1;
    if (rc) zip_discard(z);
    free(pkl);
    return rc;
}

static zip_int64_t find_suffix(zip_t *z, const char *suffix) {
    zip_int64_t n = zip_get_num_entries(z, 0);
    size_t sl = strlen(suffix);
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = zip_get_name(z, (zip_uint64_t)i, 0);
        size_t nl = name ? strlen(name) : 0;
        if (nl >= sl && !strcmp(name + nl - sl, suffix)) return i;
    }
    return -1;
}

int tzw_copy_replace(const char *src, const char *dst, const char *suffix, const void *data,
                     size_t n) {
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    int rc = (in && out) ? 0 : -1;
    char chunk[1 << 16];
    size_t got;
    while (!rc && (got = fread(chunk, 1, sizeof chunk, in)) > 0)
        if (fwrite(chunk, 1, got, out) != got) rc = -1;
    if (in) fclose(in);
    if (out && fclose(out) != 0) rc = -1;
    if (rc) return -1;
    int zerr;
    zip_t *z = zip_open(dst, 0, &zerr);
    if (!z) return -1;
    zip_int64_t i = find_suffix(z, suffix);
    if (i < 0)
        rc = -1;
    else if (!data)
        rc = zip_delete(z, (zip_uint64_t)i);
    else {
        zip_source_t *s = zip_source_buffer(z, data, n, 0);
        if (!s || zip_file_replace(z, (zip_uint64_t)i, s, 0) != 0) {
            zip_source_free(s);
            rc = -1;
        } else {
            rc = zip_set_file_compression(z, (zip_uint64_t)i, ZIP_CM_STORE, 0);
        }
    }
    if (rc) {
        zip_discard(z);
        return -1;
    }
    if (zip_close(z) != 0) {
        zip_discard(z);
        return -1;
    }
    return 0;
}

void *tzw_read_entry(const char *zip_path, const char *suffix, size_t *n) {
    int zerr;
    zip_t *z = zip_open(zip_path, ZIP_RDONLY, &zerr);
    if (!z) return NULL;
    zip_int64_t i = find_suffix(z, suffix);
    zip_stat_t st;
    void *data = NULL;
    if (i >= 0 && zip_stat_index(z, (zip_uint64_t)i, 0, &st) == 0) {
        zip_file_t *f = zip_fopen_index(z, (zip_uint64_t)i, 0);
        data = f ? malloc(st.size + 1) : NULL;
        if (data && zip_fread(f, data, st.size) != (zip_int64_t)st.size) {
            free(data);
            data = NULL;
        }
        if (f) zip_fclose(f);
        if (data) *n = st.size;
    }
    zip_discard(z);
    return data;
}
