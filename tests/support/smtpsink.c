/* smtpsink.c - start and stop tests/support/smtpsink.py (see smtpsink.h). */
#include "smtpsink.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CQ_TEST_SUPPORT_DIR
#define CQ_TEST_SUPPORT_DIR "tests/support"
#endif

#define PYTHON "/usr/bin/python3"

static void script_path(char *out, size_t size)
{
    const char *src = getenv("CQ_SOURCE_DIR");
    if (src != NULL && *src != '\0') {
        snprintf(out, size, "%s/tests/support/smtpsink.py", src);
    } else {
        snprintf(out, size, "%s/smtpsink.py", CQ_TEST_SUPPORT_DIR);
    }
}

bool cq_test_smtp_available(void)
{
    char path[1024];
    script_path(path, sizeof(path));
    return access(PYTHON, X_OK) == 0 && access(path, R_OK) == 0;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the first line the server prints (its port) within timeout_ms. */
static int read_port(int fd, int timeout_ms)
{
    char line[64];
    size_t len = 0;
    long deadline = now_ms() + timeout_ms;

    while (len + 1 < sizeof(line)) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        long left = deadline - now_ms();
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
            if (left > 0 && errno == EINTR) {
                continue;
            }
            return 0;
        }
        ssize_t n = read(fd, line + len, 1);
        if (n <= 0) {
            return 0;
        }
        if (line[len] == '\n') {
            line[len] = '\0';
            return (int)strtol(line, NULL, 10);
        }
        len++;
    }
    return 0;
}

bool cq_test_smtp_start(const char *dir, int *port, pid_t *pid)
{
    char script[1024], port_arg[16];
    int fds[2];

    script_path(script, sizeof(script));
    snprintf(port_arg, sizeof(port_arg), "%d", *port > 0 ? *port : 0);
    *pid = -1;
    if (pipe(fds) != 0) {
        return false;
    }
    pid_t child = fork();
    if (child < 0) {
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) {
            dup2(null, 0);
            close(null);
        }
        execl(PYTHON, PYTHON, "-u", "-W", "ignore::DeprecationWarning", script, dir, port_arg,
              (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    int p = read_port(fds[0], 10000);
    close(fds[0]);
    if (p <= 0) {
        fprintf(stderr, "smtpsink: %s did not report a port\n", script);
        cq_test_smtp_stop(child);
        return false;
    }
    *port = p;
    *pid = child;
    return true;
}

void cq_test_smtp_stop(pid_t pid)
{
    if (pid <= 0) {
        return;
    }
    kill(pid, SIGTERM);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

bool cq_test_smtp_wait(const char *dir, int n, int timeout_ms)
{
    char path[1024];
    struct stat st;
    long deadline = now_ms() + timeout_ms;

    snprintf(path, sizeof(path), "%s/%d.eml", dir, n);
    while (stat(path, &st) != 0) {
        if (now_ms() >= deadline) {
            return false;
        }
        usleep(20000);
    }
    return true;
}

char *cq_test_smtp_message(const char *dir, int n)
{
    char path[1024];
    FILE *f;
    char *buf = NULL;
    long size;

    snprintf(path, sizeof(path), "%s/%d.eml", dir, n);
    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        goto out;
    }
    buf = malloc((size_t)size + 1);
    if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[size] = '\0';
out:
    fclose(f);
    return buf;
}

/* ---- reading stored messages ------------------------------------------------------------ */

/* A copy of s[0..len) with CRLF turned into LF. */
static char *lf_copy(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    size_t n = 0;
    if (d == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') {
            continue;
        }
        d[n++] = s[i];
    }
    d[n] = '\0';
    return d;
}

/* Header lookup in an LF header block (ends at the first empty line or at the end). */
static char *header_in(const char *h, const char *name)
{
    size_t nlen = strlen(name);
    const char *line = h;
    while (*line != '\0' && *line != '\n') {
        const char *next = strchr(line, '\n');
        next = next ? next + 1 : line + strlen(line);
        if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1, *end = next;
            while (*end == ' ' || *end == '\t') { /* folded continuation lines */
                const char *nl = strchr(end, '\n');
                end = nl ? nl + 1 : end + strlen(end);
            }
            while (*v == ' ' || *v == '\t') {
                v++;
            }
            char *out = malloc((size_t)(end - v) + 1);
            size_t n = 0;
            if (out == NULL) {
                return NULL;
            }
            for (const char *p = v; p < end; p++) {
                if (*p != '\n') {
                    out[n++] = *p;
                }
            }
            out[n] = '\0';
            return out;
        }
        line = next;
    }
    return NULL;
}

char *cq_test_mail_header(const char *msg, const char *name)
{
    char *m = lf_copy(msg, strlen(msg));
    char *v = NULL;
    if (m != NULL) {
        char *end = strstr(m, "\n\n");
        if (end != NULL) {
            end[1] = '\0';
        }
        v = header_in(m, name);
    }
    free(m);
    return v;
}

char *cq_test_qp_decode(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    size_t n = 0;
    if (d == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '=' && i + 1 < len && (s[i + 1] == '\n' || s[i + 1] == '\r')) {
            i += s[i + 1] == '\r' && i + 2 < len && s[i + 2] == '\n' ? 2 : 1;
            continue;
        }
        if (s[i] == '=' && i + 2 < len) {
            char hex[3] = {s[i + 1], s[i + 2], '\0'};
            d[n++] = (char)strtol(hex, NULL, 16);
            i += 2;
            continue;
        }
        if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') {
            continue;
        }
        d[n++] = s[i];
    }
    d[n] = '\0';
    return d;
}

static int b64_val(char c)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(tab, c) : NULL;
    return p ? (int)(p - tab) : -1;
}

/* Base64 decoding, skipping anything that is not in the alphabet. */
static char *b64_decode(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    if (d == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        int v = b64_val(s[i]);
        if (v < 0) {
            continue;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            d[n++] = (char)((acc >> bits) & 0xFF);
        }
    }
    d[n] = '\0';
    return d;
}

char *cq_test_mail_decode_words(const char *value)
{
    size_t len = strlen(value), n = 0;
    char *out = malloc(len + 1);
    bool after_word = false;
    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < len;) {
        const char *w = strncmp(value + i, "=?", 2) == 0 ? value + i : NULL;
        const char *q1 = w ? strchr(w + 2, '?') : NULL;
        const char *q2 = q1 && q1[1] && q1[2] == '?' ? q1 + 2 : NULL;
        const char *end = q2 ? strstr(q2 + 1, "?=") : NULL;
        if (end != NULL) {
            char enc = q1[1];
            char *dec = (enc == 'B' || enc == 'b')
                            ? b64_decode(q2 + 1, (size_t)(end - q2 - 1))
                            : cq_test_qp_decode(q2 + 1, (size_t)(end - q2 - 1));
            for (char *p = dec; p && *p; p++) {
                out[n++] = (enc == 'Q' || enc == 'q') && *p == '_' ? ' ' : *p;
            }
            free(dec);
            i = (size_t)(end - value) + 2;
            after_word = true;
            continue;
        }
        if (after_word && (value[i] == ' ' || value[i] == '\t')) {
            size_t j = i;
            while (j < len && (value[j] == ' ' || value[j] == '\t')) {
                j++;
            }
            if (strncmp(value + j, "=?", 2) == 0) {
                i = j; /* whitespace between encoded words is not part of the text */
                continue;
            }
        }
        after_word = false;
        out[n++] = value[i++];
    }
    out[n] = '\0';
    return out;
}

char *cq_test_mail_part(const char *msg, const char *type, char **part_headers)
{
    char *m = lf_copy(msg, strlen(msg)), *ct = NULL, *result = NULL;
    char delim[256];
    const char *b, *body, *part;

    if (part_headers != NULL) {
        *part_headers = NULL;
    }
    if (m == NULL || (body = strstr(m, "\n\n")) == NULL) {
        goto out;
    }
    ct = cq_test_mail_header(m, "Content-Type");
    b = ct ? strstr(ct, "boundary=") : NULL;
    if (b == NULL) {
        goto out;
    }
    b += 9;
    snprintf(delim, sizeof(delim), "\n--%.*s", (int)strcspn(b + (*b == '"'), "\";"),
             b + (*b == '"'));
    for (part = strstr(body, delim); part != NULL; part = strstr(part + 1, delim)) {
        const char *h = strchr(part + 1, '\n'), *pb, *pend;
        if (h == NULL || (pb = strstr(h, "\n\n")) == NULL) {
            break;
        }
        size_t hlen = (size_t)(pb - h) + 1;
        char *hdrs = malloc(hlen + 1);
        memcpy(hdrs, h + 1, hlen - 1);
        hdrs[hlen - 1] = '\n';
        hdrs[hlen] = '\0';
        char *pct = header_in(hdrs, "Content-Type");
        bool match = pct != NULL && strncasecmp(pct, type, strlen(type)) == 0;
        free(pct);
        if (!match) {
            free(hdrs);
            continue;
        }
        pb += 2;
        pend = strstr(pb, delim);
        pend = pend ? pend + 1 : pb + strlen(pb);
        char *cte = header_in(hdrs, "Content-Transfer-Encoding");
        size_t plen = (size_t)(pend - pb);
        if (cte != NULL && strcasecmp(cte, "quoted-printable") == 0) {
            result = cq_test_qp_decode(pb, plen);
        } else if (cte != NULL && strcasecmp(cte, "base64") == 0) {
            result = b64_decode(pb, plen);
        } else {
            result = lf_copy(pb, plen);
        }
        free(cte);
        if (part_headers != NULL) {
            *part_headers = hdrs;
        } else {
            free(hdrs);
        }
        break;
    }
out:
    free(ct);
    free(m);
    return result;
}

void cq_test_assert_mail_header(const char *msg, const char *name, const char *want)
{
    char *v = cq_test_mail_header(msg, name);
    if (v == NULL || strcmp(v, want) != 0) {
        fail_msg("header %s: got '%s', want '%s'", name, v ? v : "(missing)", want);
    }
    free(v);
}
