#include "server/graphql/gql_values.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INT32_LO (-2147483648.0)
#define INT32_HI 2147483647.0

void gql_print_json(gql_buf *sb, const cJSON *v, size_t max) {
    char *s = v ? cJSON_PrintUnformatted(v) : NULL;
    if (!s) {
        gb_puts(sb, v ? "<value>" : "undefined");
        return;
    }
    size_t n = strlen(s);
    if (n > max) {
        gb_append(sb, s, max);
        gb_puts(sb, "...");
    } else {
        gb_append(sb, s, n);
    }
    cJSON_free(s);
}

void gql_print_value(gql_buf *sb, const gql_value *v) {
    if (sb->len > 200) {
        gb_puts(sb, "...");
        return;
    }
    switch (v->kind) {
    case GV_VARIABLE:
        gb_printf(sb, "$%s", v->text);
        break;
    case GV_INT:
    case GV_FLOAT:
    case GV_ENUM:
        gb_puts(sb, v->text);
        break;
    case GV_STRING:
        gb_json_string(sb, v->text);
        break;
    case GV_BOOLEAN:
        gb_puts(sb, v->boolean ? "true" : "false");
        break;
    case GV_NULL:
        gb_puts(sb, "null");
        break;
    case GV_LIST:
        gb_putc(sb, '[');
        for (int i = 0; i < v->n_items; i++) {
            if (i) gb_puts(sb, ", ");
            gql_print_value(sb, v->items[i]);
        }
        gb_putc(sb, ']');
        break;
    case GV_OBJECT:
        gb_putc(sb, '{');
        for (int i = 0; i < v->n_items; i++) {
            if (i) gb_puts(sb, ", ");
            gb_printf(sb, "%s: ", v->keys[i]);
            gql_print_value(sb, v->items[i]);
        }
        gb_putc(sb, '}');
        break;
    }
}

static int msgf(char *msg, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int msgf(char *msg, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return -1;
}

/* "Int cannot represent ...: <value>" with the value printed by `print`. */
static int scalar_fail_json(char *msg, size_t cap, const char *what, const cJSON *v) {
    gql_buf sb;
    gb_init(&sb);
    gql_print_json(&sb, v, 80);
    msgf(msg, cap, "%s: %s", what, sb.data ? sb.data : "?");
    gb_free(&sb);
    return -1;
}

static int scalar_fail_literal(char *msg, size_t cap, const char *what, const gql_value *v) {
    gql_buf sb;
    gb_init(&sb);
    gql_print_value(&sb, v);
    msgf(msg, cap, "%s: %s", what, sb.data ? sb.data : "?");
    gb_free(&sb);
    return -1;
}

static const char *scalar_int_msg = "Int cannot represent non-integer value";
static const char *scalar_int_range_msg = "Int cannot represent non 32-bit signed integer value";
static const char *scalar_float_msg = "Float cannot represent non numeric value";
static const char *scalar_string_msg = "String cannot represent a non string value";
static const char *scalar_bool_msg = "Boolean cannot represent a non boolean value";
static const char *scalar_id_msg = "ID cannot represent value";

static int coerce_scalar_json(const gql_coerce_ctx *c, const gql_type *t, const cJSON *v,
                              cJSON **out, char *msg, size_t cap) {
    switch (t->scalar) {
    case GQL_INT: {
        if (!cJSON_IsNumber(v)) return scalar_fail_json(msg, cap, scalar_int_msg, v);
        double d = v->valuedouble;
        if (!isfinite(d) || d != floor(d)) return scalar_fail_json(msg, cap, scalar_int_msg, v);
        if (d < INT32_LO || d > INT32_HI)
            return scalar_fail_json(msg, cap, scalar_int_range_msg, v);
        *out = cJSON_CreateNumber(d);
        break;
    }
    case GQL_FLOAT:
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
            return scalar_fail_json(msg, cap, scalar_float_msg, v);
        *out = cJSON_CreateNumber(v->valuedouble);
        break;
    case GQL_STRING:
        if (!cJSON_IsString(v)) return scalar_fail_json(msg, cap, scalar_string_msg, v);
        *out = cJSON_CreateString(v->valuestring);
        break;
    case GQL_BOOLEAN:
        if (!cJSON_IsBool(v)) return scalar_fail_json(msg, cap, scalar_bool_msg, v);
        *out = cJSON_CreateBool(cJSON_IsTrue(v));
        break;
    case GQL_ID:
    case GQL_GLOBAL_ID:
        if (cJSON_IsString(v)) {
            *out = cJSON_CreateString(v->valuestring);
        } else if (cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
                   v->valuedouble == floor(v->valuedouble)) {
            char buf[64];
            snprintf(buf, sizeof buf, "%.0f", v->valuedouble);
            *out = cJSON_CreateString(buf);
        } else {
            return scalar_fail_json(msg, cap, scalar_id_msg, v);
        }
        break;
    case GQL_UPLOAD: {
        int idx = c && c->upload_index ? c->upload_index(c->app, v) : -1;
        if (idx < 0)
            return msgf(
                msg, cap,
                "Upload cannot represent a value that is not a file of the multipart request");
        *out = cJSON_CreateNumber(idx);
        break;
    }
    }
    return *out ? 0 : msgf(msg, cap, "out of memory");
}

static void path_key(gql_buf *path, const char *key) {
    gb_printf(path, ".%s", key);
}

int gql_coerce_json(const gql_coerce_ctx *c, const gql_type *type, const cJSON *v, cJSON **out,
                    gql_buf *path, char *msg, size_t cap) {
    char tn[160];
    *out = NULL;
    if (type->kind == GQL_NON_NULL) {
        if (!v || cJSON_IsNull(v)) {
            gql_type_print(type, tn, sizeof tn);
            return msgf(msg, cap, "Expected non-nullable type '%s' not to be null.", tn);
        }
        return gql_coerce_json(c, type->of_type, v, out, path, msg, cap);
    }
    if (!v || cJSON_IsNull(v)) {
        *out = cJSON_CreateNull();
        return *out ? 0 : msgf(msg, cap, "out of memory");
    }
    if (type->kind == GQL_LIST) {
        cJSON *arr = cJSON_CreateArray();
        if (!arr) return msgf(msg, cap, "out of memory");
        if (cJSON_IsArray(v)) {
            int i = 0;
            for (const cJSON *item = v->child; item; item = item->next, i++) {
                cJSON *ci;
                size_t mark = path->len;
                gb_printf(path, "[%d]", i);
                if (gql_coerce_json(c, type->of_type, item, &ci, path, msg, cap)) {
                    cJSON_Delete(arr);
                    return -1;
                }
                path->len = mark;
                if (path->data) path->data[mark] = 0;
                cJSON_AddItemToArray(arr, ci);
            }
        } else {
            cJSON *ci;
            if (gql_coerce_json(c, type->of_type, v, &ci, path, msg, cap)) {
                cJSON_Delete(arr);
                return -1;
            }
            cJSON_AddItemToArray(arr, ci);
        }
        *out = arr;
        return 0;
    }
    if (type->kind == GQL_INPUT_OBJECT) {
        if (!cJSON_IsObject(v)) {
            gql_buf sb;
            gb_init(&sb);
            gql_print_json(&sb, v, 80);
            msgf(msg, cap, "Expected type '%s' to be an object.", type->name);
            gb_free(&sb);
            return -1;
        }
        for (const cJSON *f = v->child; f; f = f->next) {
            if (!f->string || !gql_type_input(type, f->string))
                return msgf(msg, cap, "Field '%s' is not defined by type '%s'.",
                            f->string ? f->string : "", type->name);
        }
        cJSON *obj = cJSON_CreateObject();
        if (!obj) return msgf(msg, cap, "out of memory");
        for (int i = 0; i < type->n_inputs; i++) {
            const gql_input_value *iv = &type->inputs[i];
            const cJSON *fv = cJSON_GetObjectItemCaseSensitive(v, iv->name);
            cJSON *cf = NULL;
            if (!fv) {
                if (iv->default_value) {
                    cf = cJSON_Duplicate(iv->default_value, 1);
                } else if (iv->type->kind == GQL_NON_NULL) {
                    gql_type_print(iv->type, tn, sizeof tn);
                    cJSON_Delete(obj);
                    return msgf(msg, cap, "Field '%s' of required type '%s' was not provided.",
                                iv->name, tn);
                } else {
                    continue;
                }
            } else {
                size_t mark = path->len;
                path_key(path, iv->name);
                if (gql_coerce_json(c, iv->type, fv, &cf, path, msg, cap)) {
                    cJSON_Delete(obj);
                    return -1;
                }
                path->len = mark;
                if (path->data) path->data[mark] = 0;
            }
            if (!cf) {
                cJSON_Delete(obj);
                return msgf(msg, cap, "out of memory");
            }
            cJSON_AddItemToObject(obj, iv->name, cf);
        }
        *out = obj;
        return 0;
    }
    if (type->kind == GQL_SCALAR) return coerce_scalar_json(c, type, v, out, msg, cap);
    gql_type_print(type, tn, sizeof tn);
    return msgf(msg, cap, "Type '%s' is not an input type.", tn);
}

static int coerce_scalar_literal(const gql_type *t, const gql_value *v, cJSON **out, char *msg,
                                 size_t cap) {
    switch (t->scalar) {
    case GQL_INT: {
        if (v->kind != GV_INT) return scalar_fail_literal(msg, cap, scalar_int_msg, v);
        errno = 0;
        char *end;
        long long n = strtoll(v->text, &end, 10);
        if (errno || *end || n < (long long)INT32_LO || n > (long long)INT32_HI)
            return scalar_fail_literal(msg, cap, scalar_int_range_msg, v);
        *out = cJSON_CreateNumber((double)n);
        break;
    }
    case GQL_FLOAT: {
        if (v->kind != GV_INT && v->kind != GV_FLOAT)
            return scalar_fail_literal(msg, cap, scalar_float_msg, v);
        double d = strtod(v->text, NULL);
        if (!isfinite(d)) return scalar_fail_literal(msg, cap, scalar_float_msg, v);
        *out = cJSON_CreateNumber(d);
        break;
    }
    case GQL_STRING:
        if (v->kind != GV_STRING) return scalar_fail_literal(msg, cap, scalar_string_msg, v);
        *out = cJSON_CreateString(v->text);
        break;
    case GQL_BOOLEAN:
        if (v->kind != GV_BOOLEAN) return scalar_fail_literal(msg, cap, scalar_bool_msg, v);
        *out = cJSON_CreateBool(v->boolean);
        break;
    case GQL_ID:
    case GQL_GLOBAL_ID:
        if (v->kind != GV_STRING && v->kind != GV_INT)
            return scalar_fail_literal(msg, cap, scalar_id_msg, v);
        *out = cJSON_CreateString(v->text);
        break;
    case GQL_UPLOAD:
        return msgf(msg, cap,
                    "Upload cannot be written in the document: send the file as a multipart "
                    "request part mapped to a variable");
    }
    return *out ? 0 : msgf(msg, cap, "out of memory");
}

int gql_coerce_literal(const gql_coerce_ctx *c, const gql_type *type, const gql_value *v,
                       const cJSON *vars, cJSON **out, char *msg, size_t cap) {
    char tn[160];
    *out = NULL;
    if (v->kind == GV_VARIABLE) {
        if (!vars) return 0; /* validation: checked by the variables-in-allowed-position rule */
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(vars, v->text);
        if (!val) return 0; /* absent */
        if (type->kind == GQL_NON_NULL && cJSON_IsNull(val)) {
            gql_type_print(type, tn, sizeof tn);
            return msgf(msg, cap, "Expected value of type '%s', found null (variable '$%s').", tn,
                        v->text);
        }
        *out = cJSON_Duplicate(val, 1);
        return *out ? 0 : msgf(msg, cap, "out of memory");
    }
    if (type->kind == GQL_NON_NULL) {
        if (v->kind == GV_NULL) {
            gql_type_print(type, tn, sizeof tn);
            return msgf(msg, cap, "Expected value of type '%s', found null.", tn);
        }
        return gql_coerce_literal(c, type->of_type, v, vars, out, msg, cap);
    }
    if (v->kind == GV_NULL) {
        *out = cJSON_CreateNull();
        return *out ? 0 : msgf(msg, cap, "out of memory");
    }
    if (type->kind == GQL_LIST) {
        cJSON *arr = cJSON_CreateArray();
        if (!arr) return msgf(msg, cap, "out of memory");
        int n = v->kind == GV_LIST ? v->n_items : 1;
        for (int i = 0; i < n; i++) {
            const gql_value *item = v->kind == GV_LIST ? v->items[i] : v;
            cJSON *ci = NULL;
            if (gql_coerce_literal(c, type->of_type, item, vars, &ci, msg, cap)) {
                cJSON_Delete(arr);
                return -1;
            }
            if (!ci) {
                if (!vars) continue; /* validation only */
                /* An absent variable inside a list is null (spec 5.6.1 / graphql-js). */
                if (type->of_type->kind == GQL_NON_NULL) {
                    cJSON_Delete(arr);
                    gql_type_print(type->of_type, tn, sizeof tn);
                    return msgf(msg, cap,
                                "Expected value of type '%s', found null (variable '$%s').", tn,
                                item->text ? item->text : "");
                }
                ci = cJSON_CreateNull();
            }
            cJSON_AddItemToArray(arr, ci);
        }
        if (!vars) {
            cJSON_Delete(arr);
            arr = NULL;
        }
        *out = arr;
        return 0;
    }
    if (type->kind == GQL_INPUT_OBJECT) {
        if (v->kind != GV_OBJECT) {
            gql_buf sb;
            gb_init(&sb);
            gql_print_value(&sb, v);
            msgf(msg, cap, "Expected value of type '%s', found %s.", type->name,
                 sb.data ? sb.data : "?");
            gb_free(&sb);
            return -1;
        }
        for (int i = 0; i < v->n_items; i++) {
            if (!gql_type_input(type, v->keys[i]))
                return msgf(msg, cap, "Field '%s' is not defined by type '%s'.", v->keys[i],
                            type->name);
            for (int j = 0; j < i; j++)
                if (!strcmp(v->keys[i], v->keys[j]))
                    return msgf(msg, cap, "There can be only one input field named '%s'.",
                                v->keys[i]);
        }
        cJSON *obj = vars ? cJSON_CreateObject() : NULL;
        if (vars && !obj) return msgf(msg, cap, "out of memory");
        for (int f = 0; f < type->n_inputs; f++) {
            const gql_input_value *iv = &type->inputs[f];
            const gql_value *fv = NULL;
            for (int i = 0; i < v->n_items; i++)
                if (!strcmp(v->keys[i], iv->name)) fv = v->items[i];
            cJSON *cf = NULL;
            int absent = !fv;
            if (fv) {
                if (gql_coerce_literal(c, iv->type, fv, vars, &cf, msg, cap)) {
                    cJSON_Delete(obj);
                    return -1;
                }
                if (!cf && vars) absent = 1; /* a variable without a value */
                if (!vars && fv->kind == GV_VARIABLE) continue;
            }
            if (absent) {
                if (iv->default_value) {
                    cf = cJSON_Duplicate(iv->default_value, 1);
                } else if (iv->type->kind == GQL_NON_NULL) {
                    gql_type_print(iv->type, tn, sizeof tn);
                    cJSON_Delete(obj);
                    return msgf(msg, cap, "Field '%s.%s' of required type '%s' was not provided.",
                                type->name, iv->name, tn);
                } else {
                    continue;
                }
            }
            if (vars)
                cJSON_AddItemToObject(obj, iv->name, cf);
            else
                cJSON_Delete(cf);
        }
        *out = obj;
        return 0;
    }
    if (type->kind == GQL_SCALAR) {
        int r = coerce_scalar_literal(type, v, out, msg, cap);
        if (!r && !vars) {
            cJSON_Delete(*out);
            *out = NULL;
        }
        return r;
    }
    gql_type_print(type, tn, sizeof tn);
    return msgf(msg, cap, "Type '%s' is not an input type.", tn);
}

cJSON *gql_serialize_scalar(const gql_type *t, const cJSON *v, char *msg, size_t cap) {
    switch (t->scalar) {
    case GQL_INT:
        if (cJSON_IsBool(v)) return cJSON_CreateNumber(cJSON_IsTrue(v));
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
            v->valuedouble != floor(v->valuedouble)) {
            scalar_fail_json(msg, cap, scalar_int_msg, v);
            return NULL;
        }
        if (v->valuedouble < INT32_LO || v->valuedouble > INT32_HI) {
            scalar_fail_json(msg, cap, scalar_int_range_msg, v);
            return NULL;
        }
        return cJSON_CreateNumber(v->valuedouble);
    case GQL_FLOAT:
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
            scalar_fail_json(msg, cap, scalar_float_msg, v);
            return NULL;
        }
        return cJSON_CreateNumber(v->valuedouble);
    case GQL_STRING:
    case GQL_ID:
    case GQL_GLOBAL_ID:
        if (cJSON_IsString(v)) return cJSON_CreateString(v->valuestring);
        scalar_fail_json(msg, cap, scalar_string_msg, v);
        return NULL;
    case GQL_BOOLEAN:
        if (cJSON_IsBool(v)) return cJSON_CreateBool(cJSON_IsTrue(v));
        scalar_fail_json(msg, cap, scalar_bool_msg, v);
        return NULL;
    case GQL_UPLOAD:
        msgf(msg, cap, "Upload cannot be returned as an output value");
        return NULL;
    }
    return NULL;
}
