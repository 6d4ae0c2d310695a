/*
 * msg.c - template variables, the plain-text table and the JSON form of a notification
 * (see msg.h).
 *
 * JSON form (also the webhook body), every member always present, absent values as null:
 *   {"alert":{"id":"disk_full","name":"Disk full"},"state":"triggered",
 *    "reason":"3 rows","value":"97","threshold":"90","error":null,
 *    "runAt":"2026-11-21T09:30:00Z","text":"...","rowCount":3,
 *    "columns":["host","used"],"rows":[["db1","97"],["db2",null]]}
 * Cells are always strings or null (the text the query returned), so a receiver never has
 * to guess a type and a NUMERIC keeps every digit.
 */
#include "alert/msg.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "base/json.h"
#include "base/mem.h"

#define CELL_MAX 40                  /* characters of a table cell before it is cut */
#define VAR_ROWS 10                  /* rows {{rows}} shows: the var callback has no max_rows */
#define MSG_JSON_MAX (16u << 20)     /* bytes of one encoded message */

/* ---- table ------------------------------------------------------------------------------ */

/* One character of a cell as shown: control characters (newlines included) become a space
 * and an invalid byte U+FFFD, so a cell is always one line of valid UTF-8. Sets the bytes
 * to show; returns the input bytes used. */
static size_t cell_unit(const unsigned char *s, size_t len, const char **show, size_t *n)
{
    size_t adv = cq_utf8_seq(s, len);
    if (adv == 0) {
        *show = "\xEF\xBF\xBD";
        *n = 3;
        return 1;
    }
    if (s[0] < 0x20 || s[0] == 0x7F) {
        *show = " ";
        *n = 1;
        return 1;
    }
    *show = (const char *)s;
    *n = adv;
    return adv;
}

/* Appends cell s (NULL = SQL NULL) as shown, cut to CELL_MAX characters ending in "…",
 * when b is not NULL. Returns the width in characters. */
static size_t put_cell(struct cq_buf *b, const char *s)
{
    const unsigned char *p;
    size_t len, i = 0, w = 0, cut = 0, end;
    const char *show;
    size_t n;

    if (s == NULL) {
        s = "NULL";
    }
    p = (const unsigned char *)s;
    len = strlen(s);
    while (i < len && w <= CELL_MAX) {
        i += cell_unit(p + i, len - i, &show, &n);
        w++;
        if (w == CELL_MAX - 1) {
            cut = i;
        }
    }
    end = w > CELL_MAX ? cut : len;
    if (b != NULL) {
        for (i = 0; i < end;) {
            i += cell_unit(p + i, end - i, &show, &n);
            cq_buf_append(b, show, n);
        }
        if (end < len) {
            cq_buf_append(b, "\xE2\x80\xA6", 3);
        }
    }
    return w > CELL_MAX ? CELL_MAX : w;
}

static void put_spaces(struct cq_buf *b, size_t n)
{
    static const char spaces[] = "                                        ";
    while (n > 0) {
        size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
        cq_buf_append(b, spaces, k);
        n -= k;
    }
}

/* One line: cells joined with " | ", padded to the column widths; trailing spaces (an
 * empty last cell) are dropped. */
static void put_line(struct cq_buf *b, const char *const *cells, size_t n_cols,
                     const size_t *width)
{
    size_t start = b->len;
    for (size_t c = 0; c < n_cols; c++) {
        if (c > 0) {
            cq_buf_append(b, " | ", 3);
        }
        size_t w = put_cell(b, cells[c]);
        if (c + 1 < n_cols) {
            put_spaces(b, width[c] - w);
        }
    }
    while (cq_buf_rc(b) == CQ_OK && b->len > start && b->p[b->len - 1] == ' ') {
        b->p[--b->len] = '\0';
    }
    cq_buf_putc(b, '\n');
}

void cq_alert_msg_table(const struct cq_alert_msg *m, int max_rows, struct cq_buf *out)
{
    size_t shown = max_rows > 0 ? (size_t)max_rows : 0;
    size_t total = m->row_count > 0 ? (size_t)m->row_count : 0;
    size_t *width = NULL;

    if (m->n_cols == 0) {
        return;
    }
    shown = shown < m->n_rows ? shown : m->n_rows;
    total = total > m->n_rows ? total : m->n_rows;
    width = cq_calloc(m->n_cols, sizeof(*width));
    if (width == NULL) {
        if (out->rc == CQ_OK) {
            out->rc = CQ_ENOMEM; /* the buffer's sticky error is the only error channel */
        }
        goto out;
    }
    for (size_t c = 0; c < m->n_cols; c++) {
        width[c] = put_cell(NULL, m->cols[c]);
        for (size_t r = 0; r < shown; r++) {
            size_t w = put_cell(NULL, m->cells[r * m->n_cols + c]);
            width[c] = w > width[c] ? w : width[c];
        }
    }
    put_line(out, m->cols, m->n_cols, width);
    for (size_t c = 0; c < m->n_cols; c++) {
        if (c > 0) {
            cq_buf_append(out, "-+-", 3);
        }
        for (size_t k = 0; k < width[c]; k++) {
            cq_buf_putc(out, '-');
        }
    }
    cq_buf_putc(out, '\n');
    for (size_t r = 0; r < shown; r++) {
        put_line(out, m->cells + r * m->n_cols, m->n_cols, width);
    }
    if (total > shown) {
        cq_buf_printf(out, "... %zu more row%s\n", total - shown, total - shown == 1 ? "" : "s");
    }
out:
    cq_free(width);
}

/* ---- template variables ----------------------------------------------------------------- */

struct str_var {
    const char *name;
    size_t off; /* offsetof the const char * member */
};

static const struct str_var str_vars[] = {
    {"alert.id", offsetof(struct cq_alert_msg, alert_id)},
    {"alert.name", offsetof(struct cq_alert_msg, alert_name)},
    {"alert.connection", offsetof(struct cq_alert_msg, connection)},
    {"duration_ms", offsetof(struct cq_alert_msg, duration_ms)},
    {"state", offsetof(struct cq_alert_msg, state)},
    {"reason", offsetof(struct cq_alert_msg, reason)},
    {"value", offsetof(struct cq_alert_msg, value)},
    {"threshold", offsetof(struct cq_alert_msg, threshold)},
    {"error", offsetof(struct cq_alert_msg, error)},
    {"run_at", offsetof(struct cq_alert_msg, run_at)},
    {"text", offsetof(struct cq_alert_msg, text)},
};

static bool name_is(const char *name, size_t len, const char *z)
{
    return strlen(z) == len && memcmp(name, z, len) == 0;
}

/* A missing value renders empty, like an unknown name (templates are checked at load). */
void cq_alert_msg_var(void *ctx, const char *name, size_t len, struct cq_buf *out)
{
    const struct cq_alert_msg *m = ctx;
    while (len > 0 && (name[0] == ' ' || name[0] == '\t')) {
        name++;
        len--;
    }
    while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t')) {
        len--;
    }
    for (size_t i = 0; i < sizeof(str_vars) / sizeof(str_vars[0]); i++) {
        if (name_is(name, len, str_vars[i].name)) {
            const char *v;
            memcpy(&v, (const char *)m + str_vars[i].off, sizeof(v));
            if (v != NULL) {
                cq_buf_puts(out, v);
            }
            return;
        }
    }
    if (name_is(name, len, "row_count")) {
        cq_buf_printf(out, "%" PRId64, m->row_count);
    } else if (name_is(name, len, "rows")) {
        cq_alert_msg_table(m, VAR_ROWS, out);
    }
}

/* ---- JSON ------------------------------------------------------------------------------- */

static void put_str(struct cq_buf *b, const char *s)
{
    if (s == NULL) {
        cq_buf_append(b, "null", 4);
    } else {
        cq_json_put_str(b, s, strlen(s));
    }
}

static void put_member(struct cq_buf *b, const char *key, const char *s)
{
    cq_buf_printf(b, ",\"%s\":", key);
    put_str(b, s);
}

int cq_alert_msg_encode(struct cq_alert_msg *m, struct cq_arena *arena, struct cq_err *err)
{
    struct cq_buf b;
    int rc = CQ_OK;
    char *json;

    cq_buf_init(&b, MSG_JSON_MAX);
    cq_buf_puts(&b, "{\"alert\":{\"id\":");
    put_str(&b, m->alert_id);
    cq_buf_puts(&b, ",\"name\":");
    put_str(&b, m->alert_name);
    cq_buf_puts(&b, ",\"connection\":");
    put_str(&b, m->connection);
    cq_buf_putc(&b, '}');
    put_member(&b, "state", m->state);
    put_member(&b, "reason", m->reason);
    put_member(&b, "value", m->value);
    put_member(&b, "threshold", m->threshold);
    put_member(&b, "error", m->error);
    put_member(&b, "runAt", m->run_at);
    put_member(&b, "text", m->text);
    cq_buf_puts(&b, ",\"durationMs\":");
    cq_buf_puts(&b, m->duration_ms != NULL && cq_json_is_number(m->duration_ms,
                                                                strlen(m->duration_ms))
                        ? m->duration_ms
                        : "null");
    cq_buf_printf(&b, ",\"rowCount\":%" PRId64 ",\"columns\":[", m->row_count);
    for (size_t c = 0; c < m->n_cols; c++) {
        if (c > 0) {
            cq_buf_putc(&b, ',');
        }
        put_str(&b, m->cols[c]);
    }
    cq_buf_puts(&b, "],\"rows\":[");
    for (size_t r = 0; r < m->n_rows; r++) {
        cq_buf_puts(&b, r > 0 ? ",[" : "[");
        for (size_t c = 0; c < m->n_cols; c++) {
            if (c > 0) {
                cq_buf_putc(&b, ',');
            }
            put_str(&b, m->cells[r * m->n_cols + c]);
        }
        cq_buf_putc(&b, ']');
    }
    cq_buf_puts(&b, "]}");
    if (cq_buf_rc(&b) != CQ_OK) {
        rc = cq_err_set(err, cq_buf_rc(&b), "alert message %s: encoding: %s",
                        m->alert_id ? m->alert_id : "?",
                        cq_buf_rc(&b) == CQ_ETOOBIG ? "larger than 16 MiB" : "out of memory");
        goto out;
    }
    json = cq_arena_strndup(arena, cq_buf_str(&b), b.len);
    if (json == NULL) {
        rc = cq_err_set(err, CQ_ENOMEM, "alert message: out of memory");
        goto out;
    }
    m->json = json;
out:
    cq_buf_cleanup(&b);
    return rc;
}

/* A string member (required or string-or-null) copied into the arena. */
static int get_str(json_t *obj, const char *key, bool required, struct cq_arena *arena,
                   const char **out, struct cq_err *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required) {
            return cq_err_set(err, CQ_EINVAL, "alert message: \"%s\" is missing", key);
        }
        return CQ_OK;
    }
    if (!json_is_string(v)) {
        return cq_err_set(err, CQ_EINVAL, "alert message: \"%s\" must be a string", key);
    }
    *out = cq_arena_strndup(arena, json_string_value(v), json_string_length(v));
    if (*out == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "alert message: out of memory");
    }
    return CQ_OK;
}

/* An array of n_cols cells (strings or null) into dst. */
static int get_cells(json_t *arr, size_t idx, size_t n_cols, struct cq_arena *arena,
                     const char **dst, struct cq_err *err)
{
    if (!json_is_array(arr) || json_array_size(arr) != n_cols) {
        return cq_err_set(err, CQ_EINVAL,
                          "alert message: /rows/%zu must be an array of %zu cells", idx, n_cols);
    }
    for (size_t c = 0; c < n_cols; c++) {
        json_t *v = json_array_get(arr, c);
        if (json_is_null(v)) {
            dst[c] = NULL;
            continue;
        }
        if (!json_is_string(v)) {
            return cq_err_set(err, CQ_EINVAL,
                              "alert message: /rows/%zu/%zu must be a string or null", idx, c);
        }
        dst[c] = cq_arena_strndup(arena, json_string_value(v), json_string_length(v));
        if (dst[c] == NULL) {
            return cq_err_set(err, CQ_ENOMEM, "alert message: out of memory");
        }
    }
    return CQ_OK;
}

/* The columns and rows members. */
static int get_table(json_t *root, struct cq_arena *arena, struct cq_alert_msg *m,
                     struct cq_err *err)
{
    json_t *cols = json_object_get(root, "columns");
    json_t *rows = json_object_get(root, "rows");
    const char **names, **cells;
    size_t n_cells, n_ptrs, size;
    int rc;

    if (!json_is_array(cols) || !json_is_array(rows)) {
        return cq_err_set(err, CQ_EINVAL,
                          "alert message: \"columns\" and \"rows\" must be arrays");
    }
    m->n_cols = json_array_size(cols);
    m->n_rows = json_array_size(rows);
    if ((int64_t)m->n_rows > m->row_count) {
        return cq_err_set(err, CQ_EINVAL, "alert message: more rows than \"rowCount\"");
    }
    if (!cq_size_mul(&n_cells, m->n_rows, m->n_cols) ||
        !cq_size_add(&n_ptrs, n_cells, m->n_cols + 1) ||
        !cq_size_mul(&size, n_ptrs, sizeof(char *))) {
        return cq_err_set(err, CQ_ETOOBIG, "alert message: too many cells");
    }
    names = cq_arena_alloc(arena, size);
    if (names == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "alert message: out of memory");
    }
    cells = names + m->n_cols;
    for (size_t c = 0; c < m->n_cols; c++) {
        json_t *v = json_array_get(cols, c);
        if (!json_is_string(v)) {
            return cq_err_set(err, CQ_EINVAL, "alert message: /columns/%zu must be a string",
                              c);
        }
        names[c] = cq_arena_strndup(arena, json_string_value(v), json_string_length(v));
        if (names[c] == NULL) {
            return cq_err_set(err, CQ_ENOMEM, "alert message: out of memory");
        }
    }
    for (size_t r = 0; r < m->n_rows; r++) {
        rc = get_cells(json_array_get(rows, r), r, m->n_cols, arena, cells + r * m->n_cols,
                       err);
        if (rc != CQ_OK) {
            return rc;
        }
    }
    m->cols = names;
    m->cells = cells;
    return CQ_OK;
}

int cq_alert_msg_parse(const char *json, struct cq_arena *arena, struct cq_alert_msg *m,
                       struct cq_err *err)
{
    json_error_t jerr;
    json_t *root = NULL, *alert, *count;
    int rc = CQ_OK;

    memset(m, 0, sizeof(*m));
    if (json == NULL) {
        rc = cq_err_set(err, CQ_EINVAL, "alert message: no JSON");
        goto out;
    }
    root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        rc = cq_err_set(err, CQ_EINVAL, "alert message: not JSON: %s (line %d, column %d)",
                        jerr.text, jerr.line, jerr.column);
        goto out;
    }
    alert = json_object_get(root, "alert");
    if (!json_is_object(root) || !json_is_object(alert)) {
        rc = cq_err_set(err, CQ_EINVAL, "alert message: \"alert\" object is missing");
        goto out;
    }
    count = json_object_get(root, "rowCount");
    if (!json_is_integer(count) || json_integer_value(count) < 0) {
        rc = cq_err_set(err, CQ_EINVAL,
                        "alert message: \"rowCount\" must be a non-negative integer");
        goto out;
    }
    m->row_count = json_integer_value(count);
    rc = get_str(alert, "id", true, arena, &m->alert_id, err);
    rc = rc ? rc : get_str(alert, "name", false, arena, &m->alert_name, err);
    rc = rc ? rc : get_str(root, "state", true, arena, &m->state, err);
    rc = rc ? rc : get_str(root, "reason", false, arena, &m->reason, err);
    rc = rc ? rc : get_str(root, "value", false, arena, &m->value, err);
    rc = rc ? rc : get_str(root, "threshold", false, arena, &m->threshold, err);
    rc = rc ? rc : get_str(root, "error", false, arena, &m->error, err);
    rc = rc ? rc : get_str(root, "runAt", false, arena, &m->run_at, err);
    rc = rc ? rc : get_str(root, "text", false, arena, &m->text, err);
    rc = rc ? rc : get_str(alert, "connection", false, arena, &m->connection, err);
    if (rc == CQ_OK && json_is_number(json_object_get(root, "durationMs"))) {
        m->duration_ms = cq_arena_printf(arena, "%.1f",
                                         json_number_value(json_object_get(root, "durationMs")));
    }
    rc = rc ? rc : get_table(root, arena, m, err);
    if (rc != CQ_OK) {
        goto out;
    }
    m->json = cq_arena_strdup(arena, json);
    if (m->json == NULL) {
        rc = cq_err_set(err, CQ_ENOMEM, "alert message: out of memory");
    }
out:
    if (rc != CQ_OK) {
        memset(m, 0, sizeof(*m));
    }
    json_decref(root);
    return rc;
}
