/*
 * test_dsl_validate.c - query validation (spec §5 and clariq's §0 additions).
 *
 * The golden cases tests/golden/dsl/v-<name>/ (query.json = request body, error.txt = the
 * ValidationError JSON, written by hand from the spec) are replayed here through
 * parse -> access -> validate alone, so they pin validation even without the planner and
 * SQL generator. The tests below cover what the fixture cannot express (a composite
 * primary key, a role that hides the primary key), valid queries that must pass (EXISTS
 * through a join, lifted row filters, every operator on a legal type), JavaScript's `${v}`
 * and number checks, and out-of-memory handling.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dsl/dsl.h"
#include "dsl/internal.h"
#include "dsl/validate_int.h"
#include "cqtest.h"
#include "dsltest.h"

/* A composite-key table and a role that cannot see users.id, next to the fixture's. */
static const char *const lines_table =
    "{'id':'lines','apiName':'lines','database':'pg-main','physicalName':'public.lines',"
    "'columns':[{'apiName':'orderId','physicalName':'order_id','type':'int','nullable':false},"
    "{'apiName':'lineNo','physicalName':'line_no','type':'int','nullable':false}],"
    "'primaryKey':['orderId','lineNo'],"
    "'relations':[{'column':'orderId','references':{'table':'orders','column':'id'},"
    "'type':'many-to-one'}]}";
static const char *const pk_hidden_role =
    "{'id':'pk-hidden','tables':[{'tableId':'users','allowedColumns':['email']},"
    "{'tableId':'lines','allowedColumns':'*'}]}";

struct fx {
    struct cq_dsl_catalog *cat; /* the shared fixture */
    struct cq_dsl_catalog *own; /* + lines + pk-hidden */
};

static char *source_path(const char *rel)
{
    const char *dir = getenv("CQ_SOURCE_DIR");
    size_t n = strlen(dir ? dir : "../..") + strlen(rel) + 2;
    char *p = malloc(n);

    snprintf(p, n, "%s/%s", dir ? dir : "../..", rel);
    return p;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    json_t *all = cq_test_dsl_fixture(), *meta, *roles;

    assert_non_null(all);
    f->cat = cq_test_dsl_catalog(json_object_get(all, "metadata"), json_object_get(all, "roles"));
    meta = json_deep_copy(json_object_get(all, "metadata"));
    roles = json_deep_copy(json_object_get(all, "roles"));
    json_array_append_new(json_object_get(meta, "tables"), cq_test_json(lines_table));
    json_array_append_new(roles, cq_test_json(pk_hidden_role));
    f->own = cq_test_dsl_catalog(meta, roles);
    json_decref(meta);
    json_decref(roles);
    json_decref(all);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    cq_dsl_catalog_unref(f->cat);
    cq_dsl_catalog_unref(f->own);
    free(f);
    return 0;
}

/*
 * Runs parse -> access -> validate on a request body; returns the error JSON (malloc'ed)
 * or NULL when the query is valid. Parse errors fail the test: these cases are about
 * validation.
 */
static char *validate_body(const struct cq_dsl_catalog *cat, const json_t *body)
{
    struct cq_arena a;
    struct cq_dsl_query *q = NULL;
    struct cq_dsl_context ctx;
    struct cq_dsl_access acc;
    struct cq_dsl_error e = {0};
    char *out = NULL;
    int rc;

    cq_arena_init(&a, 4096, 0);
    rc = cq_dsl_parse_request(&a, body, true, &q, &ctx, &e); /* bare = {"roles":{}} */
    if (rc != CQ_OK) {
        char *s = json_dumps(e.body, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fail_msg("parse failed: %s", s);
    }
    assert_int_equal(cq_dsl_access_init(&acc, cat, &ctx, &a), CQ_OK);
    rc = cq_dsl_validate(cat, q, &acc, &e);
    if (rc != CQ_OK) {
        assert_int_equal(rc, CQ_EINVAL);
        assert_int_equal(e.cls, CQ_DSL_E_VALIDATION);
        assert_int_equal(cq_dsl_error_http_status(&e), 400);
        out = json_dumps(e.body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    } else {
        assert_null(e.body);
    }
    cq_dsl_error_cleanup(&e);
    cq_arena_free(&a);
    return out;
}

static char *validate_text(const struct cq_dsl_catalog *cat, const char *body_text)
{
    json_t *body = cq_test_json(body_text);
    char *out = validate_body(cat, body);

    json_decref(body);
    return out;
}

static void expect_valid(const struct cq_dsl_catalog *cat, const char *body_text)
{
    char *got = validate_text(cat, body_text);

    if (got != NULL) {
        fail_msg("expected valid:\n  %s\ngot:\n  %s", body_text, got);
    }
}

/* The entries of the error, as "CODE|message|details" lines joined by '\n'. */
static void expect_entries(const struct cq_dsl_catalog *cat, const char *body_text,
                           const char *want)
{
    char *got = validate_text(cat, body_text), lines[16384] = "";
    json_t *body, *errors, *entry;
    size_t i;

    if (got == NULL) {
        fail_msg("expected errors for %s", body_text);
    }
    body = json_loads(got, 0, NULL);
    errors = json_object_get(body, "errors");
    json_array_foreach(errors, i, entry)
    {
        char *details =
            json_dumps(json_object_get(entry, "details"), JSON_COMPACT | JSON_PRESERVE_ORDER);
        size_t n = strlen(lines);
        snprintf(lines + n, sizeof(lines) - n, "%s%s|%s|%s", i > 0 ? "\n" : "",
                 json_string_value(json_object_get(entry, "code")),
                 json_string_value(json_object_get(entry, "message")), details);
        free(details);
    }
    assert_string_equal(lines, want);
    json_decref(body);
    free(got);
}

/* ---- the golden v-* cases ------------------------------------------------------------------ */

/* The file with trailing blanks and line ends cut, or NULL. */
static char *slurp(const char *path)
{
    char *buf = cq_test_read_file(path);
    size_t n = buf != NULL ? strlen(buf) : 0;

    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\r')) {
        buf[--n] = '\0';
    }
    return buf;
}

/* Returns true when the case passes; prints a diff otherwise. */
static bool golden_case(const struct cq_dsl_catalog *cat, const char *dir, const char *name)
{
    char path[4096];
    char *want, *got;
    json_t *body;
    json_error_t je;
    bool ok;

    snprintf(path, sizeof(path), "%s/%s/query.json", dir, name);
    body = json_load_file(path, 0, &je);
    if (body == NULL) {
        print_error("%s: bad query.json: %s\n", name, je.text);
        return false;
    }
    snprintf(path, sizeof(path), "%s/%s/error.txt", dir, name);
    want = slurp(path);
    got = validate_body(cat, body);
    ok = want != NULL && got != NULL && strcmp(want, got) == 0;
    if (!ok) {
        print_error("%s:\n  want %s\n  got  %s\n", name, want ? want : "(no error.txt)",
                    got ? got : "(valid)");
    }
    free(want);
    free(got);
    json_decref(body);
    return ok;
}

static void golden_cases(void **state)
{
    struct fx *f = *state;
    char *dir = source_path("tests/golden/dsl");
    DIR *d = opendir(dir);
    struct dirent *ent;
    int n = 0, failed = 0;

    assert_non_null(d);
    while ((ent = readdir(d)) != NULL) {
        if (strncmp(ent->d_name, "v-", 2) != 0) {
            continue;
        }
        n++;
        failed += !golden_case(f->cat, dir, ent->d_name);
    }
    closedir(d);
    free(dir);
    print_message("%d golden validation cases, %d failed\n", n, failed);
    assert_true(n >= 80); /* the cases are there: a missing directory is a failure */
    assert_int_equal(failed, 0);
}

/* ---- what the fixture cannot express -------------------------------------------------------- */

static void byids_composite_key_and_hidden_key(void **state)
{
    struct fx *f = *state;

    expect_entries(f->own, "{'definition':{'from':'lines','byIds':[1]},'context':{'roles':{}}}",
                   "INVALID_BY_IDS|byIds requires a single-column primary key, table 'lines' "
                   "has 2|{\"table\":\"lines\"}");
    /* §0.1: byIds reads the primary key, so the role must be allowed to see it */
    expect_entries(f->own,
                   "{'definition':{'from':'users','columns':['email'],'byIds':[1,2]},"
                   "'context':{'roles':{'user':['pk-hidden']}}}",
                   "ACCESS_DENIED|Column 'id' in table 'users' is not allowed|"
                   "{\"table\":\"users\",\"column\":\"id\"}");
    expect_valid(f->own, "{'definition':{'from':'users','byIds':[1,2.0]},"
                         "'context':{'roles':{'user':['admin']}}}");
}

/* ---- valid queries ------------------------------------------------------------------------- */

static void valid_queries_pass(void **state)
{
    struct fx *f = *state;

    expect_valid(f->cat, "{'definition':{'from':'orders'},'context':{'roles':{}}}");
    expect_valid(f->cat, "{'definition':{'from':'orders','columns':['id','status'],"
                         "'joins':[{'table':'users','type':'inner','columns':['email'],"
                         "'filters':[{'column':'isActive','operator':'=','value':true}]}],"
                         "'filters':[{'logic':'or','not':true,'conditions':["
                         "{'column':'status','operator':'in','value':['a','b']},"
                         "{'column':'total','operator':'between','value':{'from':1,'to':2.5}},"
                         "{'column':'createdAt','operator':'>=','value':'2024-01-01'},"
                         "{'column':'tags','operator':'arrayContainsAny','value':['x']},"
                         "{'column':'quantity','operator':'<','refColumn':'total'},"
                         "{'table':'invoices','count':{'operator':'>=','value':2},'filters':["
                         "{'table':'tenants','exists':false}]}]}],"
                         "'orderBy':[{'column':'email','table':'users','direction':'desc'}],"
                         "'limit':10,'offset':0,'debug':true},"
                         "'context':{'roles':{'user':['admin']}}}");
    expect_valid(f->cat,
                 "{'definition':{'from':'orders','columns':['status'],"
                 "'groupBy':[{'column':'status'}],"
                 "'aggregations':[{'column':'total','fn':'sum','alias':'s'},"
                 "{'column':'*','fn':'count','alias':'n'}],"
                 "'having':[{'logic':'or','conditions':[{'column':'s','operator':'>','value':1},"
                 "{'column':'n','operator':'notIn','value':[1,2]}]}],"
                 "'orderBy':[{'column':'n','direction':'asc'}],'limit':1.0},"
                 "'context':{'roles':{'service':['orders-service']}}}");
}

static void exists_through_a_join_is_valid(void **state)
{
    struct fx *f = *state;

    /* §0.4: users relates to orders only; orders is joined, so this is resolvable */
    expect_valid(f->cat, "{'definition':{'from':'invoices','joins':[{'table':'orders'}],"
                         "'filters':[{'table':'users'}]},'context':{'roles':{}}}");
    /* ... but not from inside an EXISTS, where only the EXISTS table counts */
    expect_entries(f->cat,
                   "{'definition':{'from':'invoices','joins':[{'table':'orders'}],"
                   "'filters':[{'table':'tenants','filters':[{'table':'products'}]}]},"
                   "'context':{'roles':{}}}",
                   "INVALID_EXISTS|No relation between 'tenants' and 'products'|"
                   "{\"table\":\"products\",\"filterIndex\":0}");
}

static void every_operator_on_a_legal_type(void **state)
{
    struct fx *f = *state;
    static const char *const filters[] = {
        "{'column':'isPaid','operator':'!=','value':false}",
        "{'column':'tenantId','operator':'notIn','value':['a']}",
        "{'column':'shippedOn','operator':'notBetween','value':{'from':'a','to':'b'}}",
        "{'column':'status','operator':'notLike','value':'a%'}",
        "{'column':'status','operator':'ilike','value':'a%'}",
        "{'column':'status','operator':'notIlike','value':'a%'}",
        "{'column':'status','operator':'icontains','value':'a'}",
        "{'column':'status','operator':'notContains','value':'a'}",
        "{'column':'status','operator':'notIcontains','value':'a'}",
        "{'column':'status','operator':'istartsWith','value':'a'}",
        "{'column':'status','operator':'endsWith','value':'a'}",
        "{'column':'status','operator':'iendsWith','value':'a'}",
        "{'column':'status','operator':'levenshteinLte','value':{'text':'a','maxDistance':0}}",
        "{'column':'discount','operator':'isNull'}",
        "{'column':'productId','operator':'isNotNull'}",
        "{'column':'flags','operator':'isNull'}",
        "{'column':'scanTimes','operator':'arrayContains','value':'2024-01-01T00:00:00Z'}",
        "{'column':'prices','operator':'arrayContainsAll','value':[1,2.5]}",
        "{'column':'refIds','operator':'arrayIsNotEmpty'}",
        "{'column':'deliveryDates','operator':'arrayIsEmpty'}",
        "{'column':'total','operator':'=','value':3}",
        "{'column':'quantity','operator':'>','value':-3}",
    };
    char body[1024];

    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        snprintf(body, sizeof(body),
                 "{'definition':{'from':'orders','filters':[%s]},'context':{'roles':{}}}",
                 filters[i]);
        expect_valid(f->cat, body);
    }
}

static void row_filter_context(void **state)
{
    struct fx *f = *state;

    /* a filterless granting role in the scope lifts the filter: no value needed */
    expect_valid(f->cat, "{'definition':{'from':'orders'},"
                         "'context':{'roles':{'user':['tenant-user','orders-service']}}}");
    expect_valid(f->cat, "{'definition':{'from':'orders','columns':['id']},"
                         "'context':{'roles':{'user':['regional-manager']},"
                         "'contextValues':{'regionIds':['eu','us']}}}");
    /* a denied table reports the denial, not its row filter */
    expect_entries(f->cat,
                   "{'definition':{'from':'orders'},"
                   "'context':{'roles':{'user':['tenant-user'],'service':[]}}}",
                   "ACCESS_DENIED|Access denied for table 'orders'|{\"table\":\"orders\"}");
    /* null is a value of the wrong shape, an empty list too */
    expect_entries(f->cat,
                   "{'definition':{'from':'orders','columns':['id']},"
                   "'context':{'roles':{'user':['tenant-user'],'service':['regional-manager']},"
                   "'contextValues':{'tenantId':null,'regionIds':[]}}}",
                   "INVALID_CONTEXT|Role 'tenant-user' requires context value 'tenantId' to be "
                   "a value of type 'uuid'|{\"role\":\"tenant-user\",\"contextKey\":\"tenantId\","
                   "\"expected\":\"uuid\"}\n"
                   "INVALID_CONTEXT|Role 'regional-manager' requires context value 'regionIds' "
                   "to be a non-empty array of values of type 'string'|{\"role\":"
                   "\"regional-manager\",\"contextKey\":\"regionIds\",\"expected\":\"string[]\"}");
}

/* ---- JavaScript semantics ------------------------------------------------------------------- */

static const char *js_of(struct cq_arena *a, const char *json)
{
    json_t *j = json_loads(json, JSON_DECODE_ANY, NULL);
    const struct cq_dsl_val *v = cq_dsl_val_from_json(a, j);
    struct cq_buf b;
    const char *out;

    cq_buf_init(&b, 4096);
    cq_dsl_vjs(&b, v);
    out = cq_arena_strdup(a, cq_buf_str(&b));
    cq_buf_cleanup(&b);
    json_decref(j);
    return out;
}

static void javascript_string_and_numbers(void **state)
{
    struct cq_arena a;
    struct cq_dsl_val v = {0};

    (void)state;
    cq_arena_init(&a, 4096, 0);
    assert_string_equal(js_of(&a, "\"abc\""), "abc");
    assert_string_equal(js_of(&a, "-1"), "-1");
    assert_string_equal(js_of(&a, "1.5"), "1.5");
    assert_string_equal(js_of(&a, "2.0"), "2");
    assert_string_equal(js_of(&a, "1e21"), "1e+21");
    assert_string_equal(js_of(&a, "0.000001"), "0.000001");
    assert_string_equal(js_of(&a, "1e-7"), "1e-7");
    assert_string_equal(js_of(&a, "9007199254740993"), "9007199254740992");
    assert_string_equal(js_of(&a, "null"), "null");
    assert_string_equal(js_of(&a, "true"), "true");
    assert_string_equal(js_of(&a, "[1,\"a\",[2,3],null,{}]"), "1,a,2,3,,[object Object]");
    assert_string_equal(js_of(&a, "[]"), "");
    assert_string_equal(js_of(&a, "{\"a\":1}"), "[object Object]");
    /* Number.isInteger(v) && v >= 0 */
    v.kind = CQ_DSL_V_REAL;
    v.d = 3.0;
    assert_true(cq_dsl_vnonneg_int(&v));
    v.d = -0.0;
    assert_true(cq_dsl_vnonneg_int(&v));
    v.d = 0.5;
    assert_false(cq_dsl_vnonneg_int(&v));
    v.d = 1e300; /* integral, but no SQL LIMIT can carry it */
    assert_false(cq_dsl_vnonneg_int(&v));
    v.kind = CQ_DSL_V_STRING;
    v.s = "3";
    v.len = 1;
    assert_false(cq_dsl_vnonneg_int(&v));
    assert_false(cq_dsl_vnonneg_int(NULL));
    /* matchesColumnType */
    v.kind = CQ_DSL_V_REAL;
    v.d = 2.0;
    assert_true(cq_dsl_vmatches(&v, CQ_DSL_T_INT));
    assert_true(cq_dsl_vmatches(&v, CQ_DSL_T_DECIMAL));
    assert_false(cq_dsl_vmatches(&v, CQ_DSL_T_STRING));
    v.d = 2.5;
    assert_false(cq_dsl_vmatches(&v, CQ_DSL_T_INT));
    v.kind = CQ_DSL_V_BOOL;
    assert_true(cq_dsl_vmatches(&v, CQ_DSL_T_BOOLEAN));
    assert_false(cq_dsl_vmatches(&v, CQ_DSL_T_INT));
    cq_arena_free(&a);
}

/* ---- out of memory ----------------------------------------------------------------------- */

static void out_of_memory_is_reported(void **state)
{
    struct fx *f = *state;
    json_t *body = cq_test_json("{'definition':{'from':'orders','joins':[{'table':'users'}],"
                                "'filters':[{'table':'invoices'}]},"
                                "'context':{'roles':{'user':['tenant-user','support']}}}");
    int failures = 0;

    /* The request is parsed with room to spare, then the arena is capped a little above
     * what parsing used: every failure point of validation ends in ENOMEM with an
     * InternalError, never a crash or a half-built ValidationError. */
    for (size_t extra = 0; extra < 8192; extra += 32) {
        struct cq_arena a;
        struct cq_dsl_query *q = NULL;
        struct cq_dsl_context ctx;
        struct cq_dsl_access acc;
        struct cq_dsl_error e = {0};
        int rc;

        cq_arena_init(&a, 256, 0);
        assert_int_equal(cq_dsl_parse_request(&a, body, false, &q, &ctx, &e), CQ_OK);
        a.max = a.total + extra;
        rc = cq_dsl_access_init(&acc, f->cat, &ctx, &a);
        if (rc == CQ_OK) {
            rc = cq_dsl_validate(f->cat, q, &acc, &e);
            assert_true(rc == CQ_ENOMEM || rc == CQ_EINVAL);
            if (rc == CQ_ENOMEM) {
                assert_int_equal(e.cls, CQ_DSL_E_INTERNAL);
            } else {
                assert_int_equal(e.cls, CQ_DSL_E_VALIDATION); /* MISSING_CONTEXT tenantId */
            }
        }
        failures += rc == CQ_ENOMEM;
        cq_dsl_error_cleanup(&e);
        cq_arena_free(&a);
    }
    json_decref(body);
    assert_true(failures > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_cases),
        cmocka_unit_test(byids_composite_key_and_hidden_key),
        cmocka_unit_test(valid_queries_pass),
        cmocka_unit_test(exists_through_a_join_is_valid),
        cmocka_unit_test(every_operator_on_a_legal_type),
        cmocka_unit_test(row_filter_context),
        cmocka_unit_test(javascript_string_and_numbers),
        cmocka_unit_test(out_of_memory_is_reported),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
