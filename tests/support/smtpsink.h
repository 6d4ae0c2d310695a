/*
 * smtpsink.h - run tests/support/smtpsink.py, a real (plain, no TLS, no AUTH) SMTP server
 * that stores each accepted message as <dir>/<n>.eml with its envelope on the first two
 * lines ("X-Envelope-From: a", "X-Envelope-To: b, c"), n = 1, 2, ... Messages for a
 * recipient "reject5@..." are refused after DATA with 554, for "tempfail4@..." with 451.
 *
 * The server is /usr/bin/python3 itself (no wrapper), so the returned pid is the server
 * and stopping it needs no process-group games. It also dies with the test process
 * (PR_SET_PDEATHSIG). The script is found in $CQ_SOURCE_DIR/tests/support, else in the
 * source tree the test support library was built from.
 */
#ifndef CQ_TESTS_SMTPSINK_H
#define CQ_TESTS_SMTPSINK_H

#include <stdbool.h>
#include <sys/types.h>

/* Whether /usr/bin/python3 and the script are there (else tests skip or fail in CI). */
bool cq_test_smtp_available(void);
/* Starts a sink on 127.0.0.1 storing into dir (which must exist). *port is the port to
 * use, 0 = ephemeral; on return it holds the bound port. false (message on stderr) if the
 * server did not report a port within 10 s. */
bool cq_test_smtp_start(const char *dir, int *port, pid_t *pid);
/* SIGTERM and reap; a pid <= 0 is a no-op. */
void cq_test_smtp_stop(pid_t pid);
/* Waits until <dir>/<n>.eml exists; false after timeout_ms. */
bool cq_test_smtp_wait(const char *dir, int n, int timeout_ms);
/* Contents of <dir>/<n>.eml (malloc'ed, NUL-terminated; free with free()) or NULL. */
char *cq_test_smtp_message(const char *dir, int n);


/* ---- reading stored messages (LF or CRLF line endings) ---- */

/* Value of header name (case-insensitive, the first one, unfolded) in msg's header block
 * (the first part's headers are not searched); malloc'ed, or NULL when absent. */
char *cq_test_mail_header(const char *msg, const char *name);
/* Fails the current cmocka test unless header `name` of msg is exactly want. */
void cq_test_assert_mail_header(const char *msg, const char *name, const char *want);
/* The header value with RFC 2047 encoded words (=?UTF-8?B?..?= / ?Q?) decoded; malloc'ed. */
char *cq_test_mail_decode_words(const char *value);
/* The decoded body (quoted-printable, base64 or as is; line endings as LF) of the first
 * MIME part of msg whose Content-Type starts with type ("text/html"); malloc'ed, or NULL.
 * If part_headers is not NULL it gets that part's header block (malloc'ed). */
char *cq_test_mail_part(const char *msg, const char *type, char **part_headers);
/* Quoted-printable decoding of s (soft breaks removed); malloc'ed. */
char *cq_test_qp_decode(const char *s, size_t len);

#endif
