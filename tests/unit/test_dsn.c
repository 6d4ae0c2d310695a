/* test_dsn.c - password redaction and the driver registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drv/drv.h"

static void redact(const char *in, const char *want)
{
    char out[256];
    cq_drv_dsn_redact(in, out, sizeof(out));
    assert_string_equal(out, want);
}

static void redacts_urls(void **state)
{
    (void)state;
    redact("postgresql://u:s3cret@db:5432/app", "postgresql://u:***@db:5432/app");
    redact("postgres://u@db/app", "postgres://u@db/app");
    redact("postgres://u:p%40ss@db/app?sslmode=require&password=x2&a=b",
           "postgres://u:***@db/app?sslmode=require&password=***&a=b");
    redact("postgres://db/app?password=abc", "postgres://db/app?password=***");
    redact("postgres://u:a@b@db/app", "postgres://u:***@db/app");
}

static void redacts_key_values(void **state)
{
    (void)state;
    redact("host=db user=u password=s3cret dbname=app", "host=db user=u password=*** dbname=app");
    redact("host=db password='with space' dbname=app", "host=db password=*** dbname=app");
    redact("password = x host=db", "password=*** host=db");
    redact("/var/lib/app.db", "/var/lib/app.db");
    redact("host=x s3cretpw dbname=y", "host=x *** dbname=y");
    redact("", "");
}

static void registry_is_sane(void **state)
{
    (void)state;
    const struct cq_driver *const *list = cq_drv_list();
    int n = 0;
    for (const struct cq_driver *const *d = list; *d != NULL; d++, n++) {
        const struct cq_drv_ops *o = (*d)->ops;
        assert_int_equal((*d)->abi, CQ_DRV_ABI);
        assert_non_null(o->connect);
        assert_non_null(o->disconnect);
        assert_non_null(o->ping);
        assert_non_null(o->exec);
        assert_non_null(o->cancel);
        assert_non_null(o->server_version);
        assert_true((*d)->conn_size >= sizeof(struct cq_conn));
        for (const struct cq_driver *const *e = list; *e != NULL; e++) {
            assert_true(*e == *d || strcmp((*e)->name, (*d)->name) != 0);
        }
    }
    assert_true(n >= 2);
    assert_ptr_equal(cq_drv_find("postgresql"), &cq_drv_pg);
    assert_ptr_equal(cq_drv_find("sqlite"), &cq_drv_sqlite);
    assert_null(cq_drv_find("oracle"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redacts_urls),
        cmocka_unit_test(redacts_key_values),
        cmocka_unit_test(registry_is_sane),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
