/*
 * cron.h - schedules: 5-field cron expressions, @-macros and @every intervals.
 *
 *   minute hour day-of-month month day-of-week
 *   numbers, '*', ranges a-b, steps (star or a-b, then /n), lists a,b,c, month names
 *   jan..dec, weekday names sun..sat (0 or 7 = Sunday); @yearly @annually @monthly
 *   @weekly @daily @midnight @hourly; "@every 30s" (a duration >= 1s, fired on multiples
 *   of the interval since the epoch, so every process computes the same fire times).
 * As in Vixie cron, when both day-of-month and day-of-week are restricted a day matches
 * if either does (a field starting with '*', a '*' step included, is unrestricted).
 * Times are evaluated in the schedule's zone: a local time skipped by a DST jump fires at
 * the first instant after the jump (once, even if several skipped times match); a
 * repeated local time fires once, at its first occurrence (so "0 * * * *" does not fire
 * in the second pass of a repeated hour).
 *
 * A struct cq_cron is a plain value (no heap); the zone is borrowed by cq_cron_next.
 * Both functions are reentrant; a parsed schedule and a zone may be shared by threads.
 * Internals: docs/internals/cron.md.
 */
#ifndef CQ_BASE_CRON_H
#define CQ_BASE_CRON_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "base/tz.h"

struct cq_cron {
    uint64_t minutes;  /* bit m set: minute m (0..59) */
    uint32_t hours;    /* bit h: hour h (0..23) */
    uint32_t mdays;    /* bit d: day of month d (1..31) */
    uint16_t months;   /* bit m: month m (1..12) */
    uint8_t wdays;     /* bit w: weekday w (0..6, Sunday = 0) */
    bool mday_any;     /* day-of-month field was '*' (or a '*' step) */
    bool wday_any;     /* day-of-week field was '*' (or a '*' step) */
    int64_t every_ms;  /* @every interval in ms; 0 for calendar schedules */
};

/*
 * Parses expr (NUL-terminated; fields separated by any whitespace; names and macros are
 * case-insensitive) into out. Returns CQ_OK, or CQ_EINVAL with a message naming the field
 * and the problem ("hour: 24 is out of range 0-23", "expected 5 fields (minute hour
 * day-of-month month day-of-week), got 4", "unknown macro '@hurly' (did you mean
 * '@hourly'?)"); out is written only on success.
 */
int cq_cron_parse(const char *expr, struct cq_cron *out, struct cq_err *err);

/*
 * Next fire time strictly after `after_ms` (epoch ms), evaluated in tz (NULL = UTC; the
 * zone is only read). Writes it to *next_ms (on a whole minute for calendar schedules in
 * any zone whose offsets are whole minutes, i.e. everything since 1972) and returns
 * CQ_OK; CQ_ENOTFOUND when nothing matches within 8 years (e.g. "0 0 30 2 *") or an
 * interval's next multiple overflows; CQ_EINVAL when after_ms is beyond +-34,000 years.
 * Costs a few zone lookups (well under a microsecond): it jumps field by field.
 */
int cq_cron_next(const struct cq_cron *c, const struct cq_tz *tz, int64_t after_ms,
                 int64_t *next_ms);

#endif
