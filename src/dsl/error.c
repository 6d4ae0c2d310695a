/*
 * error.c - the error classes of spec §11 as JSON objects in the spec's key order, and
 * the one table from class to HTTP status and exit code.
 *
 * Errors are built with jansson (only on error paths) and serialised in insertion order
 * with JavaScript's number forms, so the body is byte-for-byte what JSON.stringify of the
 * reference's toJSON() gives.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "dsl/dsl.h"

void cq_dsl_error_cleanup(struct cq_dsl_error *e)
{
    if (e == NULL) {
        return;
    }
    json_decref(e->body);
    e->body = NULL;
    e->cls = CQ_DSL_E_NONE;
}

static void set_body(struct cq_dsl_error *e, enum cq_dsl_eclass cls, json_t *body)
{
    json_decref(e->body);
    e->cls = cls;
    e->body = body;
}

int cq_dsl_error_http_status(const struct cq_dsl_error *e)
{
    switch (e->cls) {
    case CQ_DSL_E_VALIDATION:
    case CQ_DSL_E_CONFIG:
    case CQ_DSL_E_BODY:
        return 400;
    case CQ_DSL_E_PLANNER:
        return 422;
    case CQ_DSL_E_CONNECTION:
    case CQ_DSL_E_PROVIDER:
        return 503;
    case CQ_DSL_E_NONE:
        return 200;
    case CQ_DSL_E_EXECUTION:
    case CQ_DSL_E_INTERNAL:
        break;
    }
    return 500;
}

int cq_dsl_error_exit_code(const struct cq_dsl_error *e)
{
    switch (e->cls) {
    case CQ_DSL_E_NONE:
        return 0;
    case CQ_DSL_E_CONNECTION:
    case CQ_DSL_E_PROVIDER:
        return 3;
    default:
        return 1;
    }
}

/* JSON.stringify of a jansson value: insertion order (jansson keeps it), and reals in
 * JavaScript's shortest form (jansson would print 0.1 as 0.10000000000000001). */
static void put_json(struct cq_buf *b, const json_t *j)
{
    char tmp[32];
    const char *key;
    json_t *member;
    size_t i, n = 0;

    switch (json_typeof(j)) {
    case JSON_OBJECT:
        cq_buf_putc(b, '{');
        json_object_foreach((json_t *)(uintptr_t)j, key, member) {
            cq_buf_puts(b, n++ > 0 ? "," : "");
            cq_json_put_str(b, key, strlen(key));
            cq_buf_putc(b, ':');
            put_json(b, member);
        }
        cq_buf_putc(b, '}');
        break;
    case JSON_ARRAY:
        cq_buf_putc(b, '[');
        for (i = 0; i < json_array_size(j); i++) {
            cq_buf_puts(b, i > 0 ? "," : "");
            put_json(b, json_array_get(j, i));
        }
        cq_buf_putc(b, ']');
        break;
    case JSON_STRING:
        cq_json_put_str(b, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        cq_buf_printf(b, "%lld", (long long)json_integer_value(j));
        break;
    case JSON_REAL:
        cq_dsl_js_number(json_real_value(j), tmp, sizeof(tmp));
        cq_buf_puts(b, tmp);
        break;
    case JSON_TRUE:
        cq_buf_puts(b, "true");
        break;
    case JSON_FALSE:
        cq_buf_puts(b, "false");
        break;
    case JSON_NULL:
        cq_buf_puts(b, "null");
        break;
    }
}

void cq_dsl_error_write(const struct cq_dsl_error *e, struct cq_buf *out)
{
    if (e->body == NULL) {
        cq_buf_puts(out, "{\"error\":\"InternalError\",\"message\":\"out of memory\"}");
        return;
    }
    put_json(out, e->body);
}

static const char *plural(size_t n)
{
    return n == 1 ? "error" : "errors";
}

void cq_dsl_error_validation(struct cq_dsl_error *e, const char *from_table, json_t *errors)
{
    json_t *o = json_object();
    char msg[64];

    snprintf(msg, sizeof(msg), "Validation failed: %zu %s", json_array_size(errors),
             plural(json_array_size(errors)));
    json_object_set_new(o, "code", json_string("VALIDATION_FAILED"));
    json_object_set_new(o, "message", json_string(msg));
    if (from_table != NULL) { /* JSON.stringify drops an undefined fromTable */
        json_object_set_new(o, "fromTable", json_string(from_table));
    }
    json_object_set_new(o, "errors", errors ? errors : json_array());
    set_body(e, CQ_DSL_E_VALIDATION, o);
}

void cq_dsl_error_planner(struct cq_dsl_error *e, const char *code, const char *from_table,
                          const char *message, json_t *details)
{
    json_t *o = json_object();

    json_object_set_new(o, "code", json_string(code));
    json_object_set_new(o, "message", json_string(message));
    if (from_table != NULL) {
        json_object_set_new(o, "fromTable", json_string(from_table));
    }
    json_object_set_new(o, "details", details ? details : json_object());
    set_body(e, CQ_DSL_E_PLANNER, o);
}

void cq_dsl_error_execution(struct cq_dsl_error *e, const char *code, const char *message,
                            json_t *details, json_t *cause)
{
    json_t *o = json_object();

    json_object_set_new(o, "code", json_string(code));
    json_object_set_new(o, "message", json_string(message));
    if (cause != NULL) {
        json_object_set_new(o, "cause", cause);
    }
    json_object_set_new(o, "details", details ? details : json_object());
    set_body(e, CQ_DSL_E_EXECUTION, o);
}

void cq_dsl_error_simple(struct cq_dsl_error *e, enum cq_dsl_eclass cls, const char *code,
                         const char *message)
{
    json_t *o = json_object();

    json_object_set_new(o, "error", json_string(code));
    json_object_set_new(o, "message", json_string(message));
    set_body(e, cls, o);
}

json_t *cq_dsl_entry(const char *code, const char *message, json_t *details)
{
    json_t *o = json_object();

    json_object_set_new(o, "code", json_string(code));
    json_object_set_new(o, "message", json_string(message));
    json_object_set_new(o, "details", details ? details : json_object());
    return o;
}
