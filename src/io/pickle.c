#include "io/pickle.h"

#include "core/arena.h"
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- value arena ------------------------------------------------------------------------
 * Every node lives in one arena freed with the document. Each opcode consumes at least one input
 * byte and allocates a bounded amount, so memory grows linearly with the input; a hard budget
 * guards against anything that would not. */

#define CHUNK_SIZE (64u << 10)
#define ARENA_BUDGET_PER_BYTE 64
#define ARENA_BUDGET_BASE (4u << 20)

struct pk_doc {
    arena values; /* grow-by-chunk mode, with the budget as its limit */
    pk_value *root;
};

static void *doc_alloc(pk_doc *d, size_t n) {
    return arena_alloc(&d->values, n);
}

void pk_free(pk_doc *d) {
    if (!d) return;
    arena_free(&d->values);
    free(d);
}

const pk_value *pk_root(const pk_doc *d) {
    return d->root;
}

/* ---- the machine -------------------------------------------------------------------------- */

typedef struct vm {
    const uint8_t *start, *p, *end;
    size_t op_at; /* offset of the opcode being run, for messages */
    pk_doc *doc;
    pk_value **stack;
    size_t sp, stack_cap;
    size_t *marks;
    size_t nmarks, marks_cap;
    pk_value **memo;
    size_t memo_cap, memo_count;
    sam2_error *err;
} vm;

static int fail(vm *m, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(vm *m, int code, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sam2_fail(m->err, code, "data.pkl byte %zu: %s", m->op_at, msg);
}

static int nomem(vm *m) {
    return fail(m, SAM2_ERR_NOMEM, "out of memory (pickle too large)");
}

static pk_value *new_value(vm *m, pk_kind kind) {
    pk_value *v = doc_alloc(m->doc, sizeof *v);
    if (v) {
        memset(v, 0, sizeof *v);
        v->kind = kind;
    }
    return v;
}

static int grow(void **buf, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *nb = realloc(*buf, c * elem);
    if (!nb) return -1;
    *buf = nb;
    *cap = c;
    return 0;
}

static int push(vm *m, pk_value *v) {
    if (!v) return nomem(m);
    if (grow((void **)&m->stack, &m->stack_cap, m->sp + 1, sizeof *m->stack)) return nomem(m);
    m->stack[m->sp++] = v;
    return 0;
}

/* Bottom of the current mark frame: values pushed since the last MARK. */
static size_t frame_base(const vm *m) {
    return m->nmarks ? m->marks[m->nmarks - 1] : 0;
}

static int pop(vm *m, pk_value **out) {
    if (m->sp <= frame_base(m)) return fail(m, SAM2_ERR_FORMAT, "stack underflow");
    *out = m->stack[--m->sp];
    return 0;
}

static int top(vm *m, pk_value **out) {
    if (m->sp <= frame_base(m)) return fail(m, SAM2_ERR_FORMAT, "stack underflow");
    *out = m->stack[m->sp - 1];
    return 0;
}

/* Ends the current mark frame; its values are stack[*base .. sp). */
static int pop_mark(vm *m, size_t *base) {
    if (!m->nmarks) return fail(m, SAM2_ERR_FORMAT, "no MARK on the stack");
    *base = m->marks[--m->nmarks];
    return 0;
}

static int need(vm *m, size_t n) {
    if ((size_t)(m->end - m->p) < n) return fail(m, SAM2_ERR_FORMAT, "truncated pickle");
    return 0;
}

static uint64_t read_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static pk_value *make_str(vm *m, pk_kind kind, const uint8_t *s, size_t len) {
    pk_value *v = new_value(m, kind);
    char *copy = v ? doc_alloc(m->doc, len + 1) : NULL;
    if (!copy) return NULL;
    memcpy(copy, s, len);
    copy[len] = 0;
    v->u.str.s = copy;
    v->u.str.len = len;
    return v;
}

static pk_value *make_int(vm *m, int64_t i) {
    pk_value *v = new_value(m, PK_INT);
    if (v) v->u.i = i;
    return v;
}

static pk_value *make_seq(vm *m, pk_kind kind, pk_value **items, size_t n) {
    pk_value *v = new_value(m, kind);
    if (!v) return NULL;
    if (n) {
        v->u.seq.items = doc_alloc(m->doc, n * sizeof *items);
        if (!v->u.seq.items) return NULL;
        memcpy(v->u.seq.items, items, n * sizeof *items);
    }
    v->u.seq.n = v->u.seq.cap = n;
    return v;
}

static int seq_append(vm *m, pk_value *seq, pk_value *item) {
    if (seq->u.seq.n == seq->u.seq.cap) {
        size_t cap = seq->u.seq.cap ? seq->u.seq.cap * 2 : 8;
        pk_value **items = doc_alloc(m->doc, cap * sizeof *items);
        if (!items) return nomem(m);
        if (seq->u.seq.n) memcpy(items, seq->u.seq.items, seq->u.seq.n * sizeof *items);
        seq->u.seq.items = items;
        seq->u.seq.cap = cap;
    }
    seq->u.seq.items[seq->u.seq.n++] = item;
    return 0;
}

static int dict_set(vm *m, pk_value *d, pk_value *key, pk_value *val) {
    if (d->kind != PK_DICT)
        return fail(m, SAM2_ERR_FORMAT, "SETITEM on a %s", pk_kind_name(d->kind));
    if (d->u.dict.n == d->u.dict.cap) {
        size_t cap = d->u.dict.cap ? d->u.dict.cap * 2 : 8;
        pk_value **keys = doc_alloc(m->doc, cap * sizeof *keys);
        pk_value **vals = keys ? doc_alloc(m->doc, cap * sizeof *vals) : NULL;
        if (!vals) return nomem(m);
        if (d->u.dict.n) {
            memcpy(keys, d->u.dict.keys, d->u.dict.n * sizeof *keys);
            memcpy(vals, d->u.dict.vals, d->u.dict.n * sizeof *vals);
        }
        d->u.dict.keys = keys;
        d->u.dict.vals = vals;
        d->u.dict.cap = cap;
    }
    /* Repeated keys are kept in order; lookups take the last one, as Python's dict would. */
    d->u.dict.keys[d->u.dict.n] = key;
    d->u.dict.vals[d->u.dict.n++] = val;
    return 0;
}

/* ---- allowed globals ---------------------------------------------------------------------- */

static const struct {
    const char *module, *name;
    pk_global which;
    pk_dtype dtype;
} ALLOWED[] = {
    {"collections", "OrderedDict", PKG_ORDERED_DICT, 0},
    {"torch._utils", "_rebuild_tensor_v2", PKG_REBUILD_TENSOR_V2, 0},
    {"torch._utils", "_rebuild_parameter", PKG_REBUILD_PARAMETER, 0},
    {"torch._utils", "_rebuild_parameter_with_state", PKG_REBUILD_PARAMETER_WITH_STATE, 0},
    {"torch", "FloatStorage", PKG_STORAGE_TYPE, PK_FLOAT32},
    {"torch", "HalfStorage", PKG_STORAGE_TYPE, PK_FLOAT16},
    {"torch", "BFloat16Storage", PKG_STORAGE_TYPE, PK_BFLOAT16},
    /* Recognised so that a checkpoint holding them is refused by dtype, not as unknown code. */
    {"torch", "DoubleStorage", PKG_STORAGE_TYPE, PK_FLOAT64},
    {"torch", "LongStorage", PKG_STORAGE_TYPE, PK_INT64},
    {"torch", "IntStorage", PKG_STORAGE_TYPE, PK_INT32},
    {"torch", "ShortStorage", PKG_STORAGE_TYPE, PK_INT16},
    {"torch", "CharStorage", PKG_STORAGE_TYPE, PK_INT8},
    {"torch", "ByteStorage", PKG_STORAGE_TYPE, PK_UINT8},
    {"torch", "BoolStorage", PKG_STORAGE_TYPE, PK_BOOLEAN},
    {"torch", "ComplexFloatStorage", PKG_STORAGE_TYPE, PK_COMPLEX64},
    {"torch", "ComplexDoubleStorage", PKG_STORAGE_TYPE, PK_COMPLEX128},
    {"torch", "UntypedStorage", PKG_STORAGE_TYPE, PK_UINT8}, /* torch.load reads it as uint8 */
};
#define NUM_ALLOWED ((int)(sizeof ALLOWED / sizeof ALLOWED[0]))

static int push_global(vm *m, const char *module, size_t mlen, const char *name, size_t nlen) {
    for (int i = 0; i < NUM_ALLOWED; i++) {
        if (strlen(ALLOWED[i].module) != mlen || memcmp(ALLOWED[i].module, module, mlen) ||
            strlen(ALLOWED[i].name) != nlen || memcmp(ALLOWED[i].name, name, nlen))
            continue;
        pk_value *v = new_value(m, PK_GLOBAL);
        if (!v) return nomem(m);
        v->u.global.which = ALLOWED[i].which;
        v->u.global.dtype = ALLOWED[i].dtype;
        v->u.global.module = ALLOWED[i].module;
        v->u.global.name = ALLOWED[i].name;
        return push(m, v);
    }
    /* Show the name printable and short, whatever bytes it holds. */
    char shown[160];
    size_t k = 0;
    for (size_t i = 0; i < mlen + 1 + nlen && k + 4 < sizeof shown; i++) {
        char c = i < mlen ? module[i] : i == mlen ? '.' : name[i - mlen - 1];
        shown[k++] = (c >= 32 && c < 127) ? c : '?';
    }
    shown[k] = 0;
    return fail(m, SAM2_ERR_UNSUPPORTED, "unsupported pickle global '%s'", shown);
}

/* ---- REDUCE / NEWOBJ / BINPERSID / BUILD for the allowed globals ---------------------------- */

static int as_int(const pk_value *v, int64_t *out) {
    if (!v || (v->kind != PK_INT && v->kind != PK_BOOL)) return -1;
    *out = v->u.i;
    return 0;
}

static int int_tuple(vm *m, const pk_value *v, const char *what, int64_t *out, int *n) {
    if (v->kind != PK_TUPLE && v->kind != PK_LIST)
        return fail(m, SAM2_ERR_FORMAT, "tensor %s is a %s, expected a tuple", what,
                    pk_kind_name(v->kind));
    if (v->u.seq.n > PK_MAX_DIMS)
        return fail(m, SAM2_ERR_UNSUPPORTED, "tensor has %zu dimensions (at most %d)", v->u.seq.n,
                    PK_MAX_DIMS);
    for (size_t i = 0; i < v->u.seq.n; i++)
        if (as_int(v->u.seq.items[i], &out[i]) != 0)
            return fail(m, SAM2_ERR_FORMAT, "tensor %s holds a %s", what,
                        pk_kind_name(v->u.seq.items[i]->kind));
    *n = (int)v->u.seq.n;
    return 0;
}

/* _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks
 * [, metadata]) */
static int rebuild_tensor(vm *m, const pk_value *args, pk_value **out) {
    if (args->u.seq.n != 6 && args->u.seq.n != 7)
        return fail(m, SAM2_ERR_FORMAT, "_rebuild_tensor_v2 takes 6 or 7 arguments, got %zu",
                    args->u.seq.n);
    pk_value **a = args->u.seq.items;
    if (a[0]->kind != PK_STORAGE)
        return fail(m, SAM2_ERR_FORMAT, "_rebuild_tensor_v2: first argument is a %s, not a storage",
                    pk_kind_name(a[0]->kind));
    pk_value *t = new_value(m, PK_TENSOR);
    if (!t) return nomem(m);
    t->u.tensor.storage = a[0];
    int nstride = 0;
    if (as_int(a[1], &t->u.tensor.offset) != 0)
        return fail(m, SAM2_ERR_FORMAT, "tensor storage offset is a %s", pk_kind_name(a[1]->kind));
    if (int_tuple(m, a[2], "size", t->u.tensor.shape, &t->u.tensor.ndim) ||
        int_tuple(m, a[3], "stride", t->u.tensor.stride, &nstride))
        return m->err ? m->err->code : SAM2_ERR_FORMAT;
    if (nstride != t->u.tensor.ndim)
        return fail(m, SAM2_ERR_FORMAT, "tensor has %d sizes but %d strides", t->u.tensor.ndim,
                    nstride);
    if (a[4]->kind != PK_BOOL && a[4]->kind != PK_INT)
        return fail(m, SAM2_ERR_FORMAT, "tensor requires_grad is a %s", pk_kind_name(a[4]->kind));
    if (a[5]->kind != PK_DICT && a[5]->kind != PK_NONE)
        return fail(m, SAM2_ERR_FORMAT, "tensor backward_hooks is a %s", pk_kind_name(a[5]->kind));
    *out = t;
    return 0;
}

static int call_global(vm *m, const pk_value *fn, const pk_value *args, pk_value **out) {
    if (fn->kind != PK_GLOBAL)
        return fail(m, SAM2_ERR_FORMAT, "cannot call a %s", pk_kind_name(fn->kind));
    if (args->kind != PK_TUPLE)
        return fail(m, SAM2_ERR_FORMAT, "arguments of %s.%s are a %s, not a tuple",
                    fn->u.global.module, fn->u.global.name, pk_kind_name(args->kind));
    switch (fn->u.global.which) {
    case PKG_ORDERED_DICT:
        if (args->u.seq.n != 0)
            return fail(m, SAM2_ERR_UNSUPPORTED, "OrderedDict built with arguments");
        *out = new_value(m, PK_DICT);
        return *out ? 0 : nomem(m);
    case PKG_REBUILD_TENSOR_V2:
        return rebuild_tensor(m, args, out);
    case PKG_REBUILD_PARAMETER:
    case PKG_REBUILD_PARAMETER_WITH_STATE: {
        size_t want = fn->u.global.which == PKG_REBUILD_PARAMETER ? 3 : 4;
        if (args->u.seq.n != want || args->u.seq.items[0]->kind != PK_TENSOR)
            return fail(m, SAM2_ERR_FORMAT, "%s expects a tensor and %zu more arguments",
                        fn->u.global.name, want - 1);
        *out = args->u.seq.items[0];
        return 0;
    }
    case PKG_STORAGE_TYPE:
        break;
    }
    return fail(m, SAM2_ERR_UNSUPPORTED, "calling %s.%s is not supported", fn->u.global.module,
                fn->u.global.name);
}

/* torch.save's persistent id of a storage: ('storage', torch.<X>Storage, key, location, numel) */
static int persistent_load(vm *m, const pk_value *pid, pk_value **out) {
    if (pid->kind != PK_TUPLE || pid->u.seq.n != 5)
        return fail(m, SAM2_ERR_UNSUPPORTED, "persistent id is not a 5-tuple storage reference");
    pk_value **a = pid->u.seq.items;
    if (a[0]->kind != PK_STR || strcmp(a[0]->u.str.s, "storage") != 0)
        return fail(m, SAM2_ERR_UNSUPPORTED, "persistent id of a kind other than 'storage'");
    if (a[1]->kind != PK_GLOBAL || a[1]->u.global.which != PKG_STORAGE_TYPE)
        return fail(m, SAM2_ERR_FORMAT, "persistent id names no storage type");
    if (a[2]->kind != PK_STR || a[3]->kind != PK_STR)
        return fail(m, SAM2_ERR_FORMAT, "persistent id key or location is not a string");
    pk_value *s = new_value(m, PK_STORAGE);
    if (!s) return nomem(m);
    if (as_int(a[4], &s->u.storage.numel) != 0 || s->u.storage.numel < 0)
        return fail(m, SAM2_ERR_FORMAT, "persistent id has a bad element count");
    s->u.storage.dtype = a[1]->u.global.dtype;
    s->u.storage.key = a[2]->u.str.s;
    s->u.storage.location = a[3]->u.str.s;
    *out = s;
    return 0;
}

/* BUILD sets an object's state. torch.save emits it for a state dict's `_metadata` attribute
 * (an OrderedDict subclass instance with a __dict__), which carries nothing the model needs. */
static int build(vm *m, pk_value *obj, const pk_value *state) {
    if (obj->kind == PK_DICT &&
        (state->kind == PK_DICT || state->kind == PK_NONE || state->kind == PK_TUPLE))
        return 0;
    if (obj->kind == PK_TENSOR &&
        (state->kind == PK_DICT || state->kind == PK_NONE || state->kind == PK_TUPLE))
        return 0; /* Python attributes of a tensor (e.g. a Parameter's __dict__) */
    return fail(m, SAM2_ERR_UNSUPPORTED, "BUILD of a %s with a %s state", pk_kind_name(obj->kind),
                pk_kind_name(state->kind));
}

/* ---- memo ----------------------------------------------------------------------------------- */

static int memo_put(vm *m, uint64_t idx, pk_value *v) {
    /* Picklers number memo entries 0, 1, 2, ...: an index beyond the input's length is bogus. */
    if (idx > (uint64_t)(m->end - m->start))
        return fail(m, SAM2_ERR_FORMAT, "memo index %llu out of range", (unsigned long long)idx);
    size_t old = m->memo_cap;
    if (grow((void **)&m->memo, &m->memo_cap, (size_t)idx + 1, sizeof *m->memo)) return nomem(m);
    if (m->memo_cap > old) memset(m->memo + old, 0, (m->memo_cap - old) * sizeof *m->memo);
    if (!m->memo[idx]) m->memo_count++;
    m->memo[idx] = v;
    return 0;
}

static int memo_get(vm *m, uint64_t idx) {
    if (idx >= m->memo_cap || !m->memo[idx])
        return fail(m, SAM2_ERR_FORMAT, "memo entry %llu used before it was set",
                    (unsigned long long)idx);
    return push(m, m->memo[idx]);
}

/* ---- the opcode loop --------------------------------------------------------------------------
 */

static int push_str_op(vm *m, pk_kind kind, int len_bytes) {
    if (need(m, (size_t)len_bytes)) return SAM2_ERR_FORMAT;
    uint64_t len = read_le(m->p, len_bytes);
    m->p += len_bytes;
    if (need(m, len) != 0) return SAM2_ERR_FORMAT;
    pk_value *v = make_str(m, kind, m->p, (size_t)len);
    m->p += len;
    return push(m, v);
}

static int read_line(vm *m, const char **s, size_t *len) {
    const uint8_t *nl = memchr(m->p, '\n', (size_t)(m->end - m->p));
    if (!nl) return fail(m, SAM2_ERR_FORMAT, "unterminated GLOBAL name");
    *s = (const char *)m->p;
    *len = (size_t)(nl - m->p);
    m->p = nl + 1;
    return 0;
}

static int step(vm *m, int op, int *stop) {
    pk_value *a = NULL, *b = NULL, *c = NULL;
    size_t base = 0;
    switch (op) {
    case 0x80: /* PROTO */
        if (need(m, 1)) return SAM2_ERR_FORMAT;
        if (*m->p > 5) return fail(m, SAM2_ERR_UNSUPPORTED, "pickle protocol %d", *m->p);
        m->p++;
        return 0;
    case 0x95: /* FRAME: a length hint only */
        if (need(m, 8)) return SAM2_ERR_FORMAT;
        if (read_le(m->p, 8) > (uint64_t)(m->end - m->p - 8))
            return fail(m, SAM2_ERR_FORMAT, "frame runs past the end");
        m->p += 8;
        return 0;
    case '.': /* STOP */
        if (top(m, &a)) return SAM2_ERR_FORMAT;
        m->doc->root = a;
        *stop = 1;
        return 0;
    case '(': /* MARK */
        if (grow((void **)&m->marks, &m->marks_cap, m->nmarks + 1, sizeof *m->marks))
            return nomem(m);
        m->marks[m->nmarks++] = m->sp;
        return 0;
    case '0': /* POP */
        return pop(m, &a);
    case '1': /* POP_MARK */
        if (pop_mark(m, &base)) return SAM2_ERR_FORMAT;
        m->sp = base;
        return 0;
    case '2': /* DUP */
        if (top(m, &a)) return SAM2_ERR_FORMAT;
        return push(m, a);
    case 'N':
        return push(m, new_value(m, PK_NONE));
    case 0x88: /* NEWTRUE */
    case 0x89: /* NEWFALSE */
        a = new_value(m, PK_BOOL);
        if (a) a->u.i = op == 0x88;
        return push(m, a);
    case 'K': /* BININT1 */
    case 'M': /* BININT2 */
    case 'J': /* BININT */ {
        int n = op == 'K' ? 1 : op == 'M' ? 2 : 4;
        if (need(m, (size_t)n)) return SAM2_ERR_FORMAT;
        uint64_t u = read_le(m->p, n);
        m->p += n;
        int64_t v = op == 'J' ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u;
        return push(m, make_int(m, v));
    }
    case 0x8a: { /* LONG1: little-endian two's complement of n bytes */
        if (need(m, 1)) return SAM2_ERR_FORMAT;
        int n = *m->p++;
        if (need(m, (size_t)n)) return SAM2_ERR_FORMAT;
        if (n > 8) return fail(m, SAM2_ERR_UNSUPPORTED, "integer of %d bytes", n);
        uint64_t u = n ? read_le(m->p, n) : 0;
        if (n > 0 && n < 8 && (m->p[n - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * n);
        m->p += n;
        return push(m, make_int(m, (int64_t)u));
    }
    case 'G': { /* BINFLOAT, big-endian */
        if (need(m, 8)) return SAM2_ERR_FORMAT;
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) u = u << 8 | m->p[i];
        m->p += 8;
        a = new_value(m, PK_FLOAT);
        if (a) memcpy(&a->u.f, &u, sizeof u);
        return push(m, a);
    }
    case 'X':
        return push_str_op(m, PK_STR, 4); /* BINUNICODE */
    case 0x8c:
        return push_str_op(m, PK_STR, 1); /* SHORT_BINUNICODE */
    case 0x8d:
        return push_str_op(m, PK_STR, 8); /* BINUNICODE8 */
    case 'U':
        return push_str_op(m, PK_STR, 1); /* SHORT_BINSTRING (Python 2 str) */
    case 'T':
        return push_str_op(m, PK_STR, 4); /* BINSTRING */
    case 'C':
        return push_str_op(m, PK_BYTES, 1); /* SHORT_BINBYTES */
    case 'B':
        return push_str_op(m, PK_BYTES, 4); /* BINBYTES */
    case 0x8e:
        return push_str_op(m, PK_BYTES, 8); /* BINBYTES8 */
    case '}':
        return push(m, new_value(m, PK_DICT)); /* EMPTY_DICT */
    case ']':
        return push(m, new_value(m, PK_LIST)); /* EMPTY_LIST */
    case 0x8f:
        return push(m, new_value(m, PK_SET)); /* EMPTY_SET */
    case ')':
        return push(m, make_seq(m, PK_TUPLE, NULL, 0));
    case 0x85:   /* TUPLE1 */
    case 0x86:   /* TUPLE2 */
    case 0x87: { /* TUPLE3 */
        size_t n = (size_t)(op - 0x84);
        if (m->sp - frame_base(m) < n) return fail(m, SAM2_ERR_FORMAT, "stack underflow");
        m->sp -= n;
        return push(m, make_seq(m, PK_TUPLE, m->stack + m->sp, n));
    }
    case 't':  /* TUPLE */
    case 'l':  /* LIST */
    case 0x91: /* FROZENSET */
        if (pop_mark(m, &base)) return SAM2_ERR_FORMAT;
        a = make_seq(m,
                     op == 't'   ? PK_TUPLE
                     : op == 'l' ? PK_LIST
                                 : PK_SET,
                     m->stack + base, m->sp - base);
        m->sp = base;
        return push(m, a);
    case 'd': /* DICT */
        if (pop_mark(m, &base)) return SAM2_ERR_FORMAT;
        if ((m->sp - base) % 2) return fail(m, SAM2_ERR_FORMAT, "odd number of items for DICT");
        a = new_value(m, PK_DICT);
        if (!a) return nomem(m);
        for (size_t i = base; i < m->sp; i += 2)
            if (dict_set(m, a, m->stack[i], m->stack[i + 1])) return SAM2_ERR_FORMAT;
        m->sp = base;
        return push(m, a);
    case 's': /* SETITEM */
        if (pop(m, &c) || pop(m, &b) || top(m, &a)) return SAM2_ERR_FORMAT;
        return dict_set(m, a, b, c);
    case 'u': /* SETITEMS */
        if (pop_mark(m, &base)) return SAM2_ERR_FORMAT;
        if ((m->sp - base) % 2) return fail(m, SAM2_ERR_FORMAT, "odd number of items for SETITEMS");
        if (base <= frame_base(m)) return fail(m, SAM2_ERR_FORMAT, "SETITEMS without a dict");
        a = m->stack[base - 1];
        for (size_t i = base; i < m->sp; i += 2)
            if (dict_set(m, a, m->stack[i], m->stack[i + 1])) return SAM2_ERR_FORMAT;
        m->sp = base;
        return 0;
    case 'a': /* APPEND */
        if (pop(m, &b) || top(m, &a)) return SAM2_ERR_FORMAT;
        if (a->kind != PK_LIST)
            return fail(m, SAM2_ERR_FORMAT, "APPEND to a %s", pk_kind_name(a->kind));
        return seq_append(m, a, b);
    case 'e':  /* APPENDS */
    case 0x90: /* ADDITEMS */
        if (pop_mark(m, &base)) return SAM2_ERR_FORMAT;
        if (base <= frame_base(m)) return fail(m, SAM2_ERR_FORMAT, "APPENDS without a list");
        a = m->stack[base - 1];
        if (a->kind != (op == 'e' ? PK_LIST : PK_SET))
            return fail(m, SAM2_ERR_FORMAT, "%s to a %s", op == 'e' ? "APPENDS" : "ADDITEMS",
                        pk_kind_name(a->kind));
        for (size_t i = base; i < m->sp; i++)
            if (seq_append(m, a, m->stack[i])) return SAM2_ERR_NOMEM;
        m->sp = base;
        return 0;
    case 'q': /* BINPUT */
    case 'r': /* LONG_BINPUT */ {
        int n = op == 'q' ? 1 : 4;
        if (need(m, (size_t)n) || top(m, &a)) return SAM2_ERR_FORMAT;
        uint64_t idx = read_le(m->p, n);
        m->p += n;
        return memo_put(m, idx, a);
    }
    case 0x94: /* MEMOIZE */
        if (top(m, &a)) return SAM2_ERR_FORMAT;
        return memo_put(m, m->memo_count, a);
    case 'h': /* BINGET */
    case 'j': /* LONG_BINGET */ {
        int n = op == 'h' ? 1 : 4;
        if (need(m, (size_t)n)) return SAM2_ERR_FORMAT;
        uint64_t idx = read_le(m->p, n);
        m->p += n;
        return memo_get(m, idx);
    }
    case 'c': { /* GLOBAL "module\nname\n" */
        const char *mod = NULL, *name = NULL;
        size_t mlen = 0, nlen = 0;
        if (read_line(m, &mod, &mlen) || read_line(m, &name, &nlen)) return SAM2_ERR_FORMAT;
        return push_global(m, mod, mlen, name, nlen);
    }
    case 0x93: /* STACK_GLOBAL */
        if (pop(m, &b) || pop(m, &a)) return SAM2_ERR_FORMAT;
        if (a->kind != PK_STR || b->kind != PK_STR)
            return fail(m, SAM2_ERR_FORMAT, "STACK_GLOBAL needs two strings");
        return push_global(m, a->u.str.s, a->u.str.len, b->u.str.s, b->u.str.len);
    case 'R':  /* REDUCE */
    case 0x81: /* NEWOBJ */
        if (pop(m, &b) || pop(m, &a)) return SAM2_ERR_FORMAT;
        if (call_global(m, a, b, &c)) return m->err ? m->err->code : SAM2_ERR_FORMAT;
        return push(m, c);
    case 0x92: /* NEWOBJ_EX: cls, args, kwargs */
        if (pop(m, &c) || pop(m, &b) || pop(m, &a)) return SAM2_ERR_FORMAT;
        if (c->kind != PK_DICT || c->u.dict.n != 0)
            return fail(m, SAM2_ERR_UNSUPPORTED, "NEWOBJ_EX with keyword arguments");
        if (call_global(m, a, b, &c)) return m->err ? m->err->code : SAM2_ERR_FORMAT;
        return push(m, c);
    case 'b': /* BUILD */
        if (pop(m, &b) || top(m, &a)) return SAM2_ERR_FORMAT;
        return build(m, a, b);
    case 'Q': /* BINPERSID */
        if (pop(m, &a)) return SAM2_ERR_FORMAT;
        if (persistent_load(m, a, &b)) return m->err ? m->err->code : SAM2_ERR_FORMAT;
        return push(m, b);
    default:
        if (op >= 32 && op < 127)
            return fail(m, SAM2_ERR_UNSUPPORTED, "unsupported pickle opcode 0x%02x ('%c')", op, op);
        return fail(m, SAM2_ERR_UNSUPPORTED, "unsupported pickle opcode 0x%02x", op);
    }
}

pk_doc *pk_load(const uint8_t *data, size_t n, sam2_error *err) {
    sam2_error local;
    if (!err) err = &local; /* step() reports its status through err->code */
    pk_doc *doc = calloc(1, sizeof *doc);
    if (!doc) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
        return NULL;
    }
    size_t budget =
        ARENA_BUDGET_BASE +
        (n < SIZE_MAX / ARENA_BUDGET_PER_BYTE / 2 ? n * ARENA_BUDGET_PER_BYTE : SIZE_MAX / 2);
    arena_init_small(&doc->values, CHUNK_SIZE, budget);
    vm m = {.start = data, .p = data, .end = data + n, .doc = doc, .err = err};
    int stop = 0, rc = 0;
    while (!stop && rc == 0) {
        m.op_at = (size_t)(m.p - m.start);
        if (m.p >= m.end) {
            rc = fail(&m, SAM2_ERR_FORMAT, "pickle ends without STOP");
            break;
        }
        rc = step(&m, *m.p++, &stop);
    }
    free(m.stack);
    free(m.marks);
    free(m.memo);
    if (rc != 0) {
        pk_free(doc);
        return NULL;
    }
    return doc;
}

/* ---- helpers ----------------------------------------------------------------------------------
 */

const pk_value *pk_dict_get(const pk_value *d, const char *key) {
    if (!d || d->kind != PK_DICT) return NULL;
    size_t klen = strlen(key);
    for (size_t i = d->u.dict.n; i-- > 0;) {
        const pk_value *k = d->u.dict.keys[i];
        if (k->kind == PK_STR && k->u.str.len == klen && !memcmp(k->u.str.s, key, klen))
            return d->u.dict.vals[i];
    }
    return NULL;
}

const char *pk_kind_name(pk_kind kind) {
    static const char *names[] = {"None", "bool", "int",  "float",  "str",     "bytes", "tuple",
                                  "list", "set",  "dict", "global", "storage", "tensor"};
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

const char *pk_dtype_name(pk_dtype dtype) {
    static const char *names[PK_NUM_DTYPES] = {"float32", "float16", "bfloat16",  "float64",
                                               "int64",   "int32",   "int16",     "int8",
                                               "uint8",   "bool",    "complex64", "complex128"};
    return (unsigned)dtype < PK_NUM_DTYPES ? names[dtype] : "?";
}

int pk_dtype_size(pk_dtype dtype) {
    static const int sizes[PK_NUM_DTYPES] = {4, 2, 2, 8, 8, 4, 2, 1, 1, 1, 8, 16};
    return (unsigned)dtype < PK_NUM_DTYPES ? sizes[dtype] : 0;
}
