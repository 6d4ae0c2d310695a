/*
 * param.c - the SQL scanner ($n placeholders, statement boundaries) and statement
 * parameters from the command line or a JSON array (see param.h).
 *
 * The scanner is a single left-to-right pass: every byte is looked at a bounded number of
 * times (dollar-quote ends are matched with a byte loop that stops at the first mismatch,
 * and a tag never contains '$', so the work per '$' is bounded by the distance to the
 * next '$'). It never reads past `len`, so the text need not be NUL-terminated.
 */
#include "drv/param.h"

#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"

/* ==== SQL scanner ======================================================================= */

#define MAX_PARAM 65535

/* Where the statement's leading words are in the CREATE [OR REPLACE] FUNCTION|PROCEDURE
 * recognizer (psql's heuristic: only routine bodies may hold BEGIN ATOMIC ... END). */
enum words_state { W_START, W_CREATE, W_OR, W_REPLACE, W_ROUTINE, W_OTHER };

struct scanner {
    const char *s;
    size_t len;               /* bytes of s */
    size_t i;                 /* cursor */
    struct cq_arena *a;
    struct cq_sql_scan *out;
    size_t cap;               /* entries allocated in out->stmts */
    size_t start;             /* first non-space byte of the statement; SIZE_MAX = none */
    size_t end;               /* just past its last non-space byte */
    bool content;             /* a token other than a comment was seen */
    int max_param;            /* highest $n of the statement */
    size_t paren;             /* ( depth */
    size_t begin;             /* BEGIN/CASE ... END depth inside a routine body */
    enum words_state words;
};

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Identifier characters as PostgreSQL's lexer sees them ('$' only after the start). */
static bool ident_start(unsigned char c)
{
    return isalpha(c) || c == '_' || c >= 0x80;
}

static bool ident_char(unsigned char c)
{
    return ident_start(c) || isdigit(c) || c == '$';
}

static bool word_is(const char *w, size_t n, const char *kw)
{
    size_t i = 0;
    for (; i < n && kw[i] != '\0'; i++) {
        if (tolower((unsigned char)w[i]) != kw[i]) {
            return false;
        }
    }
    return i == n && kw[i] == '\0';
}

static int push_stmt(struct scanner *sc)
{
    struct cq_sql_scan *o = sc->out;
    if (o->n_stmts == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 8;
        size_t bytes;
        if (!cq_size_mul(&bytes, cap, sizeof(*o->stmts))) {
            return CQ_ENOMEM;
        }
        struct cq_sql_stmt *st = cq_arena_alloc(sc->a, bytes);
        if (st == NULL) {
            return CQ_ENOMEM;
        }
        if (o->n_stmts > 0) {
            memcpy(st, o->stmts, o->n_stmts * sizeof(*st));
        }
        o->stmts = st;
        sc->cap = cap;
    }
    o->stmts[o->n_stmts++] = (struct cq_sql_stmt){sc->start, sc->end - sc->start, sc->max_param};
    return CQ_OK;
}

/* Closes the current statement (at ';' or the end of text); comment-only ones are dropped. */
static int end_stmt(struct scanner *sc, struct cq_err *err)
{
    if (sc->content && push_stmt(sc) != CQ_OK) {
        return cq_err_set(err, CQ_ENOMEM, "sql scan: out of memory for %zu statements",
                          sc->out->n_stmts + 1);
    }
    sc->start = SIZE_MAX;
    sc->end = 0;
    sc->content = false;
    sc->max_param = 0;
    sc->paren = 0;
    sc->begin = 0;
    sc->words = W_START;
    return CQ_OK;
}

/* '...' or "..." with doubling; with backslash (E'...') a backslash escapes any byte. */
static void skip_quoted(struct scanner *sc, char q, bool backslash)
{
    size_t j = sc->i + 1;
    for (;;) {
        while (j < sc->len && sc->s[j] != q && !(backslash && sc->s[j] == '\\')) {
            j++;
        }
        if (j >= sc->len) {
            sc->out->unterminated = true;
            sc->i = sc->len;
            return;
        }
        if (sc->s[j] == '\\') {
            j += 2; /* may step past len: caught by the check above */
        } else if (j + 1 < sc->len && sc->s[j + 1] == q) {
            j += 2;
        } else {
            sc->i = j + 1;
            return;
        }
    }
}

static void skip_line_comment(struct scanner *sc)
{
    size_t j = sc->i + 2;
    while (j < sc->len && sc->s[j] != '\n' && sc->s[j] != '\r') {
        j++;
    }
    sc->i = j;
}

static void skip_block_comment(struct scanner *sc)
{
    size_t depth = 1, j = sc->i + 2;
    while (j < sc->len && depth > 0) {
        if (sc->s[j] == '/' && j + 1 < sc->len && sc->s[j + 1] == '*') {
            depth++;
            j += 2;
        } else if (sc->s[j] == '*' && j + 1 < sc->len && sc->s[j + 1] == '/') {
            depth--;
            j += 2;
        } else {
            j++;
        }
    }
    if (depth > 0) {
        sc->out->unterminated = true;
    }
    sc->i = j;
}

/* $n: 1..65535. Digits past the range are still consumed so the message shows them. */
static int lex_param(struct scanner *sc, struct cq_err *err)
{
    size_t j = sc->i + 1;
    long v = 0;
    while (j < sc->len && isdigit((unsigned char)sc->s[j])) {
        if (v <= MAX_PARAM) {
            v = v * 10 + (sc->s[j] - '0');
        }
        j++;
    }
    if (v < 1 || v > MAX_PARAM) {
        int nd = (int)(j - sc->i - 1);
        return cq_err_set(err, v < 1 ? CQ_EINVAL : CQ_ETOOBIG,
                          "parameter $%.*s%s is out of range (1..65535)", nd > 20 ? 20 : nd,
                          sc->s + sc->i + 1, nd > 20 ? "..." : "");
    }
    if ((int)v > sc->max_param) {
        sc->max_param = (int)v;
    }
    if ((int)v > sc->out->max_param) {
        sc->out->max_param = (int)v;
    }
    sc->i = j;
    return CQ_OK;
}

/* Finds the closing $tag$ of a dollar-quoted body that starts at `body`. */
static void skip_dollar_body(struct scanner *sc, size_t body, const char *tag, size_t tag_len)
{
    size_t j = body;
    while (j < sc->len) {
        const char *d = memchr(sc->s + j, '$', sc->len - j);
        if (d == NULL) {
            break;
        }
        size_t q = (size_t)(d - sc->s), k = 0;
        /* Byte loop, not memcmp: it stops at the first mismatch, which keeps this linear. */
        while (k < tag_len && q + 1 + k < sc->len && sc->s[q + 1 + k] == tag[k]) {
            k++;
        }
        if (k == tag_len && q + 1 + k < sc->len && sc->s[q + 1 + k] == '$') {
            sc->i = q + tag_len + 2;
            return;
        }
        j = q + 1;
    }
    sc->out->unterminated = true;
    sc->i = sc->len;
}

/* At '$': a parameter ($1), a dollar quote ($$ or $tag$), or a lone '$'. */
static int lex_dollar(struct scanner *sc, struct cq_err *err)
{
    size_t j = sc->i + 1;
    if (j < sc->len && isdigit((unsigned char)sc->s[j])) {
        return lex_param(sc, err);
    }
    if (j < sc->len && ident_start((unsigned char)sc->s[j])) {
        while (j < sc->len && ident_char((unsigned char)sc->s[j]) && sc->s[j] != '$') {
            j++;
        }
    }
    if (j >= sc->len || sc->s[j] != '$') {
        sc->i++;
        return CQ_OK;
    }
    skip_dollar_body(sc, j + 1, sc->s + sc->i + 1, j - sc->i - 1);
    return CQ_OK;
}

/* Tracks CREATE [OR REPLACE] FUNCTION|PROCEDURE and, inside one, BEGIN/CASE ... END. */
static void note_word(struct scanner *sc, const char *w, size_t n)
{
    bool routine_kw = word_is(w, n, "function") || word_is(w, n, "procedure");
    switch (sc->words) {
    case W_START: sc->words = word_is(w, n, "create") ? W_CREATE : W_OTHER; return;
    case W_CREATE:
        sc->words = routine_kw ? W_ROUTINE : word_is(w, n, "or") ? W_OR : W_OTHER;
        return;
    case W_OR: sc->words = word_is(w, n, "replace") ? W_REPLACE : W_OTHER; return;
    case W_REPLACE: sc->words = routine_kw ? W_ROUTINE : W_OTHER; return;
    case W_OTHER: return;
    case W_ROUTINE: break;
    }
    if (sc->paren > 0) {
        return;
    }
    if (word_is(w, n, "begin")) {
        sc->begin++;
    } else if (word_is(w, n, "case") && sc->begin > 0) {
        sc->begin++; /* CASE ends with END too; only matters inside a body */
    } else if (word_is(w, n, "end") && sc->begin > 0) {
        sc->begin--;
    }
}

/* A bare word (keyword or identifier); E'...' is an escape string. */
static void lex_word(struct scanner *sc)
{
    size_t j = sc->i;
    while (j < sc->len && ident_char((unsigned char)sc->s[j])) {
        j++;
    }
    if (j - sc->i == 1 && (sc->s[sc->i] == 'E' || sc->s[sc->i] == 'e') && j < sc->len &&
        sc->s[j] == '\'') {
        sc->i = j;
        skip_quoted(sc, '\'', true);
        return;
    }
    note_word(sc, sc->s + sc->i, j - sc->i);
    sc->i = j;
}

/* Numbers are consumed whole so "1e5" or "0x1F" does not start a word. */
static void lex_number(struct scanner *sc)
{
    size_t j = sc->i;
    while (j < sc->len && (isalnum((unsigned char)sc->s[j]) || sc->s[j] == '_' ||
                           sc->s[j] == '.')) {
        j++;
    }
    sc->i = j;
}

/* Lexes one token at sc->i (not whitespace). *comment tells whether it was a comment. */
static int lex_token(struct scanner *sc, bool *comment, struct cq_err *err)
{
    unsigned char c = (unsigned char)sc->s[sc->i];
    unsigned char next = sc->i + 1 < sc->len ? (unsigned char)sc->s[sc->i + 1] : 0;
    *comment = false;
    if (c == '-' && next == '-') {
        *comment = true;
        skip_line_comment(sc);
    } else if (c == '/' && next == '*') {
        *comment = true;
        skip_block_comment(sc);
    } else if (c == '\'' || c == '"') {
        skip_quoted(sc, (char)c, false);
    } else if (c == '$') {
        return lex_dollar(sc, err);
    } else if (ident_start(c)) {
        lex_word(sc);
    } else if (isdigit(c)) {
        lex_number(sc);
    } else {
        if (c == '(') {
            sc->paren++;
        } else if (c == ')' && sc->paren > 0) {
            sc->paren--;
        }
        sc->i++;
    }
    return CQ_OK;
}

int cq_drv_sql_scan(struct cq_arena *a, const char *sql, size_t len, struct cq_sql_scan *out,
                    struct cq_err *err)
{
    struct scanner sc = {.s = sql, .len = len, .a = a, .out = out, .start = SIZE_MAX};
    int rc = CQ_OK;
    memset(out, 0, sizeof(*out));
    while (sc.i < sc.len) {
        unsigned char c = (unsigned char)sql[sc.i];
        size_t tok = sc.i;
        bool comment;
        if (is_space(c)) {
            sc.i++;
            continue;
        }
        if (c == ';' && sc.paren == 0 && sc.begin == 0) {
            rc = end_stmt(&sc, err);
            if (rc != CQ_OK) {
                goto out;
            }
            sc.i++;
            continue;
        }
        rc = lex_token(&sc, &comment, err);
        if (rc != CQ_OK) {
            goto out;
        }
        if (sc.start == SIZE_MAX) {
            sc.start = tok;
        }
        sc.end = sc.i;
        sc.content = sc.content || !comment;
    }
    rc = end_stmt(&sc, err);
out:
    return rc;
}

/* ==== parameters ========================================================================= */

/* Longest value quoted in an error message, bytes. */
#define SHOW_MAX 48

/* Copies v for an error message, cut at a UTF-8 boundary with "..." when long. */
static void show_value(char *dst, size_t size, const char *v)
{
    size_t n = strlen(v);
    if (n <= SHOW_MAX) {
        cq_strlcpy(dst, v, size);
        return;
    }
    n = SHOW_MAX;
    while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80) {
        n--;
    }
    struct cq_buf b;
    cq_buf_init(&b, size - 1);
    cq_buf_append(&b, v, n);
    cq_buf_puts(&b, "...");
    cq_strlcpy(dst, cq_buf_str(&b), size);
    cq_buf_cleanup(&b);
}

static bool all_digits(const char *s, size_t *n)
{
    size_t i = 0;
    while (isdigit((unsigned char)s[i])) {
        i++;
    }
    *n = i;
    return i > 0;
}

/* [+-]digits that fit int64: 1; [+-]digits too big: 2; anything else: 0. */
static int int_grammar(const char *s)
{
    const char *p = s;
    int64_t v;
    int rc = cq_parse_i64(&p, &v);
    if (rc == CQ_OK) {
        return *p == '\0' ? 1 : 0;
    }
    size_t n;
    p = s + (*s == '+' || *s == '-');
    return rc == CQ_ETOOBIG && all_digits(p, &n) && p[n] == '\0' ? 2 : 0;
}

/* [+-](digits[.digits*] | .digits)[(e|E)[+-]digits]; *exact_int when no '.' or exponent. */
static bool decimal_grammar(const char *s, bool *exact_int)
{
    size_t i = (s[0] == '+' || s[0] == '-'), n1 = 0, n2 = 0;
    *exact_int = true;
    all_digits(s + i, &n1);
    i += n1;
    if (s[i] == '.') {
        *exact_int = false;
        i++;
        all_digits(s + i, &n2);
        i += n2;
    }
    if (n1 + n2 == 0) {
        return false;
    }
    if (s[i] == 'e' || s[i] == 'E') {
        *exact_int = false;
        i++;
        i += (s[i] == '+' || s[i] == '-');
        if (!all_digits(s + i, &n1)) {
            return false;
        }
        i += n1;
    }
    return s[i] == '\0';
}

static bool digits_at(const char *p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i])) {
            return false;
        }
        *v = *v * 10 + (p[i] - '0');
    }
    return true;
}

/* YYYY-MM-DD with real month lengths (leap years included); advances *cur. */
static bool date_grammar(const char **cur)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = *cur;
    int y, m, d;
    if (!digits_at(p, 4, &y) || p[4] != '-' || !digits_at(p + 5, 2, &m) || p[7] != '-' ||
        !digits_at(p + 8, 2, &d) || y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) {
        return false;
    }
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        return false;
    }
    *cur = p + 10;
    return true;
}

/* hh:mm[:ss[.f+]] */
static bool time_grammar(const char **cur)
{
    const char *p = *cur;
    int h, mi, s;
    if (!digits_at(p, 2, &h) || p[2] != ':' || !digits_at(p + 3, 2, &mi) || h > 23 || mi > 59) {
        return false;
    }
    p += 5;
    if (*p == ':') {
        if (!digits_at(p + 1, 2, &s) || s > 60) {
            return false;
        }
        p += 3;
        if (*p == '.') {
            size_t n;
            if (!all_digits(p + 1, &n)) {
                return false;
            }
            p += 1 + n;
        }
    }
    *cur = p;
    return true;
}

/* Z, or +hh, +hh:mm, +hhmm (and -). */
static bool zone_grammar(const char *p)
{
    int h, m = 0;
    if (*p == 'Z' || *p == 'z') {
        return p[1] == '\0';
    }
    if (*p != '+' && *p != '-') {
        return *p == '\0';
    }
    if (!digits_at(p + 1, 2, &h) || h > 23) {
        return false;
    }
    p += 3;
    p += (*p == ':');
    if (*p != '\0' && (!digits_at(p, 2, &m) || m > 59 || p[2] != '\0')) {
        return false;
    }
    return true;
}

enum verdict { V_OK, V_BAD, V_RANGE };

/* Each check validates a forced value; *norm may replace the bound text. */
typedef enum verdict (*check_fn)(const char *v, const char **norm, char *why, size_t why_size);

static enum verdict check_int(const char *v, const char **norm, char *why, size_t why_size)
{
    (void)norm, (void)why, (void)why_size;
    int g = int_grammar(v);
    return g == 1 ? V_OK : g == 2 ? V_RANGE : V_BAD;
}

static enum verdict check_float(const char *v, const char **norm, char *why, size_t why_size)
{
    bool exact;
    (void)norm, (void)why, (void)why_size;
    if (!decimal_grammar(v, &exact)) {
        return V_BAD;
    }
    /* Grammar checked above; strtod only tells whether the value is finite as a double. */
    return isfinite(strtod(v, NULL)) ? V_OK : V_RANGE;
}

static enum verdict check_numeric(const char *v, const char **norm, char *why, size_t why_size)
{
    bool exact;
    (void)norm, (void)why, (void)why_size;
    return decimal_grammar(v, &exact) ? V_OK : V_BAD;
}

static enum verdict check_text(const char *v, const char **norm, char *why, size_t why_size)
{
    (void)v, (void)norm, (void)why, (void)why_size;
    return V_OK;
}

static enum verdict check_bool(const char *v, const char **norm, char *why, size_t why_size)
{
    static const char *const yes[] = {"true", "t", "yes", "on", "1", NULL};
    static const char *const no[] = {"false", "f", "no", "off", "0", NULL};
    (void)why, (void)why_size;
    for (size_t i = 0; yes[i] != NULL; i++) {
        if (cq_streq_ci(v, yes[i]) || cq_streq_ci(v, no[i])) {
            *norm = cq_streq_ci(v, yes[i]) ? "true" : "false";
            return V_OK;
        }
    }
    return V_BAD;
}

static enum verdict check_json(const char *v, const char **norm, char *why, size_t why_size)
{
    json_error_t je;
    (void)norm;
    json_t *j = json_loads(v, JSON_DECODE_ANY, &je);
    if (j == NULL) {
        struct cq_buf b;
        cq_buf_init(&b, why_size - 1);
        cq_buf_printf(&b, "; column %d: %s", je.column, je.text);
        cq_strlcpy(why, cq_buf_str(&b), why_size);
        cq_buf_cleanup(&b);
        return V_BAD;
    }
    json_decref(j);
    return V_OK;
}

static enum verdict check_date(const char *v, const char **norm, char *why, size_t why_size)
{
    (void)norm, (void)why, (void)why_size;
    return date_grammar(&v) && *v == '\0' ? V_OK : V_BAD;
}

static enum verdict check_timestamp(const char *v, const char **norm, char *why, size_t why_size)
{
    (void)norm, (void)why, (void)why_size;
    if (!date_grammar(&v) || (*v != 'T' && *v != 't' && *v != ' ')) {
        return V_BAD;
    }
    v++;
    return time_grammar(&v) && zone_grammar(v) ? V_OK : V_BAD;
}

struct ptype_def {
    const char *name;      /* prefix, lowercase; matched case-insensitively */
    enum cq_ptype type;
    check_fn check;
    const char *expected;  /* the accepted form, for messages */
    const char *example;   /* a value that works */
};

static const struct ptype_def ptypes[] = {
    {"int", CQ_P_INT, check_int, "digits", "42"},
    {"integer", CQ_P_INT, check_int, "digits", "42"},
    {"bigint", CQ_P_INT, check_int, "digits", "42"},
    {"float", CQ_P_FLOAT, check_float, "a finite number", "3.5"},
    {"double", CQ_P_FLOAT, check_float, "a finite number", "3.5"},
    {"numeric", CQ_P_NUMERIC, check_numeric, "a decimal number", "12.50"},
    {"decimal", CQ_P_NUMERIC, check_numeric, "a decimal number", "12.50"},
    {"text", CQ_P_TEXT, check_text, "any text", "hello"},
    {"bool", CQ_P_BOOL, check_bool, "true/false/t/f/yes/no/on/off/1/0", "true"},
    {"boolean", CQ_P_BOOL, check_bool, "true/false/t/f/yes/no/on/off/1/0", "true"},
    {"json", CQ_P_JSON, check_json, "a JSON value", "{\"a\":1}"},
    {"date", CQ_P_DATE, check_date, "YYYY-MM-DD", "2024-01-31"},
    {"timestamp", CQ_P_TIMESTAMP, check_timestamp,
     "YYYY-MM-DD hh:mm[:ss[.fff]][Z|+hh:mm], 'T' or a space between", "2024-01-31T12:00:00Z"},
};

static const struct ptype_def *find_ptype(const char *arg, size_t n)
{
    for (size_t i = 0; i < sizeof(ptypes) / sizeof(ptypes[0]); i++) {
        const char *name = ptypes[i].name;
        if (strlen(name) == n && word_is(arg, n, name)) {
            return &ptypes[i];
        }
    }
    return NULL;
}

static int set_text(struct cq_arena *a, struct cq_param *out, const char *text, struct cq_err *err)
{
    out->text = cq_arena_strdup(a, text);
    if (out->text == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "out of memory copying a %zu-byte value", strlen(text));
    }
    out->len = strlen(out->text);
    return CQ_OK;
}

/* A plain value: null, int, numeric, bool, else text. Integers beyond int64 stay exact as
 * numeric rather than becoming text. */
static int infer(struct cq_arena *a, const char *arg, struct cq_param *out, struct cq_err *err)
{
    bool exact;
    int g;
    if (strcmp(arg, "null") == 0) {
        out->type = CQ_P_NULL;
        return CQ_OK;
    }
    g = int_grammar(arg);
    if (g == 1) {
        out->type = CQ_P_INT;
    } else if (g == 2 || decimal_grammar(arg, &exact)) {
        out->type = CQ_P_NUMERIC;
    } else if (strcmp(arg, "true") == 0 || strcmp(arg, "false") == 0) {
        out->type = CQ_P_BOOL;
    } else {
        out->type = CQ_P_TEXT;
    }
    return set_text(a, out, arg, err);
}

int cq_drv_param_parse(struct cq_arena *a, const char *arg, struct cq_param *out,
                       struct cq_err *err)
{
    const char *colon = strchr(arg, ':');
    const struct ptype_def *def = colon ? find_ptype(arg, (size_t)(colon - arg)) : NULL;
    const char *v = colon ? colon + 1 : arg, *norm = NULL;
    char why[256] = "", shown[SHOW_MAX + 8];
    memset(out, 0, sizeof(*out));
    if (def == NULL) {
        return infer(a, arg, out, err);
    }
    out->type = def->type;
    out->explicit_type = true;
    enum verdict vd = def->check(v, &norm, why, sizeof(why));
    if (vd != V_OK) {
        show_value(shown, sizeof(shown), v);
    }
    if (vd == V_RANGE && def->type == CQ_P_INT) {
        return cq_err_set(err, CQ_EINVAL,
                          "'%s' is out of range for %s (expected %" PRId64 "..%" PRId64 ")", shown,
                          def->name, INT64_MIN, INT64_MAX);
    }
    if (vd != V_OK) {
        return cq_err_set(err, CQ_EINVAL, "'%s' is %s %s (expected %s, e.g. %s:%s%s)", shown,
                          vd == V_RANGE ? "out of range for" : "not a valid", def->name,
                          def->expected, def->name, def->example, why);
    }
    return set_text(a, out, norm ? norm : v, err);
}

/* ---- JSON arrays -------------------------------------------------------------------------
 * jansson validates the whole text (and gives line/column for errors), then a tiny walker
 * finds each element's source bytes, because jansson keeps numbers as int64/double: numbers
 * are bound from their source text (so [1.10] binds "1.10" and [12345678901234567890]
 * binds all 20 digits), objects and arrays from their source text with insignificant
 * whitespace removed (so numbers inside keep their digits too). Strings come decoded from
 * jansson, which rejects \u0000. JSON_DECODE_INT_AS_REAL makes big integers validate; a
 * number beyond the double range (1e400) is still refused by jansson ("real number
 * overflow"): pass such values as strings. */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
        p++;
    }
    return p;
}

/* End of the (already validated) JSON string starting at p ('"'). */
static const char *string_end(const char *p)
{
    p++;
    while (*p != '"') {
        p += (*p == '\\') ? 2 : 1;
    }
    return p + 1;
}

/* End of the (already validated) element starting at p. */
static const char *element_end(const char *p)
{
    size_t depth = 0;
    if (*p == '"') {
        return string_end(p);
    }
    if (*p != '{' && *p != '[') {
        while (*p != '\0' && *p != ',' && *p != ']' && *p != '}' && !isspace((unsigned char)*p)) {
            p++;
        }
        return p;
    }
    do {
        if (*p == '"') {
            p = string_end(p);
            continue;
        }
        depth += (*p == '{' || *p == '[');
        depth -= (*p == '}' || *p == ']');
        p++;
    } while (depth > 0);
    return p;
}

/* Copies the element's source text minus whitespace outside strings. */
static char *compact(struct cq_arena *a, const char *p, const char *end, size_t *len)
{
    char *d = cq_arena_alloc(a, (size_t)(end - p) + 1);
    size_t n = 0;
    if (d == NULL) {
        return NULL;
    }
    while (p < end) {
        if (*p == '"') {
            const char *e = string_end(p);
            memcpy(d + n, p, (size_t)(e - p));
            n += (size_t)(e - p);
            p = e;
        } else {
            if (!isspace((unsigned char)*p)) {
                d[n++] = *p;
            }
            p++;
        }
    }
    d[n] = '\0';
    *len = n;
    return d;
}

static int bind_element(struct cq_arena *a, const json_t *j, const char *p, const char *end,
                        struct cq_param *out)
{
    char *t = NULL;
    size_t len = (size_t)(end - p);
    switch (json_typeof(j)) {
    case JSON_NULL: return CQ_OK;
    case JSON_TRUE:
    case JSON_FALSE:
        out->type = CQ_P_BOOL;
        t = cq_arena_strdup(a, json_is_true(j) ? "true" : "false");
        len = strlen(json_is_true(j) ? "true" : "false");
        break;
    case JSON_STRING:
        out->type = CQ_P_TEXT;
        len = json_string_length(j);
        t = cq_arena_alloc(a, len + 1);
        if (t != NULL) {
            memcpy(t, json_string_value(j), len);
        }
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        t = cq_arena_strndup(a, p, len);
        out->type = (t != NULL && int_grammar(t) == 1) ? CQ_P_INT : CQ_P_NUMERIC;
        break;
    case JSON_OBJECT:
    case JSON_ARRAY:
        out->type = CQ_P_JSON;
        t = compact(a, p, end, &len);
        break;
    }
    if (t == NULL) {
        return CQ_ENOMEM;
    }
    out->text = t;
    out->len = len;
    return CQ_OK;
}

static const char *json_kind_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL:
    case JSON_ARRAY: break;
    }
    return "null";
}

int cq_drv_params_json(struct cq_arena *a, const char *json, struct cq_param **out,
                       size_t *n_out, struct cq_err *err)
{
    json_error_t je;
    struct cq_param *ps = NULL;
    int rc = CQ_OK;
    size_t n = 0;
    json_t *root = json_loads(json, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &je);
    *out = NULL;
    *n_out = 0;
    if (root == NULL && *skip_ws(json) == '\0') {
        rc = cq_err_set(err, CQ_EINVAL, "expected a JSON array of values, got nothing");
        goto out;
    }
    if (root == NULL) {
        /* jansson's own text for NUL names its flag; say what is wrong instead. */
        bool nul = json_error_code(&je) == json_error_null_character;
        rc = cq_err_set(err, CQ_EINVAL, "line %d column %d: %s", je.line, je.column,
                        nul ? "strings must not contain \\u0000" : je.text);
        goto out;
    }
    if (!json_is_array(root)) {
        rc = cq_err_set(err, CQ_EINVAL, "expected a JSON array of values, got %s",
                        json_kind_name(root));
        goto out;
    }
    n = json_array_size(root);
    if (n > MAX_PARAM) {
        rc = cq_err_set(err, CQ_ETOOBIG, "%zu values; at most %d parameters", n, MAX_PARAM);
        goto out;
    }
    ps = cq_arena_alloc(a, (n ? n : 1) * sizeof(*ps));
    if (ps == NULL) {
        rc = cq_err_set(err, CQ_ENOMEM, "out of memory for %zu parameters", n);
        goto out;
    }
    const char *p = skip_ws(json) + 1; /* past '[' */
    for (size_t i = 0; i < n; i++) {
        p = skip_ws(p);
        const char *end = element_end(p);
        if (bind_element(a, json_array_get(root, i), p, end, &ps[i]) != CQ_OK) {
            rc = cq_err_set(err, CQ_ENOMEM, "element [%zu]: out of memory", i);
            goto out;
        }
        p = skip_ws(end);
        p += (*p == ',');
    }
    *out = ps;
    *n_out = n;
out:
    json_decref(root);
    return rc;
}
