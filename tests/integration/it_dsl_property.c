/*
 * it_dsl_property.c - property test of the governed query engine: random role sets x random
 * valid queries, executed on seeded multi-tenant data (docs/internals/dsl-property.md).
 *
 * The test needs no server. It loads its own catalog (dsl_property/catalog.json: four related
 * tables in one SQLite database, every column type, masking functions, row-filtered roles),
 * seeds a SQLite file from the run's seed, and for each case draws a context and a query,
 * runs them through the public API (cq_dsl_parse_request -> cq_dsl_compile -> cq_dsl_execute
 * on a drv/ SQLite connection) and checks what came back against expectations it computes
 * itself from the catalog JSON and the rules of spec §3 / §0.13 / §10.4 (never through
 * access.c or mask.c):
 *   1. outcome: denied tables/columns, unknown roles and absent context values fail
 *      validation with the right entries; valid queries compile;
 *   2. SQL: every "tN"."col" / "sN"."col" is a column the context may see on that table, a
 *      row-filter column of it, or a relation column;
 *   3. meta.columns: exactly the expected columns, names and masked flags;
 *   4. rows: keys are exactly those columns; masked values are masks of real values (never
 *      the clear text); unmasked values are real values;
 *   5. row filters: ids compared with the same query run as admin (and, for queries the
 *      test can evaluate itself, with its own evaluation, EXISTS counts included); ids of
 *      joined tables pass their table's row filters.
 *
 * Reproduce a failure: CQ_PROP_SEED=<seed> CQ_PROP_CASE=<case> (one case, verbose).
 * CQ_PROP_CASES=<n> sets the number of cases (default 2000), CQ_PROP_VERBOSE=1 prints all,
 * CQ_PROP_NO_PG=1 skips PostgreSQL (otherwise every third case also runs there when the
 * fixture has a server).
 * Tests may use libc allocation directly (they are not src/).
 */
#ifdef CQ_WITHOUT_SQLITE
int main(void)
{
    return 77; /* built without the SQLite driver: nothing to run the queries on */
}
#else

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "cqtest.h"
#include "drv/drv.h"
#include "dsl/dsl.h"

#define MAX_TABLES 8
#define MAX_COLS 24
#define MAX_ROLES 24
#define MAX_RF 4        /* row filters per grant */
#define MAX_SCOPE 6     /* roles per scope */
#define MAX_ROWS 256
#define MAX_OUT 64      /* expected result columns */
#define MAX_PRINTED 25  /* failing cases printed in full */
#define OUT_CAP (64u << 20)

enum ctype { T_STRING = 0, T_INT, T_DECIMAL, T_BOOLEAN, T_UUID, T_DATE, T_TIMESTAMP };
enum mfn { M_NONE = 0, M_EMAIL, M_PHONE, M_NAME, M_UUID, M_NUMBER, M_DATE, M_FULL };
enum rop { R_EQ = 0, R_NE, R_IN, R_NOT_IN, R_IS_NULL, R_IS_NOT_NULL };

/* Sorted set of canonical value keys (see canon()). */
struct strset {
    char **v;
    size_t n, cap;
};

struct pcol {
    const char *api, *phys, *type_name;
    enum ctype type;            /* element type for arrays */
    bool array, nullable;
    enum mfn mask;              /* maskingFn; M_NONE = absent ("full" when masked) */
    struct strset raw;          /* canonical keys of every seeded non-null value */
    struct strset masked;       /* canonical keys of their masked forms */
};

struct prel {
    int col, ref_table, ref_col;
};

struct ptable {
    const char *api;            /* == id in this fixture */
    const char *phys;           /* "main.crm_customers" */
    const char *phys_last;      /* "crm_customers": what the SQL names before AS "tN" */
    struct pcol cols[MAX_COLS];
    int n_cols, pk;
    struct prel rels[4];
    int n_rels;
    json_t *rows;               /* array of {apiName: value as the engine returns it} */
    json_t **cells;             /* n_rows * n_cols, borrowed from rows */
    int n_rows;
};

struct pfilter {
    int col;
    enum rop op;
    const char *key;            /* contextKey; NULL for isNull / isNotNull */
};

struct pgrant {
    bool granted, all_cols;
    bool allowed[MAX_COLS], masked[MAX_COLS];
    struct pfilter f[MAX_RF];
    int n_f;
};

struct prole {
    const char *id;
    bool all_tables;
    struct pgrant g[MAX_TABLES];
};

struct model {
    json_t *doc;                /* the catalog fixture */
    struct ptable t[MAX_TABLES];
    int n_tables;
    struct prole r[MAX_ROLES];
    int n_roles;
};

/* A table's rights for one context, as the test computes them (spec §3, §0.13). */
struct tacc {
    bool allowed;
    bool cols[MAX_COLS], masked[MAX_COLS];
    bool rls_cols[MAX_COLS];    /* row-filter columns of context roles: the SQL may use them */
    bool missing;               /* a restricting scope needs an absent context value */
    bool filtered;              /* some row filter restricts the table */
    bool pred[MAX_ROWS];        /* the row passes the row filters */
};

struct pctx {
    bool has_user, has_service;
    int user[MAX_SCOPE], n_user;        /* role indices; -1 = an unknown role id */
    int service[MAX_SCOPE], n_service;
    bool ghost;                         /* an unknown role id is present */
    json_t *values;                     /* contextValues (borrowed from json) or NULL */
    json_t *json;                       /* the ExecutionContext */
    struct tacc acc[MAX_TABLES];
};

/* What the generator put into a query, for the oracle. */
struct qinfo {
    int from;
    int join[2], n_join;
    bool join_left[2];
    bool used[MAX_TABLES][MAX_COLS];    /* columns the query names (access is checked) */
    bool touched[MAX_TABLES];           /* from, joined and EXISTS tables */
    bool exists_any;
    bool exists_nonmono;                /* NOT EXISTS, counted, or EXISTS under NOT */
    bool joined_filter;                 /* a filter reads a joined table's columns */
    bool levenshtein;
    bool aggs, having, limit, distinct;
    int agg_count_star;                 /* index+1 of a count(*) aggregation, 0 = none */
    const char *count_alias;
    int mode;                           /* 0 execute, 1 count, 2 sql-only */
    bool targeted;
};

struct ocol {
    char key[160];
    int t, c;                           /* c = -1 for an aggregation */
    bool masked, agg;
};

struct stats {
    long cases, compiled, rejected_ok, denied, unknown_role, missing_ctx, unsupported;
    long invalid_ctx;
    long executed, sql_only, counts, rows, values, masked_values, sql_refs;
    long exact, exact_admin, admin_exact, admin_subset, pred_only, targeted, agg_sum;
    long joined_ids;
};

/* Where the cases run: the SQLite file always, PostgreSQL when the fixture has one. */
struct backend {
    const char *name;           /* "sqlite", "postgres" */
    const char *conn_name;      /* the connection the backend's catalog names */
    struct cq_dsl_catalog *cat;
    struct cq_conn *conn;       /* read-only: the engine never writes */
    int every;                  /* runs every n-th case */
    long cases, failed;
};

struct prop {
    uint64_t seed;
    struct model m;
    struct backend be[2];
    int n_be;
    struct backend *cur;
    char dir[1024], dbpath[1200];
    char schema[64];            /* PostgreSQL: it_dsl_property_<pid> */
    struct cq_conn *pg_setup;   /* PostgreSQL: the connection that seeds and drops */
    bool pg_fuzzy;              /* fuzzystrmatch is there (levenshteinLte) */
    bool verbose;
    /* the case being run, for failure reports */
    uint64_t idx;
    json_t *def, *ctx;
    char *sql;                          /* copy of the compiled SQL */
    bool case_failed;
    bool printing;                      /* this case's violations are printed */
    int n_failed, n_printed;
    struct stats st;
};

/* ---- small utilities ------------------------------------------------------------------- */

_Noreturn static void die(const char *fmt, ...) CQ_PRINTF(1, 2);
_Noreturn static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("it_dsl_property: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static char *dump(const json_t *j)
{
    char *s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    return s != NULL ? s : strdup("(none)");
}

static void fail(struct prop *p, const char *fmt, ...) CQ_PRINTF(2, 3);
static void fail(struct prop *p, const char *fmt, ...)
{
    va_list ap;
    if (!p->case_failed) {
        p->case_failed = true;
        p->n_failed++;
        p->cur->failed++;
        p->printing = p->n_printed < MAX_PRINTED;
        if (p->printing) {
            char *q = dump(p->def), *c = dump(p->ctx);
            p->n_printed++;
            fprintf(stderr,
                    "\n=== FAIL seed=%llu case=%llu on %s (reproduce: CQ_PROP_SEED=%llu "
                    "CQ_PROP_CASE=%llu)\n  query:   %s\n  context: %s\n  sql:     %s\n",
                    (unsigned long long)p->seed, (unsigned long long)p->idx, p->cur->name,
                    (unsigned long long)p->seed, (unsigned long long)p->idx, q, c,
                    p->sql != NULL ? p->sql : "(not compiled)");
            free(q);
            free(c);
        }
    }
    if (p->printing) {
        fputs("  violated: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
}

/* splitmix64: tiny, seedable, good enough for drawing cases */
struct rng {
    uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int rint_(struct rng *r, int n)
{
    return n <= 1 ? 0 : (int)(rnd(r) % (uint64_t)n);
}

static bool chance(struct rng *r, int percent)
{
    return rint_(r, 100) < percent;
}

static void set_add(struct strset *s, const char *key)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
        if (s->v == NULL) {
            die("out of memory");
        }
    }
    s->v[s->n++] = strdup(key);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void set_sort(struct strset *s)
{
    if (s->n > 1) {
        qsort(s->v, s->n, sizeof(*s->v), cmp_str);
    }
}

static bool set_has(const struct strset *s, const char *key)
{
    return s->n > 0 && bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_str) != NULL;
}

static void set_free(struct strset *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i]);
    }
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static bool has_key(const json_t *o, const char *k)
{
    return json_is_object(o) && json_object_get(o, k) != NULL;
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* ---- values: canonical keys, JavaScript strings, masking (spec §10.4) -------------------- */

/* A key identifying a JSON value the way the checks compare them (numbers by value). */
static void canon(struct cq_buf *b, const json_t *v)
{
    size_t i;
    const json_t *x;
    switch (json_typeof(v)) {
    case JSON_NULL:
        cq_buf_putc(b, 'n');
        break;
    case JSON_TRUE:
        cq_buf_puts(b, "b1");
        break;
    case JSON_FALSE:
        cq_buf_puts(b, "b0");
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        cq_buf_printf(b, "d%.17g", json_number_value(v) == 0 ? 0.0 : json_number_value(v));
        break;
    case JSON_STRING:
        cq_buf_putc(b, 's');
        cq_buf_append(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_ARRAY:
        cq_buf_putc(b, '[');
        json_array_foreach(v, i, x) {
            if (i > 0) {
                cq_buf_putc(b, '\x1f');
            }
            canon(b, x);
        }
        cq_buf_putc(b, ']');
        break;
    case JSON_OBJECT:
        cq_buf_puts(b, "o?");
        break;
    }
}

static bool jeq(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b)) {
        return json_number_value(a) == json_number_value(b);
    }
    if (json_is_string(a) && json_is_string(b)) {
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    }
    if (json_is_boolean(a) && json_is_boolean(b)) {
        return json_is_true(a) == json_is_true(b);
    }
    return false;
}

/* Number text as JavaScript's String() gives it, for the values seeded here (multiples of
 * 0.25 well below 1e21: plain decimals without trailing zeros). */
static void js_number(struct cq_buf *b, double d)
{
    char tmp[64];
    size_t n;
    snprintf(tmp, sizeof(tmp), "%.6f", d);
    n = strlen(tmp);
    while (n > 0 && tmp[n - 1] == '0') {
        n--;
    }
    if (n > 0 && tmp[n - 1] == '.') {
        n--;
    }
    tmp[n] = '\0';
    cq_buf_puts(b, strcmp(tmp, "-0") == 0 ? "0" : tmp);
}

/* String(value) in JavaScript: what masking sees (arrays comma-joined, null as ""). */
static void js_str(struct cq_buf *b, const json_t *v, bool in_array)
{
    size_t i;
    const json_t *x;
    switch (json_typeof(v)) {
    case JSON_NULL:
        if (!in_array) {
            cq_buf_puts(b, "null");
        }
        break;
    case JSON_TRUE:
        cq_buf_puts(b, "true");
        break;
    case JSON_FALSE:
        cq_buf_puts(b, "false");
        break;
    case JSON_INTEGER:
        cq_buf_printf(b, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        js_number(b, json_real_value(v));
        break;
    case JSON_STRING:
        cq_buf_append(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_ARRAY:
        json_array_foreach(v, i, x) {
            if (i > 0) {
                cq_buf_putc(b, ',');
            }
            js_str(b, x, true);
        }
        break;
    case JSON_OBJECT:
        cq_buf_puts(b, "[object Object]");
        break;
    }
}

/* Bytes of the UTF-8 sequence starting with c (the seeded text is valid UTF-8). */
static size_t u8len(unsigned char c)
{
    if (c < 0x80) {
        return 1;
    }
    if ((c >> 5) == 6) {
        return 2;
    }
    if ((c >> 4) == 14) {
        return 3;
    }
    return (c >> 3) == 30 ? 4 : 1;
}

static size_t cp_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i += u8len((unsigned char)s[i])) {
        n++;
    }
    return n;
}

/* Byte offset after the first k code points. */
static size_t cp_off(const char *s, size_t len, size_t k)
{
    size_t i = 0;
    while (k-- > 0 && i < len) {
        i += u8len((unsigned char)s[i]);
    }
    return i < len ? i : len;
}

/* The masked text of s under fn (not NUMBER), on code points (spec §0.7, §10.4). */
static void mask_text(struct cq_buf *o, enum mfn fn, const char *s, size_t len)
{
    size_t n = cp_count(s, len), first = cp_off(s, len, 1);
    switch (fn) {
    case M_EMAIL: {
        const char *at = memchr(s, '@', len), *dot = NULL;
        if (at == NULL || at == s) {
            cq_buf_puts(o, "***");
            break;
        }
        for (const char *q = at + 1; q < s + len; q++) {
            if (*q == '.') {
                dot = q;
            }
        }
        cq_buf_append(o, s, first);
        cq_buf_puts(o, "***@***");
        if (dot != NULL && dot > at + 1) {
            cq_buf_append(o, dot, (size_t)(s + len - dot));
        }
        break;
    }
    case M_PHONE: {
        char digits[256];
        size_t k = 0;
        for (size_t i = 0; i < len && k < sizeof(digits); i++) {
            if (s[i] >= '0' && s[i] <= '9') {
                digits[k++] = s[i];
            }
        }
        if (k <= 3) {
            cq_buf_puts(o, "***");
            break;
        }
        if (len > 0 && s[0] == '+') {
            cq_buf_putc(o, '+');
        }
        cq_buf_putc(o, digits[0]);
        cq_buf_puts(o, "***");
        cq_buf_append(o, digits + k - 3, 3);
        break;
    }
    case M_NAME: {
        if (n <= 2) {
            cq_buf_puts(o, "***");
            break;
        }
        size_t last = cp_off(s, len, n - 1);
        cq_buf_append(o, s, first);
        for (size_t i = 0; i < n - 2; i++) {
            cq_buf_putc(o, '*');
        }
        cq_buf_append(o, s + last, len - last);
        break;
    }
    case M_UUID:
        if (n <= 4) {
            cq_buf_puts(o, "****");
            break;
        }
        cq_buf_append(o, s, cp_off(s, len, 4));
        cq_buf_puts(o, "****");
        break;
    case M_DATE:
        if (len >= 4 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' &&
            s[2] >= '0' && s[2] <= '9' && s[3] >= '0' && s[3] <= '9') {
            cq_buf_append(o, s, 4);
            cq_buf_puts(o, "-01-01");
            break;
        }
        cq_buf_puts(o, "***");
        break;
    default:
        cq_buf_puts(o, "***");
        break;
    }
}

/* Canonical key of the masked form of v (a JSON string, or 0 for "number"). */
static void canon_masked(struct cq_buf *b, enum mfn fn, const json_t *v)
{
    struct cq_buf t;
    if (fn == M_NUMBER) {
        cq_buf_puts(b, "d0");
        return;
    }
    cq_buf_init(&t, 1u << 20);
    js_str(&t, v, false);
    cq_buf_putc(b, 's');
    mask_text(b, fn == M_NONE ? M_FULL : fn, cq_buf_str(&t), t.len);
    cq_buf_cleanup(&t);
}

/* ---- the catalog fixture ----------------------------------------------------------------- */

static int table_by_api(const struct model *m, const char *api)
{
    for (int i = 0; api != NULL && i < m->n_tables; i++) {
        if (strcmp(m->t[i].api, api) == 0) {
            return i;
        }
    }
    return -1;
}

static int col_by_api(const struct ptable *t, const char *api)
{
    for (int i = 0; api != NULL && i < t->n_cols; i++) {
        if (strcmp(t->cols[i].api, api) == 0) {
            return i;
        }
    }
    return -1;
}

static int col_by_phys(const struct ptable *t, const char *phys, size_t len)
{
    for (int i = 0; i < t->n_cols; i++) {
        if (strlen(t->cols[i].phys) == len && memcmp(t->cols[i].phys, phys, len) == 0) {
            return i;
        }
    }
    return -1;
}

static int role_by_id(const struct model *m, const char *id)
{
    for (int i = 0; id != NULL && i < m->n_roles; i++) {
        if (strcmp(m->r[i].id, id) == 0) {
            return i;
        }
    }
    return -1;
}

static json_t *cell(const struct ptable *t, int row, int col)
{
    return t->cells[(size_t)row * (size_t)t->n_cols + (size_t)col];
}

static enum ctype parse_type(const char *s, bool *array)
{
    static const char *const names[] = {"string", "int", "decimal", "boolean", "uuid",
                                        "date", "timestamp"};
    size_t n = strlen(s);
    *array = n > 2 && strcmp(s + n - 2, "[]") == 0;
    if (*array) {
        n -= 2;
    }
    for (int i = 0; i < 7; i++) {
        if (strlen(names[i]) == n && strncmp(s, names[i], n) == 0) {
            return (enum ctype)i;
        }
    }
    die("catalog: unknown column type '%s'", s);
}

static enum mfn parse_mask(const char *s)
{
    static const char *const names[] = {"", "email", "phone", "name", "uuid", "number",
                                        "date", "full"};
    for (int i = 1; s != NULL && i < 8; i++) {
        if (strcmp(s, names[i]) == 0) {
            return (enum mfn)i;
        }
    }
    return M_NONE;
}

static enum rop parse_rop(const char *s)
{
    static const char *const names[] = {"=", "!=", "in", "notIn", "isNull", "isNotNull"};
    for (int i = 0; s != NULL && i < 6; i++) {
        if (strcmp(s, names[i]) == 0) {
            return (enum rop)i;
        }
    }
    die("catalog: unknown row filter operator '%s'", s != NULL ? s : "(none)");
}

static void load_table(struct model *m, struct ptable *t, json_t *jt)
{
    json_t *cols = json_object_get(jt, "columns"), *jc;
    size_t i;
    t->api = jstr(jt, "apiName");
    t->phys = jstr(jt, "physicalName");
    if (t->api == NULL || t->phys == NULL || json_array_size(cols) > MAX_COLS) {
        die("catalog: bad table %d", m->n_tables);
    }
    t->phys_last = strrchr(t->phys, '.') != NULL ? strrchr(t->phys, '.') + 1 : t->phys;
    json_array_foreach(cols, i, jc) {
        struct pcol *c = &t->cols[t->n_cols++];
        c->api = jstr(jc, "apiName");
        c->phys = jstr(jc, "physicalName");
        c->type_name = jstr(jc, "type");
        c->type = parse_type(c->type_name, &c->array);
        c->nullable = json_is_true(json_object_get(jc, "nullable"));
        c->mask = parse_mask(jstr(jc, "maskingFn"));
    }
    t->pk = col_by_api(t, json_string_value(json_array_get(json_object_get(jt, "primaryKey"), 0)));
    if (t->pk < 0 || t->cols[t->pk].type != T_INT || t->cols[t->pk].array) {
        die("catalog: table %s needs an int primary key", t->api);
    }
}

static void load_relations(struct model *m, struct ptable *t, json_t *jt)
{
    json_t *rels = json_object_get(jt, "relations"), *jr;
    size_t i;
    json_array_foreach(rels, i, jr) {
        json_t *ref = json_object_get(jr, "references");
        struct prel *r = &t->rels[t->n_rels++];
        r->col = col_by_api(t, jstr(jr, "column"));
        r->ref_table = table_by_api(m, jstr(ref, "table"));
        r->ref_col = r->ref_table >= 0 ? col_by_api(&m->t[r->ref_table], jstr(ref, "column")) : -1;
        if (r->col < 0 || r->ref_col < 0 || r->ref_table >= (int)(t - m->t)) {
            die("catalog: relation %zu of %s must reference an earlier table", i, t->api);
        }
    }
}

static void load_grant(const struct model *m, struct prole *r, json_t *jg)
{
    int t = table_by_api(m, jstr(jg, "tableId"));
    json_t *ac = json_object_get(jg, "allowedColumns"), *mc = json_object_get(jg, "maskedColumns");
    json_t *fs = json_object_get(jg, "filters"), *x;
    struct pgrant *g;
    size_t i;
    if (t < 0) {
        die("catalog: role %s grants unknown table", r->id);
    }
    g = &r->g[t];
    if (g->granted) {
        return; /* spec §3: the first entry for a table counts */
    }
    g->granted = true;
    g->all_cols = json_is_string(ac) && strcmp(json_string_value(ac), "*") == 0;
    json_array_foreach(ac, i, x) {
        int c = col_by_api(&m->t[t], json_string_value(x));
        if (c >= 0) {
            g->allowed[c] = true;
        }
    }
    json_array_foreach(mc, i, x) {
        int c = col_by_api(&m->t[t], json_string_value(x));
        if (c >= 0) {
            g->masked[c] = true;
        }
    }
    json_array_foreach(fs, i, x) {
        struct pfilter *f = &g->f[g->n_f];
        if (g->n_f == MAX_RF) {
            die("catalog: too many row filters");
        }
        f->col = col_by_api(&m->t[t], jstr(x, "column"));
        f->op = parse_rop(jstr(x, "operator"));
        f->key = jstr(x, "contextKey");
        if (f->col < 0 || (f->key == NULL && f->op != R_IS_NULL && f->op != R_IS_NOT_NULL)) {
            die("catalog: bad row filter in role %s", r->id);
        }
        g->n_f++;
    }
}

static void load_model(struct model *m, const char *path)
{
    json_error_t je;
    json_t *tables, *roles, *x;
    size_t i;
    m->doc = json_load_file(path, 0, &je);
    if (m->doc == NULL) {
        die("%s:%d: %s", path, je.line, je.text);
    }
    tables = json_object_get(json_object_get(m->doc, "metadata"), "tables");
    roles = json_object_get(m->doc, "roles");
    if (json_array_size(tables) > MAX_TABLES || json_array_size(roles) > MAX_ROLES) {
        die("catalog: too many tables or roles");
    }
    json_array_foreach(tables, i, x) {
        load_table(m, &m->t[m->n_tables++], x);
    }
    json_array_foreach(tables, i, x) {
        load_relations(m, &m->t[i], x);
    }
    json_array_foreach(roles, i, x) {
        struct prole *r = &m->r[m->n_roles++];
        json_t *tl = json_object_get(x, "tables"), *g;
        size_t k;
        r->id = jstr(x, "id");
        r->all_tables = json_is_string(tl) && strcmp(json_string_value(tl), "*") == 0;
        json_array_foreach(tl, k, g) {
            load_grant(m, r, g);
        }
    }
}

/* ---- seeded data ------------------------------------------------------------------------- */

static const char *const tenants[] = {"t1", "t2", "t3", "t4"};
static const char *const regions[] = {"eu", "us", "apac"};
static const char *const statuses[] = {"new", "paid", "shipped", "cancelled", "returned"};
static const char *const emails[] = {
    "alice@example.com", "bob.smith@mail.co.uk", "carol@localhost", "@nohost.org",
    "plainaddress", "\xc3\xa9lodie@ex\xc3\xa4mple.fr", "\xe6\x9d\x8e@\xe4\xbe\x8b.cn",
    "x@.hidden", "dave+tag@sub.domain.io", "\U0001F600fun@emoji.net"};
static const char *const phones[] = {"+1 (555) 123-4567", "555-0101", "12", "+44 20 7946 0958",
                                     "", "0049 30 1234", "+7", "phone: 98765"};
static const char *const names[] = {
    "Alice Martin", "Bo", "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m", "\xe6\x9d\x8e\xe9\x9b\xb7",
    "\xe6\x9d\x8e\xe5\xb0\x8f\xe9\xbe\x99", "O'Brien", "Ab\U0001F600c", "X", "",
    "\xc3\x89mile Zola"};
static const char *const words[] = {
    "hello", "50% off", "under_score", "back\\slash", "\xce\xa9 mega", "quote\"d",
    "line\nbreak", "na\xc3\xafve caf\xc3\xa9", "\xf0\x9f\x98\x80", "", "  spaced  ",
    "UPPER lower", "tab\tsep", "percent%", "a_b%c\\d", "Hello"};
static const char *const skus[] = {"SKU-0001", "SKU-0042", "ab",
                                   "\u674E\u56DB\u4E94\u516D\u4E03", "abcd", "SKU_%", "Z"};

#define PICK(r, arr) ((arr)[rint_((r), (int)(sizeof(arr) / sizeof((arr)[0])))])

static json_t *rand_uuid(struct rng *r)
{
    char s[37];
    static const char hex[] = "0123456789abcdef";
    for (int i = 0, k = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            s[i] = '-';
            continue;
        }
        s[i] = hex[rnd(r) & 15];
        k++;
    }
    s[14] = '4';
    s[19] = '8';
    s[36] = '\0';
    return json_string(s);
}

static json_t *rand_date(struct rng *r)
{
    char s[48];
    snprintf(s, sizeof(s), "%04d-%02d-%02d", 1990 + rint_(r, 41), 1 + rint_(r, 12),
             1 + rint_(r, 28));
    return json_string(s);
}

static json_t *rand_ts(struct rng *r)
{
    char s[96];
    snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", 1995 + rint_(r, 36),
             1 + rint_(r, 12), 1 + rint_(r, 28), rint_(r, 24), rint_(r, 60), rint_(r, 60),
             rint_(r, 4) == 0 ? 0 : rint_(r, 1000));
    return json_string(s);
}

/* A random value of the column's (element) type, shaped like the column's content. */
static json_t *rand_scalar(struct rng *r, const struct pcol *c)
{
    switch (c->type) {
    case T_STRING:
        if (strcmp(c->api, "status") == 0) {
            return json_string(PICK(r, statuses));
        }
        switch (c->mask) {
        case M_EMAIL: return json_string(PICK(r, emails));
        case M_PHONE: return json_string(PICK(r, phones));
        case M_NAME: return json_string(PICK(r, names));
        case M_UUID: return json_string(PICK(r, skus));
        default: return json_string(PICK(r, words));
        }
    case T_INT:
        return json_integer(rint_(r, 1000) - (c->array ? 0 : 100));
    case T_DECIMAL:
        return json_real((double)(rint_(r, 80001) - 20000) / 4.0);
    case T_BOOLEAN:
        return json_boolean(rint_(r, 2));
    case T_UUID:
        return rand_uuid(r);
    case T_DATE:
        return rand_date(r);
    case T_TIMESTAMP:
        return rand_ts(r);
    }
    return json_null();
}

static json_t *rand_value(struct rng *r, const struct pcol *c)
{
    json_t *a;
    int n;
    if (!c->array) {
        return rand_scalar(r, c);
    }
    a = json_array();
    n = chance(r, 20) ? 0 : 1 + rint_(r, 3);
    for (int i = 0; i < n; i++) {
        json_array_append_new(a, rand_scalar(r, c));
    }
    return a;
}

static void gen_rows(struct prop *p, struct rng *r, struct ptable *t)
{
    const struct model *m = &p->m;
    int n = 40;
    if (t->n_rels > 0) {
        n = 3 * m->t[t->rels[0].ref_table].n_rows;
    }
    t->n_rows = n < MAX_ROWS - 56 ? n : MAX_ROWS - 56;
    t->rows = json_array();
    t->cells = calloc((size_t)t->n_rows * (size_t)t->n_cols, sizeof(*t->cells));
    for (int row = 0; row < t->n_rows; row++) {
        json_t *o = json_object();
        bool set[MAX_COLS] = {false};
        const struct ptable *pt = NULL;
        int prow = -1;
        for (int k = 0; k < t->n_rels; k++) {
            const struct ptable *ref = &m->t[t->rels[k].ref_table];
            int pr = rint_(r, ref->n_rows);
            json_object_set(o, t->cols[t->rels[k].col].api, cell(ref, pr, t->rels[k].ref_col));
            set[t->rels[k].col] = true;
            if (pt == NULL) {
                pt = ref;
                prow = pr;
            }
        }
        for (int c = 0; c < t->n_cols; c++) {
            const struct pcol *col = &t->cols[c];
            bool tenant = strcmp(col->api, "tenantId") == 0;
            bool region = strcmp(col->api, "regionId") == 0;
            json_t *v;
            int pc = pt != NULL ? col_by_api(pt, col->api) : -1;
            if (set[c]) {
                continue;
            }
            if (c == t->pk) {
                v = json_integer(row + 1);
            } else if ((tenant || region) && pc >= 0 && chance(r, 80)) {
                v = json_incref(cell(pt, prow, pc)); /* mostly the parent's, not always */
            } else if (tenant) {
                v = json_string(PICK(r, tenants));
            } else if (region) {
                v = json_string(PICK(r, regions));
            } else if (col->nullable &&
                       chance(r, strcmp(col->api, "deletedAt") == 0 ? 65 : 15)) {
                v = json_null();
            } else {
                v = rand_value(r, col);
            }
            json_object_set_new(o, col->api, v);
        }
        json_array_append_new(t->rows, o);
        for (int c = 0; c < t->n_cols; c++) {
            t->cells[(size_t)row * (size_t)t->n_cols + (size_t)c] =
                json_object_get(o, t->cols[c].api);
        }
    }
}

/* Raw and masked key sets per column: what a returned value may be. */
static void build_sets(struct ptable *t)
{
    struct cq_buf b;
    cq_buf_init(&b, 1u << 20);
    for (int c = 0; c < t->n_cols; c++) {
        struct pcol *col = &t->cols[c];
        for (int row = 0; row < t->n_rows; row++) {
            json_t *v = cell(t, row, c);
            if (json_is_null(v)) {
                continue;
            }
            cq_buf_reset(&b);
            canon(&b, v);
            set_add(&col->raw, cq_buf_str(&b));
            cq_buf_reset(&b);
            canon_masked(&b, col->mask, v);
            set_add(&col->masked, cq_buf_str(&b));
        }
        set_sort(&col->raw);
        set_sort(&col->masked);
    }
    cq_buf_cleanup(&b);
}

static void quote_phys(struct cq_buf *b, const char *phys)
{
    const char *dot = strchr(phys, '.');
    if (dot != NULL) {
        cq_test_quote_ident(b, phys, (size_t)(dot - phys));
        cq_buf_putc(b, '.');
        phys = dot + 1;
    }
    cq_test_quote_ident(b, phys, strlen(phys));
}

static const char *sql_type(const struct pcol *c)
{
    if (c->array) {
        return "TEXT";
    }
    switch (c->type) {
    case T_INT: return "INTEGER";
    case T_DECIMAL: return "REAL";
    case T_BOOLEAN: return "BOOLEAN";
    default: return "TEXT";
    }
}

static void sql_ok(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        die("seeding: %s: %s", what, sqlite3_errmsg(db));
    }
}

static void bind_cell(sqlite3 *db, sqlite3_stmt *st, int i, const struct pcol *c, json_t *v)
{
    int rc;
    if (json_is_null(v)) {
        rc = sqlite3_bind_null(st, i);
    } else if (c->array) {
        char *s = json_dumps(v, JSON_COMPACT);
        rc = sqlite3_bind_text(st, i, s, -1, free);
    } else if (json_is_integer(v)) {
        rc = sqlite3_bind_int64(st, i, json_integer_value(v));
    } else if (json_is_real(v)) {
        rc = sqlite3_bind_double(st, i, json_real_value(v));
    } else if (json_is_boolean(v)) {
        rc = sqlite3_bind_int(st, i, json_is_true(v));
    } else {
        rc = sqlite3_bind_text(st, i, json_string_value(v), (int)json_string_length(v),
                               SQLITE_TRANSIENT);
    }
    sql_ok(db, rc, "bind");
}

static void write_table(sqlite3 *db, const struct ptable *t)
{
    struct cq_buf b;
    sqlite3_stmt *st = NULL;
    cq_buf_init(&b, 1u << 20);
    cq_buf_puts(&b, "CREATE TABLE ");
    quote_phys(&b, t->phys);
    cq_buf_puts(&b, " (");
    for (int c = 0; c < t->n_cols; c++) {
        cq_buf_puts(&b, c > 0 ? ", " : "");
        cq_test_quote_ident(&b, t->cols[c].phys, strlen(t->cols[c].phys));
        cq_buf_printf(&b, " %s%s%s", sql_type(&t->cols[c]), c == t->pk ? " PRIMARY KEY" : "",
                      t->cols[c].nullable ? "" : " NOT NULL");
    }
    cq_buf_puts(&b, ")");
    sql_ok(db, sqlite3_exec(db, cq_buf_str(&b), NULL, NULL, NULL), "create table");
    cq_buf_reset(&b);
    cq_buf_puts(&b, "INSERT INTO ");
    quote_phys(&b, t->phys);
    cq_buf_puts(&b, " VALUES (");
    for (int c = 0; c < t->n_cols; c++) {
        cq_buf_printf(&b, "%s?%d", c > 0 ? ", " : "", c + 1);
    }
    cq_buf_puts(&b, ")");
    sql_ok(db, sqlite3_prepare_v2(db, cq_buf_str(&b), -1, &st, NULL), "prepare insert");
    for (int row = 0; row < t->n_rows; row++) {
        for (int c = 0; c < t->n_cols; c++) {
            bind_cell(db, st, c + 1, &t->cols[c], cell(t, row, c));
        }
        sql_ok(db, sqlite3_step(st), "insert");
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    sqlite3_finalize(st);
    cq_buf_cleanup(&b);
}

static void seed_database(struct prop *p)
{
    struct rng r = {p->seed ^ 0xD1B54A32D192ED03ull};
    sqlite3 *db = NULL;
    for (int t = 0; t < p->m.n_tables; t++) {
        gen_rows(p, &r, &p->m.t[t]);
        build_sets(&p->m.t[t]);
    }
    unlink(p->dbpath);
    if (sqlite3_open_v2(p->dbpath, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        die("cannot create %s", p->dbpath);
    }
    sql_ok(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), "begin");
    for (int t = 0; t < p->m.n_tables; t++) {
        write_table(db, &p->m.t[t]);
    }
    sql_ok(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
    sqlite3_close(db);
}

/* ---- contexts and the access oracle (spec §3, §0.13) -------------------------------------- */

/* One row-filter term on one row; *missing when its context value is absent. */
static bool term_holds(const struct ptable *t, int row, const struct pfilter *f, json_t *values,
                       bool *missing)
{
    json_t *v = cell(t, row, f->col), *cv, *x;
    size_t i;
    bool any = false;
    if (f->op == R_IS_NULL || f->op == R_IS_NOT_NULL) {
        return json_is_null(v) == (f->op == R_IS_NULL);
    }
    cv = values != NULL ? json_object_get(values, f->key) : NULL;
    if (cv == NULL) {
        *missing = true;
        return false;
    }
    if (json_is_null(v)) {
        return false; /* SQL: NULL compared with anything is not true */
    }
    switch (f->op) {
    case R_EQ:
        return jeq(v, cv);
    case R_NE:
        return !jeq(v, cv);
    case R_IN:
    case R_NOT_IN:
        if (!json_is_array(cv)) {
            any = jeq(v, cv);
        }
        json_array_foreach(cv, i, x) {
            any = any || jeq(v, x);
        }
        return f->op == R_IN ? any : !any;
    default:
        return false;
    }
}

/* Rights of one scope on table t: granted, lifted, allowed and unmasked columns. */
static void scope_rights(const struct prop *p, const int *roles, int n, int t, bool *granted,
                         bool *lifted, bool *al, bool *um, bool *rls_cols)
{
    *granted = *lifted = false;
    for (int i = 0; i < n; i++) {
        const struct prole *ro = roles[i] >= 0 ? &p->m.r[roles[i]] : NULL;
        const struct pgrant *g = ro != NULL && !ro->all_tables ? &ro->g[t] : NULL;
        if (ro == NULL || (!ro->all_tables && !g->granted)) {
            continue;
        }
        *granted = true;
        if (ro->all_tables || g->n_f == 0) {
            *lifted = true;
        }
        for (int c = 0; c < p->m.t[t].n_cols; c++) {
            bool allow = ro->all_tables || g->all_cols || g->allowed[c];
            al[c] = al[c] || allow;
            um[c] = um[c] || (allow && (ro->all_tables || !g->masked[c]));
        }
        for (int k = 0; g != NULL && k < g->n_f; k++) {
            rls_cols[g->f[k].col] = true;
        }
    }
}

/* The row predicate of table t: AND over restricting scopes of OR over their roles. */
static void table_pred(const struct prop *p, struct pctx *c, int t, const bool *restricts)
{
    const struct ptable *tb = &p->m.t[t];
    struct tacc *a = &c->acc[t];
    const int *sr[2] = {c->user, c->service};
    int sn[2] = {c->n_user, c->n_service};
    for (int row = 0; row < tb->n_rows; row++) {
        bool pass = true;
        for (int s = 0; s < 2; s++) {
            bool any = false;
            if (!restricts[s]) {
                continue;
            }
            for (int i = 0; i < sn[s]; i++) {
                const struct prole *ro = sr[s][i] >= 0 ? &p->m.r[sr[s][i]] : NULL;
                const struct pgrant *g = ro != NULL ? &ro->g[t] : NULL;
                bool all = true;
                if (g == NULL || !g->granted) {
                    continue;
                }
                for (int k = 0; k < g->n_f; k++) {
                    all = term_holds(tb, row, &g->f[k], c->values, &a->missing) && all;
                }
                any = any || all;
            }
            pass = pass && any;
        }
        a->pred[row] = pass;
    }
}

static void compute_access(const struct prop *p, struct pctx *c)
{
    for (int t = 0; t < p->m.n_tables; t++) {
        struct tacc *a = &c->acc[t];
        const struct ptable *tb = &p->m.t[t];
        bool masked_any[MAX_COLS] = {false}, restricts[2] = {false, false};
        const int *sr[2] = {c->user, c->service};
        int sn[2] = {c->n_user, c->n_service};
        bool present[2] = {c->has_user, c->has_service};
        memset(a, 0, sizeof(*a));
        a->allowed = true;
        for (int k = 0; k < tb->n_cols; k++) {
            a->cols[k] = true;
        }
        for (int s = 0; s < 2; s++) {
            bool granted, lifted, al[MAX_COLS] = {false}, um[MAX_COLS] = {false};
            if (!present[s]) {
                continue; /* rule 1: an absent scope imposes nothing */
            }
            scope_rights(p, sr[s], sn[s], t, &granted, &lifted, al, um, a->rls_cols);
            a->allowed = a->allowed && granted;
            restricts[s] = granted && !lifted;
            for (int k = 0; k < tb->n_cols; k++) {
                a->cols[k] = a->cols[k] && al[k];
                masked_any[k] = masked_any[k] || (al[k] && !um[k]);
            }
        }
        for (int k = 0; k < tb->n_cols; k++) {
            a->cols[k] = a->cols[k] && a->allowed;
            a->masked[k] = a->cols[k] && masked_any[k];
        }
        a->filtered = a->allowed && (restricts[0] || restricts[1]);
        table_pred(p, c, t, restricts);
        if (!a->allowed) {
            a->missing = false;
        }
    }
}

static void pick_roles(struct rng *r, int n_roles, int *out, int *n, int want)
{
    while (*n < want && *n < MAX_SCOPE - 1) {
        int x = rint_(r, n_roles);
        bool dup = false;
        for (int i = 0; i < *n; i++) {
            dup = dup || out[i] == x;
        }
        if (!dup) {
            out[(*n)++] = x;
        }
    }
}

static json_t *scope_json(const struct prop *p, const int *roles, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(a, json_string(roles[i] >= 0 ? p->m.r[roles[i]].id : "ghost"));
    }
    return a;
}

static json_t *gen_values(struct rng *r)
{
    json_t *v = json_object(), *a;
    if (chance(r, 92)) {
        json_object_set_new(v, "tenantId",
                            json_string(chance(r, 5) ? "t9" : PICK(r, tenants)));
    }
    if (chance(r, 92)) {
        a = json_array();
        for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
            if (chance(r, 45)) {
                json_array_append_new(a, json_string(regions[i]));
            }
        }
        if (json_array_size(a) == 0 && chance(r, 85)) {
            json_array_append_new(a, json_string(PICK(r, regions))); /* mostly non-empty */
        }
        json_object_set_new(v, "regionIds", a);
    }
    if (chance(r, 92)) {
        json_object_set_new(v, "excludedRegion", json_string(PICK(r, regions)));
    }
    if (chance(r, 92)) {
        a = json_array();
        for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
            if (chance(r, 30)) {
                json_array_append_new(a, json_string(statuses[i]));
            }
        }
        if (json_array_size(a) == 0 && chance(r, 85)) {
            json_array_append_new(a, json_string(PICK(r, statuses)));
        }
        json_object_set_new(v, "hiddenStatuses", a);
    }
    return v;
}

static void gen_context(const struct prop *p, struct rng *r, struct pctx *c)
{
    json_t *roles = json_object();
    int u = rint_(r, 100), s = rint_(r, 100);
    memset(c, 0, sizeof(*c));
    if (u >= 10) {
        c->has_user = true;
        if (u >= 14) {
            pick_roles(r, p->m.n_roles, c->user, &c->n_user, 1 + chance(r, 35));
        }
    }
    if (chance(r, 2)) {
        c->has_user = true;
        c->ghost = true;
        c->user[c->n_user++] = -1;
    }
    if (s >= 55) {
        c->has_service = true;
        if (s >= 58) {
            int svc[MAX_ROLES], n_svc = 0;
            for (int i = 0; i < p->m.n_roles; i++) {
                if (strncmp(p->m.r[i].id, "svc-", 4) == 0) {
                    svc[n_svc++] = i;
                }
            }
            if (n_svc > 0 && chance(r, 55)) {
                c->service[c->n_service++] = svc[rint_(r, n_svc)];
            } else {
                pick_roles(r, p->m.n_roles, c->service, &c->n_service, 1);
            }
        }
    }
    if (c->has_user) {
        json_object_set_new(roles, "user", scope_json(p, c->user, c->n_user));
    }
    if (c->has_service) {
        json_object_set_new(roles, "service", scope_json(p, c->service, c->n_service));
    }
    c->json = json_object();
    json_object_set_new(c->json, "roles", roles);
    if (chance(r, 96)) {
        json_object_set_new(c->json, "contextValues", gen_values(r));
        c->values = json_object_get(c->json, "contextValues");
    }
    compute_access(p, c);
}

/* ---- the query generator ------------------------------------------------------------------ */

enum cpick { P_ANY = 0, P_SCALAR, P_NUMERIC, P_ARRAY, P_STRING, P_EQ };

struct gen {
    struct prop *p;
    struct rng *r;
    const struct pctx *c;
    struct qinfo *qi;
    int probe;                  /* percent of column picks that ignore the allowed set */
};

static bool col_fits(const struct pcol *c, enum cpick k)
{
    switch (k) {
    case P_ANY: return true;
    case P_SCALAR: return !c->array;
    case P_NUMERIC: return !c->array && (c->type == T_INT || c->type == T_DECIMAL);
    case P_ARRAY: return c->array;
    case P_STRING: return !c->array && c->type == T_STRING;
    case P_EQ: return !c->array && c->type != T_DECIMAL;
    }
    return false;
}

/* A column of t fitting k: mostly one the context may see (some denied ones on purpose). */
static int pick_col(struct gen *g, int t, enum cpick k, bool avoid_masked)
{
    const struct ptable *tb = &g->p->m.t[t];
    const struct tacc *a = &g->c->acc[t];
    int cand[MAX_COLS], n = 0;
    bool allowed_only = !chance(g->r, g->probe);
    for (int pass = 0; pass < 2 && n == 0; pass++) {
        for (int c = 0; c < tb->n_cols; c++) {
            if (col_fits(&tb->cols[c], k) && (!allowed_only || a->cols[c]) &&
                (!avoid_masked || !a->masked[c])) {
                cand[n++] = c;
            }
        }
        allowed_only = false;
    }
    return n > 0 ? cand[rint_(g->r, n)] : -1;
}

static int neighbors(const struct model *m, int t, int *out)
{
    int n = 0;
    for (int u = 0; u < m->n_tables; u++) {
        bool rel = false;
        for (int k = 0; k < m->t[t].n_rels; k++) {
            rel = rel || m->t[t].rels[k].ref_table == u;
        }
        for (int k = 0; k < m->t[u].n_rels; k++) {
            rel = rel || m->t[u].rels[k].ref_table == t;
        }
        if (rel && u != t) {
            out[n++] = u;
        }
    }
    return n;
}

/* A table among cand (n > 0), preferring ones the context may read. */
static int pick_table(struct gen *g, const int *cand, int n)
{
    int ok[MAX_TABLES], n_ok = 0;
    for (int i = 0; i < n; i++) {
        if (g->c->acc[cand[i]].allowed) {
            ok[n_ok++] = cand[i];
        }
    }
    if (n_ok > 0 && chance(g->r, 90)) {
        return ok[rint_(g->r, n_ok)];
    }
    return cand[rint_(g->r, n)];
}

static json_t *sample_val(struct gen *g, int t, int c)
{
    const struct ptable *tb = &g->p->m.t[t];
    for (int i = 0; i < 8; i++) {
        json_t *v = cell(tb, rint_(g->r, tb->n_rows), c);
        if (!json_is_null(v) && !tb->cols[c].array) {
            return json_incref(v);
        }
    }
    return rand_scalar(g->r, &tb->cols[c]);
}

static json_t *sample_elem(struct gen *g, int t, int c)
{
    const struct ptable *tb = &g->p->m.t[t];
    for (int i = 0; i < 8; i++) {
        json_t *v = cell(tb, rint_(g->r, tb->n_rows), c);
        if (json_array_size(v) > 0) {
            return json_incref(json_array_get(v, (size_t)rint_(g->r, (int)json_array_size(v))));
        }
    }
    return rand_scalar(g->r, &tb->cols[c]);
}

/* 1..3 code points of a sample string (or "a"). */
static void sample_sub(struct gen *g, int t, int c, struct cq_buf *b)
{
    json_t *v = sample_val(g, t, c);
    const char *s = json_string_value(v);
    size_t len = s != NULL ? strlen(s) : 0, n = cp_count(s != NULL ? s : "", len);
    if (n == 0) {
        cq_buf_putc(b, 'a');
    } else {
        size_t start = (size_t)rint_(g->r, (int)n), k = 1 + (size_t)rint_(g->r, 3);
        size_t from = cp_off(s, len, start), to = cp_off(s, len, start + k);
        cq_buf_append(b, s + from, to - from);
    }
    json_decref(v);
}

static int jcmp(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        return x < y ? -1 : x > y;
    }
    if (json_is_string(a) && json_is_string(b)) {
        return strcmp(json_string_value(a), json_string_value(b));
    }
    return 0;
}

static const char *pick_op(struct gen *g, const struct pcol *col)
{
    static const char *const s_ops[] = {
        "=", "!=", ">", "<", ">=", "<=", "in", "notIn", "like", "notLike", "ilike",
        "notIlike", "contains", "icontains", "notContains", "notIcontains", "startsWith",
        "istartsWith", "endsWith", "iendsWith", "between", "notBetween", "levenshteinLte"};
    static const char *const n_ops[] = {"=", "!=", ">", "<", ">=", "<=", "in", "notIn",
                                        "between", "notBetween"};
    static const char *const u_ops[] = {"=", "!=", "in", "notIn"};
    static const char *const b_ops[] = {"=", "!="};
    static const char *const d_ops[] = {"=", "!=", ">", "<", ">=", "<=", "between",
                                        "notBetween"};
    static const char *const a_ops[] = {"arrayContains", "arrayContainsAll", "arrayContainsAny",
                                        "arrayIsEmpty", "arrayIsNotEmpty"};
    if (col->nullable && chance(g->r, 12)) {
        return chance(g->r, 50) ? "isNull" : "isNotNull";
    }
    if (col->array) {
        return PICK(g->r, a_ops);
    }
    switch (col->type) {
    case T_STRING: return PICK(g->r, s_ops);
    case T_INT:
    case T_DECIMAL: return PICK(g->r, n_ops);
    case T_UUID: return PICK(g->r, u_ops);
    case T_BOOLEAN: return PICK(g->r, b_ops);
    default: return PICK(g->r, d_ops);
    }
}

static json_t *filter_value(struct gen *g, int t, int c, const char *op)
{
    const struct pcol *col = &g->p->m.t[t].cols[c];
    struct cq_buf b;
    json_t *v = NULL;
    if (strcmp(op, "isNull") == 0 || strcmp(op, "isNotNull") == 0 ||
        strcmp(op, "arrayIsEmpty") == 0 || strcmp(op, "arrayIsNotEmpty") == 0) {
        return NULL;
    }
    if (strcmp(op, "arrayContains") == 0) {
        return sample_elem(g, t, c);
    }
    if (strcmp(op, "arrayContainsAll") == 0 || strcmp(op, "arrayContainsAny") == 0 ||
        strcmp(op, "in") == 0 || strcmp(op, "notIn") == 0) {
        int n = 1 + rint_(g->r, 3);
        v = json_array();
        for (int i = 0; i < n; i++) {
            json_array_append_new(v, col->array ? sample_elem(g, t, c) : sample_val(g, t, c));
        }
        return v;
    }
    if (strcmp(op, "between") == 0 || strcmp(op, "notBetween") == 0) {
        json_t *a = sample_val(g, t, c), *z = sample_val(g, t, c);
        if (jcmp(a, z) > 0) {
            json_t *x = a;
            a = z;
            z = x;
        }
        return json_pack("{s:o,s:o}", "from", a, "to", z);
    }
    if (strcmp(op, "levenshteinLte") == 0) {
        json_t *s = sample_val(g, t, c);
        if (json_string_length(s) == 0) {
            json_decref(s);
            s = json_string("abc");
        }
        return json_pack("{s:o,s:i}", "text", s, "maxDistance", rint_(g->r, 3));
    }
    if (strstr(op, "ike") != NULL || strstr(op, "ontains") != NULL ||
        strstr(op, "With") != NULL) {
        bool like = strstr(op, "ike") != NULL;
        int shape = rint_(g->r, 4);
        cq_buf_init(&b, 4096);
        if (like && (shape == 0 || shape == 1)) {
            cq_buf_putc(&b, '%');
        }
        if (like && shape == 3) {
            cq_buf_putc(&b, '_');
        }
        sample_sub(g, t, c, &b);
        for (size_t i = 0; like && i < b.len; i++) {
            if (b.p[i] == '\\') {
                b.p[i] = '_'; /* a raw pattern ending in the escape character is invalid */
            }
        }
        if (like && (shape == 0 || shape == 2)) {
            cq_buf_putc(&b, '%');
        }
        v = json_stringn(cq_buf_str(&b), b.len);
        cq_buf_cleanup(&b);
        return v;
    }
    return chance(g->r, 85) ? sample_val(g, t, c) : rand_scalar(g->r, col);
}

static json_t *value_filter(struct gen *g, int t, const char *qualifier)
{
    int c = pick_col(g, t, P_ANY, false);
    const struct pcol *col = &g->p->m.t[t].cols[c];
    const char *op = pick_op(g, col);
    json_t *f = json_object(), *v;
    json_object_set_new(f, "column", json_string(col->api));
    if (qualifier != NULL) {
        json_object_set_new(f, "table", json_string(qualifier));
    }
    json_object_set_new(f, "operator", json_string(op));
    v = filter_value(g, t, c, op);
    if (v != NULL) {
        json_object_set_new(f, "value", v);
    }
    g->qi->used[t][c] = true;
    g->qi->levenshtein = g->qi->levenshtein || strcmp(op, "levenshteinLte") == 0;
    return f;
}

static json_t *exists_filter(struct gen *g, int parent, bool negated, int depth);

/* A filter on table t (the from table, a joined table, or an EXISTS table). */
static json_t *any_filter(struct gen *g, int t, const char *qualifier, bool negated, int depth)
{
    int k = rint_(g->r, 100);
    if (k < 18 && depth < 3) {
        json_t *grp = json_object(), *conds = json_array();
        bool not = chance(g->r, 30);
        int n = 2 + rint_(g->r, 2);
        json_object_set_new(grp, "logic", json_string(chance(g->r, 50) ? "and" : "or"));
        if (not || chance(g->r, 10)) {
            json_object_set_new(grp, "not", json_boolean(not));
        }
        for (int i = 0; i < n; i++) {
            json_array_append_new(conds, any_filter(g, t, qualifier, negated || not, depth + 1));
        }
        json_object_set_new(grp, "conditions", conds);
        return grp;
    }
    if (k < 33 && qualifier == NULL && depth < 3) {
        return exists_filter(g, t, negated, depth + 1);
    }
    return value_filter(g, t, qualifier);
}

static json_t *exists_filter(struct gen *g, int parent, bool negated, int depth)
{
    int nb[MAX_TABLES], n = neighbors(&g->p->m, parent, nb), u, k;
    json_t *f;
    bool inverted = negated;
    if (n == 0) {
        return value_filter(g, parent, NULL);
    }
    u = pick_table(g, nb, n);
    f = json_object();
    json_object_set_new(f, "table", json_string(g->p->m.t[u].api));
    g->qi->touched[u] = true;
    g->qi->exists_any = true;
    k = rint_(g->r, 100);
    if (k < 20) {
        json_object_set_new(f, "exists", json_false());
        inverted = true;
    } else if (k < 45) {
        static const char *const ops[] = {"=", "!=", ">", "<", ">=", "<="};
        json_object_set_new(f, "count", json_pack("{s:s,s:i}", "operator", PICK(g->r, ops),
                                                  "value", rint_(g->r, 4)));
        inverted = true;
    } else if (k < 55) {
        json_object_set_new(f, "exists", json_true());
    }
    if (chance(g->r, 45)) {
        json_t *fs = json_array();
        json_array_append_new(fs, any_filter(g, u, NULL, inverted, depth + 1));
        json_object_set_new(f, "filters", fs);
    }
    g->qi->exists_nonmono = g->qi->exists_nonmono || inverted;
    return f;
}

static int family(const struct pcol *c)
{
    switch (c->type) {
    case T_INT:
    case T_DECIMAL: return 0;
    case T_DATE:
    case T_TIMESTAMP: return 2;
    case T_STRING: return 1;
    case T_BOOLEAN: return 3;
    case T_UUID: return 4;
    }
    return 5;
}

/* Column vs column on the from table or a joined table. */
static json_t *column_filter(struct gen *g, int from)
{
    static const char *const ops[] = {"=", "!=", ">", "<", ">=", "<="};
    const struct model *m = &g->p->m;
    int tabs[3] = {from, -1, -1}, n_t = 1, t1, t2, c1, c2, k, cand[MAX_COLS * 3][2], n = 0;
    json_t *f;
    for (int i = 0; i < g->qi->n_join; i++) {
        tabs[n_t++] = g->qi->join[i];
    }
    t1 = tabs[rint_(g->r, n_t)];
    c1 = pick_col(g, t1, P_SCALAR, false);
    for (int i = 0; i < n_t; i++) {
        for (int c = 0; c < m->t[tabs[i]].n_cols; c++) {
            const struct pcol *x = &m->t[tabs[i]].cols[c];
            if (!x->array && family(x) == family(&m->t[t1].cols[c1]) &&
                (tabs[i] != t1 || c != c1) && g->c->acc[tabs[i]].cols[c]) {
                cand[n][0] = tabs[i];
                cand[n++][1] = c;
            }
        }
    }
    if (n == 0) {
        return value_filter(g, from, NULL);
    }
    k = rint_(g->r, n);
    t2 = cand[k][0];
    c2 = cand[k][1];
    f = json_object();
    json_object_set_new(f, "column", json_string(m->t[t1].cols[c1].api));
    if (t1 != from || chance(g->r, 30)) {
        json_object_set_new(f, "table", json_string(m->t[t1].api));
    }
    /* ordering comparisons only where the types have an order worth asking about */
    json_object_set_new(f, "operator", json_string(family(&m->t[t1].cols[c1]) >= 3
                                                       ? (chance(g->r, 50) ? "=" : "!=")
                                                       : PICK(g->r, ops)));
    json_object_set_new(f, "refColumn", json_string(m->t[t2].cols[c2].api));
    if (t2 != from || chance(g->r, 30)) {
        json_object_set_new(f, "refTable", json_string(m->t[t2].api));
    }
    g->qi->used[t1][c1] = true;
    g->qi->used[t2][c2] = true;
    g->qi->joined_filter = g->qi->joined_filter || t1 != from || t2 != from;
    return f;
}

/* Distinct columns of t (1..kmax), with the primary key among them when want_pk. */
static json_t *col_subset(struct gen *g, int t, int kmax, bool want_pk)
{
    const struct ptable *tb = &g->p->m.t[t];
    bool taken[MAX_COLS] = {false};
    int k = 1 + rint_(g->r, kmax), order[MAX_COLS], n = 0;
    json_t *a = json_array();
    for (int i = 0; i < k * 3 && n < k; i++) {
        int c = pick_col(g, t, P_ANY, false);
        if (c >= 0 && !taken[c]) {
            taken[c] = true;
            order[n++] = c;
        }
    }
    if (want_pk && !taken[tb->pk]) {
        int at = rint_(g->r, n + 1);
        memmove(order + at + 1, order + at, (size_t)(n - at) * sizeof(order[0]));
        order[at] = tb->pk;
        n++;
    }
    for (int i = 0; i < n; i++) {
        json_array_append_new(a, json_string(tb->cols[order[i]].api));
        g->qi->used[t][order[i]] = true;
    }
    return a;
}

static void gen_joins(struct gen *g, json_t *def, bool aggs)
{
    const struct model *m = &g->p->m;
    struct qinfo *qi = g->qi;
    int want = chance(g->r, 35) ? (chance(g->r, 20) ? 2 : 1) : 0;
    json_t *joins = json_array();
    for (int k = 0; k < want; k++) {
        int base = k == 0 || chance(g->r, 50) ? qi->from : qi->join[0];
        int nb[MAX_TABLES], n = neighbors(m, base, nb), ok[MAX_TABLES], n_ok = 0, jt, ty;
        json_t *j;
        for (int i = 0; i < n; i++) {
            if (nb[i] != qi->from && (qi->n_join == 0 || nb[i] != qi->join[0])) {
                ok[n_ok++] = nb[i];
            }
        }
        if (n_ok == 0) {
            break;
        }
        jt = pick_table(g, ok, n_ok);
        j = json_object();
        json_object_set_new(j, "table", json_string(m->t[jt].api));
        ty = rint_(g->r, 100);
        if (ty < 35) {
            json_object_set_new(j, "type", json_string("left"));
        } else if (ty < 70) {
            json_object_set_new(j, "type", json_string("inner"));
        }
        qi->join_left[qi->n_join] = ty < 35 || ty >= 70;
        qi->join[qi->n_join++] = jt;
        qi->touched[jt] = true;
        ty = rint_(g->r, 100);
        if (aggs || (ty >= 40 && ty < 60)) {
            json_object_set_new(j, "columns", json_array());
        } else if (ty >= 60) {
            json_object_set_new(j, "columns", col_subset(g, jt, 3, chance(g->r, 60)));
        }
        if (chance(g->r, 30)) {
            json_t *fs = json_array();
            json_array_append_new(fs, value_filter(g, jt, NULL));
            json_object_set_new(j, "filters", fs);
            qi->joined_filter = true;
        }
        json_array_append_new(joins, j);
    }
    if (json_array_size(joins) > 0) {
        json_object_set_new(def, "joins", joins);
    } else {
        json_decref(joins);
    }
}

/* The from table or a joined table, and its apiName as a qualifier (NULL for from). */
static int some_table(struct gen *g, const char **qual)
{
    int k = rint_(g->r, 1 + g->qi->n_join * 2);
    *qual = NULL;
    if (k == 0 || k > g->qi->n_join) {
        return g->qi->from;
    }
    *qual = g->p->m.t[g->qi->join[k - 1]].api;
    return g->qi->join[k - 1];
}

/* groupBy entries (no column twice); the from table's ones go to from_gb. */
static json_t *gen_group_by(struct gen *g, int *from_gb, int *n_from_gb)
{
    const struct model *m = &g->p->m;
    json_t *gb = json_array();
    int n = rint_(g->r, 3), seen[4][2], n_seen = 0;
    for (int i = 0; i < n; i++) {
        const char *qual;
        int t = some_table(g, &qual), c = pick_col(g, t, P_SCALAR, false);
        json_t *e;
        bool dup = false;
        for (int k = 0; k < n_seen; k++) {
            dup = dup || (seen[k][0] == t && seen[k][1] == c);
        }
        if (dup) {
            continue;
        }
        seen[n_seen][0] = t;
        seen[n_seen++][1] = c;
        e = json_pack("{s:s}", "column", m->t[t].cols[c].api);
        if (qual != NULL) {
            json_object_set_new(e, "table", json_string(qual));
        } else {
            from_gb[(*n_from_gb)++] = c;
        }
        json_array_append_new(gb, e);
        g->qi->used[t][c] = true;
    }
    return gb;
}

/* Aggregation i ("agg<i>"); *number when it yields a number (HAVING compares with one). */
static json_t *gen_agg(struct gen *g, int i, bool *number)
{
    static const char *const num_fns[] = {"sum", "avg", "min", "max", "count"};
    static const char *const any_fns[] = {"min", "max", "count"};
    const struct model *m = &g->p->m;
    const struct pcol *col;
    const char *qual, *fn;
    char alias[16];
    json_t *a;
    int t, c;
    snprintf(alias, sizeof(alias), "agg%d", i);
    if (chance(g->r, 40)) {
        if (g->qi->agg_count_star == 0) {
            g->qi->agg_count_star = i + 1;
            g->qi->count_alias = i == 0 ? "agg0" : "agg1";
        }
        *number = true;
        return json_pack("{s:s,s:s,s:s}", "column", "*", "fn", "count", "alias", alias);
    }
    t = some_table(g, &qual);
    c = pick_col(g, t, P_ANY, true);
    col = &m->t[t].cols[c >= 0 ? c : m->t[t].pk];
    /* A masked column never feeds min/max/sum/avg here: the spec does not mask aggregates,
     * so those would hand out clear values (see the internals doc). */
    fn = col->array || (c >= 0 && g->c->acc[t].masked[c]) ? "count"
         : col_fits(col, P_NUMERIC)                       ? PICK(g->r, num_fns)
                                                          : PICK(g->r, any_fns);
    a = json_pack("{s:s,s:s,s:s}", "column", col->api, "fn", fn, "alias", alias);
    if (qual != NULL) {
        json_object_set_new(a, "table", json_string(qual));
    }
    g->qi->used[t][col - m->t[t].cols] = true;
    *number = strcmp(fn, "count") == 0 || col_fits(col, P_NUMERIC);
    return a;
}

static void gen_aggs(struct gen *g, json_t *def)
{
    const struct model *m = &g->p->m;
    struct qinfo *qi = g->qi;
    int n_agg = 1 + rint_(g->r, 2), from_gb[MAX_COLS], n_from_gb = 0;
    json_t *gb = gen_group_by(g, from_gb, &n_from_gb), *aggs = json_array(), *cols = NULL;
    bool agg0_number = false, number;
    for (int i = 0; i < n_agg; i++) {
        json_array_append_new(aggs, gen_agg(g, i, &number));
        agg0_number = agg0_number || (i == 0 && number);
    }
    if (json_array_size(gb) > 0 || chance(g->r, 50)) {
        json_object_set_new(def, "groupBy", json_incref(gb));
    }
    json_object_set_new(def, "aggregations", aggs);
    switch (rint_(g->r, 3)) {
    case 0:
        break; /* columns absent: the groupBy columns */
    case 1:
        cols = json_array();
        break;
    default:
        cols = json_array();
        for (int k = 0; k < n_from_gb; k++) {
            if (chance(g->r, 70)) {
                json_array_append_new(cols, json_string(m->t[qi->from].cols[from_gb[k]].api));
            }
        }
        break;
    }
    if (cols != NULL) {
        json_object_set_new(def, "columns", cols);
    }
    if (agg0_number && chance(g->r, 15)) {
        qi->having = true;
        json_object_set_new(def, "having", json_pack("[{s:s,s:s,s:i}]", "column", "agg0",
                                                     "operator", ">=", "value", 1));
    }
    if (chance(g->r, 30)) {
        json_t *e = json_array_size(gb) > 0 && chance(g->r, 50)
                        ? json_deep_copy(json_array_get(gb, 0))
                        : json_pack("{s:s}", "column", "agg0");
        json_object_set_new(e, "direction", json_string(chance(g->r, 50) ? "asc" : "desc"));
        json_object_set_new(def, "orderBy", json_pack("[o]", e));
    }
    json_decref(gb);
}

/* An orderBy column of a DISTINCT query: one the query selects (a database refuses to sort
 * a DISTINCT result by anything else, and validation says so); -1 when there is none. */
static int selected_col(struct gen *g, json_t *def)
{
    const struct ptable *tb = &g->p->m.t[g->qi->from];
    json_t *cols = json_object_get(def, "columns");
    int cand[MAX_COLS], n = 0;
    for (int c = 0; c < tb->n_cols; c++) {
        bool sel = false;
        size_t i;
        json_t *x;
        if (cols == NULL) {
            sel = g->c->acc[g->qi->from].cols[c];
        }
        json_array_foreach(cols, i, x) {
            sel = sel || strcmp(json_string_value(x), tb->cols[c].api) == 0;
        }
        if (sel && !tb->cols[c].array) {
            cand[n++] = c;
        }
    }
    return n > 0 ? cand[rint_(g->r, n)] : -1;
}

static void gen_order_limit(struct gen *g, json_t *def)
{
    const struct model *m = &g->p->m;
    if (chance(g->r, 30)) {
        json_t *ob = json_array();
        int n = 1 + rint_(g->r, 2);
        for (int i = 0; i < n; i++) {
            const char *qual = NULL;
            int t = g->qi->from, c;
            json_t *e;
            if (g->qi->distinct) {
                c = selected_col(g, def);
            } else {
                t = some_table(g, &qual);
                c = pick_col(g, t, P_SCALAR, false);
            }
            if (c < 0) {
                break;
            }
            e = json_pack("{s:s,s:s}", "column", m->t[t].cols[c].api, "direction",
                          chance(g->r, 50) ? "asc" : "desc");
            if (qual != NULL) {
                json_object_set_new(e, "table", json_string(qual));
            }
            json_array_append_new(ob, e);
            g->qi->used[t][c] = true;
        }
        json_object_set_new(def, "orderBy", ob);
    }
    if (chance(g->r, 25)) {
        g->qi->limit = true;
        json_object_set_new(def, "limit", json_integer(rint_(g->r, 25)));
        if (chance(g->r, 50)) {
            json_object_set_new(def, "offset", json_integer(rint_(g->r, 12)));
        }
    }
}

static void gen_filters(struct gen *g, json_t *def)
{
    const struct model *m = &g->p->m;
    struct qinfo *qi = g->qi;
    json_t *fs = json_array();
    int n = 1 + rint_(g->r, 3);
    for (int i = 0; i < n; i++) {
        int k = rint_(g->r, 100);
        if (k < 12) {
            json_array_append_new(fs, column_filter(g, qi->from));
        } else if (k < 30 && qi->n_join > 0) {
            int j = rint_(g->r, qi->n_join);
            json_array_append_new(fs, any_filter(g, qi->join[j], m->t[qi->join[j]].api, false,
                                                 1));
            qi->joined_filter = true;
        } else {
            json_array_append_new(fs, any_filter(g, qi->from, NULL, false, 0));
        }
    }
    json_object_set_new(def, "filters", fs);
}

static const char *mode_name(int mode)
{
    return mode == 1 ? "count" : mode == 2 ? "sql-only" : "execute";
}

/* A query whose EXISTS the test can count itself: one related table, maybe counted. */
static json_t *gen_targeted(struct gen *g, json_t *def)
{
    const struct model *m = &g->p->m;
    struct qinfo *qi = g->qi;
    int nb[MAX_TABLES], n = neighbors(m, qi->from, nb), u = pick_table(g, nb, n), k;
    json_t *e = json_pack("{s:s}", "table", m->t[u].api);
    static const char *const ops[] = {"=", "!=", ">", "<", ">=", "<="};
    qi->targeted = true;
    qi->touched[u] = true;
    qi->exists_any = true;
    k = rint_(g->r, 100);
    if (k < 55) {
        json_object_set_new(e, "count", json_pack("{s:s,s:i}", "operator", PICK(g->r, ops),
                                                  "value", rint_(g->r, 4)));
        qi->exists_nonmono = true;
    } else if (k < 75) {
        json_object_set_new(e, "exists", json_false());
        qi->exists_nonmono = true;
    }
    if (chance(g->r, 40)) {
        int c = pick_col(g, u, P_EQ, false);
        json_t *f = json_pack("{s:s,s:s,s:o}", "column", m->t[u].cols[c].api, "operator",
                              chance(g->r, 70) ? "=" : "!=", "value", sample_val(g, u, c));
        json_object_set_new(e, "filters", json_pack("[o]", f));
        qi->used[u][c] = true;
    }
    json_object_set_new(def, "columns", col_subset(g, qi->from, 3, true));
    json_object_set_new(def, "filters", json_pack("[o]", e));
    return def;
}

static json_t *gen_query(struct gen *g)
{
    const struct model *m = &g->p->m;
    struct qinfo *qi = g->qi;
    int all[MAX_TABLES], nb[MAX_TABLES], k = rint_(g->r, 100);
    json_t *def = json_object();
    bool aggs;
    for (int t = 0; t < m->n_tables; t++) {
        all[t] = t;
    }
    memset(qi, 0, sizeof(*qi));
    qi->from = pick_table(g, all, m->n_tables);
    qi->touched[qi->from] = true;
    qi->mode = k < 62 ? 0 : k < 88 ? 1 : 2;
    json_object_set_new(def, "from", json_string(m->t[qi->from].api));
    if (qi->mode != 0 || chance(g->r, 20)) {
        json_object_set_new(def, "executeMode", json_string(mode_name(qi->mode)));
    }
    if (chance(g->r, 15) && neighbors(m, qi->from, nb) > 0 && qi->mode != 2) {
        return gen_targeted(g, def);
    }
    aggs = qi->mode == 0 && chance(g->r, 20);
    gen_joins(g, def, aggs);
    if (aggs) {
        qi->aggs = true;
        g->probe = 20; /* access in groupBy and aggregations is a clariq addition (§0.1) */
        gen_aggs(g, def);
        g->probe = 8;
    } else if (chance(g->r, 62)) {
        json_object_set_new(def, "columns", col_subset(g, qi->from, 5, chance(g->r, 70)));
    }
    if (chance(g->r, 70)) {
        gen_filters(g, def);
    }
    if (!aggs) {
        if (qi->mode != 1 && chance(g->r, 8)) {
            qi->distinct = true;
            json_object_set_new(def, "distinct", json_true());
        }
        g->probe = 15;
        gen_order_limit(g, def);
        g->probe = 8;
        if (chance(g->r, 10)) {
            json_t *ids = json_array();
            int n = 1 + rint_(g->r, 4), top = m->t[qi->from].n_rows + 3; /* some missing */
            for (int i = 0; i < n; i++) {
                json_array_append_new(ids, json_integer(1 + rint_(g->r, top)));
            }
            json_object_set_new(def, "byIds", ids);
            qi->used[qi->from][m->t[qi->from].pk] = true;
        }
    }
    return def;
}

/* ---- expected result columns (spec §8.2, §10.1) ------------------------------------------ */

static void add_ocol(struct ocol *out, int *n, int t, int c, const struct pctx *ctx)
{
    if (*n < MAX_OUT) {
        out[*n].t = t;
        out[*n].c = c;
        out[*n].agg = false;
        out[*n].masked = ctx->acc[t].masked[c];
        (*n)++;
    }
}

static void add_table_cols(const struct model *m, const struct pctx *ctx, int t, json_t *cols,
                           struct ocol *out, int *n)
{
    size_t i;
    json_t *x;
    if (cols == NULL) {
        for (int c = 0; c < m->t[t].n_cols; c++) {
            if (ctx->acc[t].cols[c]) {
                add_ocol(out, n, t, c, ctx);
            }
        }
        return;
    }
    json_array_foreach(cols, i, x) {
        add_ocol(out, n, t, col_by_api(&m->t[t], json_string_value(x)), ctx);
    }
}

static int expect_cols(const struct model *m, json_t *def, const struct pctx *ctx,
                       const struct qinfo *qi, struct ocol *out)
{
    json_t *aggs = json_object_get(def, "aggregations"), *cols = json_object_get(def, "columns");
    json_t *x;
    size_t i;
    int n = 0;
    bool has_aggs = json_array_size(aggs) > 0;
    if (qi->mode == 1) {
        return 0;
    }
    if (has_aggs && cols == NULL) {
        json_array_foreach(json_object_get(def, "groupBy"), i, x) {
            int t = jstr(x, "table") != NULL ? table_by_api(m, jstr(x, "table")) : qi->from;
            add_ocol(out, &n, t, col_by_api(&m->t[t], jstr(x, "column")), ctx);
        }
    } else if (!(has_aggs && json_array_size(cols) == 0)) {
        add_table_cols(m, ctx, qi->from, cols, out, &n);
        json_array_foreach(json_object_get(def, "joins"), i, x) {
            add_table_cols(m, ctx, table_by_api(m, jstr(x, "table")),
                           json_object_get(x, "columns"), out, &n);
        }
    }
    for (int a = 0; a < n; a++) {
        const char *api = m->t[out[a].t].cols[out[a].c].api;
        bool clash = false;
        for (int b = 0; b < n; b++) {
            clash = clash || (out[b].t != out[a].t &&
                              strcmp(m->t[out[b].t].cols[out[b].c].api, api) == 0);
        }
        if (clash) {
            snprintf(out[a].key, sizeof(out[a].key), "%s.%s", m->t[out[a].t].api, api);
        } else {
            snprintf(out[a].key, sizeof(out[a].key), "%s", api);
        }
    }
    json_array_foreach(aggs, i, x) {
        if (n < MAX_OUT) {
            snprintf(out[n].key, sizeof(out[n].key), "%s", jstr(x, "alias"));
            out[n].t = jstr(x, "table") != NULL ? table_by_api(m, jstr(x, "table")) : qi->from;
            out[n].c = -1;
            out[n].agg = true;
            out[n].masked = false;
            n++;
        }
    }
    return n;
}

/* ---- the test's own evaluation of filters (three-valued, like SQL) ------------------------- */

enum { KF = 0, KT = 1, KU = 2 };

static int k_and(int a, int b)
{
    return a == KF || b == KF ? KF : a == KU || b == KU ? KU : KT;
}

static int k_or(int a, int b)
{
    return a == KT || b == KT ? KT : a == KU || b == KU ? KU : KF;
}

struct ev {
    const struct prop *p;
    const struct pctx *c;
    bool role;                  /* apply the context's row filters (false: as admin) */
    bool unsupported;           /* met something it does not evaluate */
};

static int ev_node(struct ev *e, json_t *f, int t, int row);

static int ev_list(struct ev *e, json_t *fs, int t, int row)
{
    size_t i;
    json_t *f;
    int v = KT;
    json_array_foreach(fs, i, f) {
        v = k_and(v, ev_node(e, f, t, row));
    }
    return v;
}

static bool cmp_count(const char *op, long n, long k)
{
    if (strcmp(op, "=") == 0) {
        return n == k;
    }
    if (strcmp(op, "!=") == 0) {
        return n != k;
    }
    if (strcmp(op, ">") == 0) {
        return n > k;
    }
    if (strcmp(op, "<") == 0) {
        return n < k;
    }
    if (strcmp(op, ">=") == 0) {
        return n >= k;
    }
    return n <= k;
}

static int ev_exists(struct ev *e, json_t *f, int t, int row)
{
    const struct model *m = &e->p->m;
    int u = table_by_api(m, jstr(f, "table")), lc = -1, rc = -1;
    json_t *key, *cnt = json_object_get(f, "count");
    long n = 0;
    if (u < 0) {
        e->unsupported = true;
        return KU;
    }
    for (int k = 0; k < m->t[t].n_rels && lc < 0; k++) {
        if (m->t[t].rels[k].ref_table == u) {
            lc = m->t[t].rels[k].col;
            rc = m->t[t].rels[k].ref_col;
        }
    }
    for (int k = 0; k < m->t[u].n_rels && lc < 0; k++) {
        if (m->t[u].rels[k].ref_table == t) {
            lc = m->t[u].rels[k].ref_col;
            rc = m->t[u].rels[k].col;
        }
    }
    if (lc < 0) {
        e->unsupported = true;
        return KU;
    }
    key = cell(&m->t[t], row, lc);
    for (int ur = 0; ur < m->t[u].n_rows && !json_is_null(key); ur++) {
        if (jeq(cell(&m->t[u], ur, rc), key) && (!e->role || e->c->acc[u].pred[ur]) &&
            ev_list(e, json_object_get(f, "filters"), u, ur) == KT) {
            n++;
        }
    }
    if (cnt != NULL) {
        return cmp_count(jstr(cnt, "operator"), n,
                         (long)json_integer_value(json_object_get(cnt, "value")))
                   ? KT : KF;
    }
    return (n > 0) == !json_is_false(json_object_get(f, "exists")) ? KT : KF;
}

static int ev_value(struct ev *e, json_t *f, int t, int row)
{
    const struct ptable *tb = &e->p->m.t[t];
    const char *op = jstr(f, "operator"), *qual = jstr(f, "table");
    int c = col_by_api(tb, jstr(f, "column"));
    json_t *v, *val = json_object_get(f, "value"), *x;
    size_t i;
    bool any = false;
    if (c < 0 || op == NULL || (qual != NULL && strcmp(qual, tb->api) != 0)) {
        e->unsupported = true;
        return KU;
    }
    v = cell(tb, row, c);
    if (strcmp(op, "isNull") == 0 || strcmp(op, "isNotNull") == 0) {
        return json_is_null(v) == (strcmp(op, "isNull") == 0) ? KT : KF;
    }
    if (tb->cols[c].array || tb->cols[c].type == T_DECIMAL) {
        e->unsupported = true;
        return KU;
    }
    if (json_is_null(v)) {
        bool known = strcmp(op, "=") == 0 || strcmp(op, "!=") == 0 || strcmp(op, "in") == 0 ||
                     strcmp(op, "notIn") == 0 ||
                     (tb->cols[c].type == T_INT && strchr("<>", op[0]) != NULL);
        e->unsupported = e->unsupported || !known;
        return KU;
    }
    if (strcmp(op, "=") == 0 || strcmp(op, "!=") == 0) {
        return jeq(v, val) == (op[0] == '=') ? KT : KF;
    }
    if (strcmp(op, "in") == 0 || strcmp(op, "notIn") == 0) {
        json_array_foreach(val, i, x) {
            any = any || jeq(v, x);
        }
        return any == (op[0] == 'i') ? KT : KF;
    }
    if (tb->cols[c].type == T_INT && json_is_integer(val) && strchr("<>", op[0]) != NULL) {
        return cmp_count(op, (long)json_integer_value(v), (long)json_integer_value(val)) ? KT
                                                                                        : KF;
    }
    e->unsupported = true;
    return KU;
}

static int ev_node(struct ev *e, json_t *f, int t, int row)
{
    if (has_key(f, "logic") && has_key(f, "conditions")) {
        json_t *cs = json_object_get(f, "conditions"), *x;
        bool and = strcmp(jstr(f, "logic"), "and") == 0;
        int v = and ? KT : KF;
        size_t i;
        json_array_foreach(cs, i, x) {
            int w = ev_node(e, x, t, row);
            v = and ? k_and(v, w) : k_or(v, w);
        }
        if (json_is_true(json_object_get(f, "not"))) {
            v = v == KU ? KU : v == KT ? KF : KT;
        }
        return v;
    }
    if (has_key(f, "table") && !has_key(f, "operator") && !has_key(f, "column")) {
        return ev_exists(e, f, t, row);
    }
    if (has_key(f, "refColumn")) {
        e->unsupported = true;
        return KU;
    }
    return ev_value(e, f, t, row);
}

static bool id_in(json_t *ids, long id)
{
    size_t i;
    json_t *x;
    json_array_foreach(ids, i, x) {
        if (json_is_number(x) && json_number_value(x) == (double)id) {
            return true;
        }
    }
    return false;
}

/* Ids of the from table the query selects (without joins): false if not evaluable. */
static bool eval_ids(const struct prop *p, const struct pctx *c, json_t *def, int from,
                     bool role, long *out, int *n)
{
    struct ev e = {p, c, role, false};
    const struct ptable *tb = &p->m.t[from];
    json_t *ids = json_object_get(def, "byIds"), *fs = json_object_get(def, "filters");
    *n = 0;
    for (int row = 0; row < tb->n_rows && !e.unsupported; row++) {
        long id = (long)json_integer_value(cell(tb, row, tb->pk));
        if ((role && !c->acc[from].pred[row]) || (ids != NULL && !id_in(ids, id))) {
            continue;
        }
        if (ev_list(&e, fs, from, row) == KT) {
            out[(*n)++] = id;
        }
    }
    return !e.unsupported;
}

/* ---- running the engine --------------------------------------------------------------------- */

struct run {
    struct cq_arena a;
    struct cq_dsl_compiled comp;
    struct cq_dsl_error e;
    int rc;                     /* compile rc */
    int xrc;                    /* execute rc (when compiled) */
    json_t *res;                /* parsed QueryResult */
    char *sql;
};

static int env_acquire(void *ctx, const char *conn, struct cq_conn **out, struct cq_err *err)
{
    struct prop *p = ctx;
    if (conn == NULL || strcmp(conn, p->cur->conn_name) != 0) {
        return cq_err_set(err, CQ_ENOTFOUND, "no connection '%s'", conn ? conn : "(null)");
    }
    *out = p->cur->conn;
    return CQ_OK;
}

static void env_release(void *ctx, struct cq_conn *c)
{
    (void)ctx;
    (void)c;
}

static void run_cleanup(struct run *r)
{
    cq_dsl_error_cleanup(&r->e);
    json_decref(r->res);
    free(r->sql);
    cq_arena_free(&r->a);
    memset(r, 0, sizeof(*r));
}

/* Parses, compiles and (when it compiles) executes; the arena keeps the compile alive. */
static void engine_run(struct prop *p, json_t *def, json_t *ctx, struct run *r)
{
    json_t *body = json_pack("{s:O,s:O}", "definition", def, "context", ctx);
    struct cq_dsl_query *q = NULL;
    struct cq_dsl_context qc;
    struct cq_dsl_opts opts;
    struct cq_dsl_exec_env env;
    struct cq_buf out;
    json_error_t je;

    memset(r, 0, sizeof(*r));
    memset(&qc, 0, sizeof(qc));
    memset(&opts, 0, sizeof(opts));
    memset(&env, 0, sizeof(env));
    cq_arena_init(&r->a, 16384, 0);
    r->rc = cq_dsl_parse_request(&r->a, body, false, &q, &qc, &r->e);
    json_decref(body);
    if (r->rc != CQ_OK) {
        return;
    }
    r->rc = cq_dsl_compile(p->cur->cat, q, &qc, &opts, &r->a, &r->comp, &r->e);
    if (r->rc != CQ_OK) {
        return;
    }
    r->sql = strdup(r->comp.sql != NULL ? r->comp.sql : "");
    env.ctx = p;
    env.acquire = env_acquire;
    env.release = env_release;
    env.include_sql_in_errors = true;
    cq_buf_init(&out, OUT_CAP);
    r->xrc = cq_dsl_execute(&r->comp, &env, &out, &r->e);
    if (r->xrc == CQ_OK) {
        r->res = json_loadb(out.p, out.len, 0, &je);
        if (r->res == NULL) {
            r->xrc = CQ_EPROTO;
            cq_dsl_error_simple(&r->e, CQ_DSL_E_INTERNAL, "BadJSON", je.text);
        }
    }
    cq_buf_cleanup(&out);
}

/* ---- check 1: the outcome ------------------------------------------------------------------- */

/* Why the context must be refused (first reason), or NULL. */
static const char *denial(const struct prop *p, const struct pctx *c, const struct qinfo *qi,
                          char *why, size_t size)
{
    for (int t = 0; t < p->m.n_tables; t++) {
        if (qi->touched[t] && !c->acc[t].allowed) {
            snprintf(why, size, "table '%s' is not granted", p->m.t[t].api);
            return why;
        }
    }
    for (int t = 0; t < p->m.n_tables; t++) {
        for (int k = 0; k < p->m.t[t].n_cols; k++) {
            if (qi->used[t][k] && !c->acc[t].cols[k]) {
                snprintf(why, size, "column '%s.%s' is not allowed", p->m.t[t].api,
                         p->m.t[t].cols[k].api);
                return why;
            }
        }
    }
    return NULL;
}

static bool in_context(const struct pctx *c, int role)
{
    for (int i = 0; i < c->n_user; i++) {
        if (c->user[i] == role) {
            return true;
        }
    }
    for (int i = 0; i < c->n_service; i++) {
        if (c->service[i] == role) {
            return true;
        }
    }
    return false;
}

/* A MISSING_CONTEXT entry is acceptable when that role of the context filters a touched
 * table on that key and the key is absent (INVALID_CONTEXT: present). */
static bool missing_ok(const struct prop *p, const struct pctx *c, const struct qinfo *qi,
                       const char *role, const char *key, bool present)
{
    int r = role_by_id(&p->m, role);
    if (r < 0 || key == NULL || !in_context(c, r) ||
        (c->values != NULL && json_object_get(c->values, key) != NULL) != present) {
        return false;
    }
    for (int t = 0; t < p->m.n_tables; t++) {
        const struct pgrant *g = &p->m.r[r].g[t];
        for (int k = 0; qi->touched[t] && g->granted && k < g->n_f; k++) {
            if (g->f[k].key != NULL && strcmp(g->f[k].key, key) == 0) {
                return true;
            }
        }
    }
    return false;
}

static bool entry_ok(struct prop *p, const struct pctx *c, const struct qinfo *qi, json_t *en,
                     bool *saw_denied, bool *saw_ghost, bool *saw_missing)
{
    const char *code = jstr(en, "code");
    json_t *d = json_object_get(en, "details");
    if (code == NULL) {
        return false;
    }
    if (strcmp(code, "UNKNOWN_ROLE") == 0) {
        *saw_ghost = true;
        return c->ghost;
    }
    if (strcmp(code, "ACCESS_DENIED") == 0) {
        int t = table_by_api(&p->m, jstr(d, "table"));
        int k = t >= 0 ? col_by_api(&p->m.t[t], jstr(d, "column")) : -1;
        *saw_denied = true;
        if (t < 0) {
            return false;
        }
        return !c->acc[t].allowed || (k >= 0 && !c->acc[t].cols[k]);
    }
    if (strcmp(code, "MISSING_CONTEXT") == 0) {
        *saw_missing = true;
        return missing_ok(p, c, qi, jstr(d, "role"), jstr(d, "contextKey"), false);
    }
    if (strcmp(code, "INVALID_CONTEXT") == 0) {
        /* refusing an empty or mistyped list is conservative, never a leak */
        json_t *v = c->values != NULL ? json_object_get(c->values, jstr(d, "contextKey")) : NULL;
        p->st.invalid_ctx++;
        return v != NULL && (!json_is_array(v) || json_array_size(v) == 0) &&
               missing_ok(p, c, qi, jstr(d, "role"), jstr(d, "contextKey"), true);
    }
    if (strcmp(code, "UNSUPPORTED_OPERATOR") == 0) {
        p->st.unsupported++;
        return true;
    }
    return false;
}

/* Returns true when the query compiled and should have. */
static bool check_outcome(struct prop *p, const struct pctx *c, const struct qinfo *qi,
                          struct run *r)
{
    char why[256];
    const char *denied = denial(p, c, qi, why, sizeof(why));
    bool need_missing = false, saw_denied = false, saw_ghost = false, saw_missing = false;
    json_t *errs, *en;
    size_t i;
    for (int t = 0; t < p->m.n_tables; t++) {
        need_missing = need_missing || (qi->touched[t] && c->acc[t].missing);
    }
    if (r->rc == CQ_OK) {
        if (c->ghost) {
            fail(p, "compiled although the context names an unknown role");
        } else if (denied != NULL) {
            fail(p, "compiled although %s", denied);
        } else if (need_missing) {
            fail(p, "compiled although a row filter's context value is absent");
        }
        return !p->case_failed;
    }
    if (r->e.cls != CQ_DSL_E_VALIDATION) {
        char *b = dump(r->e.body);
        fail(p, "a valid query failed to compile (rc %d): %s", r->rc, b);
        free(b);
        return false;
    }
    errs = json_object_get(r->e.body, "errors");
    json_array_foreach(errs, i, en) {
        if (!entry_ok(p, c, qi, en, &saw_denied, &saw_ghost, &saw_missing)) {
            char *b = dump(en);
            fail(p, "unexpected validation entry %s (expected: %s%s%s)", b,
                 denied != NULL ? denied : "no denial", c->ghost ? ", unknown role" : "",
                 need_missing ? ", missing context" : "");
            free(b);
        }
    }
    if (json_array_size(errs) == 0) {
        fail(p, "validation failed without entries");
    }
    if (denied != NULL && !saw_denied) {
        fail(p, "rejected, but without ACCESS_DENIED although %s", denied);
    }
    if (c->ghost && !saw_ghost) {
        fail(p, "rejected, but without UNKNOWN_ROLE");
    }
    if (denied == NULL && !c->ghost && need_missing && !saw_missing) {
        fail(p, "rejected, but without MISSING_CONTEXT");
    }
    if (!p->case_failed) {
        p->st.rejected_ok++;
        p->st.denied += saw_denied;
        p->st.unknown_role += saw_ghost;
        p->st.missing_ctx += saw_missing;
    }
    return false;
}

/* ---- check 2: column references in the SQL ------------------------------------------------- */

static bool is_rel_col(const struct model *m, int t, int c)
{
    for (int k = 0; k < m->t[t].n_rels; k++) {
        if (m->t[t].rels[k].col == c) {
            return true;
        }
    }
    for (int u = 0; u < m->n_tables; u++) {
        for (int k = 0; k < m->t[u].n_rels; k++) {
            if (m->t[u].rels[k].ref_table == t && m->t[u].rels[k].ref_col == c) {
                return true;
            }
        }
    }
    return false;
}

/* Reads `"t<digits>"` or `"s<digits>"` at s; returns the alias number or -1. */
static int read_alias(const char *s, const char **end)
{
    int n = 0;
    const char *q = s + 2;
    if (s[0] != '"' || (s[1] != 't' && s[1] != 's') || q[0] < '0' || q[0] > '9') {
        return -1;
    }
    for (; *q >= '0' && *q <= '9'; q++) {
        n = n * 10 + (*q - '0');
    }
    if (*q != '"' || n >= 64) {
        return -1;
    }
    *end = q + 1;
    return n;
}

static void check_sql(struct prop *p, const struct pctx *c, const char *sql)
{
    const struct model *m = &p->m;
    int alias_t[64];
    const char *s, *end;
    for (int i = 0; i < 64; i++) {
        alias_t[i] = -1;
    }
    /* `"phys" AS "tN"`: which table each alias names */
    for (s = strstr(sql, "\" AS \""); s != NULL; s = strstr(s + 1, "\" AS \"")) {
        int a = read_alias(s + 5, &end);
        const char *open = s - 1;
        int t = -1;
        if (a < 0) {
            continue;
        }
        while (open > sql && *open != '"') {
            open--;
        }
        for (int k = 0; k < m->n_tables; k++) {
            if (strlen(m->t[k].phys_last) == (size_t)(s - open - 1) &&
                strncmp(open + 1, m->t[k].phys_last, (size_t)(s - open - 1)) == 0) {
                t = k;
            }
        }
        if (t < 0) {
            fail(p, "SQL alias %c%d names no table of the query (at \"%.40s\")", s[6], a, open);
            continue;
        }
        if (!c->acc[t].allowed) {
            fail(p, "SQL reads table '%s', which the context may not read", m->t[t].api);
        }
        alias_t[a] = t;
    }
    /* `"tN"."col"`: each must be visible, a row-filter column, or a relation column */
    for (s = strchr(sql, '"'); s != NULL; s = strchr(s + 1, '"')) {
        int a = read_alias(s, &end), t, k;
        const char *close;
        if (a < 0 || end[0] != '.' || end[1] != '"') {
            continue;
        }
        close = strchr(end + 2, '"');
        if (close == NULL) {
            break;
        }
        t = alias_t[a];
        if (t < 0) {
            fail(p, "SQL column reference with unknown alias at \"%.40s\"", s);
            continue;
        }
        k = col_by_phys(&m->t[t], end + 2, (size_t)(close - end - 2));
        p->st.sql_refs++;
        if (k < 0) {
            fail(p, "SQL references unknown column %.*s of '%s'", (int)(close - end - 2),
                 end + 2, m->t[t].api);
        } else if (!c->acc[t].cols[k] && !c->acc[t].rls_cols[k] && !is_rel_col(m, t, k)) {
            fail(p, "SQL references '%s.%s', which the context may not see", m->t[t].api,
                 m->t[t].cols[k].api);
        }
        s = close;
    }
}

/* ---- checks 3 and 4: meta.columns, row keys and values ------------------------------------- */

static void check_meta(struct prop *p, json_t *meta, const struct ocol *exp, int n_exp)
{
    json_t *cols = json_object_get(meta, "columns"), *x;
    size_t i;
    if ((int)json_array_size(cols) != n_exp) {
        char *b = dump(cols);
        fail(p, "meta.columns has %zu entries, expected %d: %s", json_array_size(cols), n_exp, b);
        free(b);
        return;
    }
    json_array_foreach(cols, i, x) {
        const struct ocol *o = &exp[i];
        const char *name = jstr(x, "apiName");
        bool masked = json_is_true(json_object_get(x, "masked"));
        if (name == NULL || strcmp(name, o->key) != 0) {
            fail(p, "meta.columns[%zu] is '%s', expected '%s'", i, name ? name : "?", o->key);
            continue;
        }
        if (masked != o->masked) {
            fail(p, "meta.columns '%s' masked=%d, expected %d", o->key, masked, o->masked);
        }
        if (!o->agg) {
            const struct ptable *tb = &p->m.t[o->t];
            const char *ft = jstr(x, "fromTable"), *ty = jstr(x, "type");
            if (ft == NULL || strcmp(ft, tb->api) != 0) {
                fail(p, "meta.columns '%s' fromTable '%s', expected '%s'", o->key,
                     ft ? ft : "?", tb->api);
            }
            if (ty == NULL || strcmp(ty, tb->cols[o->c].type_name) != 0) {
                fail(p, "meta.columns '%s' type '%s', expected '%s'", o->key, ty ? ty : "?",
                     tb->cols[o->c].type_name);
            }
        }
    }
}

static void check_value(struct prop *p, const struct qinfo *qi, const struct ocol *o, json_t *v)
{
    const struct ptable *tb = &p->m.t[o->t];
    const struct pcol *col = &tb->cols[o->c];
    struct cq_buf b;
    bool joined = o->t != qi->from;
    p->st.values++;
    if (json_is_null(v)) {
        if (!col->nullable && !joined) {
            fail(p, "'%s' is null but the column is not nullable", o->key);
        }
        return;
    }
    cq_buf_init(&b, 1u << 20);
    canon(&b, v);
    if (o->masked) {
        p->st.masked_values++;
        if (col->mask == M_NUMBER ? !(json_is_number(v) && json_number_value(v) == 0)
                                  : !set_has(&col->masked, cq_buf_str(&b))) {
            char *s = dump(v);
            fail(p, "masked '%s' returned %s, which is no %s mask of a seeded value%s", o->key,
                 s, col->mask == M_NONE ? "full" : "its",
                 set_has(&col->raw, cq_buf_str(&b)) ? " (it is a clear value)" : "");
            free(s);
        }
    } else if (!set_has(&col->raw, cq_buf_str(&b))) {
        char *s = dump(v);
        fail(p, "'%s' returned %s, which is no seeded value of %s.%s", o->key, s, tb->api,
             col->api);
        free(s);
    }
    cq_buf_cleanup(&b);
}

/* Checks every row; collects the from table's ids when its key is returned (n_ids = -1
 * when it is not). Joined tables' ids must pass their own row filters. */
static void check_rows(struct prop *p, const struct pctx *c, const struct qinfo *qi,
                       json_t *data, const struct ocol *exp, int n_exp, long *ids, int *n_ids)
{
    size_t i;
    json_t *row;
    int id_col = -1;
    *n_ids = -1;
    for (int k = 0; k < n_exp; k++) {
        if (!exp[k].agg && exp[k].t == qi->from && exp[k].c == p->m.t[qi->from].pk) {
            id_col = k;
            *n_ids = 0;
        }
    }
    json_array_foreach(data, i, row) {
        const char *key;
        json_t *v;
        p->st.rows++;
        if (!json_is_object(row)) {
            fail(p, "row %zu is not an object", i);
            continue;
        }
        json_object_foreach(row, key, v) {
            int k = 0;
            while (k < n_exp && strcmp(exp[k].key, key) != 0) {
                k++;
            }
            if (k == n_exp) {
                fail(p, "row %zu returns key '%s', which is no expected column", i, key);
            }
        }
        for (int k = 0; k < n_exp; k++) {
            const struct ocol *o = &exp[k];
            const struct ptable *tb = &p->m.t[o->t];
            v = json_object_get(row, o->key);
            if (v == NULL) {
                fail(p, "row %zu lacks key '%s'", i, o->key);
                continue;
            }
            if (o->agg) {
                continue;
            }
            check_value(p, qi, o, v);
            if (o->c == tb->pk && json_is_integer(v)) {
                long id = (long)json_integer_value(v);
                if (id < 1 || id > tb->n_rows) {
                    fail(p, "'%s' = %ld is no row of %s", o->key, id, tb->api);
                } else if (!c->acc[o->t].pred[id - 1]) {
                    fail(p, "row %zu returns %s id %ld, which the row filters hide", i, tb->api,
                         id);
                } else if (o->t != qi->from) {
                    p->st.joined_ids++;
                }
                if (k == id_col && *n_ids < MAX_ROWS * 8) {
                    ids[(*n_ids)++] = id;
                }
            }
        }
    }
}

/* ---- check 5: rows against the row filters --------------------------------------------------- */

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

/* Whether multiset a is contained in multiset b (both sorted here). */
static bool sub_multiset(long *a, int na, long *b, int nb)
{
    int j = 0;
    qsort(a, (size_t)na, sizeof(*a), cmp_long);
    qsort(b, (size_t)nb, sizeof(*b), cmp_long);
    for (int i = 0; i < na; i++) {
        while (j < nb && b[j] < a[i]) {
            j++;
        }
        if (j == nb || b[j] != a[i]) {
            return false;
        }
        j++;
    }
    return true;
}

static void ids_text(char *out, size_t size, const long *v, int n)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n && len + 24 < size; i++) {
        len += (size_t)snprintf(out + len, size - len, "%s%ld", i ? "," : "", v[i]);
    }
}

/* The comparison query: the same rows as admin, returning only the from table's ids. */
static json_t *admin_def(const struct model *m, json_t *def, int from)
{
    json_t *a = json_deep_copy(def), *j;
    size_t i;
    static const char *const drop[] = {"aggregations", "groupBy", "having", "orderBy", "limit",
                                       "offset", "distinct"};
    for (size_t k = 0; k < sizeof(drop) / sizeof(drop[0]); k++) {
        json_object_del(a, drop[k]);
    }
    json_object_set_new(a, "columns", json_pack("[s]", m->t[from].cols[m->t[from].pk].api));
    json_object_set_new(a, "executeMode", json_string("execute"));
    json_array_foreach(json_object_get(a, "joins"), i, j) {
        json_object_set_new(j, "columns", json_array());
    }
    return a;
}

/* Runs the comparison query; ids into out (NULL-safe on failure: returns -1). */
static int admin_ids(struct prop *p, json_t *def, int from, long *out, int cap)
{
    json_t *adef = admin_def(&p->m, def, from), *actx, *row;
    const char *pk = p->m.t[from].cols[p->m.t[from].pk].api;
    struct run r;
    size_t i;
    int n = 0;
    actx = json_pack("{s:{s:[s]}}", "roles", "user", "admin");
    engine_run(p, adef, actx, &r);
    if (r.rc != CQ_OK || r.xrc != CQ_OK) {
        char *b = dump(r.e.body), *q = dump(adef);
        fail(p, "the admin comparison query failed: %s (query %s, sql %s)", b, q,
             r.sql != NULL ? r.sql : "-");
        free(b);
        free(q);
        n = -1;
    }
    json_array_foreach(json_object_get(r.res, "data"), i, row) {
        if (n >= 0 && n < cap) {
            out[n++] = (long)json_integer_value(json_object_get(row, pk));
        }
    }
    json_decref(adef);
    json_decref(actx);
    run_cleanup(&r);
    return n;
}

enum cat { C_EXACT = 0, C_ADMIN_EXACT, C_ADMIN_SUBSET, C_PRED_ONLY };

static const char *cat_name(enum cat k)
{
    static const char *const n[] = {"exact", "admin-exact", "admin-subset", "row-filter-only"};
    return n[k];
}

static void compare_rows(struct prop *p, const struct qinfo *qi, enum cat k, json_t *res,
                         long *ids, int n_ids, long *exp, int n_exp)
{
    json_t *data = json_object_get(res, "data"), *row;
    bool exactish = k == C_EXACT || k == C_ADMIN_EXACT;
    long lim = (long)json_integer_value(json_object_get(p->def, "limit"));
    long off = (long)json_integer_value(json_object_get(p->def, "offset"));
    long rows = (long)json_array_size(data), want = n_exp - off;
    char a[512], b[512];
    size_t i;
    want = want < 0 ? 0 : qi->limit && want > lim ? lim : want;
    if (qi->mode == 1) {
        long n = (long)json_integer_value(json_object_get(res, "count"));
        if (exactish ? n != n_exp : n > n_exp) {
            fail(p, "count is %ld, expected %s%d (%s)", n, exactish ? "" : "<= ", n_exp,
                 cat_name(k));
        }
        return;
    }
    if (qi->aggs) {
        long sum = 0;
        if (!exactish || qi->count_alias == NULL || qi->having) {
            return;
        }
        json_array_foreach(data, i, row) {
            sum += (long)json_integer_value(json_object_get(row, qi->count_alias));
        }
        p->st.agg_sum++;
        if (sum != n_exp) {
            fail(p, "count(*) over the groups sums to %ld, expected %d (%s)", sum, n_exp,
                 cat_name(k));
        }
        return;
    }
    if (n_ids >= 0) {
        bool ok = sub_multiset(ids, n_ids, exp, n_exp);
        if (ok && exactish && !qi->limit) {
            ok = n_ids == n_exp;
        }
        if (ok && exactish && qi->limit && !qi->distinct) {
            ok = rows == want;
        }
        if (!ok) {
            ids_text(a, sizeof(a), ids, n_ids);
            ids_text(b, sizeof(b), exp, n_exp);
            fail(p, "ids [%s] vs expected %s[%s] (%s)", a, exactish ? "" : "within ", b,
                 cat_name(k));
        }
        return;
    }
    if (!qi->distinct && (exactish ? rows != (qi->limit ? want : n_exp) : rows > n_exp)) {
        fail(p, "%ld rows, expected %s%ld (%s)", rows, exactish ? "" : "<= ",
             qi->limit ? want : (long)n_exp, cat_name(k));
    }
}

static void check_row_filters(struct prop *p, const struct pctx *c, const struct qinfo *qi,
                              json_t *def, json_t *res, long *ids, int n_ids)
{
    const struct ptable *tb = &p->m.t[qi->from];
    long *exp = calloc(MAX_ROWS * 8, sizeof(long)), *adm = calloc(MAX_ROWS * 8, sizeof(long));
    long *mine = calloc(MAX_ROWS, sizeof(long));
    int n_exp = 0, n_adm, n_mine = 0;
    bool left_join = qi->n_join > 0 && (qi->join_left[0] || (qi->n_join > 1 && qi->join_left[1]));
    enum cat k;
    n_adm = admin_ids(p, def, qi->from, adm, MAX_ROWS * 8);
    if (n_adm < 0) {
        goto out;
    }
    /* As admin first: it evaluates every row the role's evaluation can reach, so when it
     * meets nothing unsupported, neither does the role's. */
    if (qi->n_join == 0 && eval_ids(p, c, def, qi->from, false, mine, &n_mine) &&
        eval_ids(p, c, def, qi->from, true, exp, &n_exp)) {
        k = C_EXACT;
        /* the admin run must agree with the test's own evaluation, or neither is trusted */
        if (n_mine != n_adm || !sub_multiset(adm, n_adm, mine, n_mine)) {
            char a[512], b[512];
            ids_text(a, sizeof(a), adm, n_adm);
            ids_text(b, sizeof(b), mine, n_mine);
            fail(p, "as admin the query returns ids [%s]; evaluated here: [%s]", a, b);
        }
        p->st.exact_admin++;
    } else {
        k = qi->n_join == 0 && !qi->exists_any                   ? C_ADMIN_EXACT
            : !qi->exists_nonmono && !(left_join && qi->joined_filter) ? C_ADMIN_SUBSET
                                                                       : C_PRED_ONLY;
        for (int i = 0; i < n_adm; i++) {
            if (adm[i] >= 1 && adm[i] <= tb->n_rows && c->acc[qi->from].pred[adm[i] - 1]) {
                exp[n_exp++] = adm[i];
            }
        }
    }
    switch (k) {
    case C_EXACT: p->st.exact++; break;
    case C_ADMIN_EXACT: p->st.admin_exact++; break;
    case C_ADMIN_SUBSET: p->st.admin_subset++; break;
    case C_PRED_ONLY: p->st.pred_only++; break;
    }
    if (k != C_PRED_ONLY) {
        compare_rows(p, qi, k, res, ids, n_ids, exp, n_exp);
    }
out:
    free(exp);
    free(adm);
    free(mine);
}

/* ---- one case -------------------------------------------------------------------------------- */

/* Runs one generated case on the current backend and checks everything. */
static void check_on(struct prop *p, json_t *def, const struct pctx *c, const struct qinfo *qi)
{
    struct run run;
    struct ocol exp[MAX_OUT];
    long *ids = calloc(MAX_ROWS * 8, sizeof(long));
    int n_ids = -1, n_exp;
    const char *kind;

    p->sql = NULL;
    p->case_failed = false;
    p->st.cases++;
    p->cur->cases++;
    p->st.targeted += qi->targeted;
    engine_run(p, def, c->json, &run);
    p->sql = run.sql;
    if (p->verbose) {
        char *q = dump(def), *x = dump(c->json), *e = dump(run.e.body);
        printf("case %llu on %s\n  query:   %s\n  context: %s\n  sql:     %s\n  error:   %s\n",
               (unsigned long long)p->idx, p->cur->name, q, x, run.sql ? run.sql : "-", e);
        free(q);
        free(x);
        free(e);
    }
    if (p->verbose && run.res != NULL) {
        char *x = dump(run.res);
        printf("  result:  %.4000s\n", x);
        free(x);
    }
    if (!check_outcome(p, c, qi, &run)) {
        goto out;
    }
    p->st.compiled++;
    check_sql(p, c, run.sql);
    if (run.xrc != CQ_OK) {
        char *b = dump(run.e.body);
        fail(p, "execution failed (rc %d): %s", run.xrc, b);
        free(b);
        goto out;
    }
    kind = jstr(run.res, "kind");
    if (kind == NULL || strcmp(kind, qi->mode == 1 ? "count" : qi->mode == 2 ? "sql" : "data")) {
        fail(p, "result kind '%s' for mode %s", kind ? kind : "?", mode_name(qi->mode));
        goto out;
    }
    n_exp = expect_cols(&p->m, def, c, qi, exp);
    check_meta(p, json_object_get(run.res, "meta"), exp, n_exp);
    if (qi->mode == 2) {
        p->st.sql_only++;
        goto out;
    }
    p->st.executed++;
    if (qi->mode == 1) {
        p->st.counts++;
    } else {
        check_rows(p, c, qi, json_object_get(run.res, "data"), exp, n_exp, ids, &n_ids);
    }
    check_row_filters(p, c, qi, def, run.res, ids, n_ids);
out:
    p->sql = NULL;
    run_cleanup(&run);
    free(ids);
}

static void run_case(struct prop *p, uint64_t idx)
{
    struct rng r = {p->seed ^ ((idx + 1) * 0xA0761D6478BD642Full)};
    struct pctx c;
    struct qinfo qi;
    struct gen g = {p, &r, &c, &qi, 8};
    json_t *def;

    rnd(&r);
    gen_context(p, &r, &c);
    def = gen_query(&g);
    p->idx = idx;
    p->def = def;
    p->ctx = c.json;
    for (int b = 0; b < p->n_be; b++) {
        struct backend *be = &p->be[b];
        if (idx % (uint64_t)be->every != 0 ||
            (strcmp(be->name, "postgres") == 0 && qi.levenshtein && !p->pg_fuzzy)) {
            continue;
        }
        p->cur = be;
        check_on(p, def, &c, &qi);
    }
    p->def = p->ctx = NULL;
    json_decref(def);
    json_decref(c.json);
}

/* ---- main ------------------------------------------------------------------------------------ */

static uint64_t env_u64(const char *name, uint64_t dflt, bool *set)
{
    const char *v = getenv(name);
    char *end = NULL;
    uint64_t x;
    if (set != NULL) {
        *set = false;
    }
    if (v == NULL || *v == '\0') {
        return dflt;
    }
    x = strtoull(v, &end, 10);
    if (end == v || *end != '\0') {
        die("%s must be a decimal number, got '%s'", name, v);
    }
    if (set != NULL) {
        *set = true;
    }
    return x;
}

static void fixture_path(char *out, size_t size)
{
    const char *src = getenv("CQ_SOURCE_DIR");
    if (src != NULL && *src != '\0') {
        snprintf(out, size, "%s/tests/integration/dsl_property/catalog.json", src);
    } else {
        const char *f = __FILE__, *slash = strrchr(f, '/');
        snprintf(out, size, "%.*sdsl_property/catalog.json",
                 slash != NULL ? (int)(slash - f + 1) : 0, f);
    }
}

static struct cq_dsl_catalog *make_catalog(json_t *metadata, json_t *roles)
{
    json_t *cfgerr = NULL;
    struct cq_err err = {0};
    struct cq_dsl_catalog *cat = cq_dsl_catalog_new(metadata, roles, NULL, &cfgerr, &err);
    if (cat == NULL) {
        char *b = dump(cfgerr);
        die("the fixture catalog does not load: %s %s", err.msg, b);
    }
    return cat;
}

static void open_sqlite(struct prop *p)
{
    struct cq_err err = {0};
    struct cq_dsn dsn = {.name = "prop", .target = p->dbpath, .read_only = true};
    struct backend *be = &p->be[p->n_be++];
    be->name = "sqlite";
    be->conn_name = "prop";
    be->every = 1;
    be->cat = make_catalog(json_object_get(p->m.doc, "metadata"),
                           json_object_get(p->m.doc, "roles"));
    be->conn = cq_drv_connect(&cq_drv_sqlite, &dsn, &err);
    if (be->conn == NULL) {
        die("cannot open %s: %s", p->dbpath, err.msg);
    }
}

/* ---- PostgreSQL: the same schema and rows in a schema of their own ----------------------- */

#ifndef CQ_WITHOUT_PG
static int pg_run(struct cq_conn *c, const char *sql, const struct cq_param *ps, size_t n,
                  struct cq_err *err)
{
    struct cq_stmt st = {.sql = sql, .params = ps, .n_params = n};
    return cq_drv_exec(c, &st, &cq_drv_discard_sink, err);
}

static void pg_must(struct cq_conn *c, const char *sql, const struct cq_param *ps, size_t n)
{
    struct cq_err err = {0};
    if (pg_run(c, sql, ps, n, &err) != CQ_OK) {
        die("postgres: %s (%.200s)", err.msg, sql);
    }
}

static const char *pg_type(const struct pcol *c)
{
    static const char *const t[] = {"text", "integer", "numeric", "boolean", "uuid", "date",
                                    "timestamp(3)"};
    return t[c->type];
}

/* Parameter text of a seeded value (arrays as JSON, unnested in the INSERT). */
static char *pg_text(const json_t *v)
{
    struct cq_buf b;
    char *s;
    cq_buf_init(&b, 1u << 20);
    if (json_is_array(v)) {
        char *j = json_dumps(v, JSON_COMPACT);
        cq_buf_puts(&b, j);
        free(j);
    } else {
        js_str(&b, v, false);
    }
    s = strdup(cq_buf_str(&b));
    cq_buf_cleanup(&b);
    return s;
}

static void pg_table(struct prop *p, const struct ptable *t)
{
    struct cq_buf b;
    size_t n = (size_t)t->n_rows * (size_t)t->n_cols, k = 0;
    struct cq_param *ps = calloc(n, sizeof(*ps));
    cq_buf_init(&b, 16u << 20);
    cq_buf_printf(&b, "CREATE TABLE \"%s\".", p->schema);
    cq_test_quote_ident(&b, t->phys_last, strlen(t->phys_last));
    cq_buf_puts(&b, " (");
    for (int c = 0; c < t->n_cols; c++) {
        cq_buf_puts(&b, c > 0 ? ", " : "");
        cq_test_quote_ident(&b, t->cols[c].phys, strlen(t->cols[c].phys));
        cq_buf_printf(&b, " %s%s%s%s", pg_type(&t->cols[c]), t->cols[c].array ? "[]" : "",
                      c == t->pk ? " PRIMARY KEY" : "", t->cols[c].nullable ? "" : " NOT NULL");
    }
    cq_buf_puts(&b, ")");
    pg_must(p->pg_setup, cq_buf_str(&b), NULL, 0);
    cq_buf_reset(&b);
    cq_buf_printf(&b, "INSERT INTO \"%s\".", p->schema);
    cq_test_quote_ident(&b, t->phys_last, strlen(t->phys_last));
    cq_buf_puts(&b, " VALUES ");
    for (int row = 0; row < t->n_rows; row++) {
        cq_buf_puts(&b, row > 0 ? ", (" : "(");
        for (int c = 0; c < t->n_cols; c++, k++) {
            const struct pcol *col = &t->cols[c];
            json_t *v = cell(t, row, c);
            ps[k].type = json_is_null(v) ? CQ_P_NULL : CQ_P_TEXT;
            ps[k].text = json_is_null(v) ? NULL : pg_text(v);
            ps[k].len = ps[k].text != NULL ? strlen(ps[k].text) : 0;
            cq_buf_puts(&b, c > 0 ? ", " : "");
            if (col->array) {
                cq_buf_printf(&b, "CASE WHEN $%zu::json IS NULL THEN NULL ELSE ARRAY(SELECT "
                              "json_array_elements_text($%zu::json))::%s[] END",
                              k + 1, k + 1, pg_type(col));
            } else {
                cq_buf_printf(&b, "$%zu::%s", k + 1, pg_type(col));
            }
        }
        cq_buf_putc(&b, ')');
    }
    pg_must(p->pg_setup, cq_buf_str(&b), ps, n);
    for (size_t i = 0; i < n; i++) {
        free((char *)(uintptr_t)ps[i].text);
    }
    free(ps);
    cq_buf_cleanup(&b);
}

/* The fixture's metadata, served by PostgreSQL from the test's schema. */
static json_t *pg_metadata(const struct prop *p)
{
    json_t *md = json_deep_copy(json_object_get(p->m.doc, "metadata")), *x;
    size_t i;
    json_array_foreach(json_object_get(md, "databases"), i, x) {
        json_object_set_new(x, "engine", json_string("postgres"));
        json_object_set_new(x, "connection", json_string("prop-pg"));
    }
    json_array_foreach(json_object_get(md, "tables"), i, x) {
        char phys[256];
        snprintf(phys, sizeof(phys), "%s.%s", p->schema, p->m.t[i].phys_last);
        json_object_set_new(x, "physicalName", json_string(phys));
    }
    return md;
}

static void open_pg(struct prop *p)
{
    const char *target = cq_test_env("CQ_IT_PG_DSN");
    struct cq_err err = {0};
    struct cq_dsn dsn = {.name = "prop-pg", .target = target, .connect_timeout_ms = 5000};
    struct backend *be;
    char sql[256];
    json_t *md;
    if (target == NULL) {
        printf("it_dsl_property: no PostgreSQL (CQ_IT_PG_DSN): SQLite only\n");
        return;
    }
    p->pg_setup = cq_drv_connect(&cq_drv_pg, &dsn, &err);
    if (p->pg_setup == NULL) {
        die("cannot connect to PostgreSQL: %s", err.msg);
    }
    snprintf(p->schema, sizeof(p->schema), "it_dsl_property_%ld", (long)getpid());
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS \"%s\" CASCADE", p->schema);
    pg_must(p->pg_setup, sql, NULL, 0);
    snprintf(sql, sizeof(sql), "CREATE SCHEMA \"%s\"", p->schema);
    pg_must(p->pg_setup, sql, NULL, 0);
    p->pg_fuzzy = pg_run(p->pg_setup, "CREATE EXTENSION IF NOT EXISTS fuzzystrmatch", NULL, 0,
                         &err) == CQ_OK;
    for (int t = 0; t < p->m.n_tables; t++) {
        pg_table(p, &p->m.t[t]);
    }
    be = &p->be[p->n_be++];
    be->name = "postgres";
    be->conn_name = "prop-pg";
    be->every = 3;
    md = pg_metadata(p);
    be->cat = make_catalog(md, json_object_get(p->m.doc, "roles"));
    json_decref(md);
    dsn.read_only = true;
    be->conn = cq_drv_connect(&cq_drv_pg, &dsn, &err);
    if (be->conn == NULL) {
        die("cannot connect to PostgreSQL: %s", err.msg);
    }
}

static void close_pg(struct prop *p)
{
    char sql[256];
    if (p->pg_setup == NULL) {
        return;
    }
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS \"%s\" CASCADE", p->schema);
    pg_must(p->pg_setup, sql, NULL, 0);
    cq_drv_disconnect(p->pg_setup);
}
#else
static void open_pg(struct prop *p)
{
    (void)p; /* built without the PostgreSQL driver: SQLite only */
}

static void close_pg(struct prop *p)
{
    (void)p;
}
#endif

static void print_stats(const struct prop *p)
{
    const struct stats *s = &p->st;
    printf("it_dsl_property: seed=%llu cases=%ld compiled=%ld rejected-as-expected=%ld "
           "(denied %ld, unknown role %ld, missing context %ld, invalid context %ld, "
           "unsupported %ld)\n"
           "  executed=%ld (count %ld) sql-only=%ld rows=%ld values=%ld masked=%ld "
           "sql-refs=%ld joined-ids=%ld\n"
           "  row checks: exact=%ld (admin agreed %ld) admin-exact=%ld admin-subset=%ld "
           "row-filter-only=%ld targeted-exists=%ld agg-sums=%ld\n"
           "  failed: %d",
           (unsigned long long)p->seed, s->cases, s->compiled, s->rejected_ok, s->denied,
           s->unknown_role, s->missing_ctx, s->invalid_ctx, s->unsupported, s->executed, s->counts,
           s->sql_only, s->rows, s->values, s->masked_values, s->sql_refs, s->joined_ids,
           s->exact, s->exact_admin, s->admin_exact, s->admin_subset, s->pred_only, s->targeted,
           s->agg_sum, p->n_failed);
    for (int b = 0; b < p->n_be; b++) {
        printf("%s %s %ld/%ld", b == 0 ? " (" : ",", p->be[b].name, p->be[b].failed,
               p->be[b].cases);
    }
    printf(")\n");
}

/* A run that checked next to nothing proves nothing: the engine rejecting every query, or
 * returning no rows, must fail too. */
static int coverage_failures(const struct prop *p, uint64_t n_cases)
{
    const struct stats *s = &p->st;
    int bad = 0;
    if (n_cases < 500) {
        return 0; /* a reproduction run of a few cases */
    }
    bad += s->compiled * 3 < s->cases;
    bad += s->executed * 4 < s->cases;
    bad += s->rows < s->executed;
    bad += s->masked_values < 100;
    bad += s->exact < 50 || s->admin_exact < 20 || s->admin_subset < 20;
    bad += s->joined_ids < 20;
    bad += s->rejected_ok < 50;
    if (bad > 0) {
        fprintf(stderr, "it_dsl_property: too little was checked (see the counts above)\n");
    }
    return bad;
}

int main(void)
{
    static struct prop p;
    char path[1400];
    bool one = false;
    uint64_t n_cases, only;
    uint64_t dflt_seed = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();

    p.seed = env_u64("CQ_PROP_SEED", dflt_seed, NULL);
    n_cases = env_u64("CQ_PROP_CASES", 2000, NULL);
    only = env_u64("CQ_PROP_CASE", 0, &one);
    p.verbose = one || getenv("CQ_PROP_VERBOSE") != NULL;
    fixture_path(path, sizeof(path));
    load_model(&p.m, path);
    {
        char *dir = cq_test_tmpdir("it_dsl_property");
        snprintf(p.dir, sizeof(p.dir), "%s", dir);
        free(dir);
    }
    snprintf(p.dbpath, sizeof(p.dbpath), "%s/prop.db", p.dir);
    printf("it_dsl_property: seed=%llu (set CQ_PROP_SEED to repeat)\n",
           (unsigned long long)p.seed);
    fflush(stdout);
    seed_database(&p);
    open_sqlite(&p);
    if (getenv("CQ_PROP_NO_PG") == NULL) {
        open_pg(&p);
    }
    for (uint64_t i = one ? only : 0; one ? i == only : i < n_cases; i++) {
        run_case(&p, i);
    }
    print_stats(&p);
    int bad = one ? 0 : coverage_failures(&p, n_cases);
    for (int b = 0; b < p.n_be; b++) {
        cq_drv_disconnect(p.be[b].conn);
        cq_dsl_catalog_unref(p.be[b].cat);
    }
    close_pg(&p);
    if (p.n_failed == 0 && bad == 0) {
        unlink(p.dbpath);
        rmdir(p.dir);
    }
    for (int t = 0; t < p.m.n_tables; t++) {
        for (int k = 0; k < p.m.t[t].n_cols; k++) {
            set_free(&p.m.t[t].cols[k].raw);
            set_free(&p.m.t[t].cols[k].masked);
        }
        json_decref(p.m.t[t].rows);
        free(p.m.t[t].cells);
    }
    json_decref(p.m.doc);
    if (p.n_failed > 0 || bad > 0) {
        fprintf(stderr, "it_dsl_property: FAILED (seed=%llu; rerun one case with "
                        "CQ_PROP_SEED=%llu CQ_PROP_CASE=<case>)\n",
                (unsigned long long)p.seed, (unsigned long long)p.seed);
        return 1;
    }
    return 0;
}

#endif
