/* cron.c - cron expressions and next fire times (see cron.h and docs/internals/cron.md). */
#include "base/cron.h"

#include <ctype.h>
#include <string.h>

#include "base/str.h"

#define SHOW 40               /* bytes of user text quoted in a message */
#define MAX_EXPR 1024         /* longer expressions are refused, not scanned */
#define SEARCH_YEARS 8
#define MAX_STEPS 100000      /* safety net for the search loop; never reached with real zones */

struct field {
    const char *name;
    int min, max;
    const char *const *names; /* 3-letter names for min.., or NULL */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

enum { F_MIN, F_HOUR, F_MDAY, F_MON, F_WDAY, N_FIELDS };

static const struct field fields[N_FIELDS] = {
    {"minute", 0, 59, NULL},
    {"hour", 0, 23, NULL},
    {"day-of-month", 1, 31, NULL},
    {"month", 1, 12, month_names},
    {"day-of-week", 0, 7, day_names}, /* 7 is Sunday too */
};

/* ---- parser ---- */

/* One number or name, exactly the slice [p, p+len). */
static int parse_value(const struct field *f, const char *p, size_t len, int *out,
                       struct cq_err *err)
{
    int s = len > SHOW ? SHOW : (int)len;
    if (len > 0 && isdigit((unsigned char)p[0])) {
        long v = 0;
        for (size_t i = 0; i < len; i++) {
            if (!isdigit((unsigned char)p[i])) {
                goto bad;
            }
            v = v > 1000 ? v : v * 10 + (p[i] - '0');
        }
        if (v < f->min || v > f->max) {
            return cq_err_set(err, CQ_EINVAL, "%s: %.*s is out of range %d-%d", f->name, s, p,
                              f->min, f->max);
        }
        *out = (int)v;
        return CQ_OK;
    }
    for (int i = 0; f->names != NULL && f->names[i] != NULL; i++) {
        if (len == 3 && tolower((unsigned char)p[0]) == f->names[i][0] &&
            tolower((unsigned char)p[1]) == f->names[i][1] &&
            tolower((unsigned char)p[2]) == f->names[i][2]) {
            *out = f->min + i;
            return CQ_OK;
        }
    }
bad:
    return cq_err_set(err, CQ_EINVAL, "%s: expected a number, a name, '*' or a range, got '%.*s'",
                      f->name, s, p);
}

/* "*", "a", "a-b", each optionally "/step" (not after a single value). */
static int parse_item(const struct field *f, const char *p, size_t len, uint64_t *bits,
                      struct cq_err *err)
{
    int s = len > SHOW ? SHOW : (int)len;
    const char *slash = memchr(p, '/', len);
    size_t blen = slash ? (size_t)(slash - p) : len;
    const char *dash = memchr(p, '-', blen);
    int lo = f->min, hi = f->max == 7 ? 6 : f->max, step = 1;
    int rc = CQ_OK;
    if (blen == 1 && p[0] == '*') {
        /* the whole range */
    } else if (p[0] == '*') {
        return cq_err_set(err, CQ_EINVAL, "%s: expected a number, a name, '*' or a range, got "
                          "'%.*s'", f->name, s, p);
    } else if (dash != NULL) {
        size_t dlen = (size_t)(dash - p);
        if (dlen == 0 || dlen + 1 == blen) {
            return cq_err_set(err, CQ_EINVAL, "%s: incomplete range '%.*s'", f->name, s, p);
        }
        rc = parse_value(f, p, dlen, &lo, err);
        if (rc == CQ_OK) {
            rc = parse_value(f, dash + 1, blen - dlen - 1, &hi, err);
        }
        if (rc == CQ_OK && lo > hi) {
            return cq_err_set(err, CQ_EINVAL, "%s: range %.*s is reversed", f->name,
                              blen > SHOW ? SHOW : (int)blen, p);
        }
    } else {
        rc = parse_value(f, p, blen, &lo, err);
        hi = lo;
        if (rc == CQ_OK && slash != NULL) {
            int rest = (int)(len - blen) > SHOW ? SHOW : (int)(len - blen);
            return cq_err_set(err, CQ_EINVAL, "%s: a step needs '*' or a range before it, got "
                              "'%.*s' (write %.*s-%d%.*s)", f->name, s, p,
                              (int)(blen > SHOW ? SHOW : blen), p,
                              f->max == 7 ? 6 : f->max, rest, slash);
        }
    }
    if (rc != CQ_OK) {
        return rc;
    }
    if (slash != NULL) {
        const char *q = slash + 1;
        size_t qlen = len - blen - 1;
        long v = 0;
        for (size_t i = 0; i < qlen && v <= 1000; i++) {
            v = isdigit((unsigned char)q[i]) ? v * 10 + (q[i] - '0') : -1;
            if (v < 0) {
                break;
            }
        }
        if (qlen == 0 || v < 0) {
            return cq_err_set(err, CQ_EINVAL, "%s: step must be a number, got '%.*s'", f->name,
                              s, p);
        }
        if (v == 0) {
            return cq_err_set(err, CQ_EINVAL, "%s: step must be at least 1, got '%.*s'",
                              f->name, s, p);
        }
        step = v > 100 ? 100 : (int)v;
    }
    for (int v = lo; v <= hi; v += step) {
        /* day-of-week 7 is Sunday (0) */
        *bits |= (uint64_t)1 << (f->max == 7 && v == 7 ? 0 : v);
    }
    return CQ_OK;
}

/* A comma-separated list of items. */
static int parse_field(const struct field *f, const char *p, size_t len, uint64_t *bits,
                       struct cq_err *err)
{
    const char *end = p + len;
    *bits = 0;
    for (const char *q = p;; q++) {
        const char *comma = memchr(q, ',', (size_t)(end - q));
        const char *e = comma ? comma : end;
        if (e == q) {
            return cq_err_set(err, CQ_EINVAL, "%s: empty item in list '%.*s'", f->name,
                              len > SHOW ? SHOW : (int)len, p);
        }
        int rc = parse_item(f, q, (size_t)(e - q), bits, err);
        if (rc != CQ_OK) {
            return rc;
        }
        if (comma == NULL) {
            return CQ_OK;
        }
        q = comma;
    }
}

static int parse_fields(const char *expr, struct cq_cron *c, struct cq_err *err)
{
    const char *tok[N_FIELDS];
    size_t len[N_FIELDS];
    uint64_t bits[N_FIELDS];
    int n = 0;
    for (const char *p = expr; *p;) {
        if (isspace((unsigned char)*p)) {
            p++;
            continue;
        }
        const char *s = p;
        while (*p && !isspace((unsigned char)*p)) {
            p++;
        }
        if (n < N_FIELDS) {
            tok[n] = s;
            len[n] = (size_t)(p - s);
        }
        n++;
    }
    if (n != N_FIELDS) {
        return cq_err_set(err, CQ_EINVAL, "expected 5 fields (minute hour day-of-month month "
                          "day-of-week), got %d", n);
    }
    for (int i = 0; i < N_FIELDS; i++) {
        int rc = parse_field(&fields[i], tok[i], len[i], &bits[i], err);
        if (rc != CQ_OK) {
            return rc;
        }
    }
    c->minutes = bits[F_MIN];
    c->hours = (uint32_t)bits[F_HOUR];
    c->mdays = (uint32_t)bits[F_MDAY];
    c->months = (uint16_t)bits[F_MON];
    c->wdays = (uint8_t)bits[F_WDAY];
    /* Vixie cron: a field starting with '*' is unrestricted for the day OR rule. */
    c->mday_any = tok[F_MDAY][0] == '*';
    c->wday_any = tok[F_WDAY][0] == '*';
    return CQ_OK;
}

/* arg: the one token after @every (alen bytes); extra: more text follows it. */
static int parse_every(const char *arg, size_t alen, bool extra, struct cq_cron *c,
                       struct cq_err *err)
{
    char dur[64];
    int64_t ms = 0;
    int s = alen > SHOW ? SHOW : (int)alen;
    if (alen == 0) {
        return cq_err_set(err, CQ_EINVAL, "@every: expected a duration such as 30s, 5m or 1h");
    }
    if (extra) {
        return cq_err_set(err, CQ_EINVAL, "@every takes one duration, got more after '%.*s'", s,
                          arg);
    }
    if (alen >= sizeof(dur)) {
        return cq_err_set(err, CQ_EINVAL, "@every: invalid duration '%.*s...'", s, arg);
    }
    memcpy(dur, arg, alen);
    dur[alen] = '\0';
    if (cq_parse_duration_ms(dur, &ms, err) != CQ_OK) {
        cq_err_wrap(err, "@every");
        return CQ_EINVAL;
    }
    if (ms < 1000) {
        return cq_err_set(err, CQ_EINVAL, "@every: '%s' is too short (at least 1s)", dur);
    }
    c->every_ms = ms;
    return CQ_OK;
}

/* Length of the token at p (up to whitespace or the end). */
static size_t token_len(const char *p)
{
    size_t n = 0;
    while (p[n] && !isspace((unsigned char)p[n])) {
        n++;
    }
    return n;
}

static int parse_macro(const char *expr, struct cq_cron *c, struct cq_err *err)
{
    static const struct {
        const char *name;
        const char *expr;
    } macros[] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"},
    };
    static const char *const cands[] = {"@yearly", "@annually", "@monthly", "@weekly", "@daily",
                                        "@midnight", "@hourly", "@every", NULL};
    char word[32];
    size_t n = token_len(expr);
    const char *arg = expr + n;
    while (isspace((unsigned char)*arg)) {
        arg++;
    }
    size_t alen = token_len(arg);
    const char *more = arg + alen;
    while (isspace((unsigned char)*more)) {
        more++;
    }
    cq_strlcpy(word, expr, n < sizeof(word) ? n + 1 : sizeof(word));
    if (n < sizeof(word) && cq_streq_ci(word, "@every")) {
        return parse_every(arg, alen, *more != '\0', c, err);
    }
    for (size_t i = 0; n < sizeof(word) && i < sizeof(macros) / sizeof(macros[0]); i++) {
        if (cq_streq_ci(word, macros[i].name)) {
            if (alen != 0) {
                return cq_err_set(err, CQ_EINVAL, "%s takes no arguments, got '%.*s'",
                                  macros[i].name, alen > SHOW ? SHOW : (int)alen, arg);
            }
            return parse_fields(macros[i].expr, c, err);
        }
    }
    const char *hint = n < sizeof(word) ? cq_did_you_mean(word, cands) : NULL;
    if (hint != NULL) {
        return cq_err_set(err, CQ_EINVAL, "unknown macro '%s' (did you mean '%s'?)", word, hint);
    }
    return cq_err_set(err, CQ_EINVAL, "unknown macro '%.*s' (use @yearly, @monthly, @weekly, "
                      "@daily, @hourly or @every <duration>)", n > SHOW ? SHOW : (int)n, expr);
}

int cq_cron_parse(const char *expr, struct cq_cron *out, struct cq_err *err)
{
    struct cq_cron c;
    int rc;
    memset(&c, 0, sizeof(c));
    while (isspace((unsigned char)*expr)) {
        expr++;
    }
    if (strlen(expr) > MAX_EXPR) {
        return cq_err_set(err, CQ_EINVAL, "schedule is too long (%zu bytes, at most %d)",
                          strlen(expr), MAX_EXPR);
    }
    rc = expr[0] == '@' ? parse_macro(expr, &c, err) : parse_fields(expr, &c, err);
    if (rc == CQ_OK) {
        *out = c;
    }
    return rc;
}

/* ---- next fire time ---- */

/* Lowest set bit of mask at or above `from`, or -1. */
static int next_bit(uint64_t mask, int from)
{
    if (from > 63) {
        return -1;
    }
    mask >>= from;
    return mask == 0 ? -1 : from + __builtin_ctzll(mask);
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return dim[m - 1] + (m == 2 && leap);
}

/* Bits 1..31: the days of month m of year y that match (Vixie: OR when both restricted). */
static uint32_t day_mask(const struct cq_cron *c, int y, int m)
{
    int dim = days_in_month(y, m);
    uint32_t valid = (uint32_t)(((uint64_t)1 << (dim + 1)) - 2);
    int64_t first = cq_tz_timegm(y, m, 1, 0, 0, 0) / 86400;
    int wd1 = (int)(((first + 4) % 7 + 7) % 7);
    uint32_t wmask = 0;
    for (int w = 0; w < 7; w++) {
        if (c->wdays & (1u << ((wd1 + w) % 7))) {
            for (int d = 1 + w; d <= 31; d += 7) {
                wmask |= 1u << d;
            }
        }
    }
    uint32_t mask = (c->mday_any || c->wday_any) ? (c->mdays & wmask) : (c->mdays | wmask);
    return mask & valid;
}

static int next_every(int64_t every, int64_t after_ms, int64_t *next_ms)
{
    int64_t q = after_ms / every - (after_ms % every < 0);
    if (q >= INT64_MAX / every) {
        return CQ_ENOTFOUND;
    }
    *next_ms = (q + 1) * every;
    return CQ_OK;
}

/* Field-wise search in local civil time: each step jumps to the next matching month,
 * day, hour or minute, so a call costs a few table lookups, not one per minute. */
int cq_cron_next(const struct cq_cron *c, const struct cq_tz *tz, int64_t after_ms,
                 int64_t *next_ms)
{
    const int64_t limit = (int64_t)1 << 40; /* seconds, about 34,000 years */
    struct cq_tm tm;
    if (c->every_ms > 0) {
        return next_every(c->every_ms, after_ms, next_ms);
    }
    int64_t after = after_ms / 1000 - (after_ms % 1000 < 0);
    if (after < -limit || after > limit) {
        return CQ_EINVAL;
    }
    /* The first whole local minute after `after`: offsets are whole minutes since 1972. */
    cq_tz_local(tz, after, &tm);
    int y = tm.year, mo = tm.mon, d = tm.mday, h = tm.hour, mi = tm.min + 1;
    const int y_end = y + SEARCH_YEARS;
    for (long steps = 0; steps < MAX_STEPS && y <= y_end; steps++) {
        int v = next_bit(c->months, mo);
        if (v < 0) {
            y++;
            mo = 1, d = 1, h = 0, mi = 0;
            continue;
        }
        if (v != mo) {
            mo = v, d = 1, h = 0, mi = 0;
        }
        v = next_bit(day_mask(c, y, mo), d);
        if (v < 0) {
            mo++, d = 1, h = 0, mi = 0;
            continue;
        }
        if (v != d) {
            d = v, h = 0, mi = 0;
        }
        v = next_bit(c->hours, h);
        if (v < 0) {
            d++, h = 0, mi = 0;
            continue;
        }
        if (v != h) {
            h = v, mi = 0;
        }
        v = next_bit(c->minutes, mi);
        if (v < 0) {
            h++, mi = 0;
            continue;
        }
        mi = v;
        /* A skipped local time maps to the jump, a repeated one to its first occurrence;
         * either may fall at or before `after`, then the search goes on. */
        int64_t t = cq_tz_from_local(tz, cq_tz_timegm(y, mo, d, h, mi, 0));
        if (t > after) {
            *next_ms = t * 1000;
            return CQ_OK;
        }
        mi++;
    }
    return CQ_ENOTFOUND;
}
