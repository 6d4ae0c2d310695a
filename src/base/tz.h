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
 * file. Names are checked ([A-Za-z0-9_+-/] only, no "..", no leading '/') before the file
 * under $TZDIR or /usr/share/zoneinfo is read. Returns NULL with err: CQ_ENOTFOUND for an
 * unknown zone (the message names it and the directory), CQ_EINVAL for a bad name or a
 * damaged file, CQ_EUNSUPPORTED for leap-second ("right/") zones, CQ_EIO, CQ_ENOMEM.
 * Instants before the first transition use the file's first type (RFC 8536); instants
 * after the last one follow the footer's POSIX TZ rule when there is one.
 */
struct cq_tz *cq_tz_load(const char *name, struct cq_err *err);
/* Parses TZif data (versions 1 to 4) from memory (fuzz target and tests); `name` is
 * copied and used in messages. Same errors as cq_tz_load for the data. */
struct cq_tz *cq_tz_parse(const char *name, const unsigned char *data, size_t len,
                          struct cq_err *err);
void cq_tz_free(struct cq_tz *tz); /* NULL is a no-op */
/* The name given at load ("UTC" for NULL); borrowed from tz. */
const char *cq_tz_name(const struct cq_tz *tz);

/* UTC offset in seconds (east positive) at instant t (seconds since the epoch). tz NULL =
 * UTC. Instants are clamped to about +-35 million years, as in cq_tz_local. */
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
/* Seconds since the epoch of a UTC civil time (no zone), for any proleptic Gregorian date.
 * Fields may be out of range and carry (mon 13 = January of the next year, mday 0 = the
 * last day of the previous month). */
int64_t cq_tz_timegm(int year, int mon, int mday, int hour, int min, int sec);

/*
 * The instant (epoch seconds) at which local civil time `local` first occurs in tz (NULL =
 * UTC); `local` is that civil time read as UTC, e.g. cq_tz_timegm(2026, 3, 29, 2, 30, 0).
 * A local time skipped by a forward jump maps to the instant of the jump; one that occurs
 * twice maps to its first occurrence. These are the DST rules of cron schedules.
 */
int64_t cq_tz_from_local(const struct cq_tz *tz, int64_t local);

#endif
