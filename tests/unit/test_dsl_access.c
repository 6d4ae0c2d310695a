/*
 * test_dsl_access.c - effective rights (spec §3) and row-level filters (spec §0.13) on the
 * shared fixture catalog and on a few roles of its own: absent and empty scopes, unknown
 * roles, tables "*", union within a scope and intersection across scopes for columns and
 * masking, row filters ORed within a scope, lifted by a filterless granting role, ANDed
 * across scopes, values looked up from contextValues (NULL when missing), and the reuse of
 * catalog bitsets and of already computed tables.
 */
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
#include "dsltest.h"

/* Roles of this test only, over the fixture's metadata. */
static const char *const extra_roles =
    "["
    "{'id':'both-filters','tables':[{'tableId':'orders','allowedColumns':'*','filters':["
    "{'column':'tenantId','operator':'=','contextKey':'tenantId'},"
    "{'column':'regionId','operator':'notIn','contextKey':'blockedRegions'},"
    "{'column':'internalNote','operator':'isNull'}]}]},"
    "{'id':'mask-a','tables':[{'tableId':'users','allowedColumns':['id','email','phone'],"
    "'maskedColumns':['email','phone']}]},"
    "{'id':'mask-b','tables':[{'tableId':'users','allowedColumns':['id','phone','fullName'],"
    "'maskedColumns':['fullName']}]},"
    "{'id':'twice','tables':[{'tableId':'users','allowedColumns':['id']},"
    "{'tableId':'users','allowedColumns':'*'}]},"
    "{'id':'all','tables':'*'}"
    "]";

struct fx {
    struct cq_dsl_catalog *cat; /* the fixture's roles */
    struct cq_dsl_catalog *own; /* extra_roles */
    struct cq_arena a;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    json_t *all = cq_test_dsl_fixture(), *own = cq_test_json(extra_roles);

    assert_non_null(all);
    f->cat = cq_test_dsl_catalog(json_object_get(all, "metadata"), json_object_get(all, "roles"));
    f->own = cq_test_dsl_catalog(json_object_get(all, "metadata"), own);
    json_decref(all);
    json_decref(own);
    cq_arena_init(&f->a, 4096, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    cq_arena_free(&f->a);
    cq_dsl_catalog_unref(f->cat);
    cq_dsl_catalog_unref(f->own);
    free(f);
    return 0;
}

/* Rights of one table for a context given as JSON. */
static const struct cq_dsl_table_access *rights(struct fx *f, const struct cq_dsl_catalog *cat,
                                                struct cq_dsl_access *acc, const char *ctx_json,
                                                const char *table)
{
    struct cq_dsl_context *ctx = cq_arena_alloc(&f->a, sizeof(*ctx));
    struct cq_dsl_error e = {0};
    json_t *j = cq_test_json(ctx_json);
    const struct cq_dsl_table_access *ta;

    assert_int_equal(cq_dsl_parse_context(&f->a, j, ctx, &e), CQ_OK);
    json_decref(j);
    assert_int_equal(cq_dsl_access_init(acc, cat, ctx, &f->a), CQ_OK);
    ta = cq_dsl_access_get(acc, cq_dsl_table_by_api(cat, table));
    assert_non_null(ta);
    return ta;
}

#define TEXT_MAX 2048

/* Appends s to a TEXT_MAX buffer. */
static void add(char *out, const char *s)
{
    size_t n = strlen(out);
    snprintf(out + n, TEXT_MAX - n, "%s", s);
}

/* "a,b,c": the allowed (or masked) columns in metadata order. */
static const char *list(struct fx *f, const struct cq_dsl_table_access *ta, bool masked)
{
    char *out = cq_arena_alloc(&f->a, TEXT_MAX);

    for (size_t i = 0; i < ta->table->n_columns; i++) {
        const struct cq_dsl_column *c = &ta->table->columns[i];
        bool on = masked ? cq_dsl_col_masked(ta, c) : cq_dsl_col_allowed(ta, c);
        if (on) {
            if (out[0] != '\0') {
                add(out, ",");
            }
            add(out, c->api);
        }
    }
    return out;
}

/* The row filter as text: "(role: col op key & ...) | (...)" per scope, scopes " AND ". */
static const char *rls_text(struct fx *f, const struct cq_dsl_table_access *ta)
{
    static const char *const ops[] = {"=", "!=", "in", "notIn", "isNull", "isNotNull"};
    char *out = cq_arena_alloc(&f->a, TEXT_MAX);

    for (size_t d = 0; d < ta->n_rls; d++) {
        if (d > 0) {
            add(out, " AND ");
        }
        for (size_t k = 0; k < ta->rls[d].n_conjs; k++) {
            const struct cq_dsl_rls_conj *cj = &ta->rls[d].conjs[k];
            if (k > 0) {
                add(out, " | ");
            }
            add(out, "(");
            add(out, cj->role);
            add(out, ":");
            for (size_t m = 0; m < cj->n_terms; m++) {
                const struct cq_dsl_rls_term *tm = &cj->terms[m];
                char term[256];
                snprintf(term, sizeof(term), "%s %s %s%s", m > 0 ? " &" : "", tm->f->column->api,
                         ops[tm->f->op],
                         tm->f->context_key == NULL ? ""
                         : tm->value == NULL        ? " <missing>"
                                                    : " <value>");
                add(out, term);
            }
            add(out, ")");
        }
    }
    return out;
}

/* ---- §3 rules 1 and 2: absent and empty scopes --------------------------------------------- */

static void absent_scopes_restrict_nothing(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_access acc;
    const struct cq_dsl_table_access *ta = rights(f, f->cat, &acc, "{'roles':{}}", "orders");

    assert_true(ta->allowed);
    assert_null(ta->cols);
    assert_null(ta->masked);
    assert_int_equal(ta->n_rls, 0);
    /* one present scope alone decides; the absent one adds nothing */
    ta = rights(f, f->cat, &acc, "{'roles':{'service':['analytics-reader']}}", "events");
    assert_true(ta->allowed);
    ta = rights(f, f->cat, &acc, "{'roles':{'service':['analytics-reader']}}", "orders");
    assert_false(ta->allowed);
}

static void empty_scope_grants_nothing(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_access acc;
    const struct cq_dsl_table_access *ta;

    ta = rights(f, f->cat, &acc, "{'roles':{'user':[]}}", "orders");
    assert_false(ta->allowed);
    assert_string_equal(list(f, ta, false), "");
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['admin'],'service':[]}}", "users");
    assert_false(ta->allowed);
    assert_string_equal(list(f, ta, false), "");
    assert_int_equal(ta->n_rls, 0);
    /* a role with no tables at all (scenario 15) */
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['no-access']}}", "products");
    assert_false(ta->allowed);
}

static void unknown_roles_are_skipped(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_access acc;
    const struct cq_dsl_table_access *ta;

    ta = rights(f, f->cat, &acc, "{'roles':{'user':['ghost']}}", "orders");
    assert_false(ta->allowed); /* present scope with no known role grants nothing */
    assert_int_equal(acc.n_user, 0);
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['ghost','admin','nobody']}}", "orders");
    assert_true(ta->allowed);
    assert_int_equal(acc.n_user, 1);
    assert_null(ta->cols);
}

/* ---- rule 3: union within a scope -------------------------------------------------------- */

static void star_role_allows_everything_unmasked(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_access acc;
    const struct cq_dsl_table_access *ta;

    ta = rights(f, f->cat, &acc, "{'roles':{'user':['admin']}}", "ordersArchive");
    assert_true(ta->allowed);
    assert_null(ta->cols);
    assert_null(ta->masked);
    /* "*" next to a masking role: nothing stays masked */
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['support','admin']}}", "users");
    assert_null(ta->cols);
    assert_null(ta->masked);
}

static void single_role_columns_and_masks(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_access acc;
    const struct cq_dsl_table_access *ta;
    const struct cq_dsl_table *users = cq_dsl_table_by_api(f->cat, "users");
    const struct cq_dsl_role *tu = cq_dsl_role_by_id(f->cat, "tenant-user");

    ta = rights(f, f->cat, &acc, "{'roles':{'user':['tenant-user']}}", "orders");
    assert_true(ta->allowed);
    assert_string_equal(list(f, ta, false), "id,tenantId,customerId,total,status,createdAt");
    assert_null(ta->masked);
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['tenant-user']}}", "users");
    assert_string_equal(list(f, ta, false), "id,email,fullName,tenantId");
    assert_string_equal(list(f, ta, true), "email");
    /* a lone role decides: its catalog bitsets are used as they are */
    assert_ptr_equal(ta->cols, tu->by_table[users->idx]->allowed);
    assert_ptr_equal(ta->masked, tu->by_table[users->idx]->masked);
    /* a table the role does not list */
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['tenant-user']}}", "products");
    assert_false(ta->allowed);
    /* allowedColumns "*" with maskedColumns */
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['support']}}", "users");
    assert_null(ta->cols);
    assert_string_equal(list(f, ta, true), "email,phone,fullName,birthDate,score,externalId,tags");
}

static void union_within_a_scope(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_access acc;
    const struct cq_dsl_table_access *ta;

    /* columns: union; email unmasked by orders-service, so not masked */
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['tenant-user','orders-service']}}", "users");
    assert_string_equal(list(f, ta, false), "id,email,fullName,tenantId");
    assert_null(ta->masked);
    /* masked only where no role of the scope allows the column unmasked */
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['support','regional-manager']}}", "users");
    assert_null(ta->cols);
    assert_string_equal(list(f, ta, true), "email,phone");
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['support','orders-service']}}", "users");
    assert_string_equal(list(f, ta, true), "phone,birthDate,score,externalId,tags");
    /* own roles: a masks email+phone, b masks fullName but allows phone unmasked */
    ta = rights(f, f->own, &acc, "{'roles':{'user':['mask-a','mask-b']}}", "users");
    assert_string_equal(list(f, ta, false), "id,email,phone,fullName");
    assert_string_equal(list(f, ta, true), "email,fullName");
    /* the first entry of a role for a table counts */
    ta = rights(f, f->own, &acc, "{'roles':{'user':['twice']}}", "users");
    assert_string_equal(list(f, ta, false), "id");
}

/* ---- rule 4: intersection across scopes -------------------------------------------------- */

static void intersection_across_scopes(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_access acc;
    const struct cq_dsl_table_access *ta;

    ta = rights(f, f->cat, &acc, "{'roles':{'user':['support'],'service':['orders-service']}}",
                "users");
    assert_true(ta->allowed);
    assert_string_equal(list(f, ta, false), "id,email,fullName");
    assert_string_equal(list(f, ta, true), "email,fullName"); /* masked in one scope */
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['tenant-user'],'service':['orders-service']}}",
                "orders");
    assert_string_equal(list(f, ta, false), "id,tenantId,customerId,total,status,createdAt");
    assert_null(ta->masked);
    /* masked in the scope that allows all, but the other scope narrows the columns */
    ta = rights(f, f->cat, &acc,
                "{'roles':{'user':['orders-service'],'service':['regional-manager']}}", "users");
    assert_string_equal(list(f, ta, false), "id,email,fullName");
    assert_string_equal(list(f, ta, true), "email");
    /* allowed in one scope only */
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['admin'],'service':['tenant-user']}}",
                "products");
    assert_false(ta->allowed);
    /* both scopes mask */
    ta = rights(f, f->own, &acc, "{'roles':{'user':['mask-a'],'service':['mask-b']}}", "users");
    assert_string_equal(list(f, ta, false), "id,phone");
    assert_string_equal(list(f, ta, true), "phone");
}

/* ---- row-level filters (§0.13) ----------------------------------------------------------- */

static void row_filter_of_one_role(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_access acc;
    const struct cq_dsl_table_access *ta;

    ta = rights(f, f->cat, &acc,
                "{'roles':{'user':['tenant-user']},'contextValues':{'tenantId':'t1'}}", "orders");
    assert_int_equal(ta->n_rls, 1);
    assert_string_equal(rls_text(f, ta), "(tenant-user: tenantId = <value>)");
    assert_string_equal(ta->rls[0].conjs[0].terms[0].value->s, "t1");
    /* the value is missing: left NULL for validation to report */
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['tenant-user']}}", "orders");
    assert_string_equal(rls_text(f, ta), "(tenant-user: tenantId = <missing>)");
    /* tables without filters for the role */
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['regional-manager']}}", "products");
    assert_int_equal(ta->n_rls, 0);
    /* several filters of one role are ANDed; isNull needs no value */
    ta = rights(f, f->own, &acc,
                "{'roles':{'user':['both-filters']},'contextValues':"
                "{'tenantId':'t1','blockedRegions':['x']}}",
                "orders");
    assert_string_equal(rls_text(f, ta), "(both-filters: tenantId = <value> & regionId notIn "
                                         "<value> & internalNote isNull)");
    assert_null(ta->rls[0].conjs[0].terms[2].value);
}

static void row_filters_or_within_scope(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_access acc;
    const struct cq_dsl_table_access *ta;

    ta = rights(f, f->cat, &acc,
                "{'roles':{'user':['tenant-user','ghost','regional-manager']},"
                "'contextValues':{'regionIds':['eu','us']}}",
                "orders");
    assert_int_equal(ta->n_rls, 1);
    assert_string_equal(rls_text(f, ta), "(tenant-user: tenantId = <missing>) | "
                                         "(regional-manager: regionId in <value>)");
    assert_int_equal(ta->rls[0].conjs[1].terms[0].value->n, 2);
}

static void filterless_role_lifts_the_scope(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_access acc;
    const struct cq_dsl_table_access *ta;

    ta = rights(f, f->cat, &acc, "{'roles':{'user':['tenant-user','orders-service']}}", "orders");
    assert_int_equal(ta->n_rls, 0);
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['admin','regional-manager']}}", "users");
    assert_int_equal(ta->n_rls, 0);
    /* lifted in the service scope only: the user scope's filter stays */
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['tenant-user'],'service':['orders-service']}}",
                "orders");
    assert_string_equal(rls_text(f, ta), "(tenant-user: tenantId = <missing>)");
    /* a role that does not grant the table neither filters nor lifts */
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['tenant-user','analytics-reader']}}", "orders");
    assert_int_equal(ta->n_rls, 1);
}

static void row_filters_and_across_scopes(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_access acc;
    const struct cq_dsl_table_access *ta;

    ta = rights(f, f->cat, &acc,
                "{'roles':{'user':['tenant-user'],'service':['regional-manager']},"
                "'contextValues':{'tenantId':'t','regionIds':['eu']}}",
                "users");
    assert_int_equal(ta->n_rls, 2);
    assert_string_equal(rls_text(f, ta), "(tenant-user: tenantId = <value>) AND "
                                         "(regional-manager: regionId in <value>)");
    /* a denied table carries no row filter: nothing of it is read */
    ta = rights(f, f->cat, &acc, "{'roles':{'user':['tenant-user'],'service':[]}}", "orders");
    assert_false(ta->allowed);
    assert_int_equal(ta->n_rls, 0);
}

/* ---- the per-request cache --------------------------------------------------------------- */

static void tables_are_computed_once(void **state)
{
    struct fx *f = *state;
    struct cq_dsl_access acc;
    const struct cq_dsl_table_access *first, *again;
    const char *names[] = {"users",    "orders", "products", "tenants",
                           "invoices", "events", "metrics",  "ordersArchive"};

    first = rights(f, f->cat, &acc, "{'roles':{'user':['tenant-user','support']}}", "orders");
    /* touching every table grows the cache; earlier pointers stay valid and unchanged */
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_non_null(cq_dsl_access_get(&acc, cq_dsl_table_by_api(f->cat, names[i])));
    }
    assert_int_equal(acc.n_seen, 8);
    again = cq_dsl_access_get(&acc, cq_dsl_table_by_api(f->cat, "orders"));
    assert_true(again->allowed);
    assert_true(first->allowed);
    assert_ptr_equal(first->table, again->table);
    assert_string_equal(list(f, again, false), list(f, first, false));
    assert_string_equal(list(f, again, true), "internalNote");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(absent_scopes_restrict_nothing),
        cmocka_unit_test(empty_scope_grants_nothing),
        cmocka_unit_test(unknown_roles_are_skipped),
        cmocka_unit_test(star_role_allows_everything_unmasked),
        cmocka_unit_test(single_role_columns_and_masks),
        cmocka_unit_test(union_within_a_scope),
        cmocka_unit_test(intersection_across_scopes),
        cmocka_unit_test(row_filter_of_one_role),
        cmocka_unit_test(row_filters_or_within_scope),
        cmocka_unit_test(filterless_role_lifts_the_scope),
        cmocka_unit_test(row_filters_and_across_scopes),
        cmocka_unit_test(tables_are_computed_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
