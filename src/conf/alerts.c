/*
 * alerts.c - the alerts: list. Each entry is walked with the alert table; its check
 * validates what needs nothing outside the alert (id, sql or sql_file, schedule, zone,
 * rule, message template) and records where its references were written, so refs.c can
 * check connections, channels and timeouts once every file was read.
 *
 * A rule is a mapping ({type: threshold, op: ">", value: 10}) or just its type
 * (`rule: any_rows`). Keys that belong to another rule type are errors, not ignored: a
 * stray `row:` on a change rule is a misunderstanding worth a message.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/cron.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/tmpl.h"
#include "base/tz.h"
#include "conf/internal.h"

#define BIT(x) (1u << (x))
#define ONLY_THRESHOLD BIT(CQ_RULE_THRESHOLD)
#define ONLY_CHANGE BIT(CQ_RULE_CHANGE)

/* CQ_CONF_K_ENUM writes an int. */
_Static_assert(sizeof(enum cq_rule_type) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cq_cmp_op) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cq_rule_row) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cq_notify_on) == sizeof(int), "enum size");

const char *const cq_conf_tmpl_vars[] = {
    "alert.id",  "alert.name", "alert.connection", "state", "reason",      "value", "threshold",
    "row_count", "rows",       "run_at",           "error", "duration_ms", NULL,
};

/* Indexed by the enums of conf.h. */
static const char *const rule_types[] = {"any_rows",    "no_rows", "threshold", "always",
                                         "sql_boolean", "change",  NULL};
static const char *const ops[] = {">", ">=", "<", "<=", "==", "!=", NULL};
static const char *const rows[] = {"first", "any", "all", "min", "max", "sum", "count", NULL};
static const char *const notify_ons[] = {"trigger_and_resolve", "trigger", NULL};

static void check_rule(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                       const struct cq_conf_seen *s);
static void check_alert(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                        const struct cq_conf_seen *s);
static bool apply_rule(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                       const struct cq_conf_seen *s, int i, void *target);

/* ---- the tables -------------------------------------------------------------------------- */

static const struct cq_conf_key rule_keys[] = {
    {.name = "type",
     .type = CQ_CONF_K_ENUM,
     .off = offsetof(struct cq_rule_conf, type),
     .names = rule_types,
     .what = "rule type"},
    {.name = "column",
     .type = CQ_CONF_K_STR,
     .off = offsetof(struct cq_rule_conf, column),
     .only = ONLY_THRESHOLD | ONLY_CHANGE},
    /* YAML reads a plain > as a folded block and ! as a tag: say so in the hint. */
    {.name = "op",
     .type = CQ_CONF_K_ENUM,
     .off = offsetof(struct cq_rule_conf, op),
     .names = ops,
     .what = "comparison",
     .flags = CQ_CONF_KF_NO_GUESS,
     .hint = "write one of \">\", \">=\", \"<\", \"<=\", \"==\", \"!=\" in quotes",
     .only = ONLY_THRESHOLD | ONLY_CHANGE},
    /* value, percent and absolute share value/value_text: check_rule reads the one that
     * applies. */
    {.name = "value",
     .type = CQ_CONF_K_DEFER,
     .hint = "write a number (or a string, for == and !=)",
     .only = ONLY_THRESHOLD},
    {.name = "row",
     .type = CQ_CONF_K_ENUM,
     .off = offsetof(struct cq_rule_conf, row),
     .names = rows,
     .what = "row selector",
     .only = ONLY_THRESHOLD},
    {.name = "percent",
     .type = CQ_CONF_K_DEFER,
     .hint = "write a number such as 20 or 2.5",
     .only = ONLY_CHANGE},
    {.name = "absolute",
     .type = CQ_CONF_K_DEFER,
     .hint = "write a number such as 100",
     .only = ONLY_CHANGE},
};

static const struct cq_conf_section rule_section = {rule_keys, CQ_CONF_NKEYS(rule_keys), check_rule,
                                                    NULL};

static const struct cq_conf_key alert_keys[] = {
    {.name = "id", .type = CQ_CONF_K_STR, .off = offsetof(struct cq_alert_conf, id)},
    {.name = "name", .type = CQ_CONF_K_STR, .off = offsetof(struct cq_alert_conf, name)},
    {.name = "connection",
     .type = CQ_CONF_K_STR,
     .off = offsetof(struct cq_alert_conf, connection)},
    {.name = "sql", .type = CQ_CONF_K_STR, .off = offsetof(struct cq_alert_conf, sql)},
    {.name = "sql_file", .type = CQ_CONF_K_STR, .off = offsetof(struct cq_alert_conf, sql_file)},
    {.name = "params",
     .type = CQ_CONF_K_STRLIST,
     .off = offsetof(struct cq_alert_conf, params),
     .off2 = offsetof(struct cq_alert_conf, n_params),
     .flags = CQ_CONF_KF_NULL_TEXT,
     .hint = "write a list of values: [pending, \"int:5\"] ($1, $2, ...)"},
    {.name = "schedule", .type = CQ_CONF_K_STR, .off = offsetof(struct cq_alert_conf, schedule)},
    {.name = "timezone", .type = CQ_CONF_K_STR, .off = offsetof(struct cq_alert_conf, timezone)},
    {.name = "rule",
     .type = CQ_CONF_K_FUNC,
     .off = offsetof(struct cq_alert_conf, rule),
     .apply = apply_rule},
    {.name = "channels",
     .type = CQ_CONF_K_STRLIST,
     .off = offsetof(struct cq_alert_conf, channels),
     .off2 = offsetof(struct cq_alert_conf, n_channels),
     .hint = "write a list of channel names: [ops_slack, oncall_mail]"},
    {.name = "cooldown",
     .type = CQ_CONF_K_DURATION,
     .off = offsetof(struct cq_alert_conf, cooldown_ms),
     .def = "0"},
    {.name = "notify_on",
     .type = CQ_CONF_K_ENUM,
     .off = offsetof(struct cq_alert_conf, notify_on),
     .def = "trigger_and_resolve",
     .names = notify_ons,
     .what = "notify_on value"},
    {.name = "message", .type = CQ_CONF_K_STR, .off = offsetof(struct cq_alert_conf, message)},
    {.name = "enabled",
     .type = CQ_CONF_K_BOOL,
     .off = offsetof(struct cq_alert_conf, enabled),
     .def = "true"},
    /* default: the connection's limits.timeout, set in refs.c */
    {.name = "timeout",
     .type = CQ_CONF_K_DURATION,
     .off = offsetof(struct cq_alert_conf, timeout_ms)},
};

static const struct cq_conf_section alert_section = {alert_keys, CQ_CONF_NKEYS(alert_keys),
                                                     check_alert, NULL};

_Static_assert(CQ_CONF_NKEYS(alert_keys) <= CQ_CONF_MAX_KEYS, "raise CQ_CONF_MAX_KEYS");
_Static_assert(CQ_CONF_NKEYS(rule_keys) <= CQ_CONF_MAX_KEYS, "raise CQ_CONF_MAX_KEYS");

/* ---- templates --------------------------------------------------------------------------- */

bool cq_conf_check_tmpl(struct cq_conf_loader *ld, const yaml_node_t *v, const char *text,
                        const char *path)
{
    struct cq_err err = {0};
    size_t off = 0, n_vars = 0;
    if (cq_tmpl_check(text, cq_conf_tmpl_vars, &off, &err) == CQ_OK) {
        return true;
    }
    /* The column is only knowable when no ${VAR} moved the text. */
    yaml_mark_t at = strcmp(text, cq_conf_scalar(v)) == 0 ? cq_conf_mark_at(v, off) : v->start_mark;
    const char *name = text + off + 2, *close = strstr(name, "}}");
    if (close == NULL) {
        cq_conf_diag(ld, at, path, "close it with '}}': variables are written {{alert.name}}",
                     "unclosed '{{'");
        return false;
    }
    while (name < close && (*name == ' ' || *name == '\t')) {
        name++;
    }
    while (close > name && (close[-1] == ' ' || close[-1] == '\t')) {
        close--;
    }
    const char *word = cq_conf_tmpf(ld, "%.*s", (int)(close - name), name);
    while (cq_conf_tmpl_vars[n_vars] != NULL) {
        n_vars++;
    }
    cq_conf_diag(ld, at, path,
                 cq_conf_names_hint(ld, word, cq_conf_tmpl_vars, n_vars, "variables", NULL),
                 "unknown template variable %s", cq_conf_quote(ld, word));
    return false;
}

/* ---- rules ------------------------------------------------------------------------------- */

/* A whole string that is a finite number. */
static bool parse_number(const char *s, double *out)
{
    char *end = NULL;
    if (*s == '\0' || isspace((unsigned char)*s)) {
        return false;
    }
    double d = strtod(s, &end);
    if (end == NULL || *end != '\0' || !isfinite(d)) {
        return false;
    }
    *out = d;
    return true;
}

/* Applies the deferred number key `name` to r (value and value_text). text_ok: a
 * non-number is kept as text with value NaN (== and != compare text). */
static bool rule_number(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                        const struct cq_conf_seen *s, const char *name, struct cq_rule_conf *r,
                        bool text_ok, const char *hint)
{
    int i = cq_conf_key_index(sec, name);
    const char *path = cq_conf_join_path(ld, s->path, name);
    const char *text = cq_conf_scalar_text(ld, &sec->keys[i], s->val[i], path);
    if (text == NULL) {
        return false;
    }
    r->value_text = cq_arena_strdup(ld->keep, text);
    if (r->value_text == NULL) {
        ld->rc = CQ_ENOMEM;
        return false;
    }
    if (parse_number(text, &r->value)) {
        return true;
    }
    if (text_ok) {
        r->value = NAN;
        return true;
    }
    cq_conf_diag(ld, s->val[i]->start_mark, path, hint, "expected a number, got %s",
                 cq_conf_quote_value(ld, &sec->keys[i], cq_conf_scalar(s->val[i]), text));
    return false;
}

static void check_threshold(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                            struct cq_rule_conf *r, const struct cq_conf_seen *s)
{
    bool op_bad;
    const yaml_node_t *op = cq_conf_seen_val(sec, s, "op", &op_bad);
    if (op == NULL) {
        cq_conf_diag(ld, cq_conf_section_mark(s), s->path,
                     "add op: \">\" or another of >=, <, <=, ==, !=", "missing op");
    }
    if (cq_conf_seen_val(sec, s, "value", NULL) == NULL) {
        cq_conf_diag(ld, cq_conf_section_mark(s), s->path,
                     "add value: with the number the column is compared with", "missing value");
        return;
    }
    /* Without a valid op the kind of value is unknowable: accept it, op is reported. */
    bool text_ok = op == NULL || op_bad || r->op == CQ_OP_EQ || r->op == CQ_OP_NE;
    rule_number(
        ld, sec, s, "value", r, text_ok,
        cq_conf_tmpf(ld, "'%s' compares numbers; use == or != to compare text", ops[r->op]));
}

static void check_change(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                         struct cq_rule_conf *r, const struct cq_conf_seen *s)
{
    bool op_bad;
    const yaml_node_t *op = cq_conf_seen_val(sec, s, "op", &op_bad);
    const yaml_node_t *pv = cq_conf_seen_val(sec, s, "percent", NULL);
    const yaml_node_t *av = cq_conf_seen_val(sec, s, "absolute", NULL);
    if (pv != NULL && av != NULL) {
        cq_conf_diag(ld, cq_conf_seen_key(sec, s, "absolute")->start_mark, s->path,
                     "keep one: percent for a relative move, absolute for a difference in "
                     "the column's units",
                     "both percent and absolute are set");
        return;
    }
    if (pv == NULL && av == NULL) {
        cq_conf_diag(ld, cq_conf_section_mark(s), s->path,
                     "add percent: 20 for a relative move, or absolute: 100 for a difference",
                     "missing percent or absolute");
        return;
    }
    const char *name = pv != NULL ? "percent" : "absolute";
    r->percent = pv != NULL;
    r->signed_delta = op != NULL && !op_bad;
    if (!rule_number(ld, sec, s, name, r, false, sec->keys[cq_conf_key_index(sec, name)].hint)) {
        return;
    }
    if (!r->signed_delta && op == NULL && r->value < 0) {
        const yaml_node_t *v = pv != NULL ? pv : av;
        cq_conf_diag(ld, v->start_mark, cq_conf_join_path(ld, s->path, name),
                     "without op the size of the move is compared; add op: \"<\" to catch "
                     "a drop",
                     "negative value %s", cq_conf_quote(ld, r->value_text));
    }
}

/* "threshold" or "threshold and change": the rule types a key applies to. */
static const char *type_names(struct cq_conf_loader *ld, unsigned mask)
{
    const char *out = "";
    for (size_t t = 0; rule_types[t] != NULL; t++) {
        if ((mask & BIT(t)) != 0) {
            out = *out == '\0' ? rule_types[t] : cq_conf_tmpf(ld, "%s and %s", out, rule_types[t]);
        }
    }
    return out;
}

static void check_rule(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                       const struct cq_conf_seen *s)
{
    struct cq_rule_conf *r = target;
    bool bad;
    if (cq_conf_seen_val(sec, s, "type", &bad) == NULL) {
        cq_conf_diag(ld, cq_conf_section_mark(s), s->path,
                     "add type: any_rows, no_rows, always, sql_boolean, threshold or change",
                     "missing type");
        return;
    }
    if (bad) {
        return;
    }
    for (size_t i = 0; i < sec->n_keys; i++) {
        unsigned only = sec->keys[i].only;
        if (s->key[i] != NULL && only != 0 && (only & BIT(r->type)) == 0) {
            cq_conf_diag(ld, s->key[i]->start_mark, s->path,
                         cq_conf_tmpf(ld, "remove it from this %s rule", rule_types[r->type]),
                         "'%s' applies only to %s rules", sec->keys[i].name, type_names(ld, only));
        }
    }
    if (r->type == CQ_RULE_THRESHOLD) {
        check_threshold(ld, sec, r, s);
    } else if (r->type == CQ_RULE_CHANGE) {
        check_change(ld, sec, r, s);
    }
}

/* rule: {type: ..., ...} or the shorthand rule: TYPE. */
static bool apply_rule(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                       const struct cq_conf_seen *s, int i, void *target)
{
    struct cq_rule_conf *r = (struct cq_rule_conf *)((char *)target + k->off);
    const yaml_node_t *v = s->val[i];
    const char *path = cq_conf_join_path(ld, s->path, k->name);
    if (v->type != YAML_SCALAR_NODE || cq_conf_is_null(v)) {
        cq_conf_walk_section(ld, &rule_section, v, s->key[i], r, path);
        return true;
    }
    struct cq_conf_seen rs;
    int t = cq_conf_key_index(&rule_section, "type");
    memset(&rs, 0, sizeof(rs));
    rs.node = v;
    rs.name = s->key[i];
    rs.path = path;
    rs.key[t] = s->key[i];
    rs.val[t] = v;
    rs.bad[t] = !cq_conf_apply_scalar(ld, &rule_keys[t], v, &r->type, path);
    if (!cq_conf_full(ld)) {
        check_rule(ld, &rule_section, r, &rs);
    }
    return !rs.bad[t];
}

/* ---- one alert --------------------------------------------------------------------------- */

static struct cq_conf_alert_ref *ref_of(struct cq_conf_loader *ld, const struct cq_alert_conf *a)
{
    return &ld->alert_refs[a - ld->conf->alerts];
}

static struct cq_conf_place here(const struct cq_conf_loader *ld, yaml_mark_t mark)
{
    struct cq_conf_place p = {ld->kept_file, mark};
    return p;
}

static void check_names(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                        struct cq_alert_conf *a, const struct cq_conf_seen *s)
{
    bool bad;
    const yaml_node_t *iv = cq_conf_seen_val(sec, s, "id", &bad);
    const char *rule = "letters, digits, '_', '-' or '.', at most 63 characters";
    if (iv == NULL) {
        cq_conf_diag(ld, cq_conf_section_mark(s), s->path,
                     cq_conf_tmpf(ld, "add id: with a unique name: %s", rule), "missing id");
    } else if (!bad && !cq_conf_valid_name(a->id)) {
        cq_conf_diag(ld, iv->start_mark, cq_conf_join_path(ld, s->path, "id"),
                     cq_conf_tmpf(ld, "use %s", rule), "invalid alert id %s",
                     cq_conf_quote(ld, a->id));
        a->id = NULL; /* not a name refs.c should compare */
    }
    ref_of(ld, a)->id = here(ld, iv != NULL ? iv->start_mark : cq_conf_section_mark(s));
    if (a->name == NULL) {
        a->name = a->id;
    }
    const yaml_node_t *cv = cq_conf_seen_val(sec, s, "connection", &bad);
    if (cv == NULL) {
        cq_conf_diag(
            ld, cq_conf_section_mark(s), s->path,
            "add connection: with the name of one under connections:", "missing connection");
    } else if (!bad) {
        ref_of(ld, a)->conn = here(ld, cv->start_mark);
    }
}

static bool blank_text(const char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    return *s == '\0';
}

/* Reads sql_file (already resolved) into a->sql; written is the name as written. */
static void read_sql(struct cq_conf_loader *ld, struct cq_alert_conf *a, const yaml_node_t *fv,
                     const char *path, const char *written)
{
    struct cq_buf text;
    struct cq_err why = {0};
    cq_buf_init(&text, CQ_CONF_MAX_SQL);
    if (cq_conf_read_file(a->sql_file, &text, &why) != CQ_OK) {
        if (why.rc == CQ_ENOMEM) {
            ld->rc = CQ_ENOMEM;
        } else {
            cq_conf_diag(ld, fv->start_mark, path,
                         "sql_file is relative to the directory of the file that declares it",
                         "cannot read %s: %s", cq_conf_quote(ld, written), why.msg);
        }
    } else if (memchr(cq_buf_str(&text), '\0', text.len) != NULL || blank_text(cq_buf_str(&text))) {
        cq_conf_diag(ld, fv->start_mark, path, "write the query into the file", "%s %s",
                     cq_conf_quote(ld, written),
                     blank_text(cq_buf_str(&text)) ? "is empty" : "contains a NUL byte");
    } else {
        a->sql = cq_arena_strndup(ld->keep, cq_buf_str(&text), text.len);
        ld->rc = a->sql == NULL ? CQ_ENOMEM : ld->rc;
    }
    cq_buf_cleanup(&text);
}

static void check_sql(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                      struct cq_alert_conf *a, const struct cq_conf_seen *s)
{
    bool sql_bad, file_bad;
    const yaml_node_t *sv = cq_conf_seen_val(sec, s, "sql", &sql_bad);
    const yaml_node_t *fv = cq_conf_seen_val(sec, s, "sql_file", &file_bad);
    const char *fpath = cq_conf_join_path(ld, s->path, "sql_file");
    if (sv != NULL && fv != NULL) {
        cq_conf_diag(ld, cq_conf_seen_key(sec, s, "sql_file")->start_mark, s->path,
                     "keep one: sql for the query itself, sql_file for a file holding it",
                     "both sql and sql_file are set");
    } else if (sv == NULL && fv == NULL) {
        cq_conf_diag(ld, cq_conf_section_mark(s), s->path,
                     "add sql: SELECT ... or sql_file: queries/NAME.sql",
                     "missing sql or sql_file");
    } else if (sv != NULL && !sql_bad && blank_text(a->sql)) {
        cq_conf_diag(ld, sv->start_mark, cq_conf_join_path(ld, s->path, "sql"),
                     "write the query after sql:", "empty sql");
    } else if (fv != NULL && !file_bad && *a->sql_file == '\0') {
        cq_conf_diag(ld, fv->start_mark, fpath, "write a file path (relative to this file)",
                     "empty sql_file");
    } else if (fv != NULL && !file_bad) {
        const char *written = a->sql_file;
        a->sql_file = cq_conf_resolve_path(ld, a->sql_file);
        if (ld->read_files) {
            read_sql(ld, a, fv, fpath, written);
        }
    }
}

/* A message that ends in "(...)" already says how to fix it: no second hint. */
static bool own_hint(const char *msg)
{
    size_t n = strlen(msg);
    return n > 0 && msg[n - 1] == ')';
}

static void check_schedule(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                           struct cq_alert_conf *a, const struct cq_conf_seen *s)
{
    bool bad;
    struct cq_err err = {0};
    const yaml_node_t *sv = cq_conf_seen_val(sec, s, "schedule", &bad);
    if (sv == NULL) {
        cq_conf_diag(ld, cq_conf_section_mark(s), s->path,
                     "add schedule: with five cron fields such as \"*/15 * * * *\", or "
                     "@hourly, or \"@every 10m\"",
                     "missing schedule");
    } else if (!bad && cq_cron_parse(a->schedule, &a->cron, &err) != CQ_OK) {
        cq_conf_diag(ld, sv->start_mark, cq_conf_join_path(ld, s->path, "schedule"),
                     own_hint(err.msg) ? NULL
                                       : "for example \"*/15 * * * *\", \"0 9 * * mon-fri\", "
                                         "@hourly or \"@every 10m\"",
                     "invalid schedule %s: %s", cq_conf_quote(ld, a->schedule),
                     cq_conf_clean(ld, err.msg));
    }
    const yaml_node_t *tv = cq_conf_seen_val(sec, s, "timezone", &bad);
    if (bad) {
        return;
    }
    if (a->timezone == NULL) {
        a->timezone = cq_arena_strdup(ld->keep, "UTC");
        if (a->timezone == NULL) {
            ld->rc = CQ_ENOMEM;
            return;
        }
    }
    const char *path = cq_conf_join_path(ld, s->path, "timezone");
    if (tv != NULL && *a->timezone == '\0') {
        cq_conf_diag(ld, tv->start_mark, path,
                     "write a zone such as Europe/Berlin, or remove "
                     "the key for UTC",
                     "empty timezone");
        return;
    }
    cq_err_clear(&err);
    a->tz = cq_conf_tz(ld, a->timezone, &err);
    if (a->tz == NULL && ld->rc == CQ_OK) {
        cq_conf_diag(ld, tv != NULL ? tv->start_mark : cq_conf_section_mark(s), path,
                     own_hint(err.msg)
                         ? NULL
                         : "use an IANA zone name such as Europe/Berlin, America/New_York or UTC",
                     "%s", cq_conf_clean(ld, err.msg));
    }
}

/* Template, and where the channel names and timeout were written (for refs.c). */
static void check_rest(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                       struct cq_alert_conf *a, const struct cq_conf_seen *s)
{
    bool bad;
    struct cq_conf_alert_ref *ref = ref_of(ld, a);
    const yaml_node_t *mv = cq_conf_seen_val(sec, s, "message", &bad);
    if (mv != NULL && !bad) {
        cq_conf_check_tmpl(ld, mv, a->message, cq_conf_join_path(ld, s->path, "message"));
    }
    const yaml_node_t *tv = cq_conf_seen_val(sec, s, "timeout", &bad);
    if (tv != NULL && !bad) {
        ref->timeout = here(ld, tv->start_mark);
    }
    const yaml_node_t *cv = cq_conf_seen_val(sec, s, "channels", &bad);
    if (cv == NULL || bad || a->n_channels == 0) {
        return;
    }
    ref->channels = cq_conf_tmp_array(ld, a->n_channels, sizeof(*ref->channels));
    for (size_t i = 0; ref->channels != NULL && i < a->n_channels; i++) {
        const yaml_node_t *item = cv->type == YAML_SEQUENCE_NODE
                                      ? cq_conf_node(ld, cv->data.sequence.items.start[i])
                                      : cv;
        ref->channels[i] = here(ld, item != NULL ? item->start_mark : cv->start_mark);
    }
}

static void check_alert(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                        const struct cq_conf_seen *s)
{
    struct cq_alert_conf *a = target;
    check_names(ld, sec, a, s);
    check_sql(ld, sec, a, s);
    check_schedule(ld, sec, a, s);
    if (!cq_conf_full(ld)) {
        check_rest(ld, sec, a, s);
    }
}

/* ---- the list ---------------------------------------------------------------------------- */

/* "alerts.ID" when the entry has a plain valid id, else "alerts[i]" (0-based). */
static const char *alert_path(struct cq_conf_loader *ld, const yaml_node_t *item, size_t i)
{
    for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = cq_conf_node(ld, p->key), *v = cq_conf_node(ld, p->value);
        if (k != NULL && v != NULL && k->type == YAML_SCALAR_NODE && v->type == YAML_SCALAR_NODE &&
            strcmp(cq_conf_scalar(k), "id") == 0 && cq_conf_valid_name(cq_conf_scalar(v))) {
            return cq_conf_tmpf(ld, "alerts.%s", cq_conf_scalar(v));
        }
    }
    return cq_conf_tmpf(ld, "alerts[%zu]", i);
}

/* Appends an alert with its defaults (and its ref); NULL when out of memory. */
static struct cq_alert_conf *add_alert(struct cq_conf_loader *ld, const yaml_node_t *item,
                                       const char *path)
{
    struct cq_conf *conf = ld->conf;
    size_t cap = ld->alerts_cap, ref_cap = ld->alerts_cap;
    struct cq_alert_conf *v =
        cq_conf_grow(ld, ld->keep, conf->alerts, conf->n_alerts, &cap, sizeof(*v));
    struct cq_conf_alert_ref *refs =
        cq_conf_grow(ld, &ld->tmp, ld->alert_refs, conf->n_alerts, &ref_cap, sizeof(*refs));
    if (v == NULL || refs == NULL) {
        return NULL;
    }
    conf->alerts = v;
    ld->alert_refs = refs;
    ld->alerts_cap = cap;
    struct cq_alert_conf *a = &v[conf->n_alerts];
    memset(a, 0, sizeof(*a));
    memset(&refs[conf->n_alerts], 0, sizeof(*refs));
    if (cq_conf_apply_defaults(&alert_section, a) != CQ_OK) {
        ld->rc = CQ_EINTERNAL;
        return NULL;
    }
    a->file = ld->kept_file;
    a->line = (int)item->start_mark.line + 1;
    refs[conf->n_alerts].path = path;
    conf->n_alerts++;
    return a;
}

void cq_conf_alerts_walk(struct cq_conf_loader *ld, const yaml_node_t *v)
{
    if (cq_conf_is_null(v)) {
        return;
    }
    if (v->type != YAML_SEQUENCE_NODE) {
        cq_conf_diag(ld, v->start_mark, "alerts",
                     "write each alert as a list item: '- id: NAME' with its keys below it",
                     "expected a list of alerts, got %s", cq_conf_kind(v));
        return;
    }
    yaml_node_item_t *items = v->data.sequence.items.start;
    size_t n = (size_t)(v->data.sequence.items.top - items);
    for (size_t i = 0; i < n && !cq_conf_full(ld); i++) {
        const yaml_node_t *item = cq_conf_node(ld, items[i]);
        if (item == NULL) {
            continue;
        }
        if (item->type != YAML_MAPPING_NODE) {
            cq_conf_diag(ld, item->start_mark, cq_conf_tmpf(ld, "alerts[%zu]", i),
                         "write the alert's keys (id:, connection:, sql:, schedule:) after "
                         "the '- '",
                         "expected a mapping, got %s", cq_conf_kind(item));
            continue;
        }
        const char *path = alert_path(ld, item, i);
        struct cq_alert_conf *a = add_alert(ld, item, path);
        if (a == NULL) {
            return;
        }
        cq_conf_walk_section(ld, &alert_section, item, NULL, a, path);
    }
}

const struct cq_alert_conf *cq_conf_alert(const struct cq_conf *conf, const char *id)
{
    if (conf == NULL || id == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < conf->n_alerts; i++) {
        if (conf->alerts[i].id != NULL && strcmp(conf->alerts[i].id, id) == 0) {
            return &conf->alerts[i];
        }
    }
    return NULL;
}
