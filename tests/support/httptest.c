/* httptest.c - the integration-test HTTP helpers of httptest.h. */
#include "httptest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <libpq-fe.h>

#include "base/err.h"
#include "http/http.h"

struct cq_http_server *cq_test_serve(struct cq_conf *conf, char *url, size_t size)
{
    struct cq_err err = {0};
    struct cq_http_server *s = cq_http_server_new(conf, &err);

    if (s == NULL) {
        fail_msg("server: %s", err.msg);
    }
    if (cq_http_server_start(s, &err) != CQ_OK) {
        fail_msg("start: %s", err.msg);
    }
    if (url != NULL) {
        snprintf(url, size, "%s", cq_http_server_url(s));
    }
    return s;
}

void cq_test_pg_exec(PGconn *pg, const char *sql)
{
    PGresult *res = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(res);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fail_msg("%s: %s", sql, PQerrorMessage(pg));
    }
    PQclear(res);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    cq_buf_append(&((struct cq_test_reply *)ud)->body, p, size * n);
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    cq_buf_append(&((struct cq_test_reply *)ud)->headers, p, size * n);
    return size * n;
}

void cq_test_http(struct cq_test_reply *r, const char *url, const char *const *headers,
                  const char *body, long timeout_s)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    json_error_t je;

    memset(r, 0, sizeof(*r));
    cq_buf_init(&r->body, 1 << 26);
    cq_buf_init(&r->headers, 1 << 16);
    assert_non_null(c);
    h = curl_slist_append(h, "Content-Type: application/json");
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        h = curl_slist_append(h, headers[i]);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    r->json = json_loads(cq_buf_str(&r->body), JSON_DECODE_ANY, &je);
}

const char *cq_test_reply_header(struct cq_test_reply *r, const char *name)
{
    const char *h = cq_buf_str(&r->headers);
    size_t n = strlen(name);

    for (const char *line = h; *line != '\0';) {
        const char *eol = strchr(line, '\n');
        size_t len = eol != NULL ? (size_t)(eol - line) : strlen(line);

        if (len > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            snprintf(r->value, sizeof(r->value), "%.*s", (int)(len - n - 1), line + n + 1);
            r->value[strcspn(r->value, "\r\n")] = '\0';
            return r->value + strspn(r->value, " ");
        }
        line += len + (eol != NULL ? 1 : 0);
    }
    return NULL;
}

void cq_test_reply_done(struct cq_test_reply *r)
{
    json_decref(r->json);
    r->json = NULL;
    cq_buf_cleanup(&r->body);
    cq_buf_cleanup(&r->headers);
}
