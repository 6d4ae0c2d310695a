/*
 * tz.h - IANA time zones from the system's zoneinfo files (TZif, tzdata package).
 *
 * glibc can only convert in the process-wide TZ; alert schedules each name their own
 * zone and run on several threads, so clariq reads the compiled zone file itself and
 * converts with it. A loaded zone is immutable and may be shared between threads.
 *
 * Ownership: cq_tz_load returns a zone the caller frees with cq_tz_free.
 */
#ifndef CQ_BASE_TZ_H
#define CQ_BASE_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct cq_tz;

/*
 * Loads zone `name` ("Europe/Berlin", "UTC", "America/New_York"). "UTC" and "" need no
 * file. Names are checked (no "..", no leading '/') before the file under $TZDIR or
 * /usr/share/zoneinfo is read. Returns NULL with err: CQ_ENOTFOUND for an unknown zone
 * (message names it and how to list zones), CQ_EINVAL for a damaged file.
 */
struct cq_tz *cq_tz_load(const char *name, struct cq_err *err);
/* Parses TZif data from memory (fuzz target and tests); `name` is used in messages. */
struct cq_tz *cq_tz_parse(const char *name, const unsigned char *data, size_t len,
                          struct cq_err *err);
void cq_tz_free(struct cq_tz *tz); /* NULL is a no-op */
const char *cq_tz_name(const struct cq_tz *tz);

/* UTC offset in seconds at instant t (seconds since the epoch). tz NULL = UTC. */
int32_t cq_tz_offset(const struct cq_tz *tz, int64_t t);

/* Broken-down local time. */
struct cq_tm {
    int year;  /* e.g. 2026 */
    int mon;   /* 1..12 */
    int mday;  /* 1..31 */
    int hour;  /* 0..23 */
    int min;   /* 0..59 */
    int sec;   /* 0..59 */
    int wday;  /* 0..6, Sunday = 0 */
};

/* Instant t (epoch seconds) as local time in tz (NULL = UTC). */
void cq_tz_local(const struct cq_tz *tz, int64_t t, struct cq_tm *out);
/* Seconds since the epoch of a UTC civil time (no zone), for any proleptic Gregorian date. */
int64_t cq_tz_timegm(int year, int mon, int mday, int hour, int min, int sec);

#endif
