/* time.h - clocks. Monotonic for deadlines and durations, wall clock for display. */
#ifndef CQ_BASE_TIME_H
#define CQ_BASE_TIME_H

#include <stddef.h>
#include <stdint.h>

int64_t cq_now_ms(void);   /* monotonic, milliseconds */
int64_t cq_now_us(void);   /* monotonic, microseconds */
int64_t cq_wall_ms(void);  /* milliseconds since the Unix epoch */

/* Epoch ms as ISO-8601 UTC with seconds, "2026-11-21T09:30:00Z" (size >= 21). */
void cq_format_iso(int64_t epoch_ms, char *out, size_t size);

#endif
