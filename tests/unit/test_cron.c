/* test_cron.c - cron expressions, next fire times, DST, and the TZif reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/cron.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/time.h"
#include "base/tz.h"

/* Epoch ms of a UTC civil time. */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
    return cq_tz_timegm(y, mo, d, h, mi, 0) * 1000;
}

static int64_t next_in(const char *expr, const struct cq_tz *tz, int64_t after)
{
    struct cq_cron c;
    struct cq_err err = {0};
    int64_t t = 0;
    int rc = cq_cron_parse(expr, &c, &err);
    if (rc != CQ_OK) {
        fail_msg("%s: %s", expr, err.msg);
    }
    rc = cq_cron_next(&c, tz, after, &t);
    if (rc != CQ_OK) {
        fail_msg("%s: next returned %d", expr, rc);
    }
    return t;
}

static int64_t next_utc(const char *expr, int64_t after)
{
    return next_in(expr, NULL, after);
}

static struct cq_tz *zone(const char *name)
{
    struct cq_err err = {0};
    struct cq_tz *tz = cq_tz_load(name, &err);
    if (tz == NULL) {
        fail_msg("%s: %s", name, err.msg);
    }
    return tz;
}

static int setup_env(void **state)
{
    (void)state;
    unsetenv("TZDIR");
    return 0;
}

static void month_ends_and_leap_years(void **state)
{
    (void)state;
    assert_int_equal(next_utc("0 0 31 * *", utc(2026, 1, 31, 0, 0)), utc(2026, 3, 31, 0, 0));
    assert_int_equal(next_utc("0 0 31 * *", utc(2026, 3, 31, 0, 0)), utc(2026, 5, 31, 0, 0));
    assert_int_equal(next_utc("0 0 31 * *", utc(2026, 7, 31, 0, 0)), utc(2026, 8, 31, 0, 0));
    assert_int_equal(next_utc("0 0 31 * *", utc(2026, 8, 31, 0, 0)), utc(2026, 10, 31, 0, 0));
    assert_int_equal(next_utc("0 0 29 2 *", utc(2026, 1, 1, 0, 0)), utc(2028, 2, 29, 0, 0));
    assert_int_equal(next_utc("0 0 29 2 *", utc(2028, 2, 29, 0, 0)), utc(2032, 2, 29, 0, 0));
    /* 2100 is not a leap year: the next Feb 29 after 2096 is 8 years away. */
    assert_int_equal(next_utc("0 0 29 2 *", utc(2096, 3, 1, 0, 0)), utc(2104, 2, 29, 0, 0));
    assert_int_equal(next_utc("0 12 28-31 2 *", utc(2027, 3, 1, 0, 0)),
                     utc(2028, 2, 28, 12, 0));

    const char *never[] = {"0 0 30 2 *", "0 0 31 4 *", "0 0 31 6,9,11 *"};
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        struct cq_cron c;
        int64_t t = 0;
        assert_int_equal(cq_cron_parse(never[i], &c, NULL), CQ_OK);
        assert_int_equal(cq_cron_next(&c, NULL, utc(2026, 1, 1, 0, 0), &t), CQ_ENOTFOUND);
    }
}

static void steps_lists_and_names(void **state)
{
    (void)state;
    assert_int_equal(next_utc("*/15 * * * *", utc(2026, 5, 1, 10, 7)), utc(2026, 5, 1, 10, 15));
    assert_int_equal(next_utc("*/15 * * * *", utc(2026, 5, 1, 10, 45)), utc(2026, 5, 1, 11, 0));
    /* strictly after: a fire time is never returned twice */
    assert_int_equal(next_utc("*/15 * * * *", utc(2026, 5, 1, 10, 15)), utc(2026, 5, 1, 10, 30));
    assert_int_equal(next_utc("*/15 * * * *", utc(2026, 5, 1, 10, 15) - 1),
                     utc(2026, 5, 1, 10, 15));
    assert_int_equal(next_utc("10-50/20 * * * *", utc(2026, 5, 1, 10, 0)),
                     utc(2026, 5, 1, 10, 10));
    assert_int_equal(next_utc("10-50/20 * * * *", utc(2026, 5, 1, 10, 10)),
                     utc(2026, 5, 1, 10, 30));
    assert_int_equal(next_utc("10-50/20 * * * *", utc(2026, 5, 1, 10, 50)),
                     utc(2026, 5, 1, 11, 10));
    assert_int_equal(next_utc("5,10,55 1,13 * * *", utc(2026, 5, 1, 1, 55)),
                     utc(2026, 5, 1, 13, 5));
    assert_int_equal(next_utc("5,10,55 1,13 * * *", utc(2026, 5, 1, 13, 55)),
                     utc(2026, 5, 2, 1, 5));
    assert_int_equal(next_utc("0 */6 * * *", utc(2026, 5, 1, 13, 0)), utc(2026, 5, 1, 18, 0));
    /* 2026-05-01 is a Friday */
    assert_int_equal(next_utc("0 9 * * MON-FRI", utc(2026, 5, 1, 9, 0)), utc(2026, 5, 4, 9, 0));
    assert_int_equal(next_utc("0 9 * * mon-fri", utc(2026, 5, 1, 8, 0)), utc(2026, 5, 1, 9, 0));
    assert_int_equal(next_utc("0 9 * * Sat,sun", utc(2026, 5, 1, 9, 0)), utc(2026, 5, 2, 9, 0));
    assert_int_equal(next_utc("0 0 1 jan,jul *", utc(2026, 1, 1, 0, 0)), utc(2026, 7, 1, 0, 0));
    assert_int_equal(next_utc("0 0 1 JAN,Jul *", utc(2026, 7, 1, 0, 0)), utc(2027, 1, 1, 0, 0));
    assert_int_equal(next_utc("0 0 1 mar-may *", utc(2026, 7, 1, 0, 0)), utc(2027, 3, 1, 0, 0));
    /* weekday steps and 7 = Sunday */
    assert_int_equal(next_utc("0 0 * * 7", utc(2026, 5, 1, 0, 0)), utc(2026, 5, 3, 0, 0));
    assert_int_equal(next_utc("0 0 * * 5-7", utc(2026, 5, 2, 0, 0)), utc(2026, 5, 3, 0, 0));
    assert_int_equal(next_utc("0 0 * * 1-7/2", utc(2026, 5, 1, 0, 0)), utc(2026, 5, 3, 0, 0));
}

static void day_of_month_or_day_of_week(void **state)
{
    (void)state;
    /* Both restricted: the 13th OR any Friday (2026-02-06 is a Friday). */
    assert_int_equal(next_utc("0 0 13 * 5", utc(2026, 2, 1, 0, 0)), utc(2026, 2, 6, 0, 0));
    assert_int_equal(next_utc("0 0 13 * 5", utc(2026, 2, 6, 0, 0)), utc(2026, 2, 13, 0, 0));
    assert_int_equal(next_utc("0 0 13 * fri", utc(2026, 2, 13, 0, 0)), utc(2026, 2, 20, 0, 0));
    assert_int_equal(next_utc("0 0 1,15 * mon", utc(2026, 5, 1, 0, 0)), utc(2026, 5, 4, 0, 0));
    /* One side '*' (or a '*' step): both must match. Mondays on odd days: May 11. */
    assert_int_equal(next_utc("0 0 */2 * 1", utc(2026, 5, 1, 0, 0)), utc(2026, 5, 11, 0, 0));
    assert_int_equal(next_utc("0 0 * * 1", utc(2026, 5, 1, 0, 0)), utc(2026, 5, 4, 0, 0));
    assert_int_equal(next_utc("0 0 13 * *", utc(2026, 5, 1, 0, 0)), utc(2026, 5, 13, 0, 0));
}

static void macros(void **state)
{
    (void)state;
    int64_t at = utc(2026, 5, 13, 10, 30); /* a Wednesday */
    assert_int_equal(next_utc("@hourly", at), utc(2026, 5, 13, 11, 0));
    assert_int_equal(next_utc("@daily", at), utc(2026, 5, 14, 0, 0));
    assert_int_equal(next_utc("@midnight", at), utc(2026, 5, 14, 0, 0));
    assert_int_equal(next_utc("@weekly", at), utc(2026, 5, 17, 0, 0));
    assert_int_equal(next_utc("@monthly", at), utc(2026, 6, 1, 0, 0));
    assert_int_equal(next_utc("@yearly", at), utc(2027, 1, 1, 0, 0));
    assert_int_equal(next_utc("@annually", at), utc(2027, 1, 1, 0, 0));
    assert_int_equal(next_utc("  @Daily  ", at), utc(2026, 5, 14, 0, 0));
}

static void every_is_aligned_to_the_epoch(void **state)
{
    (void)state;
    int64_t at = utc(2026, 5, 13, 10, 0);
    assert_int_equal(next_utc("@every 30s", at + 10000), at + 30000);
    assert_int_equal(next_utc("@every 30s", at + 30000), at + 60000);
    assert_int_equal(next_utc("@every 30s", at + 29999), at + 30000);
    assert_int_equal(next_utc("@every 90s", 0), 90000);
    assert_int_equal(next_utc("@every 90s", at + 1), (at / 90000 + 1) * 90000);
    assert_int_equal(next_utc("@every 90s", -1), 0);
    assert_int_equal(next_utc("@every 90s", -90000), 0);
    assert_int_equal(next_utc("@every 1h", at + 30 * 60000), at + 3600000);
    assert_int_equal(next_utc("@every 1h", at), at + 3600000);
    assert_int_equal(next_utc("@every 1500ms", 1000), 1500);
    /* the zone does not matter for intervals */
    struct cq_tz *tz = zone("Asia/Kolkata");
    assert_int_equal(next_in("@every 1h", tz, at + 1), at + 3600000);
    cq_tz_free(tz);

    struct cq_cron c;
    int64_t t = 0;
    assert_int_equal(cq_cron_parse("@every 1h", &c, NULL), CQ_OK);
    assert_int_equal(c.every_ms, 3600000);
    assert_int_equal(cq_cron_next(&c, NULL, INT64_MAX - 5, &t), CQ_ENOTFOUND);
}

static void field_boundaries(void **state)
{
    (void)state;
    int64_t at = utc(2026, 1, 1, 0, 0);
    assert_int_equal(next_utc("59 23 31 12 *", at), utc(2026, 12, 31, 23, 59));
    assert_int_equal(next_utc("0 0 1 1 *", at), utc(2027, 1, 1, 0, 0));
    assert_int_equal(next_utc("0-59 0-23 1-31 1-12 0-7", at), at + 60000);
    assert_int_equal(next_utc("59 * * * *", at), utc(2026, 1, 1, 0, 59));
    assert_int_equal(next_utc("0 23 * * *", at), utc(2026, 1, 1, 23, 0));
    assert_int_equal(next_utc("0 0 31 12 *", at), utc(2026, 12, 31, 0, 0));
    assert_int_equal(next_utc("0 0 * 12 *", at), utc(2026, 12, 1, 0, 0));
    assert_int_equal(next_utc("0 0 * * 6", at), utc(2026, 1, 3, 0, 0));
    assert_int_equal(next_utc("0 0 * * 0", at), utc(2026, 1, 4, 0, 0));
    assert_int_equal(next_utc("0 0 * * sun", at), utc(2026, 1, 4, 0, 0));
    /* year rollover, and instants before the epoch */
    assert_int_equal(next_utc("* * * * *", utc(2026, 12, 31, 23, 59)), utc(2027, 1, 1, 0, 0));
    assert_int_equal(next_utc("0 0 * * *", -1), 0);
    assert_int_equal(next_utc("30 12 * * *", utc(1969, 7, 20, 0, 0)), utc(1969, 7, 20, 12, 30));

    struct cq_cron c;
    assert_int_equal(cq_cron_parse("5,10 1-3 2 3 4", &c, NULL), CQ_OK);
    assert_true(c.minutes == ((1ull << 5) | (1ull << 10)));
    assert_int_equal(c.hours, 0xe);
    assert_int_equal(c.mdays, 4);
    assert_int_equal(c.months, 8);
    assert_int_equal(c.wdays, 16);
    assert_false(c.mday_any);
    assert_false(c.wday_any);
    assert_int_equal(c.every_ms, 0);
    assert_int_equal(cq_cron_parse("\t0\t9  *  * 1 ", &c, NULL), CQ_OK);
    assert_true(c.mday_any);
    assert_int_equal(cq_cron_parse("* * * * *", &c, NULL), CQ_OK);
    assert_true(c.minutes == (1ull << 60) - 1);
    assert_int_equal(c.hours, 0xffffff);
    assert_int_equal(c.mdays, 0xfffffffe);
    assert_int_equal(c.months, 0x1ffe);
    assert_int_equal(c.wdays, 0x7f);
    assert_true(c.wday_any);
    assert_int_equal(cq_cron_parse("* * * * 0-7", &c, NULL), CQ_OK);
    assert_int_equal(c.wdays, 0x7f);
}

static void dst_europe_berlin(void **state)
{
    (void)state;
    struct cq_tz *tz = zone("Europe/Berlin");
    /* 2026-03-29 02:00 CET jumps to 03:00 CEST (01:00Z): 02:30 fires at the jump, once. */
    assert_int_equal(next_in("30 2 * * *", tz, utc(2026, 3, 28, 12, 0)), utc(2026, 3, 29, 1, 0));
    assert_int_equal(next_in("30 2 * * *", tz, utc(2026, 3, 29, 1, 0)), utc(2026, 3, 30, 0, 30));
    assert_int_equal(next_in("*/30 2 * * *", tz, utc(2026, 3, 29, 0, 0)),
                     utc(2026, 3, 29, 1, 0));
    assert_int_equal(next_in("*/30 2 * * *", tz, utc(2026, 3, 29, 1, 0)),
                     utc(2026, 3, 30, 0, 0));
    assert_int_equal(next_in("0 3 * * *", tz, utc(2026, 3, 28, 12, 0)), utc(2026, 3, 29, 1, 0));
    assert_int_equal(next_in("59 1 * * *", tz, utc(2026, 3, 28, 12, 0)),
                     utc(2026, 3, 29, 0, 59));
    assert_int_equal(next_in("* * * * *", tz, utc(2026, 3, 29, 0, 59)), utc(2026, 3, 29, 1, 0));
    assert_int_equal(next_in("* * * * *", tz, utc(2026, 3, 29, 1, 0)), utc(2026, 3, 29, 1, 1));
    /* 2026-10-25 03:00 CEST goes back to 02:00 CET (01:00Z): 02:30 fires once, in CEST. */
    assert_int_equal(next_in("30 2 * * *", tz, utc(2026, 10, 24, 12, 0)),
                     utc(2026, 10, 25, 0, 30));
    assert_int_equal(next_in("30 2 * * *", tz, utc(2026, 10, 25, 0, 30)),
                     utc(2026, 10, 26, 1, 30));
    assert_int_equal(next_in("0 * * * *", tz, utc(2026, 10, 24, 23, 30)),
                     utc(2026, 10, 25, 0, 0));
    assert_int_equal(next_in("0 * * * *", tz, utc(2026, 10, 25, 0, 0)),
                     utc(2026, 10, 25, 2, 0));
    /* asked from inside the repeated hour (02:10 CET), the repeat does not fire */
    assert_int_equal(next_in("*/20 * * * *", tz, utc(2026, 10, 25, 1, 10)),
                     utc(2026, 10, 25, 2, 0));
    /* ordinary days: 09:00 local is 08:00Z in winter and 07:00Z in summer */
    assert_int_equal(next_in("0 9 * * *", tz, utc(2026, 1, 10, 0, 0)), utc(2026, 1, 10, 8, 0));
    assert_int_equal(next_in("0 9 * * *", tz, utc(2026, 7, 10, 0, 0)), utc(2026, 7, 10, 7, 0));
    /* the local date decides the day: Monday 00:30 local is Sunday 22:30Z in summer */
    assert_int_equal(next_in("30 0 * * mon", tz, utc(2026, 7, 1, 0, 0)),
                     utc(2026, 7, 5, 22, 30));
    assert_int_equal(next_in("0 0 1 * *", tz, utc(2026, 7, 1, 0, 0)), utc(2026, 7, 31, 22, 0));
    cq_tz_free(tz);
}

static void dst_america_new_york(void **state)
{
    (void)state;
    struct cq_tz *tz = zone("America/New_York");
    /* 2026-03-08 02:00 EST jumps to 03:00 EDT (07:00Z) */
    assert_int_equal(next_in("30 2 * * *", tz, utc(2026, 3, 7, 12, 0)), utc(2026, 3, 8, 7, 0));
    assert_int_equal(next_in("30 2 * * *", tz, utc(2026, 3, 8, 7, 0)), utc(2026, 3, 9, 6, 30));
    /* 2026-11-01 02:00 EDT goes back to 01:00 EST (06:00Z): 01:30 fires once, in EDT */
    assert_int_equal(next_in("30 1 * * *", tz, utc(2026, 10, 31, 12, 0)),
                     utc(2026, 11, 1, 5, 30));
    assert_int_equal(next_in("30 1 * * *", tz, utc(2026, 11, 1, 5, 30)),
                     utc(2026, 11, 2, 6, 30));
    assert_int_equal(next_in("0 9 * * *", tz, utc(2026, 6, 1, 0, 0)), utc(2026, 6, 1, 13, 0));
    assert_int_equal(next_in("0 9 * * *", tz, utc(2026, 12, 1, 0, 0)), utc(2026, 12, 1, 14, 0));
    /* far future: past the file's transitions, the footer rule applies */
    assert_int_equal(next_in("30 2 * * *", tz, utc(2055, 3, 13, 12, 0)), utc(2055, 3, 14, 7, 0));
    cq_tz_free(tz);
}

static void zone_offsets(void **state)
{
    (void)state;
    struct cq_tz *kol = zone("Asia/Kolkata");
    struct cq_tz *ber = zone("Europe/Berlin");
    struct cq_tz *utcz = zone("UTC");
    assert_int_equal(next_in("0 9 * * *", kol, utc(2026, 6, 1, 0, 0)), utc(2026, 6, 1, 3, 30));
    assert_int_equal(next_in("0 0 * * *", kol, utc(2026, 6, 1, 0, 0)), utc(2026, 6, 1, 18, 30));
    assert_int_equal(cq_tz_offset(kol, 1780000000), 19800);
    assert_int_equal(cq_tz_offset(ber, cq_tz_timegm(2026, 1, 1, 0, 0, 0)), 3600);
    assert_int_equal(cq_tz_offset(ber, cq_tz_timegm(2026, 7, 1, 0, 0, 0)), 7200);
    /* the last second of CET and the first of CEST */
    assert_int_equal(cq_tz_offset(ber, cq_tz_timegm(2026, 3, 29, 0, 59, 59)), 3600);
    assert_int_equal(cq_tz_offset(ber, cq_tz_timegm(2026, 3, 29, 1, 0, 0)), 7200);
    /* far past the last transition of the file (the footer rule) */
    assert_int_equal(cq_tz_offset(ber, cq_tz_timegm(2300, 7, 1, 0, 0, 0)), 7200);
    assert_int_equal(cq_tz_offset(ber, cq_tz_timegm(2300, 12, 1, 0, 0, 0)), 3600);
    assert_int_equal(cq_tz_offset(utcz, 1780000000), 0);
    assert_int_equal(cq_tz_offset(NULL, 1780000000), 0);
    assert_string_equal(cq_tz_name(ber), "Europe/Berlin");
    assert_string_equal(cq_tz_name(utcz), "UTC");
    assert_string_equal(cq_tz_name(NULL), "UTC");

    /* local civil time -> instant: the gap maps to the jump, the repeat to the first */
    assert_int_equal(cq_tz_from_local(ber, cq_tz_timegm(2026, 3, 29, 2, 30, 0)),
                     cq_tz_timegm(2026, 3, 29, 1, 0, 0));
    assert_int_equal(cq_tz_from_local(ber, cq_tz_timegm(2026, 10, 25, 2, 30, 0)),
                     cq_tz_timegm(2026, 10, 25, 0, 30, 0));
    assert_int_equal(cq_tz_from_local(ber, cq_tz_timegm(2026, 10, 25, 3, 0, 0)),
                     cq_tz_timegm(2026, 10, 25, 2, 0, 0));
    assert_int_equal(cq_tz_from_local(kol, cq_tz_timegm(2026, 1, 1, 5, 30, 0)),
                     cq_tz_timegm(2026, 1, 1, 0, 0, 0));
    assert_int_equal(cq_tz_from_local(NULL, 12345), 12345);

    struct cq_tm tm;
    cq_tz_local(ber, cq_tz_timegm(2026, 3, 29, 1, 0, 0), &tm);
    assert_int_equal(tm.year, 2026);
    assert_int_equal(tm.mon, 3);
    assert_int_equal(tm.mday, 29);
    assert_int_equal(tm.hour, 3);
    assert_int_equal(tm.min, 0);
    assert_int_equal(tm.wday, 0);
    cq_tz_local(NULL, -1, &tm);
    assert_int_equal(tm.year, 1969);
    assert_int_equal(tm.mon, 12);
    assert_int_equal(tm.mday, 31);
    assert_int_equal(tm.sec, 59);
    assert_int_equal(tm.wday, 3);
    cq_tz_local(NULL, INT64_MAX, &tm); /* clamped, not overflowed */
    assert_true(tm.year > 30000000);
    cq_tz_free(kol);
    cq_tz_free(ber);
    cq_tz_free(utcz);
}

static void timegm_matches_the_calendar(void **state)
{
    (void)state;
    assert_int_equal(cq_tz_timegm(1970, 1, 1, 0, 0, 0), 0);
    assert_int_equal(cq_tz_timegm(1969, 12, 31, 23, 59, 59), -1);
    assert_int_equal(cq_tz_timegm(2000, 3, 1, 0, 0, 0), 951868800);
    assert_int_equal(cq_tz_timegm(2026, 13, 1, 0, 0, 0), cq_tz_timegm(2027, 1, 1, 0, 0, 0));
    assert_int_equal(cq_tz_timegm(2026, 0, 1, 0, 0, 0), cq_tz_timegm(2025, 12, 1, 0, 0, 0));
    assert_int_equal(cq_tz_timegm(2028, 3, 0, 0, 0, 0), cq_tz_timegm(2028, 2, 29, 0, 0, 0));
    assert_int_equal(cq_tz_timegm(1600, 1, 1, 0, 0, 0), -11676096000LL);
    /* against glibc for one day in each of 3000 years */
    for (int y = -1000; y < 2000; y++) {
        int64_t t = cq_tz_timegm(y * 3 + 1, (y % 12 + 12) % 12 + 1, 28, 13, 14, 15);
        struct tm g;
        time_t tt = (time_t)t;
        assert_non_null(gmtime_r(&tt, &g));
        assert_int_equal(g.tm_year + 1900, y * 3 + 1);
        assert_int_equal(g.tm_mon + 1, (y % 12 + 12) % 12 + 1);
        assert_int_equal(g.tm_mday, 28);
        assert_int_equal(g.tm_hour, 13);
    }
}

static void expect_error(const char *expr, const char *msg)
{
    struct cq_cron c;
    struct cq_err err = {0};
    int rc = cq_cron_parse(expr, &c, &err);
    if (rc != CQ_EINVAL || strcmp(err.msg, msg) != 0) {
        fail_msg("'%s': got rc %d '%s', want '%s'", expr, rc, err.msg, msg);
    }
}

static void invalid_expressions(void **state)
{
    (void)state;
    expect_error("", "expected 5 fields (minute hour day-of-month month day-of-week), got 0");
    expect_error("* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), "
                 "got 4");
    expect_error("* * * * * *", "expected 5 fields (minute hour day-of-month month "
                 "day-of-week), got 6");
    expect_error("61 * * * *", "minute: 61 is out of range 0-59");
    expect_error("99999999999 * * * *", "minute: 99999999999 is out of range 0-59");
    expect_error("* 24 * * *", "hour: 24 is out of range 0-23");
    expect_error("* x * * *", "hour: expected a number, a name, '*' or a range, got 'x'");
    expect_error("* 1-x * * *", "hour: expected a number, a name, '*' or a range, got 'x'");
    expect_error("sun * * * *", "minute: expected a number, a name, '*' or a range, got 'sun'");
    expect_error("* * 0 * *", "day-of-month: 0 is out of range 1-31");
    expect_error("* * 32 * *", "day-of-month: 32 is out of range 1-31");
    expect_error("* * * 13 *", "month: 13 is out of range 1-12");
    expect_error("* * * 0 *", "month: 0 is out of range 1-12");
    expect_error("* * * foo *", "month: expected a number, a name, '*' or a range, got 'foo'");
    expect_error("* * * january *", "month: expected a number, a name, '*' or a range, got "
                 "'january'");
    expect_error("* * * * 8", "day-of-week: 8 is out of range 0-7");
    expect_error("* * * * mon-foo", "day-of-week: expected a number, a name, '*' or a range, "
                 "got 'foo'");
    expect_error("*/0 * * * *", "minute: step must be at least 1, got '*/0'");
    expect_error("* 1-5/0 * * *", "hour: step must be at least 1, got '1-5/0'");
    expect_error("*/x * * * *", "minute: step must be a number, got '*/x'");
    expect_error("*/ * * * *", "minute: step must be a number, got '*/'");
    expect_error("* 5-2 * * *", "hour: range 5-2 is reversed");
    expect_error("* * * * fri-mon", "day-of-week: range fri-mon is reversed");
    expect_error("5/15 * * * *", "minute: a step needs '*' or a range before it, got '5/15' "
                 "(write 5-59/15)");
    expect_error("1,,2 * * * *", "minute: empty item in list '1,,2'");
    expect_error("1, * * * *", "minute: empty item in list '1,'");
    expect_error("5- * * * *", "minute: incomplete range '5-'");
    expect_error("-5 * * * *", "minute: incomplete range '-5'");
    expect_error("** * * * *", "minute: expected a number, a name, '*' or a range, got '**'");
    expect_error("@hurly", "unknown macro '@hurly' (did you mean '@hourly'?)");
    expect_error("@dialy", "unknown macro '@dialy' (did you mean '@daily'?)");
    expect_error("@reboot", "unknown macro '@reboot' (use @yearly, @monthly, @weekly, @daily, "
                 "@hourly or @every <duration>)");
    expect_error("@daily now", "@daily takes no arguments, got 'now'");
    expect_error("@daily\nnow\n", "@daily takes no arguments, got 'now'");
    expect_error("@every 5s 10s", "@every takes one duration, got more after '5s'");
    expect_error("@every 0s", "@every: '0s' is too short (at least 1s)");
    expect_error("@every 500ms", "@every: '500ms' is too short (at least 1s)");
    expect_error("@every", "@every: expected a duration such as 30s, 5m or 1h");
    expect_error("@every   ", "@every: expected a duration such as 30s, 5m or 1h");
    expect_error("@every xyz", "@every: invalid duration 'xyz' (use a number with a unit: "
                 "250ms, 5s, 2m, 1h)");
    expect_error("@every -5s", "@every: invalid duration '-5s' (use a number with a unit: "
                 "250ms, 5s, 2m, 1h)");

    /* a failed parse leaves the output alone */
    struct cq_cron c;
    memset(&c, 0x5a, sizeof(c));
    assert_int_equal(cq_cron_parse("61 * * * *", &c, NULL), CQ_EINVAL);
    assert_int_equal(c.hours, 0x5a5a5a5a);
}

static void zone_load_errors(void **state)
{
    (void)state;
    struct cq_err err = {0};
    assert_null(cq_tz_load("Europe/Berln", &err));
    assert_int_equal(err.rc, CQ_ENOTFOUND);
    assert_string_equal(err.msg, "unknown time zone 'Europe/Berln' (not in /usr/share/zoneinfo; "
                        "names look like Europe/Berlin or UTC)");
    const char *bad[] = {"../etc/passwd", "/etc/passwd", "Europe/../../etc/passwd",
                         "Europe/Berlin ", "Europe\\Berlin", "zone.tab"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cq_err_clear(&err);
        assert_null(cq_tz_load(bad[i], &err));
        assert_int_equal(err.rc, CQ_EINVAL);
        assert_non_null(strstr(err.msg, "invalid time zone name"));
    }
    cq_err_clear(&err);
    assert_null(cq_tz_load("Europe", &err)); /* a directory */
    assert_int_equal(err.rc, CQ_ENOTFOUND);
    cq_err_clear(&err);
    assert_null(cq_tz_load("iso3166", &err)); /* no such file */
    assert_int_equal(err.rc, CQ_ENOTFOUND);
    cq_err_clear(&err);
    assert_null(cq_tz_load("right/UTC", &err));
    assert_int_equal(err.rc, CQ_EUNSUPPORTED);

    /* UTC needs no file; $TZDIR moves the directory */
    setenv("TZDIR", "/nonexistent", 1);
    struct cq_tz *tz = cq_tz_load("UTC", &err);
    assert_non_null(tz);
    assert_int_equal(cq_tz_offset(tz, 1780000000), 0);
    cq_tz_free(tz);
    tz = cq_tz_load("", NULL);
    assert_non_null(tz);
    assert_string_equal(cq_tz_name(tz), "UTC");
    cq_tz_free(tz);
    cq_err_clear(&err);
    assert_null(cq_tz_load("Europe/Berlin", &err));
    assert_string_equal(err.msg, "unknown time zone 'Europe/Berlin' (not in /nonexistent; "
                        "names look like Europe/Berlin or UTC)");
    setenv("TZDIR", "/usr/share/zoneinfo/posix", 1);
    tz = zone("Europe/Berlin");
    assert_int_equal(cq_tz_offset(tz, cq_tz_timegm(2026, 7, 1, 0, 0, 0)), 7200);
    cq_tz_free(tz);
    unsetenv("TZDIR");
    cq_tz_free(NULL);
}

/* Builds a TZif v2 file with no transitions, one type, and footer rule `posix`. */
static size_t make_tzif(unsigned char *out, size_t cap, int32_t off, const char *posix)
{
    size_t n = 0;
    for (int block = 0; block < 2; block++) {
        unsigned char h[44] = "TZif2";
        memset(h + 5, 0, sizeof(h) - 5);
        h[39] = 1; /* typecnt */
        h[43] = 4; /* charcnt */
        memcpy(out + n, h, 44);
        n += 44;
        unsigned char ti[10] = {(unsigned char)((uint32_t)off >> 24),
                                (unsigned char)((uint32_t)off >> 16),
                                (unsigned char)((uint32_t)off >> 8), (unsigned char)off, 0, 0,
                                'A', 'B', 'C', 0};
        memcpy(out + n, ti, sizeof(ti));
        n += sizeof(ti);
    }
    n += (size_t)snprintf((char *)out + n, cap - n, "\n%s\n", posix);
    return n;
}

/* glibc's localtime_r under TZ=tzenv against ours, for n pseudo-random instants. */
static void compare_with_glibc(const struct cq_tz *tz, const char *tzenv, int64_t from,
                               int64_t span, int n)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    setenv("TZ", tzenv, 1);
    tzset();
    for (int i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t t = from + (int64_t)((seed >> 11) % (uint64_t)span);
        if (i % 4 == 0) {
            t -= t % 3600; /* near transitions, which fall on the hour */
            t -= i % 8 == 0 ? 1 : 0;
        }
        time_t tt = (time_t)t;
        struct tm g;
        struct cq_tm m;
        assert_non_null(localtime_r(&tt, &g));
        cq_tz_local(tz, t, &m);
        if (m.year != g.tm_year + 1900 || m.mon != g.tm_mon + 1 || m.mday != g.tm_mday ||
            m.hour != g.tm_hour || m.min != g.tm_min || m.sec != g.tm_sec ||
            m.wday != g.tm_wday || cq_tz_offset(tz, t) != g.tm_gmtoff) {
            fail_msg("%s at %lld: ours %04d-%02d-%02d %02d:%02d:%02d off %d, glibc "
                     "%04d-%02d-%02d %02d:%02d:%02d off %ld", tzenv, (long long)t, m.year,
                     m.mon, m.mday, m.hour, m.min, m.sec, cq_tz_offset(tz, t),
                     g.tm_year + 1900, g.tm_mon + 1, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec,
                     (long)g.tm_gmtoff);
        }
    }
    unsetenv("TZ");
    tzset();
}

static void zones_agree_with_glibc(void **state)
{
    (void)state;
    const char *zones[] = {"Europe/Berlin", "America/New_York", "Australia/Sydney",
                           "Asia/Kolkata"};
    int64_t from = cq_tz_timegm(1905, 1, 1, 0, 0, 0);
    int64_t span = cq_tz_timegm(2200, 1, 1, 0, 0, 0) - from;
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        char env[64];
        struct cq_tz *tz = zone(zones[i]);
        snprintf(env, sizeof(env), ":%s", zones[i]);
        compare_with_glibc(tz, env, from, span, 3000);
        cq_tz_free(tz);
    }
}

static void posix_rules_agree_with_glibc(void **state)
{
    (void)state;
    const char *rules[] = {
        "CET-1CEST,M3.5.0,M10.5.0/3",
        "EST5EDT,M3.2.0,M11.1.0",
        "AEST-10AEDT,M10.1.0,M4.1.0/3",
        "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1",
        "IST-1GMT0,M10.5.0,M3.5.0/1",
        "IST-2IDT,M3.4.4/26,M10.5.0",
        "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
        "NZST-12NZDT,M9.5.0,M4.1.0/3",
        "XXX3YYY,J60/1:30,J300",
        "XXX-3YYY,59,299/23:59:59",
        "<+0530>-5:30",
        "<-00>0",
    };
    /* glibc computes rules for years before 1971 from 1970 */
    int64_t from = cq_tz_timegm(1971, 1, 1, 0, 0, 0);
    int64_t span = cq_tz_timegm(2400, 1, 1, 0, 0, 0) - from;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        unsigned char buf[256];
        struct cq_err err = {0};
        size_t n = make_tzif(buf, sizeof(buf), 0, rules[i]);
        struct cq_tz *tz = cq_tz_parse("test", buf, n, &err);
        if (tz == NULL) {
            fail_msg("%s: %s", rules[i], err.msg);
        }
        compare_with_glibc(tz, rules[i], from, span, 2000);
        cq_tz_free(tz);
    }
    /* a DST name without a rule gets the US rules */
    unsigned char a[256], b[256];
    size_t na = make_tzif(a, sizeof(a), 0, "EST5EDT");
    size_t nb = make_tzif(b, sizeof(b), 0, "EST5EDT,M3.2.0,M11.1.0");
    struct cq_tz *ta = cq_tz_parse("a", a, na, NULL);
    struct cq_tz *tb = cq_tz_parse("b", b, nb, NULL);
    assert_non_null(ta);
    assert_non_null(tb);
    for (int64_t t = from; t < from + span; t += 86400 * 7 + 3599) {
        assert_int_equal(cq_tz_offset(ta, t), cq_tz_offset(tb, t));
    }
    cq_tz_free(ta);
    cq_tz_free(tb);
}

static void damaged_zone_data(void **state)
{
    (void)state;
    unsigned char buf[256];
    struct cq_err err = {0};
    size_t n = make_tzif(buf, sizeof(buf), 3600, "CET-1CEST,M3.5.0,M10.5.0/3");
    /* every truncation fails cleanly */
    for (size_t len = 0; len < n; len++) {
        cq_err_clear(&err);
        assert_null(cq_tz_parse("cut", buf, len, &err));
        assert_int_equal(err.rc, CQ_EINVAL);
        assert_non_null(strstr(err.msg, "time zone 'cut'"));
    }
    struct cq_tz *tz = cq_tz_parse("ok", buf, n, NULL);
    assert_non_null(tz);
    cq_tz_free(tz);
    const char *bad_rules[] = {"CET", "CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0",
                               "CET-1CEST,M3.5.7,M10.5.0", "CET-25", "CE-1",
                               "CET-1CEST,M3.5.0", "CET-1CEST,M3.5.0/168,M10.5.0", "<AB>1",
                               "CET-1CEST,J0,J100", "CET-1CEST,366,1", "CET-1:60"};
    for (size_t i = 0; i < sizeof(bad_rules) / sizeof(bad_rules[0]); i++) {
        n = make_tzif(buf, sizeof(buf), 0, bad_rules[i]);
        cq_err_clear(&err);
        assert_null(cq_tz_parse("r", buf, n, &err));
        assert_int_equal(err.rc, CQ_EINVAL);
    }
    /* offset of a local time type out of range */
    n = make_tzif(buf, sizeof(buf), 100000, "");
    assert_null(cq_tz_parse("r", buf, n, NULL));
    /* an empty footer: the last type applies for ever */
    n = make_tzif(buf, sizeof(buf), -18000, "");
    tz = cq_tz_parse("r", buf, n, NULL);
    assert_non_null(tz);
    assert_int_equal(cq_tz_offset(tz, 0), -18000);
    assert_int_equal(next_in("0 0 * * *", tz, 0), 5 * 3600 * 1000);
    cq_tz_free(tz);
}

/* Offsets of a and b agree at n instants spread over [from, to). */
static void same_offsets(const struct cq_tz *a, const struct cq_tz *b, int64_t from, int64_t to)
{
    for (int64_t t = from; t < to; t += (to - from) / 20011) {
        if (cq_tz_offset(a, t) != cq_tz_offset(b, t)) {
            fail_msg("%s and %s differ at %lld", cq_tz_name(a), cq_tz_name(b), (long long)t);
        }
    }
}

/* The fuzz corpus holds "slim" files (zic -b slim: transitions end where the footer rule
 * takes over) and a version 1 file (32-bit times, no footer). */
static void slim_and_v1_files_agree_with_fat(void **state)
{
    (void)state;
    char dir[4096];
    const char *src = getenv("CQ_SOURCE_DIR");
    if (src == NULL) {
        skip();
    }
    snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/tz", src);
    setenv("TZDIR", dir, 1);
    struct cq_tz *berlin_slim = zone("berlin_slim");
    struct cq_tz *sydney_slim = zone("sydney_slim");
    struct cq_tz *berlin_v1 = zone("berlin_v1");
    unsetenv("TZDIR");
    struct cq_tz *berlin = zone("Europe/Berlin");
    struct cq_tz *sydney = zone("Australia/Sydney");
    int64_t y1902 = cq_tz_timegm(1902, 1, 1, 0, 0, 0), y2037 = cq_tz_timegm(2037, 1, 1, 0, 0, 0);
    same_offsets(berlin, berlin_slim, y1902, cq_tz_timegm(2400, 1, 1, 0, 0, 0));
    same_offsets(sydney, sydney_slim, y1902, cq_tz_timegm(2400, 1, 1, 0, 0, 0));
    same_offsets(berlin, berlin_v1, y1902, y2037);
    assert_int_equal(next_in("30 2 * * *", berlin_slim, utc(2026, 3, 28, 12, 0)),
                     utc(2026, 3, 29, 1, 0));
    cq_tz_free(berlin_slim);
    cq_tz_free(sydney_slim);
    cq_tz_free(berlin_v1);
    cq_tz_free(berlin);
    cq_tz_free(sydney);
}

/* A simple oracle: walk the days, then hours and minutes, with glibc's calendar. */
static int64_t brute_next(const struct cq_cron *c, int64_t after_ms)
{
    int64_t day0 = after_ms / 86400000 - (after_ms % 86400000 < 0);
    for (int64_t day = day0; day < day0 + 366 * 9; day++) {
        time_t tt = (time_t)(day * 86400);
        struct tm g;
        gmtime_r(&tt, &g);
        bool dom = c->mdays & (1u << g.tm_mday), dow = c->wdays & (1u << g.tm_wday);
        bool ok = (c->mday_any || c->wday_any) ? (dom && dow) : (dom || dow);
        if (!(c->months & (1u << (g.tm_mon + 1))) || !ok) {
            continue;
        }
        for (int h = 0; h < 24; h++) {
            for (int m = 0; m < 60; m++) {
                int64_t t = (day * 86400 + h * 3600 + m * 60) * 1000;
                if ((c->hours & (1u << h)) && (c->minutes & (1ull << m)) && t > after_ms) {
                    return t;
                }
            }
        }
    }
    return -1;
}

static void random_expressions_match_the_oracle(void **state)
{
    (void)state;
    static const char *const mins[] = {"*", "0", "59", "*/7", "10-20", "5,35", "0-59/30"};
    static const char *const hours[] = {"*", "0", "23", "*/5", "9-17", "3,15"};
    static const char *const mdays[] = {"*", "1", "31", "29", "*/10", "13", "15-17"};
    static const char *const months[] = {"*", "2", "12", "jan-mar", "*/4", "2,4"};
    static const char *const wdays[] = {"*", "0", "7", "mon-fri", "sat", "1/1", "*/3"};
    uint64_t seed = 42;
    int checked = 0;
    for (int i = 0; i < 400; i++) {
        char expr[128];
        struct cq_cron c;
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t r = seed >> 20;
        snprintf(expr, sizeof(expr), "%s %s %s %s %s", mins[r % 7], hours[r / 7 % 6],
                 mdays[r / 42 % 7], months[r / 294 % 6], wdays[r / 1764 % 7]);
        if (cq_cron_parse(expr, &c, NULL) != CQ_OK) {
            continue; /* "1/1" is refused on purpose */
        }
        int64_t after = utc(1990, 1, 1, 0, 0) + (int64_t)(r % 4000000000ULL) * 1000 + 123;
        for (int k = 0; k < 3; k++) {
            int64_t want = brute_next(&c, after), got = 0;
            int rc = cq_cron_next(&c, NULL, after, &got);
            if ((want < 0) != (rc == CQ_ENOTFOUND) || (want >= 0 && got != want)) {
                fail_msg("'%s' after %lld: got %lld (rc %d), want %lld", expr, (long long)after,
                         (long long)got, rc, (long long)want);
            }
            if (want < 0) {
                break;
            }
            after = got;
            checked++;
        }
    }
    assert_true(checked > 500);
}

static void next_is_fast(void **state)
{
    (void)state;
    static const char *const exprs[] = {"*/5 * * * *", "0 0 1 1 *", "30 2 * * 1-5",
                                        "0 9 13 * fri", "0 0 29 2 *"};
    struct cq_tz *tz = zone("Europe/Berlin");
    struct cq_cron c[5];
    for (int i = 0; i < 5; i++) {
        assert_int_equal(cq_cron_parse(exprs[i], &c[i], NULL), CQ_OK);
    }
    int64_t start = cq_now_us();
    int64_t after = utc(2026, 1, 1, 0, 0), sum = 0;
    for (int i = 0; i < 10000; i++) {
        int64_t t = 0;
        assert_int_equal(cq_cron_next(&c[i % 5], tz, after + i * 61000LL, &t), CQ_OK);
        sum += t % 7;
    }
    int64_t us = cq_now_us() - start;
    /* about 1 us each in a release build; generous for sanitizers and busy machines */
    if (us > 200000) {
        fail_msg("10000 cq_cron_next took %lld us", (long long)us);
    }
    print_message("10000 cq_cron_next in %lld us (%lld)\n", (long long)us, (long long)sum % 2);
    cq_tz_free(tz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(month_ends_and_leap_years),
        cmocka_unit_test(steps_lists_and_names),
        cmocka_unit_test(day_of_month_or_day_of_week),
        cmocka_unit_test(macros),
        cmocka_unit_test(every_is_aligned_to_the_epoch),
        cmocka_unit_test(field_boundaries),
        cmocka_unit_test(dst_europe_berlin),
        cmocka_unit_test(dst_america_new_york),
        cmocka_unit_test(zone_offsets),
        cmocka_unit_test(timegm_matches_the_calendar),
        cmocka_unit_test(invalid_expressions),
        cmocka_unit_test(zone_load_errors),
        cmocka_unit_test(zones_agree_with_glibc),
        cmocka_unit_test(posix_rules_agree_with_glibc),
        cmocka_unit_test(damaged_zone_data),
        cmocka_unit_test(slim_and_v1_files_agree_with_fat),
        cmocka_unit_test(random_expressions_match_the_oracle),
        cmocka_unit_test(next_is_fast),
    };
    return cmocka_run_group_tests(tests, setup_env, NULL);
}
