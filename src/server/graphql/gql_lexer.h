/* GraphQL lexer (October 2021 spec, section 2.1): punctuators, names, numbers, strings and
 * block strings; whitespace, line terminators, commas, comments and the BOM are skipped.
 * String values are decoded (escapes, block-string indentation) into the document's arena. */
#ifndef SAM2_GRAPHQL_GQL_LEXER_H
#define SAM2_GRAPHQL_GQL_LEXER_H

#include "server/graphql/gql_ast.h"

#include <stddef.h>

typedef enum gql_token_kind {
    TK_SOF,
    TK_EOF,
    TK_BANG,
    TK_DOLLAR,
    TK_AMP,
    TK_PAREN_L,
    TK_PAREN_R,
    TK_SPREAD,
    TK_COLON,
    TK_EQUALS,
    TK_AT,
    TK_BRACKET_L,
    TK_BRACKET_R,
    TK_BRACE_L,
    TK_PIPE,
    TK_BRACE_R,
    TK_NAME,
    TK_INT,
    TK_FLOAT,
    TK_STRING,
    TK_BLOCK_STRING,
} gql_token_kind;

typedef struct gql_token {
    gql_token_kind kind;
    gql_loc loc;
    const char *start; /* raw text in the source */
    size_t len;
    const char *value; /* NAME/INT/FLOAT: raw text; strings: decoded (arena) */
} gql_token;

typedef struct gql_lexer {
    const char *src;
    size_t len, pos;
    int line;
    size_t line_start; /* offset of the current line's first byte */
    arena *arena;
    gql_token tok;   /* the current token */
    char error[256]; /* set on a lexical error ("Syntax Error: ...") */
    gql_loc error_loc;
} gql_lexer;

void gql_lexer_init(gql_lexer *lx, const char *src, size_t len, arena *arena);
/* Advances to the next token; returns 0, or -1 with lx->error set. */
int gql_lexer_next(gql_lexer *lx);
/* "Name 'foo'", "<EOF>", "'{'" ...: how error messages describe a token. */
void gql_token_describe(const gql_token *t, char *buf, size_t cap);

#endif
