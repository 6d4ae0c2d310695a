/* tz.c - TZif zone files and POSIX TZ rules (see tz.h and docs/internals/cron.md). */
#include "base/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/str.h"

#define DAY 86400
#define MAX_OFF 93599                 /* RFC 8536: |UT offset| < 26 h */
#define MAX_T ((int64_t)1 << 50)      /* instants are clamped here: years fit an int */
#define MAX_FILE (1024 * 1024)        /* real zone files are under 5 KB */
#define MAX_FOOTER 255

struct tz_type {
    int32_t off; /* seconds east of UTC */
};

/* One date of a POSIX TZ rule: Jn, n or Mm.w.d, plus the local time of the change. */
enum rule_kind { RULE_JULIAN1, RULE_JULIAN0, RULE_MWD };
struct tz_date {
    enum rule_kind kind;
    int day;      /* Jn: 1..365; n: 0..365; M: weekday 0..6 */
    int mon;      /* M: 1..12 */
    int week;     /* M: 1..5, 5 = last */
    int32_t time; /* seconds after local midnight, -167 h..167 h */
};

struct tz_rule {
    int32_t std_off;      /* seconds east of UTC */
    int32_t dst_off;      /* seconds east of UTC */
    bool has_dst;         /* false: std_off all year */
    struct tz_date start; /* DST starts (read in standard time) */
    struct tz_date end;   /* DST ends (read in daylight time) */
};

struct cq_tz {
    char *name;
    size_t n_trans;
    int64_t *trans;         /* strictly ascending, epoch seconds */
    uint8_t *trans_type;    /* index into types, per transition */
    size_t n_types;         /* >= 1; type 0 applies before the first transition */
    struct tz_type *types;
    bool has_rule;          /* the footer rule applies after the last transition */
    struct tz_rule rule;
};

/* ---- civil calendar (H. Hinnant's days_from_civil / civil_from_days) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int64_t cq_tz_timegm(int year, int mon, int mday, int hour, int min, int sec)
{
    /* Months outside 1..12 carry into the year, so callers may step past December. */
    int64_t y = (int64_t)year + floor_div((int64_t)mon - 1, 12);
    int m = (int)((int64_t)mon - 1 - floor_div((int64_t)mon - 1, 12) * 12) + 1;
    int64_t days = days_from_civil(y, m, 1) + mday - 1;
    return days * DAY + (int64_t)hour * 3600 + (int64_t)min * 60 + sec;
}

/* ---- POSIX TZ rules (the TZif footer) ---- */

/* Local seconds of 00:00 on the rule's date in year y. */
static int64_t rule_day(const struct tz_date *r, int64_t y)
{
    int64_t jan1 = days_from_civil(y, 1, 1);
    if (r->kind == RULE_JULIAN1) {
        /* Jn never counts February 29. */
        return (jan1 + r->day - 1 + (is_leap(y) && r->day >= 60)) * DAY;
    }
    if (r->kind == RULE_JULIAN0) {
        return (jan1 + r->day) * DAY;
    }
    int64_t first = days_from_civil(y, r->mon, 1);
    int wd1 = (int)(((first + 4) % 7 + 7) % 7);
    int dim = r->mon == 2 ? 28 + is_leap(y) : 30 + ((r->mon + (r->mon >= 8)) & 1);
    int mday = 1 + (r->day - wd1 + 7) % 7 + (r->week - 1) * 7;
    while (mday > dim) {
        mday -= 7;
    }
    return (first + mday - 1) * DAY;
}

struct change {
    int64_t at;  /* epoch seconds */
    bool dst;    /* state from `at` on */
};

/* Offset at t under the rule, and the next change after t (end > t). Changes of the year
 * around t and its neighbours are enough: a change moves at most 167 h off its date. */
static void rule_lookup(const struct tz_rule *r, int64_t t, int32_t *off, int64_t *end)
{
    struct change ch[6];
    int64_t y;
    int m, d;
    *off = r->std_off;
    *end = INT64_MAX;
    if (!r->has_dst) {
        return;
    }
    civil_from_days(floor_div(t + r->std_off, DAY), &y, &m, &d);
    for (int i = 0; i < 3; i++) {
        struct change s = {rule_day(&r->start, y - 1 + i) + r->start.time - r->std_off, true};
        struct change e = {rule_day(&r->end, y - 1 + i) + r->end.time - r->dst_off, false};
        /* Insertion sort; on a tie the start goes last, so DST all year stays DST. */
        for (int k = 0; k < 2; k++) {
            struct change c = k == 0 ? e : s;
            int j = i * 2 + k;
            while (j > 0 && (ch[j - 1].at > c.at || (ch[j - 1].at == c.at && ch[j - 1].dst))) {
                ch[j] = ch[j - 1];
                j--;
            }
            ch[j] = c;
        }
    }
    bool dst = !ch[0].dst;
    *end = t + DAY;
    for (int i = 0; i < 6; i++) {
        if (ch[i].at > t) {
            *end = ch[i].at;
            break;
        }
        dst = ch[i].dst;
    }
    *off = dst ? r->dst_off : r->std_off;
}

/* Offset at t and the end of its segment (the next instant the offset may change). */
static void lookup(const struct cq_tz *tz, int64_t t, int32_t *off, int64_t *end)
{
    if (tz == NULL) {
        *off = 0;
        *end = INT64_MAX;
        return;
    }
    size_t n = tz->n_trans;
    if (tz->has_rule && (n == 0 || t >= tz->trans[n - 1])) {
        rule_lookup(&tz->rule, t, off, end);
        return;
    }
    if (n == 0 || t < tz->trans[0]) {
        *off = tz->types[0].off;
        *end = n == 0 ? INT64_MAX : tz->trans[0];
        return;
    }
    size_t lo = 0, hi = n; /* trans[lo] <= t < trans[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    *off = tz->types[tz->trans_type[lo]].off;
    *end = hi < n ? tz->trans[hi] : INT64_MAX;
}

static int64_t clamp_t(int64_t t)
{
    return t < -MAX_T ? -MAX_T : (t > MAX_T ? MAX_T : t);
}

int32_t cq_tz_offset(const struct cq_tz *tz, int64_t t)
{
    int32_t off;
    int64_t end;
    lookup(tz, clamp_t(t), &off, &end);
    return off;
}

void cq_tz_local(const struct cq_tz *tz, int64_t t, struct cq_tm *out)
{
    int64_t y;
    t = clamp_t(t);
    int64_t lt = t + cq_tz_offset(tz, t);
    int64_t days = floor_div(lt, DAY);
    int64_t secs = lt - days * DAY;
    civil_from_days(days, &y, &out->mon, &out->mday);
    out->year = (int)y;
    out->hour = (int)(secs / 3600);
    out->min = (int)(secs / 60 % 60);
    out->sec = (int)(secs % 60);
    out->wday = (int)(((days + 4) % 7 + 7) % 7);
}

int64_t cq_tz_from_local(const struct cq_tz *tz, int64_t local)
{
    /* Walk the offset segments from a point whose local time is surely before `local`;
     * offsets stay under 26 h, so the first segment reaching `local` is found within
     * 52 h and gives the first occurrence, or the jump that skipped it. */
    local = clamp_t(local);
    int64_t s = local - MAX_OFF - 1;
    for (;;) {
        int32_t off;
        int64_t end;
        lookup(tz, s, &off, &end);
        if (local < s + off) {
            return s;
        }
        if (end > local + MAX_OFF || local < end + off) {
            return local - off;
        }
        s = end;
    }
}

/* ---- POSIX TZ string parser ---- */

/* std/dst designation: 3+ letters, or <...> of [A-Za-z0-9+-]. */
static bool parse_abbr(const char **cur)
{
    const char *p = *cur;
    size_t n = 0;
    if (*p == '<') {
        for (p++; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || *p == '+' || *p == '-'; p++) {
            n++;
        }
        if (*p != '>' || n < 3) {
            return false;
        }
        *cur = p + 1;
        return true;
    }
    for (; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'); p++) {
        n++;
    }
    if (n < 3) {
        return false;
    }
    *cur = p;
    return true;
}

/* Small unsigned decimal (at most 3 digits). */
static bool parse_small(const char **cur, int *v)
{
    const char *p = *cur;
    int n = 0, k = 0;
    while (*p >= '0' && *p <= '9' && k < 3) {
        n = n * 10 + (*p++ - '0');
        k++;
    }
    if (k == 0 || (*p >= '0' && *p <= '9')) {
        return false;
    }
    *v = n;
    *cur = p;
    return true;
}

/* [+-]hh[:mm[:ss]] with hh <= max_h. */
static bool parse_hms(const char **cur, int max_h, int32_t *out)
{
    const char *p = *cur;
    int sign = 1, h, m = 0, s = 0;
    if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
    }
    if (!parse_small(&p, &h) || h > max_h) {
        return false;
    }
    if (*p == ':') {
        p++;
        if (!parse_small(&p, &m) || m > 59) {
            return false;
        }
        if (*p == ':') {
            p++;
            if (!parse_small(&p, &s) || s > 59) {
                return false;
            }
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    *cur = p;
    return true;
}

static bool parse_date(const char **cur, struct tz_date *d)
{
    const char *p = *cur;
    d->time = 7200; /* 02:00 unless given */
    if (*p == 'J') {
        p++;
        d->kind = RULE_JULIAN1;
        if (!parse_small(&p, &d->day) || d->day < 1 || d->day > 365) {
            return false;
        }
    } else if (*p == 'M') {
        p++;
        d->kind = RULE_MWD;
        if (!parse_small(&p, &d->mon) || d->mon < 1 || d->mon > 12 || *p++ != '.' ||
            !parse_small(&p, &d->week) || d->week < 1 || d->week > 5 || *p++ != '.' ||
            !parse_small(&p, &d->day) || d->day > 6) {
            return false;
        }
    } else {
        d->kind = RULE_JULIAN0;
        if (!parse_small(&p, &d->day) || d->day > 365) {
            return false;
        }
    }
    /* RFC 8536 (version 3) allows -167..167 hours here. */
    if (*p == '/') {
        p++;
        if (!parse_hms(&p, 167, &d->time)) {
            return false;
        }
    }
    *cur = p;
    return true;
}

/* "STD offset [DST [offset] [,start[/time],end[/time]]]"; offsets are west-positive. */
static bool parse_posix(const char *s, struct tz_rule *r)
{
    const char *p = s;
    int32_t west;
    memset(r, 0, sizeof(*r));
    if (!parse_abbr(&p) || !parse_hms(&p, 24, &west)) {
        return false;
    }
    r->std_off = -west;
    if (*p == '\0') {
        return true;
    }
    if (!parse_abbr(&p)) {
        return false;
    }
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*p != ',' && *p != '\0') {
        if (!parse_hms(&p, 24, &west)) {
            return false;
        }
        r->dst_off = -west;
    }
    if (*p == '\0') {
        /* No rule: tzcode's default, the US rules. */
        p = ",M3.2.0,M11.1.0";
    }
    if (*p++ != ',' || !parse_date(&p, &r->start) || *p++ != ',' ||
        !parse_date(&p, &r->end)) {
        return false;
    }
    return *p == '\0';
}

/* ---- TZif reader (RFC 8536) ---- */

struct hdr {
    char version;    /* 0, '2', '3', '4' */
    uint32_t isut;   /* counts of the data block that follows */
    uint32_t isstd;
    uint32_t leap;
    uint32_t time;
    uint32_t type;
    uint32_t chars;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int bad(const char *name, const char *what, struct cq_err *err)
{
    return cq_err_set(err, CQ_EINVAL, "time zone '%s': damaged zone file (%s)", name, what);
}

static int read_header(const char *name, const unsigned char *data, size_t len, size_t *pos,
                       struct hdr *h, struct cq_err *err)
{
    const unsigned char *p = data + *pos;
    if (len - *pos < 44) {
        return bad(name, "truncated header", err);
    }
    if (memcmp(p, "TZif", 4) != 0) {
        return bad(name, "not a TZif file", err);
    }
    h->version = (char)p[4];
    if (h->version != 0 && (h->version < '2' || h->version > '9')) {
        return bad(name, "unknown version", err);
    }
    h->isut = be32(p + 20);
    h->isstd = be32(p + 24);
    h->leap = be32(p + 28);
    h->time = be32(p + 32);
    h->type = be32(p + 36);
    h->chars = be32(p + 40);
    *pos += 44;
    return CQ_OK;
}

/* Bytes of the data block after a header, for times of tsize bytes (no overflow: each
 * count is < 2^32). */
static uint64_t block_size(const struct hdr *h, unsigned tsize)
{
    return (uint64_t)h->time * (tsize + 1) + (uint64_t)h->type * 6 + h->chars +
           (uint64_t)h->leap * (tsize + 4) + h->isstd + h->isut;
}

static int check_counts(const char *name, const struct hdr *h, struct cq_err *err)
{
    if (h->type == 0 || h->type > 256) {
        return bad(name, "bad number of local time types", err);
    }
    if (h->chars == 0 || (h->isstd != 0 && h->isstd != h->type) ||
        (h->isut != 0 && h->isut != h->type)) {
        return bad(name, "inconsistent counts", err);
    }
    return CQ_OK;
}

/* Reads the data block at *pos into tz (times of tsize bytes). */
static int read_block(struct cq_tz *tz, const unsigned char *data, size_t len, size_t *pos,
                      const struct hdr *h, unsigned tsize, struct cq_err *err)
{
    int rc = check_counts(tz->name, h, err);
    if (rc != CQ_OK) {
        return rc;
    }
    if (block_size(h, tsize) > len - *pos) {
        return bad(tz->name, "truncated data", err);
    }
    if (h->leap != 0) {
        /* clariq's instants are POSIX seconds; "right/" zones count leap seconds. */
        return cq_err_set(err, CQ_EUNSUPPORTED,
                          "time zone '%s': leap-second zones are not supported (use the zone "
                          "without the right/ prefix)", tz->name);
    }
    const unsigned char *t = data + *pos;
    const unsigned char *idx = t + (size_t)h->time * tsize;
    const unsigned char *ti = idx + h->time;
    tz->n_trans = h->time;
    tz->n_types = h->type;
    tz->trans = cq_calloc(h->time, sizeof(*tz->trans));
    tz->trans_type = cq_calloc(h->time, 1);
    tz->types = cq_calloc(h->type, sizeof(*tz->types));
    if (tz->trans == NULL || tz->trans_type == NULL || tz->types == NULL) {
        return cq_err_set(err, CQ_ENOMEM, "time zone '%s': out of memory", tz->name);
    }
    for (size_t i = 0; i < h->time; i++) {
        int64_t v = tsize == 8 ? be64(t + i * 8) : (int64_t)(int32_t)be32(t + i * 4);
        if (i > 0 && v <= tz->trans[i - 1]) {
            return bad(tz->name, "transitions out of order", err);
        }
        if (idx[i] >= h->type) {
            return bad(tz->name, "transition names a missing type", err);
        }
        tz->trans[i] = v;
        tz->trans_type[i] = idx[i];
    }
    for (size_t i = 0; i < h->type; i++) {
        const unsigned char *e = ti + i * 6;
        int32_t off = (int32_t)be32(e);
        if (off < -MAX_OFF || off > MAX_OFF || e[4] > 1 || e[5] >= h->chars) {
            return bad(tz->name, "bad local time type", err);
        }
        tz->types[i].off = off;
    }
    *pos += (size_t)block_size(h, tsize);
    return CQ_OK;
}

/* "\n<POSIX TZ>\n" after the version 2+ data. */
static int read_footer(struct cq_tz *tz, const unsigned char *data, size_t len, size_t pos,
                       struct cq_err *err)
{
    char s[MAX_FOOTER + 1];
    size_t n = 0;
    if (pos >= len || data[pos] != '\n') {
        return bad(tz->name, "missing footer", err);
    }
    for (pos++; pos < len && data[pos] != '\n'; pos++) {
        if (n == MAX_FOOTER || data[pos] == '\0') {
            return bad(tz->name, "bad footer", err);
        }
        s[n++] = (char)data[pos];
    }
    if (pos >= len) {
        return bad(tz->name, "unterminated footer", err);
    }
    s[n] = '\0';
    if (n == 0) {
        return CQ_OK;
    }
    if (!parse_posix(s, &tz->rule)) {
        return cq_err_set(err, CQ_EINVAL, "time zone '%s': rule '%s' in the zone file is not "
                          "understood", tz->name, s);
    }
    if (tz->rule.std_off < -MAX_OFF || tz->rule.std_off > MAX_OFF ||
        tz->rule.dst_off < -MAX_OFF || tz->rule.dst_off > MAX_OFF) {
        return bad(tz->name, "rule offset out of range", err);
    }
    tz->has_rule = true;
    return CQ_OK;
}

static struct cq_tz *tz_alloc(const char *name, struct cq_err *err)
{
    struct cq_tz *tz = cq_calloc(1, sizeof(*tz));
    if (tz != NULL) {
        tz->name = cq_strdup(name);
    }
    if (tz == NULL || tz->name == NULL) {
        cq_tz_free(tz);
        cq_err_set(err, CQ_ENOMEM, "time zone '%s': out of memory", name);
        return NULL;
    }
    return tz;
}

struct cq_tz *cq_tz_parse(const char *name, const unsigned char *data, size_t len,
                          struct cq_err *err)
{
    struct hdr h;
    size_t pos = 0;
    int rc;
    struct cq_tz *tz = tz_alloc(name ? name : "", err);
    if (tz == NULL) {
        return NULL;
    }
    rc = read_header(tz->name, data, len, &pos, &h, err);
    if (rc != CQ_OK) {
        goto out;
    }
    if (h.version == 0) {
        rc = read_block(tz, data, len, &pos, &h, 4, err);
        goto out;
    }
    /* Version 2+: skip the 32-bit block and read the 64-bit one and the footer. */
    if (block_size(&h, 4) > len - pos) {
        rc = bad(tz->name, "truncated data", err);
        goto out;
    }
    pos += (size_t)block_size(&h, 4);
    rc = read_header(tz->name, data, len, &pos, &h, err);
    if (rc == CQ_OK) {
        rc = read_block(tz, data, len, &pos, &h, 8, err);
    }
    if (rc == CQ_OK) {
        rc = read_footer(tz, data, len, pos, err);
    }
out:
    if (rc != CQ_OK) {
        cq_tz_free(tz);
        return NULL;
    }
    return tz;
}

/* IANA names: [A-Za-z0-9_+-/], no "..", no leading '/'. */
static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n > 200 || name[0] == '/' || strstr(name, "..") != NULL) {
        return false;
    }
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '/')) {
            return false;
        }
    }
    return true;
}

static struct cq_tz *utc_zone(const char *name, struct cq_err *err)
{
    struct cq_tz *tz = tz_alloc(name[0] ? name : "UTC", err);
    if (tz == NULL) {
        return NULL;
    }
    tz->n_types = 1;
    tz->types = cq_calloc(1, sizeof(*tz->types));
    if (tz->types == NULL) {
        cq_err_set(err, CQ_ENOMEM, "time zone 'UTC': out of memory");
        cq_tz_free(tz);
        return NULL;
    }
    return tz;
}

/* Reads a whole regular file (at most MAX_FILE bytes) into *out. */
static int read_file(const char *name, const char *dir, const char *path, unsigned char **out,
                     size_t *len, struct cq_err *err)
{
    int rc = CQ_OK;
    struct stat st;
    unsigned char *data = NULL;
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0 || errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG) {
            rc = cq_err_set(err, CQ_ENOTFOUND, "unknown time zone '%s' (not in %s; names look "
                            "like Europe/Berlin or UTC)", name, dir);
        } else {
            rc = cq_err_set(err, CQ_EIO, "time zone '%s': %s: %s", name, path, strerror(errno));
        }
        goto out;
    }
    if (st.st_size > MAX_FILE) {
        rc = bad(name, "file too large", err);
        goto out;
    }
    data = cq_malloc((size_t)st.st_size + 1);
    if (data == NULL) {
        rc = cq_err_set(err, CQ_ENOMEM, "time zone '%s': out of memory", name);
        goto out;
    }
    while (n < (size_t)st.st_size) {
        ssize_t r = read(fd, data + n, (size_t)st.st_size - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            rc = cq_err_set(err, CQ_EIO, "time zone '%s': reading %s: %s", name, path,
                            r < 0 ? strerror(errno) : "file shrank");
            goto out;
        }
        n += (size_t)r;
    }
    *out = data;
    *len = n;
    data = NULL;
out:
    if (fd >= 0) {
        close(fd);
    }
    cq_free(data);
    return rc;
}

struct cq_tz *cq_tz_load(const char *name, struct cq_err *err)
{
    char path[4096];
    unsigned char *data = NULL;
    size_t len = 0;
    struct cq_tz *tz = NULL;
    const char *dir = getenv("TZDIR");
    if (name == NULL || name[0] == '\0' || strcmp(name, "UTC") == 0) {
        return utc_zone(name ? name : "", err);
    }
    if (!name_ok(name)) {
        cq_err_set(err, CQ_EINVAL, "invalid time zone name '%.64s' (names look like "
                   "Europe/Berlin or UTC: letters, digits, '_', '+', '-' and '/')", name);
        goto out;
    }
    if (dir == NULL || dir[0] == '\0') {
        dir = "/usr/share/zoneinfo";
    }
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
        cq_err_set(err, CQ_EINVAL, "time zone '%s': path under %s is too long", name, dir);
        goto out;
    }
    if (read_file(name, dir, path, &data, &len, err) != CQ_OK) {
        goto out;
    }
    tz = cq_tz_parse(name, data, len, err);
out:
    cq_free(data);
    return tz;
}

void cq_tz_free(struct cq_tz *tz)
{
    if (tz == NULL) {
        return;
    }
    cq_free(tz->name);
    cq_free(tz->trans);
    cq_free(tz->trans_type);
    cq_free(tz->types);
    cq_free(tz);
}

const char *cq_tz_name(const struct cq_tz *tz)
{
    return tz == NULL ? "UTC" : tz->name;
}
