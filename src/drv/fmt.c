/*
 * fmt.c - result writers behind one row sink (see fmt.h and docs/internals/sink.md).
 *
 * Every writer appends to one capped output buffer and hands it to the write callback in
 * pieces of at most 64 KiB once it passes 64 KiB, and at the end. Per-row work is plain
 * appends of precomputed pieces (JSON keys are escaped once, in on_columns), so a million
 * rows cost a million short memcpy runs rather than printf calls. Not thread-safe.
 */
#include "drv/fmt.h"

#include <inttypes.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"

#define FLUSH_AT (64u * 1024u)        /* bytes: pending output is written past this */
#define PENDING_MAX (256u << 20)      /* bytes: one formatted value (plus 64 KiB) must fit */
#define TABLE_ROWS 1000               /* rows buffered to choose table widths */
#define TABLE_BYTES (1u << 20)        /* ... or bytes of rendered cell text */
#define CELL_MAX 120                  /* display columns of a table cell before "…" */

/* One buffered table cell: rendered text in table.text and its display width. */
struct cell {
    size_t off;   /* bytes into table.text */
    size_t len;   /* bytes */
    size_t width; /* display columns (code points) */
};

struct table {
    size_t *width;      /* n_cols display widths, fixed once the header is printed */
    bool *right;        /* n_cols: right-align (number columns) */
    struct cq_buf text; /* rendered text of the buffered cells */
    struct cell *cells; /* n_buffered rows of n_cols cells */
    size_t n_buffered;  /* rows held */
    size_t cap;         /* rows the cells array can hold */
    bool fixed;         /* header and buffered rows printed; rows now stream one by one */
};

struct fmt_ops;

struct cq_fmt {
    struct cq_rowsink sink;     /* first: cq_drv_fmt_sink hands out &f->sink */
    const struct fmt_ops *ops;
    cq_write_fn write;
    void *wctx;
    struct cq_buf out;          /* pending output */
    size_t mark;                /* out.len before the current step (rollback point) */
    int wrc;                    /* sticky write error: the stream is over */
    bool started;               /* on_columns ran */
    bool ended;                 /* on_end ran */
    bool truncated;             /* on_end said truncated */
    int64_t n_rows;             /* rows formatted */
    size_t n_cols;
    struct cq_buf names;        /* column names, NUL-separated (JSON: de-duplicated) */
    size_t *name_off;           /* n_cols + 1 offsets into names */
    struct cq_buf keys;         /* JSON: per column "{\"a\":" / ",\"b\":" */
    size_t *key_off;            /* n_cols + 1 offsets into keys */
    struct table tab;
};

/* What each format does at each step; every slot non-NULL. Appends go to f->out (its
 * sticky error is checked by the caller); the int return reports other failures. */
struct fmt_ops {
    const char *name;
    int (*columns)(struct cq_fmt *f, const struct cq_col *cols);
    int (*row)(struct cq_fmt *f, const struct cq_value *vals);
    void (*end)(struct cq_fmt *f, const struct cq_result_info *info);
    void (*fail)(struct cq_fmt *f, const struct cq_err *cause);
};

static const char spaces[64] = "                                                                ";
static const char dashes[64] = "----------------------------------------------------------------";

static void put_run(struct cq_buf *b, const char *run, size_t n)
{
    while (n > 0) {
        size_t k = n < 64 ? n : 64;
        cq_buf_append(b, run, k);
        n -= k;
    }
}

static const char *col_name(const struct cq_fmt *f, size_t i)
{
    return f->names.p + f->name_off[i];
}

/* ---- names and keys ------------------------------------------------------------------- */

static bool name_taken(const struct cq_fmt *f, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(col_name(f, i), name) == 0) {
            return true;
        }
    }
    return false;
}

/* Records column names; with dedup, a repeated name gets _2, _3... so JSON keys differ.
 * The suffix starts at 1 + the earlier columns with the same name, so n equal names cost
 * O(n^2) comparisons, not O(n^3). */
static int set_names(struct cq_fmt *f, const struct cq_col *cols, bool dedup)
{
    struct cq_buf cand;
    int rc = CQ_OK;
    cq_buf_init(&cand, PENDING_MAX);
    f->name_off = cq_calloc(f->n_cols + 1, sizeof(*f->name_off));
    if (f->name_off == NULL) {
        rc = CQ_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < f->n_cols; i++) {
        const char *base = cols[i].name ? cols[i].name : "";
        size_t k = 1;
        for (size_t j = 0; dedup && j < i; j++) {
            k += strcmp(cols[j].name ? cols[j].name : "", base) == 0;
        }
        cq_buf_reset(&cand);
        cq_buf_puts(&cand, base);
        while (k > 1 || (dedup && name_taken(f, i, cq_buf_str(&cand)))) {
            k = k > 1 ? k : 2;
            cq_buf_reset(&cand);
            cq_buf_printf(&cand, "%s_%zu", base, k);
            if (cq_buf_rc(&cand) != CQ_OK || !name_taken(f, i, cq_buf_str(&cand))) {
                break;
            }
            k++;
        }
        f->name_off[i] = f->names.len;
        cq_buf_append(&f->names, cq_buf_str(&cand), cand.len + 1); /* with its NUL */
        f->name_off[i + 1] = f->names.len;
        if (cq_buf_rc(&f->names) != CQ_OK) {
            break; /* name_taken must not read a half-written list */
        }
    }
    rc = cq_buf_rc(&cand) ? cq_buf_rc(&cand) : cq_buf_rc(&f->names);
out:
    cq_buf_cleanup(&cand);
    return rc;
}

/* Pre-escapes each JSON key with what goes before it, so a row is plain appends. */
static int set_keys(struct cq_fmt *f)
{
    f->key_off = cq_calloc(f->n_cols + 1, sizeof(*f->key_off));
    if (f->key_off == NULL) {
        return CQ_ENOMEM;
    }
    for (size_t i = 0; i < f->n_cols; i++) {
        const char *name = col_name(f, i);
        f->key_off[i] = f->keys.len;
        cq_buf_putc(&f->keys, i == 0 ? '{' : ',');
        cq_json_put_str(&f->keys, name, strlen(name));
        cq_buf_putc(&f->keys, ':');
    }
    f->key_off[f->n_cols] = f->keys.len;
    return cq_buf_rc(&f->keys);
}

/* ---- JSON and NDJSON ------------------------------------------------------------------ */

static void put_json_value(struct cq_buf *b, const struct cq_value *v)
{
    switch (v->kind) {
    case CQ_V_NULL: cq_buf_append(b, "null", 4); return;
    case CQ_V_NUMBER:
        /* Drivers pass exact digits; anything that is not a JSON number (NaN) is quoted
         * so the document stays valid. */
        if (cq_json_is_number(v->p, v->len)) {
            cq_buf_append(b, v->p, v->len);
            return;
        }
        break;
    case CQ_V_BOOL:
        if ((v->len == 4 && memcmp(v->p, "true", 4) == 0) ||
            (v->len == 5 && memcmp(v->p, "false", 5) == 0)) {
            cq_buf_append(b, v->p, v->len);
            return;
        }
        break;
    case CQ_V_JSON:
        if (v->len > 0) {
            cq_buf_append(b, v->p, v->len); /* valid JSON by the sink contract */
        } else {
            cq_buf_append(b, "null", 4);
        }
        return;
    case CQ_V_STRING: break;
    }
    cq_json_put_str(b, v->p, v->len);
}

static void put_json_object(struct cq_fmt *f, const struct cq_value *vals)
{
    if (f->n_cols == 0) {
        cq_buf_append(&f->out, "{}", 2);
        return;
    }
    for (size_t i = 0; i < f->n_cols; i++) {
        cq_buf_append(&f->out, f->keys.p + f->key_off[i], f->key_off[i + 1] - f->key_off[i]);
        put_json_value(&f->out, &vals[i]);
    }
    cq_buf_putc(&f->out, '}');
}

static int ndjson_columns(struct cq_fmt *f, const struct cq_col *cols)
{
    int rc = set_names(f, cols, true);
    return rc != CQ_OK ? rc : set_keys(f);
}

static int json_columns(struct cq_fmt *f, const struct cq_col *cols)
{
    int rc = ndjson_columns(f, cols);
    if (rc != CQ_OK) {
        return rc;
    }
    cq_buf_puts(&f->out, "{\"fields\":[");
    for (size_t i = 0; i < f->n_cols; i++) {
        const char *name = col_name(f, i), *type = cols[i].type ? cols[i].type : "";
        cq_buf_puts(&f->out, i == 0 ? "{\"name\":" : ",{\"name\":");
        cq_json_put_str(&f->out, name, strlen(name));
        cq_buf_puts(&f->out, ",\"type\":");
        cq_json_put_str(&f->out, type, strlen(type));
        cq_buf_putc(&f->out, '}');
    }
    cq_buf_puts(&f->out, "],\"rows\":[");
    return CQ_OK;
}

static int json_row(struct cq_fmt *f, const struct cq_value *vals)
{
    if (f->n_rows > 0) { /* n_rows counts rows already written */
        cq_buf_putc(&f->out, ',');
    }
    put_json_object(f, vals);
    return CQ_OK;
}

static int ndjson_row(struct cq_fmt *f, const struct cq_value *vals)
{
    put_json_object(f, vals);
    cq_buf_putc(&f->out, '\n');
    return CQ_OK;
}

/* Milliseconds with 1 to 3 decimals ("0.8", "12.345", "5.0"), locale-independent. */
static void put_ms(struct cq_buf *b, double ms)
{
    if (!(ms >= 0.0) || ms > 1e12) {
        ms = 0.0; /* NaN or nonsense: never write an invalid number */
    }
    uint64_t us = (uint64_t)(ms * 1000.0 + 0.5);
    unsigned frac = (unsigned)(us % 1000);
    char d[3] = {(char)('0' + frac / 100), (char)('0' + frac / 10 % 10), (char)('0' + frac % 10)};
    int nd = 3;
    while (nd > 1 && d[nd - 1] == '0') {
        nd--;
    }
    cq_buf_printf(b, "%" PRIu64 ".%.*s", us / 1000, nd, d);
}

static void json_end(struct cq_fmt *f, const struct cq_result_info *info)
{
    cq_buf_printf(&f->out, "],\"rowCount\":%" PRId64 ",\"truncated\":%s", f->n_rows,
                  info->truncated ? "true" : "false");
    if (info->truncated && info->truncated_reason != NULL) {
        cq_buf_puts(&f->out, ",\"truncatedReason\":");
        cq_json_put_str(&f->out, info->truncated_reason, strlen(info->truncated_reason));
    }
    cq_buf_puts(&f->out, ",\"elapsedMs\":");
    put_ms(&f->out, info->elapsed_ms);
    if (info->rows_affected >= 0) {
        cq_buf_printf(&f->out, ",\"rowsAffected\":%" PRId64, info->rows_affected);
    }
    if (info->command != NULL) {
        cq_buf_puts(&f->out, ",\"command\":");
        cq_json_put_str(&f->out, info->command, strlen(info->command));
    }
    cq_buf_puts(&f->out, "}\n");
}

static void json_fail(struct cq_fmt *f, const struct cq_err *cause)
{
    const char *msg = cause ? cause->msg : "";
    cq_buf_printf(&f->out, "],\"rowCount\":%" PRId64 ",\"truncated\":true,\"error\":{\"code\":",
                  f->n_rows);
    const char *code = cq_rc_name(cause ? cause->rc : CQ_EINTERNAL);
    cq_json_put_str(&f->out, code, strlen(code));
    cq_buf_puts(&f->out, ",\"message\":");
    cq_json_put_str(&f->out, msg, strlen(msg));
    if (cause != NULL && cause->backend_code[0] != '\0') {
        cq_buf_puts(&f->out, ",\"sqlstate\":");
        cq_json_put_str(&f->out, cause->backend_code, strnlen(cause->backend_code, 8));
    }
    cq_buf_puts(&f->out, "}}\n");
}

static void nothing_at_end(struct cq_fmt *f, const struct cq_result_info *info)
{
    (void)f, (void)info;
}

static void nothing_on_fail(struct cq_fmt *f, const struct cq_err *cause)
{
    (void)f, (void)cause;
}

/* ---- CSV (RFC 4180) ------------------------------------------------------------------- */

/* Bytes that force quoting anywhere in a field. */
static const unsigned char csv_special[256] = {[','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1};

/* Quoted when empty (so "" differs from NULL), when holding , " CR LF, or when starting or
 * ending with a space or tab (which readers may trim). */
static void put_csv_field(struct cq_buf *b, const char *p, size_t len)
{
    if (len == 0) {
        cq_buf_append(b, "\"\"", 2); /* p may be NULL here */
        return;
    }
    bool quote = p[0] == ' ' || p[0] == '\t' || p[len - 1] == ' ' ||
                 p[len - 1] == '\t';
    for (size_t i = 0; i < len && !quote; i++) {
        quote = csv_special[(unsigned char)p[i]] != 0;
    }
    if (!quote) {
        cq_buf_append(b, p, len);
        return;
    }
    cq_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '"') {
            cq_buf_append(b, p + run, i + 1 - run); /* through the quote, then double it */
            run = i;
        }
    }
    cq_buf_append(b, p + run, len - run);
    cq_buf_putc(b, '"');
}

static int csv_columns(struct cq_fmt *f, const struct cq_col *cols)
{
    int rc = set_names(f, cols, false);
    if (rc != CQ_OK || f->n_cols == 0) {
        return rc; /* no columns (DML): no header, nothing at all */
    }
    for (size_t i = 0; i < f->n_cols; i++) {
        if (i > 0) {
            cq_buf_putc(&f->out, ',');
        }
        put_csv_field(&f->out, col_name(f, i), strlen(col_name(f, i)));
    }
    cq_buf_append(&f->out, "\r\n", 2);
    return CQ_OK;
}

static int csv_row(struct cq_fmt *f, const struct cq_value *vals)
{
    if (f->n_cols == 0) {
        return CQ_OK;
    }
    for (size_t i = 0; i < f->n_cols; i++) {
        if (i > 0) {
            cq_buf_putc(&f->out, ',');
        }
        if (vals[i].kind != CQ_V_NULL) {
            put_csv_field(&f->out, vals[i].p, vals[i].len);
        }
    }
    cq_buf_append(&f->out, "\r\n", 2);
    return CQ_OK;
}

/* ---- table ------------------------------------------------------------------------------ */

/* One display unit of a cell: a character, an escape (\n \t \r \xHH) or U+FFFD for a bad
 * byte. Sets the bytes to show and their display width; returns input bytes used. */
static size_t next_unit(const unsigned char *s, size_t len, char esc[4], const char **show,
                        size_t *show_len, size_t *width)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = s[0];
    size_t n = cq_utf8_seq(s, len);
    *show = (const char *)s;
    *show_len = n;
    *width = 1;
    if (n == 0) {
        *show = "\xEF\xBF\xBD";
        *show_len = 3;
        return 1;
    }
    if (c >= 0x20 && c != 0x7F) {
        return n;
    }
    esc[0] = '\\';
    esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r' : 'x';
    esc[2] = hex[c >> 4];
    esc[3] = hex[c & 15];
    *show = esc;
    *show_len = *width = esc[1] == 'x' ? 4 : 2;
    return 1;
}

/* Appends the cell as shown: escaped, and cut to CELL_MAX columns with "…". Returns its
 * display width. A first pass finds the cut so nothing is appended and taken back. */
static size_t render_cell(struct cq_buf *b, const char *p, size_t len)
{
    const unsigned char *s = (const unsigned char *)p;
    char esc[4];
    const char *show;
    size_t show_len, uw, w = 0, i = 0, cut = len, cut_w = 0;
    if (len == 0) {
        return 0; /* p may be NULL */
    }
    while (i < len) {
        size_t adv = next_unit(s + i, len - i, esc, &show, &show_len, &uw);
        if (w + uw > CELL_MAX) {
            break;
        }
        w += uw;
        i += adv;
        if (w <= CELL_MAX - 1) {
            cut = i;
            cut_w = w;
        }
    }
    size_t end = i < len ? cut : len, run = 0;
    for (i = 0; i < end;) {
        size_t adv = next_unit(s + i, end - i, esc, &show, &show_len, &uw);
        if (show != p + i) { /* escaped or replaced: flush the verbatim run before it */
            cq_buf_append(b, p + run, i - run);
            cq_buf_append(b, show, show_len);
            run = i + adv;
        }
        i += adv;
    }
    cq_buf_append(b, p + run, end - run);
    if (end < len) {
        cq_buf_append(b, "\xE2\x80\xA6", 3); /* … */
        return cut_w + 1;
    }
    return w;
}

enum align { A_LEFT, A_RIGHT, A_CENTER };

/* " text " padded to width; the last column gets no trailing padding, so lines never end
 * in spaces. */
static void put_cell(struct cq_buf *b, const char *t, size_t len, size_t tw, size_t width,
                     enum align al, bool last)
{
    size_t gap = width > tw ? width - tw : 0;
    size_t left = al == A_RIGHT ? gap : al == A_CENTER ? gap / 2 : 0;
    if (last && len == 0) {
        return;
    }
    put_run(b, spaces, 1 + left);
    cq_buf_append(b, t, len);
    if (!last) {
        put_run(b, spaces, gap - left + 1);
    }
}

static void table_header(struct cq_fmt *f)
{
    struct table *t = &f->tab;
    for (size_t i = 0; i < f->n_cols; i++) {
        const char *name = col_name(f, i);
        size_t len = f->name_off[i + 1] - f->name_off[i] - 1;
        if (i > 0) {
            cq_buf_putc(&f->out, '|');
        }
        put_cell(&f->out, name, len, t->cells[i].width, t->width[i], A_CENTER,
                 i + 1 == f->n_cols);
    }
    cq_buf_putc(&f->out, '\n');
    for (size_t i = 0; i < f->n_cols; i++) {
        if (i > 0) {
            cq_buf_putc(&f->out, '+');
        }
        put_run(&f->out, dashes, t->width[i] + 2);
    }
    cq_buf_putc(&f->out, '\n');
}

/* Prints buffered row r (cells[r * n_cols ...]). */
static void table_line(struct cq_fmt *f, size_t r)
{
    struct table *t = &f->tab;
    const struct cell *c = t->cells + r * f->n_cols;
    for (size_t i = 0; i < f->n_cols; i++) {
        if (i > 0) {
            cq_buf_putc(&f->out, '|');
        }
        put_cell(&f->out, cq_buf_str(&t->text) + c[i].off, c[i].len, c[i].width, t->width[i],
                 t->right[i] ? A_RIGHT : A_LEFT, i + 1 == f->n_cols);
    }
    cq_buf_putc(&f->out, '\n');
}

/* Widths are now final: print the header and every buffered row, then stream. Row 0 of
 * the cells array holds the header names' widths while buffering. */
static void table_fix(struct cq_fmt *f)
{
    struct table *t = &f->tab;
    table_header(f);
    for (size_t r = 1; r < t->n_buffered; r++) {
        table_line(f, r);
    }
    t->fixed = true;
    t->n_buffered = 1;
    cq_buf_reset(&t->text);
}

static int table_columns(struct cq_fmt *f, const struct cq_col *cols)
{
    struct table *t = &f->tab;
    struct cq_buf shown;
    int rc = CQ_OK;
    cq_buf_init(&shown, PENDING_MAX);
    t->cap = 16;
    t->width = cq_calloc(f->n_cols + 1, sizeof(*t->width));
    t->right = cq_calloc(f->n_cols + 1, sizeof(*t->right));
    t->cells = cq_calloc(t->cap * (f->n_cols + 1), sizeof(*t->cells));
    if (t->width == NULL || t->right == NULL || t->cells == NULL) {
        rc = CQ_ENOMEM;
        goto out;
    }
    /* Names are stored as shown (escaped, cut), with their widths in cells row 0. */
    for (size_t i = 0; i < f->n_cols; i++) {
        const char *name = cols[i].name ? cols[i].name : "";
        size_t off = shown.len;
        t->cells[i].width = render_cell(&shown, name, strlen(name));
        cq_buf_putc(&shown, '\0');
        t->cells[i].off = off;
        t->width[i] = t->cells[i].width;
        t->right[i] = cols[i].kind == CQ_V_NUMBER;
    }
    t->n_buffered = 1;
    rc = cq_buf_rc(&shown);
    if (rc == CQ_OK) {
        struct cq_col *named = cq_calloc(f->n_cols + 1, sizeof(*named));
        for (size_t i = 0; named != NULL && i < f->n_cols; i++) {
            named[i].name = cq_buf_str(&shown) + t->cells[i].off;
        }
        rc = named == NULL ? CQ_ENOMEM : set_names(f, named, false);
        cq_free(named);
    }
out:
    cq_buf_cleanup(&shown);
    return rc;
}

static int table_grow(struct table *t, size_t n_cols)
{
    size_t cap = t->cap * 2, bytes;
    if (!cq_size_mul(&bytes, cap, n_cols) || !cq_size_mul(&bytes, bytes, sizeof(*t->cells))) {
        return CQ_ENOMEM;
    }
    struct cell *c = cq_realloc(t->cells, bytes);
    if (c == NULL) {
        return CQ_ENOMEM;
    }
    t->cells = c;
    t->cap = cap;
    return CQ_OK;
}

static int table_row(struct cq_fmt *f, const struct cq_value *vals)
{
    struct table *t = &f->tab;
    if (f->n_cols == 0) {
        return CQ_OK;
    }
    if (t->n_buffered == t->cap && table_grow(t, f->n_cols) != CQ_OK) {
        return CQ_ENOMEM;
    }
    struct cell *c = t->cells + t->n_buffered * f->n_cols;
    for (size_t i = 0; i < f->n_cols; i++) {
        c[i].off = t->text.len;
        c[i].width = vals[i].kind == CQ_V_NULL ? 0 : render_cell(&t->text, vals[i].p, vals[i].len);
        c[i].len = t->text.len - c[i].off;
        if (!t->fixed && c[i].width > t->width[i]) {
            t->width[i] = c[i].width;
        }
    }
    if (cq_buf_rc(&t->text) != CQ_OK) {
        return cq_buf_rc(&t->text);
    }
    t->n_buffered++;
    if (t->fixed) {
        table_line(f, 1); /* later rows keep the widths; a longer cell widens its line */
        t->n_buffered = 1;
        cq_buf_reset(&t->text);
    } else if (t->n_buffered > TABLE_ROWS || t->text.len >= TABLE_BYTES) {
        table_fix(f);
    }
    return CQ_OK;
}

static void table_end(struct cq_fmt *f, const struct cq_result_info *info)
{
    if (f->n_cols == 0) {
        /* Nothing tabular (DML): what the database said happened. */
        if (info->command != NULL) {
            cq_buf_printf(&f->out, "%s\n", info->command);
        } else if (info->rows_affected >= 0) {
            cq_buf_printf(&f->out, "(%" PRId64 " rows affected)\n", info->rows_affected);
        } else {
            cq_buf_printf(&f->out, "(%" PRId64 " rows)\n", f->n_rows);
        }
        return;
    }
    if (!f->tab.fixed) {
        table_fix(f);
    }
    cq_buf_printf(&f->out, "(%" PRId64 " row%s)\n", f->n_rows, f->n_rows == 1 ? "" : "s");
    if (info->truncated) {
        cq_buf_printf(&f->out, "(truncated: %s)\n",
                      info->truncated_reason ? info->truncated_reason : "limit");
    }
}

static void table_fail(struct cq_fmt *f, const struct cq_err *cause)
{
    (void)cause;
    if (f->n_cols > 0 && !f->tab.fixed) {
        table_fix(f); /* show what arrived; the error itself goes to stderr */
    }
}

/* ---- sink plumbing ---------------------------------------------------------------------- */

static const struct fmt_ops formats[] = {
    [CQ_FMT_JSON] = {"json", json_columns, json_row, json_end, json_fail},
    [CQ_FMT_NDJSON] = {"ndjson", ndjson_columns, ndjson_row, nothing_at_end, nothing_on_fail},
    [CQ_FMT_CSV] = {"csv", csv_columns, csv_row, nothing_at_end, nothing_on_fail},
    [CQ_FMT_TABLE] = {"table", table_columns, table_row, table_end, table_fail},
};

/* Writes the first `upto` pending bytes in pieces of at most FLUSH_AT, then empties the
 * buffer (which also clears its sticky error). */
static int flush(struct cq_fmt *f, size_t upto)
{
    for (size_t off = 0; f->wrc == CQ_OK && off < upto; off += FLUSH_AT) {
        size_t n = upto - off < FLUSH_AT ? upto - off : FLUSH_AT;
        f->wrc = f->write(f->wctx, f->out.p + off, n);
    }
    cq_buf_reset(&f->out);
    return f->wrc;
}

/* After a step: on failure (the step's rc, else the buffer's sticky error) keeps only the
 * output before the step (f->mark), so a half-written row never reaches the reader and
 * cq_drv_fmt_fail can still close the document; on success writes pending output when
 * past FLUSH_AT or when `all`. */
static int settle(struct cq_fmt *f, int rc, bool all, struct cq_err *err)
{
    const char *name = f->ops->name;
    if (rc == CQ_OK) {
        rc = cq_buf_rc(&f->out);
    }
    if (rc != CQ_OK) {
        flush(f, f->mark <= f->out.len ? f->mark : f->out.len);
        if (rc == CQ_ETOOBIG) {
            return cq_err_set(err, rc, "%s output: a value too large to format (over %u MiB)",
                              name, PENDING_MAX >> 20);
        }
        return cq_err_set(err, rc, "%s output: %s", name, cq_rc_name((enum cq_rc)rc));
    }
    if ((all || f->out.len >= FLUSH_AT) && flush(f, f->out.len) != CQ_OK) {
        return cq_err_set(err, f->wrc, "%s output: write failed (%s)", name,
                          cq_rc_name((enum cq_rc)f->wrc));
    }
    return CQ_OK;
}

/* A stream whose writes failed stays failed: every later call reports it. */
static int check_open(const struct cq_fmt *f, struct cq_err *err)
{
    if (f->wrc != CQ_OK) {
        return cq_err_set(err, f->wrc, "%s output: write failed earlier (%s)", f->ops->name,
                          cq_rc_name((enum cq_rc)f->wrc));
    }
    return CQ_OK;
}

static int sink_columns(void *ctx, size_t n, const struct cq_col *cols, struct cq_err *err)
{
    struct cq_fmt *f = ctx;
    int rc = check_open(f, err);
    if (rc != CQ_OK) {
        return rc;
    }
    if (f->started) {
        return cq_err_set(err, CQ_EINTERNAL, "%s output: on_columns called twice",
                          f->ops->name);
    }
    f->n_cols = n;
    f->mark = f->out.len;
    rc = settle(f, f->ops->columns(f, cols), false, err);
    f->started = rc == CQ_OK || f->wrc != CQ_OK; /* no header: fail() writes nothing */
    return rc;
}

static int sink_row(void *ctx, size_t n, const struct cq_value *vals, struct cq_err *err)
{
    struct cq_fmt *f = ctx;
    int rc = check_open(f, err);
    if (rc != CQ_OK) {
        return rc;
    }
    if (!f->started || f->ended) {
        return cq_err_set(err, CQ_EINTERNAL, "%s output: row outside a result", f->ops->name);
    }
    if (n != f->n_cols) {
        return cq_err_set(err, CQ_EINTERNAL, "%s output: row with %zu values for %zu columns",
                          f->ops->name, n, f->n_cols);
    }
    f->mark = f->out.len;
    rc = settle(f, f->ops->row(f, vals), false, err);
    f->n_rows += rc == CQ_OK;
    return rc;
}

static int sink_end(void *ctx, const struct cq_result_info *info, struct cq_err *err)
{
    struct cq_fmt *f = ctx;
    static const struct cq_result_info none = {.rows_affected = -1};
    int rc = check_open(f, err);
    if (rc == CQ_OK && !f->started) {
        rc = sink_columns(ctx, 0, NULL, err); /* a result with no column call */
    }
    if (rc != CQ_OK || f->ended) {
        return rc;
    }
    info = info ? info : &none;
    f->ended = true;
    f->truncated = info->truncated;
    f->mark = f->out.len;
    f->ops->end(f, info);
    return settle(f, CQ_OK, true, err);
}

int cq_drv_fmt_parse(const char *name, enum cq_fmt_kind *out, struct cq_err *err)
{
    static const char *const names[] = {"json", "ndjson", "csv", "table", NULL};
    for (size_t i = 0; names[i] != NULL; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum cq_fmt_kind)i;
            return CQ_OK;
        }
    }
    const char *hint = cq_did_you_mean(name, names);
    return cq_err_set(err, CQ_EINVAL,
                      "unknown output format '%s' (expected json, ndjson, csv or table)%s%s%s",
                      name, hint ? "; did you mean " : "", hint ? hint : "", hint ? "?" : "");
}

struct cq_fmt *cq_drv_fmt_new(enum cq_fmt_kind kind, cq_write_fn write, void *wctx,
                              struct cq_err *err)
{
    if ((unsigned)kind > CQ_FMT_TABLE || write == NULL) {
        cq_err_set(err, CQ_EINVAL, "output format: unknown kind %d or no write callback",
                   (int)kind);
        return NULL;
    }
    struct cq_fmt *f = cq_calloc(1, sizeof(*f));
    if (f == NULL) {
        cq_err_set(err, CQ_ENOMEM, "output format %s: out of memory", formats[kind].name);
        return NULL;
    }
    f->sink = (struct cq_rowsink){f, sink_columns, sink_row, sink_end};
    f->ops = &formats[kind];
    f->write = write;
    f->wctx = wctx;
    cq_buf_init(&f->out, PENDING_MAX);
    cq_buf_init(&f->names, PENDING_MAX);
    cq_buf_init(&f->keys, PENDING_MAX);
    cq_buf_init(&f->tab.text, PENDING_MAX);
    return f;
}

void cq_drv_fmt_free(struct cq_fmt *f)
{
    if (f == NULL) {
        return;
    }
    cq_buf_cleanup(&f->out);
    cq_buf_cleanup(&f->names);
    cq_buf_cleanup(&f->keys);
    cq_buf_cleanup(&f->tab.text);
    cq_free(f->name_off);
    cq_free(f->key_off);
    cq_free(f->tab.width);
    cq_free(f->tab.right);
    cq_free(f->tab.cells);
    cq_free(f);
}

const struct cq_rowsink *cq_drv_fmt_sink(struct cq_fmt *f)
{
    return &f->sink;
}

int cq_drv_fmt_fail(struct cq_fmt *f, const struct cq_err *cause, struct cq_err *err)
{
    int rc = check_open(f, err);
    if (rc != CQ_OK) {
        return rc;
    }
    f->mark = f->out.len;
    if (f->started && !f->ended) {
        f->ops->fail(f, cause);
        f->ended = true; /* the document is closed; nothing may follow */
    }
    return settle(f, CQ_OK, true, err);
}

bool cq_drv_fmt_truncated(const struct cq_fmt *f)
{
    return f->ended && f->truncated;
}
