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

/* 1 when built with AddressSanitizer (gcc or clang), else 0: tests that measure memory or
 * open thousands of threads adjust to its quarantine and shadow memory. */
#if defined(__SANITIZE_ADDRESS__)
#define CQ_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CQ_TEST_ASAN 1
#endif
#endif
#ifndef CQ_TEST_ASAN
#define CQ_TEST_ASAN 0
#endif

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
/* A whole file as a NUL-terminated string (malloc'ed; free()), or NULL if it cannot be
 * opened; "" if it cannot be read through. */
char *cq_test_read_file(const char *path);

struct cq_buf;

/* Appends s[0..len) as a double-quoted SQL identifier, " doubled. Tests quote on their own,
 * independently of the dialect code under test. */
void cq_test_quote_ident(struct cq_buf *b, const char *s, size_t len);

/* ---- configuration (cmocka tests) ---------------------------------------------------------- */

struct cq_conf;
struct json_t;

/* Loads clariq.yaml text from memory; returns the conf (caller frees with cq_conf_free) or
 * NULL, and the formatted diagnostics, one line each, in *diags (malloc'ed; free()). */
struct cq_conf *cq_test_conf_load(const char *text, char **diags);
/* Loads text that must be valid: fails the test with the diagnostics otherwise. */
struct cq_conf *cq_test_conf_good(const char *text);
/* The load must fail with exactly these diagnostics (one formatted line each). */
void cq_test_conf_bad(const char *text, const char *want);
/* Fails the test unless j dumps (compact, in insertion order) to exactly want. */
void cq_test_expect_json(const struct json_t *j, const char *want);

/* Many clients at once: n threads each run fn(&tallies[i]) (cmocka asserts only on the main
 * thread, so fn records wrong answers with cq_test_tally_bad), then the first wrong answer
 * of any of them fails the test. */
struct cq_test_tally {
    int id;             /* 0..n-1 */
    void *ctx;          /* the caller's, the same for all */
    int bad;            /* wrong answers */
    char why[300];      /* the first of them */
};
void cq_test_tally_bad(struct cq_test_tally *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cq_test_parallel(int n, void *(*fn)(void *), void *ctx);

#endif
