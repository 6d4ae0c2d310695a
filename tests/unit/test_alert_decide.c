/* test_alert_decide.c - when an evaluation notifies (cooldown, de-duplication, resolve) and
 * the retry backoff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alert/engine.h"
#include "base/str.h"

#define HOUR (3600 * 1000LL)
#define NOW (1800000000000LL)

static struct cq_alert_conf alert(enum cq_rule_type type, int64_t cooldown,
                                  enum cq_notify_on on)
{
    return (struct cq_alert_conf){.id = "a", .rule = {.type = type}, .cooldown_ms = cooldown,
                                  .notify_on = on, .enabled = true};
}

static struct cq_alert_eval eval(const struct cq_alert_conf *a, enum cq_alert_state s,
                                 const char *fp)
{
    struct cq_alert_eval ev = {.alert = a, .state = s, .reason = "r"};
    cq_strlcpy(ev.fingerprint, fp, sizeof(ev.fingerprint));
    return ev;
}

static struct cq_alert_status status(const char *state, const char *notified, int64_t at,
                                     const char *fp)
{
    struct cq_alert_status st = {.last_notified_ms = at, .last_run_ms = at};
    cq_strlcpy(st.state, state, sizeof(st.state));
    cq_strlcpy(st.last_notified_state, notified, sizeof(st.last_notified_state));
    cq_strlcpy(st.fingerprint, fp, sizeof(st.fingerprint));
    return st;
}

static const char *decide(const struct cq_alert_conf *a, const struct cq_alert_eval *ev,
                          const struct cq_alert_status *st)
{
    const char *why = NULL;
    const char *r = cq_alert_decide(a, ev, st, NOW, &why);
    assert_non_null(why);
    return r;
}

static void first_trigger_notifies(void **state)
{
    (void)state;
    struct cq_alert_conf a = alert(CQ_RULE_ANY_ROWS, 0, CQ_NOTIFY_TRIGGER_AND_RESOLVE);
    struct cq_alert_eval ev = eval(&a, CQ_ALERT_TRIGGERED, "f1");
    assert_string_equal(decide(&a, &ev, NULL), "triggered");
    struct cq_alert_status ok = status("ok", "", 0, "");
    assert_string_equal(decide(&a, &ev, &ok), "triggered");
}

static void still_triggered_notifies_once_without_cooldown(void **state)
{
    (void)state;
    struct cq_alert_conf a = alert(CQ_RULE_ANY_ROWS, 0, CQ_NOTIFY_TRIGGER_AND_RESOLVE);
    struct cq_alert_eval ev = eval(&a, CQ_ALERT_TRIGGERED, "f2");
    struct cq_alert_status st = status("triggered", "triggered", NOW - 100 * HOUR, "f1");
    assert_null(decide(&a, &ev, &st));
}

static void cooldown_gates_reminders(void **state)
{
    (void)state;
    struct cq_alert_conf a = alert(CQ_RULE_ANY_ROWS, HOUR, CQ_NOTIFY_TRIGGER_AND_RESOLVE);
    struct cq_alert_eval ev = eval(&a, CQ_ALERT_TRIGGERED, "f1");
    struct cq_alert_status recent = status("triggered", "triggered", NOW - HOUR / 2, "f1");
    struct cq_alert_status old = status("triggered", "triggered", NOW - HOUR, "f1");
    assert_null(decide(&a, &ev, &recent));
    assert_string_equal(decide(&a, &ev, &old), "triggered");
}

static void identical_result_inside_cooldown_is_not_resent(void **state)
{
    (void)state;
    struct cq_alert_conf a = alert(CQ_RULE_ANY_ROWS, HOUR, CQ_NOTIFY_TRIGGER_AND_RESOLVE);
    /* triggered -> resolved -> triggered again with the same rows, 10 minutes later */
    struct cq_alert_status st = status("ok", "resolved", NOW - HOUR / 6, "same");
    struct cq_alert_eval same = eval(&a, CQ_ALERT_TRIGGERED, "same");
    struct cq_alert_eval other = eval(&a, CQ_ALERT_TRIGGERED, "other");
    assert_null(decide(&a, &same, &st));
    assert_string_equal(decide(&a, &other, &st), "triggered");
}

static void resolve_follows_notify_on(void **state)
{
    (void)state;
    struct cq_alert_conf both = alert(CQ_RULE_ANY_ROWS, 0, CQ_NOTIFY_TRIGGER_AND_RESOLVE);
    struct cq_alert_conf trig = alert(CQ_RULE_ANY_ROWS, 0, CQ_NOTIFY_TRIGGER);
    struct cq_alert_eval ev = eval(&both, CQ_ALERT_OK, "x");
    struct cq_alert_status st = status("triggered", "triggered", NOW - HOUR, "f");
    struct cq_alert_status quiet = status("triggered", "", 0, ""); /* never notified */
    assert_string_equal(decide(&both, &ev, &st), "resolved");
    ev.alert = &trig;
    assert_null(decide(&trig, &ev, &st));
    assert_null(decide(&both, &ev, &quiet));
    struct cq_alert_status ok = status("ok", "resolved", NOW - HOUR, "f");
    assert_null(decide(&both, &ev, &ok));
}

static void errors_notify_on_transition(void **state)
{
    (void)state;
    struct cq_alert_conf a = alert(CQ_RULE_THRESHOLD, 0, CQ_NOTIFY_TRIGGER_AND_RESOLVE);
    struct cq_alert_eval ev = eval(&a, CQ_ALERT_ERROR, "e");
    struct cq_alert_status ok = status("ok", "", 0, "");
    struct cq_alert_status err = status("error", "error", NOW - 1000, "e");
    assert_string_equal(decide(&a, &ev, &ok), "error");
    assert_null(decide(&a, &ev, &err));
    struct cq_alert_eval back = eval(&a, CQ_ALERT_OK, "o");
    assert_string_equal(decide(&a, &back, &err), "resolved");
}

static void digest_every_run_unless_cooling(void **state)
{
    (void)state;
    struct cq_alert_conf a = alert(CQ_RULE_ALWAYS, 0, CQ_NOTIFY_TRIGGER_AND_RESOLVE);
    struct cq_alert_eval ev = eval(&a, CQ_ALERT_TRIGGERED, "d");
    struct cq_alert_status st = status("triggered", "digest", NOW - 1000, "d");
    assert_string_equal(decide(&a, &ev, &st), "digest");
    a.cooldown_ms = HOUR;
    assert_null(decide(&a, &ev, &st));
}

static void backoff_doubles_caps_and_jitters(void **state)
{
    (void)state;
    struct cq_channel_conf cc = {.backoff_ms = 1000, .backoff_max_ms = 5000};
    for (uint64_t r = 0; r < 2000; r += 7) {
        int64_t d1 = cq_alert_backoff_ms(&cc, 1, r), d3 = cq_alert_backoff_ms(&cc, 3, r);
        int64_t d9 = cq_alert_backoff_ms(&cc, 9, r);
        assert_true(d1 >= 500 && d1 <= 1000);
        assert_true(d3 >= 2000 && d3 <= 4000);
        assert_true(d9 >= 2500 && d9 <= 5000);
    }
    assert_int_not_equal(cq_alert_backoff_ms(&cc, 2, 1), cq_alert_backoff_ms(&cc, 2, 1000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_trigger_notifies),
        cmocka_unit_test(still_triggered_notifies_once_without_cooldown),
        cmocka_unit_test(cooldown_gates_reminders),
        cmocka_unit_test(identical_result_inside_cooldown_is_not_resent),
        cmocka_unit_test(resolve_follows_notify_on),
        cmocka_unit_test(errors_notify_on_transition),
        cmocka_unit_test(digest_every_run_unless_cooling),
        cmocka_unit_test(backoff_doubles_caps_and_jitters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
