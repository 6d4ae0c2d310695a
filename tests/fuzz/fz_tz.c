/*
 * fz_tz.c - arbitrary bytes as a TZif zone file. The input is copied into a block of exactly
 * its size so ASan flags any read past the end. A parse must fail with a one-line message
 * (CQ_EINVAL, CQ_EUNSUPPORTED or CQ_ENOMEM) or give a zone whose offsets stay within 26 h,
 * whose local times are valid, whose local->instant mapping finds an occurrence at or before
 * any instant with that local time, and with which a cron schedule advances.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/cron.h"
#include "base/mem.h"
#include "base/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_instant(const struct cq_tz *tz, int64_t t)
{
    struct cq_tm tm;
    int32_t off = cq_tz_offset(tz, t);
    if (off <= -93600 || off >= 93600) {
        abort();
    }
    cq_tz_local(tz, t, &tm);
    if (tm.mon < 1 || tm.mon > 12 || tm.mday < 1 || tm.mday > 31 || tm.hour < 0 ||
        tm.hour > 23 || tm.min < 0 || tm.min > 59 || tm.sec < 0 || tm.sec > 59 || tm.wday < 0 ||
        tm.wday > 6) {
        abort();
    }
    if (t < -((int64_t)1 << 49) || t > ((int64_t)1 << 49)) {
        return; /* outside the range where instants are exact */
    }
    int64_t local = cq_tz_timegm(tm.year, tm.mon, tm.mday, tm.hour, tm.min, tm.sec);
    if (local != t + off) {
        abort();
    }
    int64_t first = cq_tz_from_local(tz, local);
    if (first > t || first + cq_tz_offset(tz, first) < local) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t instants[] = {
        INT64_MIN, -((int64_t)1 << 40), -2208988800, -1, 0, 1774746000, 1792890000,
        2147483647, 2147483648, 4102444800, 253402300799, INT64_MAX,
    };
    struct cq_err err = {0};
    struct cq_cron cron;
    unsigned char *copy = cq_malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }
    if (size > 0) {
        memcpy(copy, data, size);
    }
    struct cq_tz *tz = cq_tz_parse("fuzz", copy, size, &err);
    if (tz == NULL) {
        if ((err.rc != CQ_EINVAL && err.rc != CQ_EUNSUPPORTED && err.rc != CQ_ENOMEM) ||
            err.msg[0] == '\0' || strchr(err.msg, '\n') != NULL) {
            abort();
        }
        goto out;
    }
    if (strcmp(cq_tz_name(tz), "fuzz") != 0) {
        abort();
    }
    for (size_t i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
        check_instant(tz, instants[i]);
        check_instant(tz, instants[i] / 2 + 1);
    }
    /* instants picked by the input itself, so the fuzzer can aim at its own transitions */
    for (size_t i = 0; i + 8 <= size && i < 64; i += 8) {
        int64_t t;
        memcpy(&t, data + i, sizeof(t));
        check_instant(tz, t);
        check_instant(tz, t >> 20);
    }
    if (cq_cron_parse("*/7 1-3 * * *", &cron, NULL) == CQ_OK) {
        int64_t after = 1774746000000, t = 0;
        for (int i = 0; i < 4 && cq_cron_next(&cron, tz, after, &t) == CQ_OK; i++) {
            if (t <= after) {
                abort();
            }
            after = t;
        }
    }
out:
    cq_tz_free(tz);
    cq_free(copy);
    return 0;
}
