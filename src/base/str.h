/*
 * str.h - slices, safe copies and cursor parsers.
 *
 * Cursor parsers take `const char **cur` and advance it only on success, so calls chain
 * (curl strparse). They never assume more than what the caller passes.
 */
#ifndef CQ_BASE_STR_H
#define CQ_BASE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct cq_str {
    const char *p; /* not NUL-terminated */
    size_t len;    /* bytes */
};

/* Copies at most size-1 bytes and NUL-terminates (when size > 0). Returns strlen(src). */
size_t cq_strlcpy(char *dst, const char *src, size_t size);
bool cq_str_eq(struct cq_str s, const char *z);
bool cq_streq_ci(const char *a, const char *b);   /* ASCII case-insensitive */
bool cq_has_prefix(const char *s, const char *prefix);

/* Parses an optionally signed decimal int64 at *cur. CQ_OK and advances on success;
 * CQ_EINVAL (no digits) or CQ_ETOOBIG (overflow) and leaves *cur alone otherwise. */
int cq_parse_i64(const char **cur, int64_t *out);

/* Whole-string parsers; "" or trailing garbage is CQ_EINVAL. err gets a message that says
 * what forms are accepted. */
/* Durations: "250ms", "5s", "2m", "1h", "1.5s", or a bare number of seconds; "0" allowed. */
int cq_parse_duration_ms(const char *s, int64_t *ms, struct cq_err *err);
/* Sizes: "512", "64KB", "10MB", "1GB" (binary: KB = 1024), "KiB"/"MiB"/"GiB" too. */
int cq_parse_size(const char *s, int64_t *bytes, struct cq_err *err);
/* Formats ms as "5s" / "250ms" / "2m" into dst (human, exact). */
void cq_format_duration(char *dst, size_t size, int64_t ms);
/* Formats bytes as "10MB" / "512B" into dst (exact multiples only, else bytes). */
void cq_format_size(char *dst, size_t size, int64_t bytes);

/* Levenshtein distance, capped (returns cap+1 if above). For did-you-mean hints. */
size_t cq_edit_distance(const char *a, const char *b, size_t cap);
/* Picks the closest of cands (NULL-terminated) within a small distance, or NULL. */
const char *cq_did_you_mean(const char *word, const char *const *cands);

#endif
