/*
 * result.c - the row sink of a governed query: each row becomes one JSON object whose
 * keys are re-keyed from the select alias to the result key (spec §10.2: keys matching no
 * alias pass unchanged), whose values are converted to the column's metadata type (§0.8)
 * and masked where the column is masked (§10.4, never aggregations).
 *
 * Value conversion by metadata type (the driver's text is the input):
 *   int, decimal   JSON numbers with the database's exact digits (int8 and numeric too)
 *   boolean        true/false; SQLite 0/1 (and "t"/"f" text) become booleans
 *   date           "YYYY-MM-DD" (the first ten characters of an ISO date or timestamp)
 *   timestamp      "YYYY-MM-DDTHH:MM:SS.mmmZ": any ISO or SQL form, converted to UTC from
 *                  its offset (none = UTC); text that is no timestamp is passed as is
 *   string, uuid   JSON strings
 *   arrays         JSON arrays: PostgreSQL arrays arrive as JSON from the driver, SQLite
 *                  keeps JSON text; date/timestamp/boolean elements are normalised as above
 * Columns that match no outcol keep the driver's kind. NULL is null everywhere.
 *
 * Masking sees the converted value as JavaScript's String() would print it (numbers in
 * JavaScript form, arrays comma-joined), so a masked timestamp is "<year>-01-01" like the
 * reference's Date objects.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/str.h"
#include "base/tz.h"
#include "dsl/exec_int.h"

#define PG_NAMEDATALEN 63          /* PostgreSQL truncates longer column labels */
#define SCRATCH_MAX (256u << 20)   /* bytes: one converted value */

enum cv_kind { CV_NULL = 0, CV_STR, CV_NUM, CV_BOOL, CV_JSON };

/* One converted value; p points into the driver's value or into r->scratch. */
struct cv {
    enum cv_kind k;
    const char *p;
    size_t len;
};

/* ---- dates and timestamps ------------------------------------------------------------ */

static bool digits_at(const char *s, size_t len, size_t i, size_t n, int *out)
{
    int v = 0;
    if (i + n > len) {
        return false;
    }
    for (size_t k = 0; k < n; k++) {
        if (!isdigit((unsigned char)s[i + k])) {
            return false;
        }
        v = v * 10 + (s[i + k] - '0');
    }
    *out = v;
    return true;
}

/* "YYYY-MM-DD" at the start of s: its year/month/day and the length read (10). */
static bool parse_date(const char *s, size_t len, int *y, int *m, int *d)
{
    return digits_at(s, len, 0, 4, y) && len > 4 && s[4] == '-' && digits_at(s, len, 5, 2, m) &&
           len > 7 && s[7] == '-' && digits_at(s, len, 8, 2, d) && *m >= 1 && *m <= 12 &&
           *d >= 1 && *d <= 31;
}

/* The offset at s[i..len) ("Z", "+hh", "+hh:mm", "+hhmm", "+hh:mm:ss"), in seconds. */
static bool parse_offset(const char *s, size_t len, size_t i, int64_t *off)
{
    int hh = 0, mm = 0, ss = 0;
    if (i < len && s[i] == ' ') {
        i++;
    }
    if (i == len) {
        *off = 0; /* no offset: the value is UTC (timestamp without time zone) */
        return true;
    }
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        *off = 0;
        return true;
    }
    if ((s[i] != '+' && s[i] != '-') || !digits_at(s, len, i + 1, 2, &hh)) {
        return false;
    }
    int sign = s[i] == '-' ? -1 : 1;
    size_t j = i + 3;
    for (int part = 0; part < 2 && j < len; part++) {
        if (s[j] == ':') {
            j++;
        }
        if (!digits_at(s, len, j, 2, part == 0 ? &mm : &ss)) {
            return false;
        }
        j += 2;
    }
    if (j != len || mm > 59 || ss > 59) {
        return false;
    }
    *off = sign * ((int64_t)hh * 3600 + mm * 60 + ss);
    return true;
}

bool cq_dsl_ts_iso(const char *s, size_t len, struct cq_buf *out)
{
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
    int64_t off = 0;
    size_t i = 10;

    if (!parse_date(s, len, &y, &mo, &d)) {
        return false;
    }
    if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ') && i + 1 < len &&
        isdigit((unsigned char)s[i + 1])) {
        if (!digits_at(s, len, i + 1, 2, &h) || i + 3 >= len || s[i + 3] != ':' ||
            !digits_at(s, len, i + 4, 2, &mi)) {
            return false;
        }
        i += 6;
        if (i < len && s[i] == ':') {
            if (!digits_at(s, len, i + 1, 2, &sec)) {
                return false;
            }
            i += 3;
        }
        if (i < len && (s[i] == '.' || s[i] == ',')) {
            int scale = 100;
            i++;
            if (i >= len || !isdigit((unsigned char)s[i])) {
                return false;
            }
            for (; i < len && isdigit((unsigned char)s[i]); i++) {
                ms += (s[i] - '0') * scale; /* milliseconds; finer digits are dropped */
                scale /= 10;
            }
        }
        if (h > 24 || mi > 59 || sec > 60) {
            return false;
        }
    }
    if (!parse_offset(s, len, i, &off)) {
        return false;
    }
    /* the instant in UTC; an hour 24 or a second 60 carries over */
    struct cq_tm utc;
    cq_tz_local(NULL, cq_tz_timegm(y, mo, d, h, mi, sec) - off, &utc);
    cq_buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.year, utc.mon, utc.mday,
                  utc.hour, utc.min, utc.sec, ms);
    return true;
}

/* ---- conversion -------------------------------------------------------------------------- */

static void from_driver(const struct cq_value *v, struct cv *cv)
{
    cv->p = v->p;
    cv->len = v->len;
    switch (v->kind) {
    case CQ_V_NUMBER: cv->k = CV_NUM; break;
    case CQ_V_BOOL: cv->k = CV_BOOL; break;
    case CQ_V_JSON: cv->k = CV_JSON; break;
    default: cv->k = CV_STR; break;
    }
}

static void set_bool(struct cv *cv, bool b)
{
    cv->k = CV_BOOL;
    cv->p = b ? "true" : "false";
    cv->len = b ? 4 : 5;
}

/* A number's text is zero when no digit 1-9 comes before the exponent. */
static bool num_is_zero(const char *p, size_t len)
{
    for (size_t i = 0; i < len && p[i] != 'e' && p[i] != 'E'; i++) {
        if (p[i] >= '1' && p[i] <= '9') {
            return false;
        }
    }
    return true;
}

static bool word_is(const char *p, size_t len, const char *w)
{
    size_t n = strlen(w);
    if (len != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (tolower((unsigned char)p[i]) != w[i]) {
            return false;
        }
    }
    return true;
}

static void conv_bool(const struct cq_value *v, struct cv *cv)
{
    if (v->kind == CQ_V_NUMBER) {
        set_bool(cv, !num_is_zero(v->p, v->len));
    } else if (v->kind == CQ_V_STRING && (word_is(v->p, v->len, "true") ||
                                          word_is(v->p, v->len, "t"))) {
        set_bool(cv, true);
    } else if (v->kind == CQ_V_STRING && (word_is(v->p, v->len, "false") ||
                                          word_is(v->p, v->len, "f"))) {
        set_bool(cv, false);
    }
}

static int dump_cb(const char *p, size_t len, void *data)
{
    cq_buf_append(data, p, len);
    return 0;
}

/* One element of an array whose elements need rewriting. */
static void put_elem(struct cq_buf *b, enum cq_dsl_type t, json_t *x)
{
    const char *s = json_is_string(x) ? json_string_value(x) : NULL;
    size_t len = s != NULL ? json_string_length(x) : 0;
    int y, m, d;
    if (t == CQ_DSL_T_DATE && s != NULL && parse_date(s, len, &y, &m, &d)) {
        cq_json_put_str(b, s, 10);
    } else if (t == CQ_DSL_T_TIMESTAMP && s != NULL) {
        size_t mark = b->len;
        cq_buf_putc(b, '"');
        if (cq_dsl_ts_iso(s, len, b)) {
            cq_buf_putc(b, '"');
        } else if (b->rc == CQ_OK) {
            b->len = mark; /* not a timestamp: the text as it is */
            b->p[mark] = '\0';
            cq_json_put_str(b, s, len);
        }
    } else if (t == CQ_DSL_T_BOOLEAN && json_is_number(x)) {
        cq_buf_puts(b, json_number_value(x) != 0 ? "true" : "false");
    } else if (s != NULL) {
        cq_json_put_str(b, s, len);
    } else {
        json_dump_callback(x, dump_cb, b, JSON_COMPACT | JSON_ENCODE_ANY);
    }
}

static void conv_array(struct cq_dsl_result *r, const struct cq_dsl_outcol *oc,
                       const struct cq_value *v, struct cv *cv)
{
    bool rewrite = oc->type == CQ_DSL_T_DATE || oc->type == CQ_DSL_T_TIMESTAMP ||
                   oc->type == CQ_DSL_T_BOOLEAN;
    json_error_t je;
    json_t *j;

    from_driver(v, cv);
    if ((v->kind == CQ_V_JSON && !rewrite) || (v->kind != CQ_V_JSON && v->kind != CQ_V_STRING)) {
        return; /* the driver's JSON array (exact digits), or not an array at all */
    }
    j = json_loadb(v->p, v->len, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &je);
    if (j == NULL || !json_is_array(j)) {
        json_decref(j);
        return; /* SQLite text that is no JSON array: kept as a string */
    }
    cv->k = CV_JSON;
    if (rewrite) {
        size_t i;
        json_t *x;
        cq_buf_putc(&r->scratch, '[');
        json_array_foreach(j, i, x) {
            if (i > 0) {
                cq_buf_putc(&r->scratch, ',');
            }
            put_elem(&r->scratch, oc->type, x);
        }
        cq_buf_putc(&r->scratch, ']');
        cv->p = cq_buf_str(&r->scratch);
        cv->len = r->scratch.len;
    }
    json_decref(j);
}

/* Converts v to oc's metadata type (oc NULL = the driver's kind). */
static void convert(struct cq_dsl_result *r, const struct cq_dsl_outcol *oc,
                    const struct cq_value *v, struct cv *cv)
{
    int y, m, d;
    cq_buf_reset(&r->scratch);
    if (v->kind == CQ_V_NULL || v->p == NULL) {
        cv->k = CV_NULL;
        return;
    }
    if (oc == NULL) {
        from_driver(v, cv);
        return;
    }
    if (oc->array) {
        conv_array(r, oc, v, cv);
        return;
    }
    from_driver(v, cv);
    switch (oc->type) {
    case CQ_DSL_T_INT:
    case CQ_DSL_T_DECIMAL:
        if (v->kind == CQ_V_STRING && cq_json_is_number(v->p, v->len)) {
            cv->k = CV_NUM; /* SQLite text holding a number */
        }
        break;
    case CQ_DSL_T_BOOLEAN:
        conv_bool(v, cv);
        break;
    case CQ_DSL_T_DATE:
        if (v->kind == CQ_V_STRING && parse_date(v->p, v->len, &y, &m, &d)) {
            cv->len = 10;
        }
        break;
    case CQ_DSL_T_TIMESTAMP:
        if (v->kind == CQ_V_STRING && cq_dsl_ts_iso(v->p, v->len, &r->scratch)) {
            cv->p = cq_buf_str(&r->scratch);
            cv->len = r->scratch.len;
        }
        break;
    case CQ_DSL_T_STRING:
    case CQ_DSL_T_UUID:
        cv->k = CV_STR; /* the metadata says string, whatever the storage class */
        break;
    }
}

/* ---- masking ---------------------------------------------------------------------------- */

static void js_string_json(struct cq_buf *b, json_t *j, bool in_array)
{
    char tmp[48];
    size_t i;
    json_t *x;
    switch (json_typeof(j)) {
    case JSON_NULL:
        if (!in_array) {
            cq_buf_puts(b, "null"); /* String(null); [null].join() is "" */
        }
        break;
    case JSON_TRUE:
        cq_buf_puts(b, "true");
        break;
    case JSON_FALSE:
        cq_buf_puts(b, "false");
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        cq_dsl_js_number(json_number_value(j), tmp, sizeof(tmp));
        cq_buf_puts(b, tmp);
        break;
    case JSON_STRING:
        cq_buf_append(b, json_string_value(j), json_string_length(j));
        break;
    case JSON_ARRAY:
        json_array_foreach(j, i, x) {
            if (i > 0) {
                cq_buf_putc(b, ',');
            }
            js_string_json(b, x, true);
        }
        break;
    case JSON_OBJECT:
        cq_buf_puts(b, "[object Object]");
        break;
    }
}

/* The text String(value) gives in JavaScript for a converted value, into r->text. */
static void stringify(struct cq_dsl_result *r, const struct cv *cv)
{
    char tmp[64], num[48];
    json_error_t je;
    cq_buf_reset(&r->text);
    switch (cv->k) {
    case CV_NUM:
        if (cv->len < sizeof(tmp)) {
            memcpy(tmp, cv->p, cv->len);
            tmp[cv->len] = '\0';
            cq_dsl_js_number(strtod(tmp, NULL), num, sizeof(num));
            cq_buf_puts(&r->text, num);
            return;
        }
        break;
    case CV_JSON: {
        json_t *j = json_loadb(cv->p, cv->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        if (j != NULL) {
            js_string_json(&r->text, j, false);
            json_decref(j);
            return;
        }
        break;
    }
    default:
        break;
    }
    cq_buf_append(&r->text, cv->p, cv->len);
}

static void write_value(struct cq_dsl_result *r, const struct cq_dsl_outcol *oc,
                        const struct cq_value *v)
{
    struct cv cv = {0};
    convert(r, oc, v, &cv);
    if (cq_buf_rc(&r->scratch) != CQ_OK) {
        if (r->out->rc == CQ_OK) {
            r->out->rc = cq_buf_rc(&r->scratch); /* on_row reports it */
        }
        return;
    }
    if (cv.k == CV_NULL) {
        cq_buf_puts(r->out, "null");
        return;
    }
    if (oc != NULL && oc->masked && !oc->is_agg) {
        stringify(r, &cv);
        if (cq_buf_rc(&r->text) != CQ_OK) {
            cq_buf_puts(r->out, "\"***\""); /* never the clear text */
            return;
        }
        cq_dsl_mask(oc->mask_fn, cq_buf_str(&r->text), r->text.len, r->out);
        return;
    }
    if (cv.k == CV_STR) {
        cq_json_put_str(r->out, cv.p, cv.len);
    } else {
        cq_buf_append(r->out, cv.p, cv.len);
    }
}

/* ---- the sink ----------------------------------------------------------------------------- */

static bool alias_matches(const struct cq_dsl_compiled *c, const char *alias, const char *name)
{
    if (strcmp(alias, name) == 0) {
        return true;
    }
    /* PostgreSQL cuts labels at 63 bytes; the cut alias still identifies the column */
    return c->dialect == CQ_DIALECT_PG && strlen(alias) > PG_NAMEDATALEN &&
           strlen(name) == PG_NAMEDATALEN && strncmp(alias, name, PG_NAMEDATALEN) == 0;
}

static int on_columns(void *ctx, size_t n, const struct cq_col *cols, struct cq_err *err)
{
    struct cq_dsl_result *r = ctx;
    r->n = n;
    r->oc = cq_arena_alloc(r->a, (n + 1) * sizeof(*r->oc));
    r->key_off = cq_arena_alloc(r->a, (n + 1) * sizeof(*r->key_off));
    r->key_len = cq_arena_alloc(r->a, (n + 1) * sizeof(*r->key_len));
    if (r->oc == NULL || r->key_off == NULL || r->key_len == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "out of memory describing the result");
    }
    cq_buf_reset(&r->keys);
    for (size_t i = 0; i < n; i++) {
        const char *key = cols[i].name != NULL ? cols[i].name : "";
        for (size_t j = 0; j < r->c->n_cols && r->oc[i] == NULL; j++) {
            const struct cq_dsl_outcol *oc = &r->c->cols[j];
            if (oc->sql_alias != NULL && alias_matches(r->c, oc->sql_alias, key)) {
                r->oc[i] = oc;
            }
        }
        if (r->oc[i] != NULL) {
            key = r->oc[i]->key;
        }
        r->key_off[i] = r->keys.len;
        cq_json_put_str(&r->keys, key, strlen(key));
        cq_buf_putc(&r->keys, ':');
        r->key_len[i] = r->keys.len - r->key_off[i];
    }
    if (cq_buf_rc(&r->keys) != CQ_OK) {
        return cq_err_set(err, CQ_ENOMEM, "out of memory describing the result");
    }
    return CQ_OK;
}

/* The count of count mode: a number, or text read as a base-10 integer (parseInt); 0 when
 * there is none. */
static int64_t read_count(const struct cq_value *v)
{
    char tmp[32];
    const char *p = tmp;
    int64_t x = 0;
    size_t len = v->len < sizeof(tmp) - 1 ? v->len : sizeof(tmp) - 1;
    if (v->p == NULL || (v->kind != CQ_V_NUMBER && v->kind != CQ_V_STRING)) {
        return 0;
    }
    memcpy(tmp, v->p, len);
    tmp[len] = '\0';
    while (*p == ' ' || *p == '\t' || *p == '\n') {
        p++;
    }
    return cq_parse_i64(&p, &x) == CQ_OK ? x : 0;
}

static int on_row(void *ctx, size_t n, const struct cq_value *vals, struct cq_err *err)
{
    struct cq_dsl_result *r = ctx;
    struct cq_buf *out = r->out;
    if (r->count_mode) {
        if (r->rows == 0 && n > 0) {
            r->count = read_count(&vals[0]);
        }
        r->rows++;
        return CQ_OK;
    }
    if (r->rows > 0) {
        cq_buf_putc(out, ',');
    }
    cq_buf_putc(out, '{');
    for (size_t i = 0; i < n && i < r->n; i++) {
        if (i > 0) {
            cq_buf_putc(out, ',');
        }
        cq_buf_append(out, r->keys.p + r->key_off[i], r->key_len[i]);
        write_value(r, r->oc[i], &vals[i]);
    }
    cq_buf_putc(out, '}');
    r->rows++;
    if (cq_buf_rc(out) == CQ_ETOOBIG) {
        return cq_err_set(err, CQ_ETOOBIG, "the result is larger than %zu bytes", out->max);
    }
    if (cq_buf_rc(out) != CQ_OK) {
        return cq_err_set(err, CQ_ENOMEM, "out of memory writing the result");
    }
    return CQ_OK;
}

static int on_end(void *ctx, const struct cq_result_info *info, struct cq_err *err)
{
    struct cq_dsl_result *r = ctx;
    (void)err;
    if (info != NULL && info->truncated) {
        r->truncated_reason = info->truncated_reason != NULL ? info->truncated_reason : "limit";
    }
    return CQ_OK;
}

void cq_dsl_result_init(struct cq_dsl_result *r, const struct cq_dsl_compiled *c,
                        struct cq_arena *a, struct cq_buf *out)
{
    memset(r, 0, sizeof(*r));
    r->c = c;
    r->a = a;
    r->out = out;
    r->count_mode = c->q != NULL && c->q->mode == CQ_DSL_MODE_COUNT;
    cq_buf_init(&r->keys, SCRATCH_MAX);
    cq_buf_init(&r->scratch, SCRATCH_MAX);
    cq_buf_init(&r->text, SCRATCH_MAX);
}

void cq_dsl_result_cleanup(struct cq_dsl_result *r)
{
    cq_buf_cleanup(&r->keys);
    cq_buf_cleanup(&r->scratch);
    cq_buf_cleanup(&r->text);
}

struct cq_rowsink cq_dsl_result_sink(struct cq_dsl_result *r)
{
    struct cq_rowsink s = {.ctx = r, .on_columns = on_columns, .on_row = on_row,
                           .on_end = on_end};
    return s;
}
