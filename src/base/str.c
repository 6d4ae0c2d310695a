/* str.c - slices, copies and cursor parsers (see str.h). */
#include "base/str.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

size_t cq_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size > 0) {
        size_t k = n < size - 1 ? n : size - 1;
        memcpy(dst, src, k);
        dst[k] = '\0';
    }
    return n;
}

bool cq_str_eq(struct cq_str s, const char *z)
{
    return strlen(z) == s.len && memcmp(s.p, z, s.len) == 0;
}

bool cq_streq_ci(const char *a, const char *b)
{
    while (*a && *b) {
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) {
            return false;
        }
        a++;
        b++;
    }
    return *a == *b;
}

bool cq_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int cq_parse_i64(const char **cur, int64_t *out)
{
    const char *p = *cur;
    bool neg = false;
    uint64_t v = 0;
    if (*p == '-' || *p == '+') {
        neg = *p == '-';
        p++;
    }
    if (!isdigit((unsigned char)*p)) {
        return CQ_EINVAL;
    }
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    while (isdigit((unsigned char)*p)) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (limit - d) / 10) {
            return CQ_ETOOBIG;
        }
        v = v * 10 + d;
        p++;
    }
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    *cur = p;
    return CQ_OK;
}

/* Parses "<digits>[.<digits>]" and a unit from units[]; result = value * factor. */
struct unit {
    const char *name;
    int64_t factor;
};

static int parse_scaled(const char *s, const struct unit *units, int64_t *out)
{
    const char *p = s;
    int64_t whole = 0;
    int64_t frac = 0, frac_div = 1;
    while (*p == ' ') {
        p++;
    }
    if (*p == '-' || cq_parse_i64(&p, &whole) != CQ_OK) {
        return CQ_EINVAL;
    }
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) {
            return CQ_EINVAL;
        }
        while (isdigit((unsigned char)*p)) {
            if (frac_div < 1000000000) {
                frac = frac * 10 + (*p - '0');
                frac_div *= 10;
            }
            p++;
        }
    }
    while (*p == ' ') {
        p++;
    }
    for (const struct unit *u = units; u->name != NULL; u++) {
        if (cq_streq_ci(p, u->name)) {
            if (whole > INT64_MAX / u->factor) {
                return CQ_ETOOBIG;
            }
            *out = whole * u->factor + frac * u->factor / frac_div;
            return CQ_OK;
        }
    }
    return CQ_EINVAL;
}

int cq_parse_duration_ms(const char *s, int64_t *ms, struct cq_err *err)
{
    static const struct unit units[] = {
        {"ms", 1}, {"s", 1000}, {"", 1000}, {"sec", 1000}, {"m", 60000}, {"min", 60000},
        {"h", 3600000}, {"d", 86400000}, {NULL, 0},
    };
    int rc = parse_scaled(s, units, ms);
    if (rc != CQ_OK) {
        return cq_err_set(err, CQ_EINVAL,
                          "invalid duration '%s' (use a number with a unit: 250ms, 5s, 2m, 1h)", s);
    }
    return CQ_OK;
}

int cq_parse_size(const char *s, int64_t *bytes, struct cq_err *err)
{
    /* Sizes are binary (KB = 1024): what people mean for memory and row caps. */
    static const struct unit units[] = {
        {"", 1}, {"b", 1}, {"k", 1024}, {"kb", 1024}, {"kib", 1024},
        {"m", 1048576}, {"mb", 1048576}, {"mib", 1048576},
        {"g", 1073741824}, {"gb", 1073741824}, {"gib", 1073741824}, {NULL, 0},
    };
    int rc = parse_scaled(s, units, bytes);
    if (rc != CQ_OK) {
        return cq_err_set(err, CQ_EINVAL,
                          "invalid size '%s' (use a number with a unit: 512B, 64KB, 10MB, 1GB)", s);
    }
    return CQ_OK;
}

void cq_format_duration(char *dst, size_t size, int64_t ms)
{
    if (ms != 0 && ms % 3600000 == 0) {
        snprintf(dst, size, "%lldh", (long long)(ms / 3600000));
    } else if (ms != 0 && ms % 60000 == 0) {
        snprintf(dst, size, "%lldm", (long long)(ms / 60000));
    } else if (ms % 1000 == 0) {
        snprintf(dst, size, "%llds", (long long)(ms / 1000));
    } else {
        snprintf(dst, size, "%lldms", (long long)ms);
    }
}

void cq_format_size(char *dst, size_t size, int64_t bytes)
{
    if (bytes != 0 && bytes % 1073741824 == 0) {
        snprintf(dst, size, "%lldGB", (long long)(bytes / 1073741824));
    } else if (bytes != 0 && bytes % 1048576 == 0) {
        snprintf(dst, size, "%lldMB", (long long)(bytes / 1048576));
    } else if (bytes != 0 && bytes % 1024 == 0) {
        snprintf(dst, size, "%lldKB", (long long)(bytes / 1024));
    } else {
        snprintf(dst, size, "%lldB", (long long)bytes);
    }
}

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* Optimal string alignment distance: Levenshtein plus adjacent transpositions ("rnu" is
 * one edit from "run"), case-insensitive, three rolling rows. */
size_t cq_edit_distance(const char *a, const char *b, size_t cap)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t rows[3][65];
    size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];
    if (lb > 64 || la > 64) {
        return cap + 1;
    }
    for (size_t j = 0; j <= lb; j++) {
        prev[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t best = cur[0] = i;
        int ca = tolower((unsigned char)a[i - 1]);
        for (size_t j = 1; j <= lb; j++) {
            int cb = tolower((unsigned char)b[j - 1]);
            cur[j] = min3(prev[j - 1] + (ca == cb ? 0 : 1), prev[j] + 1, cur[j - 1] + 1);
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1 < cur[j]) {
                cur[j] = pp[j - 2] + 1;
            }
            best = cur[j] < best ? cur[j] : best;
        }
        if (best > cap) {
            return cap + 1;
        }
        size_t *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb] > cap ? cap + 1 : prev[lb];
}

const char *cq_did_you_mean(const char *word, const char *const *cands)
{
    const char *best = NULL;
    size_t best_d = 0;
    size_t cap = strlen(word) <= 4 ? 1 : (strlen(word) <= 8 ? 2 : 3);
    for (; *cands != NULL; cands++) {
        size_t d = cq_edit_distance(word, *cands, cap);
        if (d <= cap && (best == NULL || d < best_d)) {
            best = *cands;
            best_d = d;
        }
    }
    return best;
}
