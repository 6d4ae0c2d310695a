/*
 * exec_bind.c - a compiled query's parameters as driver parameters, and numbers printed
 * the way JavaScript prints them (the reference's params, masking input and errors).
 *
 * PostgreSQL: every value goes as text with no type (OID 0), so the server types it from
 * the SQL, which casts where it matters ($1::text[], $1::integer). Arrays are array
 * literals: {"a","b\"c",NULL} — strings quoted with backslash and double quote escaped,
 * numbers and booleans bare ({1,2}), JSON null as NULL.
 * SQLite: typed binds (integers, doubles, 0/1 booleans, text); arrays and objects as JSON
 * text, which the generated SQL reads with json_each().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/exec_int.h"

#define MAX_PARAM_TEXT (64u * 1024u * 1024u) /* bytes of one parameter's text */

/* ---- parameters ---------------------------------------------------------------------- */

static void put_num(struct cq_buf *b, const struct cq_dsl_val *v)
{
    char tmp[48];
    if (v->kind == CQ_DSL_V_INT) {
        cq_buf_printf(b, "%lld", (long long)v->i);
        return;
    }
    cq_dsl_js_number(v->d, tmp, sizeof(tmp));
    cq_buf_puts(b, tmp);
}

/* One quoted element of a PostgreSQL array literal. */
static void pg_quoted(struct cq_buf *b, const char *s, size_t len)
{
    cq_buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            cq_buf_putc(b, '\\');
        }
        cq_buf_putc(b, s[i]);
    }
    cq_buf_putc(b, '"');
}

static void pg_array(struct cq_buf *b, const struct cq_dsl_val *v)
{
    cq_buf_putc(b, '{');
    for (size_t i = 0; i < v->n; i++) {
        const struct cq_dsl_val *x = &v->items[i];
        if (i > 0) {
            cq_buf_putc(b, ',');
        }
        switch (x->kind) {
        case CQ_DSL_V_NULL:
            cq_buf_puts(b, "NULL");
            break;
        case CQ_DSL_V_ARRAY:
            pg_array(b, x);
            break;
        case CQ_DSL_V_STRING:
            pg_quoted(b, x->s, x->len);
            break;
        case CQ_DSL_V_BOOL:
            cq_buf_puts(b, x->b ? "true" : "false");
            break;
        case CQ_DSL_V_INT:
        case CQ_DSL_V_REAL:
            put_num(b, x);
            break;
        case CQ_DSL_V_OBJECT: {
            struct cq_buf j;
            cq_buf_init(&j, MAX_PARAM_TEXT);
            cq_dsl_val_write(&j, x);
            pg_quoted(b, cq_buf_str(&j), j.len);
            if (cq_buf_rc(&j) != CQ_OK && b->rc == CQ_OK) {
                b->rc = cq_buf_rc(&j); /* the element is lost: make that b's error */
            }
            cq_buf_cleanup(&j);
            break;
        }
        }
    }
    cq_buf_putc(b, '}');
}

/* Fills p's type and b's text for one value. */
static void bind_value(enum cq_dialect d, const struct cq_dsl_param *dp, struct cq_param *p,
                       struct cq_buf *b)
{
    const struct cq_dsl_val *v = dp->v;
    p->explicit_type = false; /* PostgreSQL: typed by the SQL; SQLite: binds by p->type */
    switch (v == NULL ? CQ_DSL_V_NULL : v->kind) {
    case CQ_DSL_V_NULL:
        p->type = CQ_P_NULL;
        return;
    case CQ_DSL_V_BOOL:
        p->type = CQ_P_BOOL;
        cq_buf_puts(b, v->b ? "true" : "false");
        return;
    case CQ_DSL_V_INT:
        p->type = CQ_P_INT;
        put_num(b, v);
        return;
    case CQ_DSL_V_REAL:
        /* 3.0 for an integer column binds as the integer 3 (SQLite compares by type) */
        if (dp->type == CQ_DSL_T_INT && v->d == floor(v->d) && fabs(v->d) < 9.0e18) {
            p->type = CQ_P_INT;
            cq_buf_printf(b, "%lld", (long long)v->d);
        } else {
            p->type = CQ_P_FLOAT;
            put_num(b, v);
        }
        return;
    case CQ_DSL_V_STRING:
        p->type = CQ_P_TEXT;
        cq_buf_append(b, v->s, v->len);
        return;
    case CQ_DSL_V_ARRAY:
        if (d == CQ_DIALECT_SQLITE) {
            p->type = CQ_P_JSON;
            cq_dsl_val_write(b, v);
        } else {
            p->type = CQ_P_TEXT;
            pg_array(b, v);
        }
        return;
    case CQ_DSL_V_OBJECT:
        p->type = CQ_P_JSON;
        cq_dsl_val_write(b, v);
        return;
    }
}

int cq_dsl_exec_bind(struct cq_arena *a, const struct cq_dsl_compiled *c,
                     struct cq_param **out, struct cq_err *err)
{
    struct cq_param *ps = cq_arena_alloc(a, (c->n_params + 1) * sizeof(*ps));
    struct cq_buf b;
    int rc = CQ_OK;

    cq_buf_init(&b, MAX_PARAM_TEXT);
    if (ps == NULL) {
        rc = cq_err_set(err, CQ_ENOMEM, "out of memory binding parameters");
        goto out;
    }
    for (size_t i = 0; i < c->n_params; i++) {
        cq_buf_reset(&b);
        bind_value(c->dialect, &c->params[i], &ps[i], &b);
        if (cq_buf_rc(&b) != CQ_OK) {
            rc = cq_err_set(err, cq_buf_rc(&b) == CQ_ETOOBIG ? CQ_ETOOBIG : CQ_ENOMEM,
                            "parameter $%zu: %s", i + 1, cq_buf_rc(&b) == CQ_ETOOBIG
                            ? "value too large" : "out of memory");
            goto out;
        }
        if (ps[i].type != CQ_P_NULL) {
            ps[i].text = cq_arena_strndup(a, cq_buf_str(&b), b.len);
            ps[i].len = b.len;
            if (ps[i].text == NULL) {
                rc = cq_err_set(err, CQ_ENOMEM, "out of memory binding parameters");
                goto out;
            }
        }
    }
    *out = ps;
out:
    cq_buf_cleanup(&b);
    return rc;
}

void cq_dsl_exec_params_json(struct cq_buf *b, const struct cq_dsl_compiled *c)
{
    static const struct cq_dsl_val null_val = {.kind = CQ_DSL_V_NULL};
    cq_buf_putc(b, '[');
    for (size_t i = 0; i < c->n_params; i++) {
        if (i > 0) {
            cq_buf_putc(b, ',');
        }
        cq_dsl_val_write(b, c->params[i].v != NULL ? c->params[i].v : &null_val);
    }
    cq_buf_putc(b, ']');
}
