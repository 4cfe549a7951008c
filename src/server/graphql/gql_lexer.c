#include "server/graphql/gql_lexer.h"

#include <stdio.h>
#include <string.h>

void gql_lexer_init(gql_lexer *lx, const char *src, size_t len, arena *arena) {
    memset(lx, 0, sizeof *lx);
    lx->src = src;
    lx->len = len;
    lx->line = 1;
    lx->arena = arena;
    lx->tok.kind = TK_SOF;
    lx->tok.loc = (gql_loc){1, 1};
}

static gql_loc loc_at(const gql_lexer *lx, size_t pos) {
    return (gql_loc){lx->line, (int)(pos - lx->line_start) + 1};
}

static int lex_fail(gql_lexer *lx, size_t pos, const char *fmt, const char *arg) {
    char msg[200];
    snprintf(msg, sizeof msg, fmt, arg);
    snprintf(lx->error, sizeof lx->error, "Syntax Error: %s", msg);
    lx->error_loc = loc_at(lx, pos);
    return -1;
}

static void describe_char(const gql_lexer *lx, size_t pos, char *buf, size_t cap) {
    if (pos >= lx->len) {
        snprintf(buf, cap, "<EOF>");
        return;
    }
    unsigned char c = (unsigned char)lx->src[pos];
    if (c >= 0x20 && c < 0x7f && c != '\'')
        snprintf(buf, cap, "'%c'", c);
    else
        snprintf(buf, cap, "U+%04X", c);
}

static int is_name_start(int c) {
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
static int is_name_char(int c) {
    return is_name_start(c) || (c >= '0' && c <= '9');
}
static int is_digit(int c) {
    return c >= '0' && c <= '9';
}

static void newline(gql_lexer *lx, size_t next_line_start) {
    lx->line++;
    lx->line_start = next_line_start;
}

/* Skips ignored tokens: BOM, whitespace, line terminators, commas, comments. */
static void skip_ignored(gql_lexer *lx) {
    while (lx->pos < lx->len) {
        unsigned char c = (unsigned char)lx->src[lx->pos];
        if (c == ' ' || c == '\t' || c == ',') {
            lx->pos++;
        } else if (c == '\n') {
            lx->pos++;
            newline(lx, lx->pos);
        } else if (c == '\r') {
            lx->pos++;
            if (lx->pos < lx->len && lx->src[lx->pos] == '\n') lx->pos++;
            newline(lx, lx->pos);
        } else if (c == 0xEF && lx->pos + 2 < lx->len &&
                   (unsigned char)lx->src[lx->pos + 1] == 0xBB &&
                   (unsigned char)lx->src[lx->pos + 2] == 0xBF) {
            lx->pos += 3;
        } else if (c == '#') {
            while (lx->pos < lx->len && lx->src[lx->pos] != '\n' && lx->src[lx->pos] != '\r')
                lx->pos++;
        } else {
            break;
        }
    }
}

static int hex_value(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t put_utf8(char *out, unsigned cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Reads \uXXXX at p (pointing after "\u"); returns the code unit or -1. */
static long read_hex4(const gql_lexer *lx, size_t p) {
    if (p + 4 > lx->len) return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value((unsigned char)lx->src[p + i]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

static int lex_string(gql_lexer *lx, size_t start) {
    /* The decoded text is never longer than the raw text. */
    size_t p = start + 1;
    size_t end = p;
    while (end < lx->len && lx->src[end] != '"' && lx->src[end] != '\n' && lx->src[end] != '\r') {
        if (lx->src[end] == '\\' && end + 1 < lx->len) end++;
        end++;
    }
    char *out = arena_zalloc(lx->arena, end - p + 1);
    if (!out) return lex_fail(lx, start, "%s", "document too large");
    size_t n = 0;
    while (1) {
        if (p >= lx->len || lx->src[p] == '\n' || lx->src[p] == '\r')
            return lex_fail(lx, p, "%s", "Unterminated string.");
        unsigned char c = (unsigned char)lx->src[p];
        if (c == '"') break;
        if (c < 0x20 && c != '\t') {
            char d[16];
            describe_char(lx, p, d, sizeof d);
            return lex_fail(lx, p, "Invalid character within String: %s.", d);
        }
        if (c != '\\') {
            out[n++] = (char)c;
            p++;
            continue;
        }
        if (p + 1 >= lx->len) return lex_fail(lx, p, "%s", "Unterminated string.");
        char e = lx->src[p + 1];
        p += 2;
        switch (e) {
        case '"':
            out[n++] = '"';
            break;
        case '\\':
            out[n++] = '\\';
            break;
        case '/':
            out[n++] = '/';
            break;
        case 'b':
            out[n++] = '\b';
            break;
        case 'f':
            out[n++] = '\f';
            break;
        case 'n':
            out[n++] = '\n';
            break;
        case 'r':
            out[n++] = '\r';
            break;
        case 't':
            out[n++] = '\t';
            break;
        case 'u': {
            long cu = read_hex4(lx, p);
            if (cu < 0) return lex_fail(lx, p - 2, "%s", "Invalid Unicode escape sequence.");
            p += 4;
            unsigned cp = (unsigned)cu;
            if (cu >= 0xD800 && cu <= 0xDBFF) {
                long lo = -1;
                if (p + 6 <= lx->len && lx->src[p] == '\\' && lx->src[p + 1] == 'u')
                    lo = read_hex4(lx, p + 2);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return lex_fail(lx, p - 6, "%s", "Invalid Unicode escape sequence.");
                p += 6;
                cp = 0x10000 + (((unsigned)cu - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
            } else if (cu >= 0xDC00 && cu <= 0xDFFF) {
                return lex_fail(lx, p - 6, "%s", "Invalid Unicode escape sequence.");
            }
            if (cp == 0)
                return lex_fail(lx, p - 6, "%s", "NUL characters are not supported in strings.");
            n += put_utf8(out + n, cp); /* <= 4 bytes from >= 6 raw bytes */
            break;
        }
        default: {
            char d[16];
            describe_char(lx, p - 1, d, sizeof d);
            return lex_fail(lx, p - 2, "Invalid character escape sequence: \\%s.", d);
        }
        }
    }
    out[n] = 0;
    lx->tok.kind = TK_STRING;
    lx->tok.value = out;
    lx->pos = p + 1;
    return 0;
}

static int is_blank_line(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t') return 0;
    return 1;
}

/* Block strings: raw text between """ and """, \""" unescaped, common indentation removed and
 * leading/trailing blank lines dropped (spec: BlockStringValue). */
static int lex_block_string(gql_lexer *lx, size_t start) {
    size_t p = start + 3;
    size_t raw_start = p;
    int start_line = lx->line;
    size_t start_line_start = lx->line_start;
    while (1) {
        if (p >= lx->len) {
            lx->line = start_line;
            lx->line_start = start_line_start;
            return lex_fail(lx, start, "%s", "Unterminated string.");
        }
        if (lx->src[p] == '"' && p + 2 < lx->len && lx->src[p + 1] == '"' && lx->src[p + 2] == '"')
            break;
        if (lx->src[p] == '\\' && p + 3 < lx->len && !strncmp(lx->src + p + 1, "\"\"\"", 3)) {
            p += 4;
            continue;
        }
        if (lx->src[p] == '\n')
            newline(lx, p + 1);
        else if (lx->src[p] == '\r') {
            if (p + 1 < lx->len && lx->src[p + 1] == '\n') p++;
            newline(lx, p + 1);
        }
        p++;
    }
    size_t raw_end = p;
    /* Unescape \""" first, then split into lines. */
    size_t cap = raw_end - raw_start;
    char *raw = arena_zalloc(lx->arena, cap + 1);
    char *out = arena_zalloc(lx->arena, cap + 1);
    if (!raw || !out) return lex_fail(lx, start, "%s", "document too large");
    size_t rn = 0;
    for (size_t i = raw_start; i < raw_end; i++) {
        if (lx->src[i] == '\\' && i + 3 < raw_end && !strncmp(lx->src + i + 1, "\"\"\"", 3)) {
            memcpy(raw + rn, "\"\"\"", 3);
            rn += 3;
            i += 3;
        } else if (lx->src[i] == '\r') {
            raw[rn++] = '\n';
            if (i + 1 < raw_end && lx->src[i + 1] == '\n') i++;
        } else {
            raw[rn++] = lx->src[i];
        }
    }
    /* Common indentation of all lines but the first. */
    size_t common = (size_t)-1;
    size_t ls = 0;
    int first = 1;
    for (size_t i = 0; i <= rn; i++) {
        if (i == rn || raw[i] == '\n') {
            if (!first) {
                size_t ind = 0;
                while (ls + ind < i && (raw[ls + ind] == ' ' || raw[ls + ind] == '\t')) ind++;
                if (ls + ind < i && ind < common) common = ind;
            }
            first = 0;
            ls = i + 1;
        }
    }
    size_t on = 0;
    int emitted_lines = 0;
    size_t pending_blank = 0; /* blank lines held back until a non-blank one follows */
    ls = 0;
    first = 1;
    for (size_t i = 0; i <= rn; i++) {
        if (i != rn && raw[i] != '\n') continue;
        const char *line = raw + ls;
        size_t n = i - ls;
        if (!first && common != (size_t)-1) {
            size_t cut = n < common ? n : common;
            line += cut;
            n -= cut;
        }
        first = 0;
        ls = i + 1;
        if (is_blank_line(line, n)) {
            if (emitted_lines) pending_blank++;
            continue;
        }
        if (emitted_lines) {
            for (size_t k = 0; k <= pending_blank; k++) out[on++] = '\n';
        }
        pending_blank = 0;
        memcpy(out + on, line, n);
        on += n;
        emitted_lines++;
    }
    out[on] = 0;
    lx->tok.kind = TK_BLOCK_STRING;
    lx->tok.value = out;
    lx->pos = raw_end + 3;
    return 0;
}

static int lex_number(gql_lexer *lx, size_t start) {
    size_t p = start;
    int is_float = 0;
    if (lx->src[p] == '-') p++;
    if (p < lx->len && lx->src[p] == '0') {
        p++;
        if (p < lx->len && is_digit((unsigned char)lx->src[p])) {
            char d[16];
            describe_char(lx, p, d, sizeof d);
            return lex_fail(lx, p, "Invalid number, unexpected digit after 0: %s.", d);
        }
    } else {
        if (p >= lx->len || !is_digit((unsigned char)lx->src[p])) {
            char d[16];
            describe_char(lx, p, d, sizeof d);
            return lex_fail(lx, p, "Invalid number, expected digit but got: %s.", d);
        }
        while (p < lx->len && is_digit((unsigned char)lx->src[p])) p++;
    }
    if (p < lx->len && lx->src[p] == '.') {
        is_float = 1;
        p++;
        if (p >= lx->len || !is_digit((unsigned char)lx->src[p])) {
            char d[16];
            describe_char(lx, p, d, sizeof d);
            return lex_fail(lx, p, "Invalid number, expected digit but got: %s.", d);
        }
        while (p < lx->len && is_digit((unsigned char)lx->src[p])) p++;
    }
    if (p < lx->len && (lx->src[p] == 'e' || lx->src[p] == 'E')) {
        is_float = 1;
        p++;
        if (p < lx->len && (lx->src[p] == '+' || lx->src[p] == '-')) p++;
        if (p >= lx->len || !is_digit((unsigned char)lx->src[p])) {
            char d[16];
            describe_char(lx, p, d, sizeof d);
            return lex_fail(lx, p, "Invalid number, expected digit but got: %s.", d);
        }
        while (p < lx->len && is_digit((unsigned char)lx->src[p])) p++;
    }
    if (p < lx->len && (lx->src[p] == '.' || is_name_start((unsigned char)lx->src[p]))) {
        char d[16];
        describe_char(lx, p, d, sizeof d);
        return lex_fail(lx, p, "Invalid number, expected digit but got: %s.", d);
    }
    lx->tok.kind = is_float ? TK_FLOAT : TK_INT;
    lx->tok.value = arena_strndup(lx->arena, lx->src + start, p - start);
    if (!lx->tok.value) return lex_fail(lx, start, "%s", "document too large");
    lx->pos = p;
    return 0;
}

int gql_lexer_next(gql_lexer *lx) {
    if (lx->tok.kind == TK_EOF) return 0;
    skip_ignored(lx);
    size_t start = lx->pos;
    lx->tok.loc = loc_at(lx, start);
    lx->tok.start = lx->src + start;
    lx->tok.value = NULL;
    if (start >= lx->len) {
        lx->tok.kind = TK_EOF;
        lx->tok.len = 0;
        return 0;
    }
    unsigned char c = (unsigned char)lx->src[start];
    gql_token_kind k;
    switch (c) {
    case '!':
        k = TK_BANG;
        break;
    case '$':
        k = TK_DOLLAR;
        break;
    case '&':
        k = TK_AMP;
        break;
    case '(':
        k = TK_PAREN_L;
        break;
    case ')':
        k = TK_PAREN_R;
        break;
    case ':':
        k = TK_COLON;
        break;
    case '=':
        k = TK_EQUALS;
        break;
    case '@':
        k = TK_AT;
        break;
    case '[':
        k = TK_BRACKET_L;
        break;
    case ']':
        k = TK_BRACKET_R;
        break;
    case '{':
        k = TK_BRACE_L;
        break;
    case '|':
        k = TK_PIPE;
        break;
    case '}':
        k = TK_BRACE_R;
        break;
    case '.':
        if (start + 2 < lx->len && lx->src[start + 1] == '.' && lx->src[start + 2] == '.') {
            lx->tok.kind = TK_SPREAD;
            lx->tok.len = 3;
            lx->pos = start + 3;
            return 0;
        }
        return lex_fail(lx, start, "%s", "Unexpected character: '.'.");
    case '"': {
        int r;
        if (start + 2 < lx->len && lx->src[start + 1] == '"' && lx->src[start + 2] == '"')
            r = lex_block_string(lx, start);
        else
            r = lex_string(lx, start);
        lx->tok.len = lx->pos - start;
        return r;
    }
    default:
        if (is_name_start(c)) {
            size_t p = start + 1;
            while (p < lx->len && is_name_char((unsigned char)lx->src[p])) p++;
            lx->tok.kind = TK_NAME;
            lx->tok.len = p - start;
            lx->tok.value = arena_strndup(lx->arena, lx->src + start, p - start);
            lx->pos = p;
            if (!lx->tok.value) return lex_fail(lx, start, "%s", "document too large");
            return 0;
        }
        if (c == '-' || is_digit(c)) {
            int r = lex_number(lx, start);
            lx->tok.len = lx->pos - start;
            return r;
        }
        {
            char d[16];
            describe_char(lx, start, d, sizeof d);
            return lex_fail(lx, start, "Unexpected character: %s.", d);
        }
    }
    lx->tok.kind = k;
    lx->tok.len = 1;
    lx->pos = start + 1;
    return 0;
}

void gql_token_describe(const gql_token *t, char *buf, size_t cap) {
    switch (t->kind) {
    case TK_SOF:
        snprintf(buf, cap, "<SOF>");
        break;
    case TK_EOF:
        snprintf(buf, cap, "<EOF>");
        break;
    case TK_NAME:
        snprintf(buf, cap, "Name '%.60s'", t->value ? t->value : "");
        break;
    case TK_INT:
        snprintf(buf, cap, "Int '%.60s'", t->value ? t->value : "");
        break;
    case TK_FLOAT:
        snprintf(buf, cap, "Float '%.60s'", t->value ? t->value : "");
        break;
    case TK_STRING:
        snprintf(buf, cap, "String \"%.60s\"", t->value ? t->value : "");
        break;
    case TK_BLOCK_STRING:
        snprintf(buf, cap, "BlockString");
        break;
    case TK_SPREAD:
        snprintf(buf, cap, "'...'");
        break;
    default:
        snprintf(buf, cap, "'%c'", t->start ? t->start[0] : '?');
        break;
    }
}
