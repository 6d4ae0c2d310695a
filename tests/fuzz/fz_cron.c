/*
 * fz_cron.c - arbitrary bytes as a cron expression. The input is copied into a block of
 * exactly size+1 bytes (NUL-terminated) so ASan flags any read past the end. A parse must
 * fail with a one-line CQ_EINVAL message or succeed; then cq_cron_next, in UTC and in
 * Europe/Berlin, must return strictly increasing fire times, on whole minutes, that match
 * the fields (UTC), with no matching minute skipped when the gap is short (UTC).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/cron.h"
#include "base/mem.h"
#include "base/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool matches_utc(const struct cq_cron *c, int64_t ms)
{
    struct cq_tm tm;
    cq_tz_local(NULL, ms / 1000, &tm);
    bool dom = (c->mdays >> tm.mday) & 1, dow = (c->wdays >> tm.wday) & 1;
    bool day = (c->mday_any || c->wday_any) ? (dom && dow) : (dom || dow);
    return ms % 60000 == 0 && day && ((c->months >> tm.mon) & 1) && ((c->hours >> tm.hour) & 1) &&
           ((c->minutes >> tm.min) & 1);
}

static void check_next(const struct cq_cron *c, const struct cq_tz *tz, int64_t after)
{
    for (int i = 0; i < 4; i++) {
        int64_t t = 0;
        int rc = cq_cron_next(c, tz, after, &t);
        if (rc == CQ_ENOTFOUND) {
            return;
        }
        if (rc != CQ_OK || t <= after) {
            abort();
        }
        if (c->every_ms > 0) {
            if (t % c->every_ms != 0 || t - after > c->every_ms) {
                abort();
            }
        } else {
            if (t % 60000 != 0 || t - after > (int64_t)9 * 366 * 86400000) {
                abort();
            }
            if (tz == NULL && !matches_utc(c, t)) {
                abort();
            }
            /* no earlier match was skipped (bounded, so the fuzzer stays fast) */
            if (tz == NULL && t - after <= (int64_t)2 * 86400000) {
                for (int64_t m = (after / 60000 + 1) * 60000; m < t; m += 60000) {
                    if (m > after && matches_utc(c, m)) {
                        abort();
                    }
                }
            }
        }
        after = t;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Loaded once and kept: loading per input would dominate the run. */
    static struct cq_tz *berlin;
    static bool loaded;
    static const int64_t afters[] = {
        0,             /* the epoch */
        1774745940000, /* 2026-03-29 00:59 UTC, a minute before the Berlin spring jump */
        1792888200000, /* 2026-10-25 00:30 UTC: 02:30 CEST, before Berlin's repeated hour */
        1792890600000, /* 2026-10-25 01:10 UTC: 02:10 CET, inside the repeat */
        1709164800123, /* 2024-02-29 00:00:00.123 UTC */
        -86400001,     /* before the epoch */
        4102444799000, /* 2099-12-31 23:59:59 UTC */
    };
    struct cq_err err = {0};
    struct cq_cron c, again;
    if (!loaded) {
        berlin = cq_tz_load("Europe/Berlin", NULL);
        loaded = true;
    }
    char *text = cq_malloc(size + 1);
    if (text == NULL) {
        return 0;
    }
    if (size > 0) {
        memcpy(text, data, size);
    }
    text[size] = '\0';
    int rc = cq_cron_parse(text, &c, &err);
    if (rc != CQ_OK) {
        if (rc != CQ_EINVAL || err.rc != CQ_EINVAL || err.msg[0] == '\0' ||
            strchr(err.msg, '\n') != NULL) {
            abort();
        }
        goto out;
    }
    if (cq_cron_parse(text, &again, NULL) != CQ_OK || memcmp(&c, &again, sizeof(c)) != 0) {
        abort();
    }
    if (c.every_ms == 0 && (c.minutes == 0 || c.hours == 0 || c.mdays == 0 || c.months == 0 ||
                            c.wdays == 0 || (c.minutes >> 60) != 0 || (c.hours >> 24) != 0 ||
                            (c.mdays & 1) != 0 || (c.months & 0xe001) != 0 ||
                            (c.wdays & 0x80) != 0)) {
        abort();
    }
    for (size_t i = 0; i < sizeof(afters) / sizeof(afters[0]); i++) {
        check_next(&c, NULL, afters[i]);
        check_next(&c, berlin, afters[i]);
    }
out:
    cq_free(text);
    return 0;
}
