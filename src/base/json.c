/* json.c - JSON string escaping (see json.h). */
#include "base/json.h"

#include <string.h>

size_t cq_utf8_seq(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t n;
    unsigned cp;
    if (c < 0x80) {
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len < n) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return n;
}

void cq_json_put_str(struct cq_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;

    cq_buf_putc(b, '"');
    while (i < len) {
        unsigned char c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue; /* plain ASCII: copied in runs below */
        }
        if (i > run) {
            cq_buf_append(b, s + run, i - run);
        }
        if (c >= 0x80) {
            size_t n = cq_utf8_seq(p + i, len - i);
            if (n == 0) {
                cq_buf_append(b, "\\ufffd", 6);
                i++;
            } else {
                cq_buf_append(b, s + i, n);
                i += n;
            }
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            switch (c) {
            case '"': cq_buf_append(b, "\\\"", 2); break;
            case '\\': cq_buf_append(b, "\\\\", 2); break;
            case '\n': cq_buf_append(b, "\\n", 2); break;
            case '\r': cq_buf_append(b, "\\r", 2); break;
            case '\t': cq_buf_append(b, "\\t", 2); break;
            case '\b': cq_buf_append(b, "\\b", 2); break;
            case '\f': cq_buf_append(b, "\\f", 2); break;
            default: cq_buf_append(b, esc, 6); break;
            }
            i++;
        }
        run = i;
    }
    if (len > run) {
        cq_buf_append(b, s + run, len - run);
    }
    cq_buf_putc(b, '"');
}

bool cq_json_is_number(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == '-') {
        i++;
    }
    if (i >= len) {
        return false;
    }
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
    } else {
        return false;
    }
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len || s[i] < '0' || s[i] > '9') {
            return false;
        }
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        if (i >= len || s[i] < '0' || s[i] > '9') {
            return false;
        }
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
    }
    return i == len;
}
