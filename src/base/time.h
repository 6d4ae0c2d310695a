/* time.h - clocks. Monotonic for deadlines and durations, wall clock for display. */
#ifndef CQ_BASE_TIME_H
#define CQ_BASE_TIME_H

#include <stdint.h>

int64_t cq_now_ms(void);   /* monotonic, milliseconds */
int64_t cq_now_us(void);   /* monotonic, microseconds */
int64_t cq_wall_ms(void);  /* milliseconds since the Unix epoch */

#endif
