/*
 * cqtest.h - helpers shared by the unit and integration tests.
 *
 * Integration tests find their servers through cq_test_env(): the variable from the
 * environment (external mode) or from the file written by itenv.sh ($CQ_IT_ENV_FILE).
 * When a server is missing, cq_test_require() exits 77 (ctest: skipped), except under
 * CI=true where a missing server is a failure (exit 1).
 */
#ifndef CQ_TESTS_CQTEST_H
#define CQ_TESTS_CQTEST_H

#include <stdbool.h>
#include <stddef.h>

/* Value of an itenv variable (CQ_IT_PG_DSN...) or NULL. Borrowed; valid for the process. */
const char *cq_test_env(const char *key);
/* Returns the variable's value or exits 77 (or 1 under CI=true) with a message. */
const char *cq_test_require(const char *key);
/* Runs `itenv.sh <args>` on the fixture directory (e.g. "stop pg"); returns exit status. */
int cq_test_itenv(const char *args);
/* Runs a shell command, capturing stdout and stderr (each malloc'ed, NUL-terminated;
 * free with free()). Returns the exit status (or -1). stdin is /dev/null unless input. */
int cq_test_run(const char *cmd, const char *input, char **out, char **err);
/* A fresh scratch directory under $CQ_TEST_TMP (or /tmp); malloc'ed path. */
char *cq_test_tmpdir(const char *tag);
/* Writes a file (creating it); false on failure. */
bool cq_test_write_file(const char *path, const char *text);
/* Peak resident set size of this process, KiB (from /proc/self/status VmHWM). */
long cq_test_peak_rss_kib(void);

#endif
