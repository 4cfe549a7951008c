/* The restricted unpickler on hand-assembled pickles: the opcodes of protocols 2 to 5 build the
 * right values, and malformed or disallowed input fails with a message naming the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/pickle.h"

#include <string.h>

#define P(s) (const uint8_t *)(s), sizeof(s) - 1

static const pk_value *item(const pk_value *seq, size_t i) {
    assert_true(i < seq->u.seq.n);
    return seq->u.seq.items[i];
}

static void test_values(void **state) {
    (void)state;
    /* {'a': [1, -2, 300, 70000, -(2**40), 1.5, True, None, ('x', b'yz')], 'b': <same list>} */
    static const char pkl[] = "\x80\x02}q\x00(X\x01\x00\x00\x00"
                              "a]q\x01(K\x01J\xfe\xff\xff\xffM,\x01"
                              "J\x70\x11\x01\x00\x8a\x06\x00\x00\x00\x00\x00\xff"
                              "G?\xf8\x00\x00\x00\x00\x00\x00\x88N\x8c\x01xC\x02yz\x86"
                              "eX\x01\x00\x00\x00"
                              "bh\x01u.";
    sam2_error err = {0};
    pk_doc *doc = pk_load(P(pkl), &err);
    if (!doc) fail_msg("%s", err.message);
    const pk_value *root = pk_root(doc);
    assert_int_equal(root->kind, PK_DICT);
    const pk_value *a = pk_dict_get(root, "a"), *b = pk_dict_get(root, "b");
    assert_non_null(a);
    assert_ptr_equal(a, b); /* BINGET shares the object */
    assert_int_equal(a->kind, PK_LIST);
    assert_int_equal(a->u.seq.n, 9);
    assert_int_equal(item(a, 0)->u.i, 1);
    assert_int_equal(item(a, 1)->u.i, -2);
    assert_int_equal(item(a, 2)->u.i, 300);
    assert_int_equal(item(a, 3)->u.i, 70000);
    assert_int_equal(item(a, 4)->u.i, -((int64_t)1 << 40));
    assert_true(item(a, 5)->kind == PK_FLOAT && item(a, 5)->u.f == 1.5);
    assert_true(item(a, 6)->kind == PK_BOOL && item(a, 6)->u.i == 1);
    assert_int_equal(item(a, 7)->kind, PK_NONE);
    const pk_value *t = item(a, 8);
    assert_int_equal(t->kind, PK_TUPLE);
    assert_string_equal(item(t, 0)->u.str.s, "x");
    assert_int_equal(item(t, 1)->kind, PK_BYTES);
    assert_memory_equal(item(t, 1)->u.str.s, "yz", 2);
    assert_null(pk_dict_get(root, "c"));
    pk_free(doc);
}

static void test_protocol4_and_stack_ops(void **state) {
    (void)state;
    /* FRAME, SHORT_BINUNICODE + MEMOIZE, STACK_GLOBAL, DUP/POP/POP_MARK, sets, BINUNICODE8,
     * NEWOBJ of an OrderedDict, LIST/DICT from a mark */
    static const char pkl[] =
        "\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x8c\x0b"
        "collections\x94\x8c\x0bOrderedDict\x94\x93\x94)\x81\x94" /* OrderedDict() */
        "(K\x01K\x02l0"                                           /* build and drop a list */
        "(K\x07\x32\x31"                                          /* DUP then POP_MARK */
        "\x8f(K\x03\x90\x30"                                      /* set {3}, dropped */
        "\x8c\x05inner(\x8d\x02\x00\x00\x00\x00\x00\x00\x00kk(\x8c\x01v\x8c\x01wl\x8c\x01zK\x09"
        "ds.";
    sam2_error err = {0};
    pk_doc *doc = pk_load(P(pkl), &err);
    if (!doc) fail_msg("%s", err.message);
    const pk_value *root = pk_root(doc);
    assert_int_equal(root->kind, PK_DICT);
    const pk_value *inner = pk_dict_get(root, "inner");
    assert_non_null(inner);
    assert_int_equal(inner->kind, PK_DICT); /* DICT from the mark: {'kk': ['v','w'], 'z': 9} */
    const pk_value *kk = pk_dict_get(inner, "kk");
    assert_int_equal(kk->kind, PK_LIST);
    assert_int_equal(kk->u.seq.n, 2);
    assert_string_equal(item(kk, 1)->u.str.s, "w");
    assert_int_equal(pk_dict_get(inner, "z")->u.i, 9);
    pk_free(doc);
}

static void test_tensor(void **state) {
    (void)state;
    /* _rebuild_parameter(_rebuild_tensor_v2(storage, 2, (3, 4), (1, 3), False, OrderedDict()),
     * False, OrderedDict()) with a HalfStorage persistent id */
    static const char pkl[] = "\x80\x02"
                              "ctorch._utils\n_rebuild_parameter\n"
                              "ctorch._utils\n_rebuild_tensor_v2\n"
                              "((X\x07\x00\x00\x00storagectorch\nHalfStorage\nX\x02\x00\x00\x00"
                              "17X\x03\x00\x00\x00"
                              "cpuK\x20tQ"
                              "K\x02K\x03K\x04\x86K\x01K\x03\x86\x89"
                              "ccollections\nOrderedDict\n)Rt"
                              "R\x89"
                              "ccollections\nOrderedDict\n)R\x87R.";
    sam2_error err = {0};
    pk_doc *doc = pk_load(P(pkl), &err);
    if (!doc) fail_msg("%s", err.message);
    const pk_value *t = pk_root(doc);
    assert_int_equal(t->kind, PK_TENSOR);
    assert_int_equal(t->u.tensor.offset, 2);
    assert_int_equal(t->u.tensor.ndim, 2);
    assert_int_equal(t->u.tensor.shape[1], 4);
    assert_int_equal(t->u.tensor.stride[1], 3);
    const pk_value *s = t->u.tensor.storage;
    assert_int_equal(s->kind, PK_STORAGE);
    assert_int_equal(s->u.storage.dtype, PK_FLOAT16);
    assert_string_equal(s->u.storage.key, "17");
    assert_int_equal(s->u.storage.numel, 32);
    pk_free(doc);
}

static void expect_fail(const uint8_t *data, size_t n, int code, const char *message) {
    sam2_error err = {0};
    pk_doc *doc = pk_load(data, n, &err);
    if (doc) {
        pk_free(doc);
        fail_msg("accepted, expected '%s'", message);
    }
    if (err.code != code || !strstr(err.message, message))
        fail_msg("got %d '%s', expected %d '%s'", err.code, err.message, code, message);
    assert_null(pk_load(data, n, NULL)); /* no error struct: still just fails */
}

static void test_errors(void **state) {
    (void)state;
    expect_fail(P(""), SAM2_ERR_FORMAT, "without STOP");
    expect_fail(P("\x80\x02}"), SAM2_ERR_FORMAT, "without STOP");
    expect_fail(P("\x80\x06}."), SAM2_ERR_UNSUPPORTED, "pickle protocol 6");
    expect_fail(P("\x80\x02s."), SAM2_ERR_FORMAT, "byte 2: stack underflow");
    expect_fail(P("."), SAM2_ERR_FORMAT, "stack underflow");
    expect_fail(P("h\x05."), SAM2_ERR_FORMAT, "memo entry 5 used before it was set");
    expect_fail(P("}r\xff\xff\xff\x7f."), SAM2_ERR_FORMAT, "memo index 2147483647 out of range");
    expect_fail(P("X\xff\x00\x00\x00"
                  "abc."),
                SAM2_ERR_FORMAT, "truncated pickle");
    expect_fail(P("\x8a\x09"
                  "123456789."),
                SAM2_ERR_UNSUPPORTED, "integer of 9 bytes");
    expect_fail(P("I1\n."), SAM2_ERR_UNSUPPORTED, "unsupported pickle opcode 0x49 ('I')");
    expect_fail(P("\x80\x02\xff"), SAM2_ERR_UNSUPPORTED, "byte 2: unsupported pickle opcode 0xff");
    expect_fail(P("cos\nsystem\n."), SAM2_ERR_UNSUPPORTED, "unsupported pickle global 'os.system'");
    expect_fail(P("cbuiltins\neval"), SAM2_ERR_FORMAT, "unterminated GLOBAL");
    expect_fail(P("\x8c\x08"
                  "builtins\x8c\x04"
                  "exec\x93."),
                SAM2_ERR_UNSUPPORTED, "unsupported pickle global 'builtins.exec'");
    expect_fail(P("]K\x01K\x02s."), SAM2_ERR_FORMAT, "SETITEM on a list");
    expect_fail(P("}K\x01"
                  "a."),
                SAM2_ERR_FORMAT, "APPEND to a dict");
    expect_fail(P("K\x01)R."), SAM2_ERR_FORMAT, "cannot call a int");
    expect_fail(P("ctorch\nFloatStorage\n)R."), SAM2_ERR_UNSUPPORTED, "calling torch.FloatStorage");
    expect_fail(P("ccollections\nOrderedDict\n(K\x01tR."), SAM2_ERR_UNSUPPORTED,
                "OrderedDict built with arguments");
    expect_fail(P("ctorch._utils\n_rebuild_tensor_v2\n(K\x01tR."), SAM2_ERR_FORMAT,
                "takes 6 or 7 arguments");
    expect_fail(P("(X\x03\x00\x00\x00"
                  "abcK\x01tQ."),
                SAM2_ERR_UNSUPPORTED, "not a 5-tuple storage reference");
    expect_fail(P("(X\x06\x00\x00\x00moduleK\x01K\x01K\x01K\x01tQ."), SAM2_ERR_UNSUPPORTED,
                "kind other than 'storage'");
    expect_fail(P("]}b."), SAM2_ERR_UNSUPPORTED, "BUILD of a list");
    expect_fail(P("(K\x01K\x02K\x03u."), SAM2_ERR_FORMAT, "odd number");
    expect_fail(P("K\x01(K\x02K\x03u."), SAM2_ERR_FORMAT, "SETITEM on a int");
    expect_fail(P("(K\x02K\x03u."), SAM2_ERR_FORMAT, "SETITEMS without a dict");
    expect_fail(P("t."), SAM2_ERR_FORMAT, "no MARK");
    expect_fail(P("(\x85."), SAM2_ERR_FORMAT, "stack underflow");
    expect_fail(P("\x95\xff\x00\x00\x00\x00\x00\x00\x00."), SAM2_ERR_FORMAT, "frame runs past");
    /* Tensor arguments of the wrong kinds. */
    static const char bad_shape[] =
        "ctorch._utils\n_rebuild_tensor_v2\n"
        "((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00"
        "0X\x03\x00\x00\x00"
        "cpuK\x04tQ"
        "K\x00X\x01\x00\x00\x00"
        "a(K\x01t\x89}tR.";
    expect_fail(P(bad_shape), SAM2_ERR_FORMAT, "tensor size is a str");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_protocol4_and_stack_ops),
        cmocka_unit_test(test_tensor),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
