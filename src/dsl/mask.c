/*
 * mask.c - the seven masking functions of spec §10.4 (cq_dsl_mask).
 *
 * The reference counts UTF-16 code units; clariq counts Unicode code points (§0.7), so a
 * name such as "李雷" or an emoji is never cut in half. Bytes that are not valid UTF-8
 * count as one character each (and come out as U+FFFD through the JSON writer).
 *
 * The caller stringifies the value first (exec.c: numbers as JavaScript prints them,
 * arrays comma-joined, dates as their ISO text) and passes that text here.
 */
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/json.h"
#include "dsl/dsl.h"

/* Bytes of the character at s (1 for an invalid byte). len >= 1. */
static size_t char_len(const char *s, size_t len)
{
    size_t n = cq_utf8_seq((const unsigned char *)s, len);
    return n == 0 ? 1 : n;
}

static size_t count_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i += char_len(s + i, len - i)) {
        n++;
    }
    return n;
}

/* Byte offset just past the first `k` characters of s. */
static size_t skip_chars(const char *s, size_t len, size_t k)
{
    size_t i = 0;
    while (k > 0 && i < len) {
        i += char_len(s + i, len - i);
        k--;
    }
    return i;
}

/* Byte offset of the last character of s (len >= 1). */
static size_t last_char(const char *s, size_t len)
{
    size_t i = 0, last = 0;
    while (i < len) {
        last = i;
        i += char_len(s + i, len - i);
    }
    return last;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void mask_email(const char *s, size_t len, struct cq_buf *t)
{
    const char *at = len > 0 ? memchr(s, '@', len) : NULL;
    if (at == NULL || at == s) {
        cq_buf_puts(t, "***");
        return;
    }
    const char *dom = at + 1;
    size_t dlen = len - (size_t)(dom - s);
    size_t dot = 0;
    bool found = false;
    for (size_t i = dlen; i > 0; i--) {
        if (dom[i - 1] == '.') {
            dot = i - 1;
            found = true;
            break;
        }
    }
    cq_buf_append(t, s, char_len(s, len));
    cq_buf_puts(t, "***@***");
    if (found && dot > 0) {
        cq_buf_append(t, dom + dot, dlen - dot);
    }
}

static void mask_phone(const char *s, size_t len, struct cq_buf *t)
{
    size_t n = 0;
    char first = 0, tail[3] = {0, 0, 0};
    for (size_t i = 0; i < len; i++) {
        if (is_digit(s[i])) {
            if (n == 0) {
                first = s[i];
            }
            tail[0] = tail[1];
            tail[1] = tail[2];
            tail[2] = s[i];
            n++;
        }
    }
    if (n <= 3) {
        cq_buf_puts(t, "***");
        return;
    }
    if (len > 0 && s[0] == '+') {
        cq_buf_putc(t, '+');
    }
    cq_buf_putc(t, first);
    cq_buf_puts(t, "***");
    cq_buf_append(t, tail, 3);
}

static void mask_name(const char *s, size_t len, struct cq_buf *t)
{
    size_t n = count_chars(s, len);
    if (n <= 2) {
        cq_buf_puts(t, "***");
        return;
    }
    size_t last = last_char(s, len);
    cq_buf_append(t, s, char_len(s, len));
    for (size_t i = 0; i < n - 2; i++) {
        cq_buf_putc(t, '*');
    }
    cq_buf_append(t, s + last, len - last);
}

static void mask_uuid(const char *s, size_t len, struct cq_buf *t)
{
    if (count_chars(s, len) <= 4) {
        cq_buf_puts(t, "****");
        return;
    }
    cq_buf_append(t, s, skip_chars(s, len, 4));
    cq_buf_puts(t, "****");
}

static void mask_date(const char *s, size_t len, struct cq_buf *t)
{
    if (len >= 4 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3])) {
        cq_buf_append(t, s, 4);
        cq_buf_puts(t, "-01-01");
        return;
    }
    cq_buf_puts(t, "***");
}

bool cq_dsl_mask(enum cq_dsl_mask fn, const char *s, size_t len, struct cq_buf *out)
{
    struct cq_buf t;

    if (fn == CQ_DSL_MASK_NUMBER) {
        cq_buf_putc(out, '0');
        return false;
    }
    if (s == NULL) {
        s = "";
        len = 0;
    }
    /* The masked text is never longer than the input plus a few stars per character. */
    cq_buf_init(&t, len * 2 + 64);
    switch (fn) {
    case CQ_DSL_MASK_EMAIL:
        mask_email(s, len, &t);
        break;
    case CQ_DSL_MASK_PHONE:
        mask_phone(s, len, &t);
        break;
    case CQ_DSL_MASK_NAME:
        mask_name(s, len, &t);
        break;
    case CQ_DSL_MASK_UUID:
        mask_uuid(s, len, &t);
        break;
    case CQ_DSL_MASK_DATE:
        mask_date(s, len, &t);
        break;
    default: /* FULL, and NONE: a masked column without maskingFn is masked fully */
        cq_buf_puts(&t, "***");
        break;
    }
    if (cq_buf_rc(&t) != CQ_OK) {
        /* Out of memory: never leak the clear text; the fully masked form needs no heap. */
        cq_json_put_str(out, "***", 3);
    } else {
        cq_json_put_str(out, cq_buf_str(&t), t.len);
    }
    cq_buf_cleanup(&t);
    return true;
}
