/*
 * schema.c - every configuration key described once, and the walker that applies those
 * tables to the libyaml document (STYLE.md 3.8).
 *
 * A section is a table of keys {name, type, offsetof into the section's struct, default
 * text, bounds, hint, child table}. Defaults go through the same parser as user input.
 * The walker first collects a mapping's keys (unknown and duplicate keys are reported in
 * document order), then applies them in table order, so the top-level limits: are
 * complete before connections: copy them, wherever they appear in the file. Nothing here
 * recurses deeper than the tables do, so aliases and hostile nesting cost bounded work.
 *
 * The walker and the key types are shared with alerts.c and channels.c (internal.h):
 * enums by name, lists of strings, keys applied by a function (a rule written as a
 * mapping or a word), and deferred keys a section's check applies itself (alerts:,
 * channels: and include: in document order; a rule's value, percent and absolute).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "conf/internal.h"

#define QUOTE_MAX 60    /* bytes of user text quoted in a message */
#define CLEAN_MAX 512   /* bytes of another module's message (struct cq_err.msg) */
#define NAME_MAX_LEN 63 /* connection names fit struct cq_conn.name */
#define DAY_MS 86400000 /* ms */
#define STR_(x) #x
#define STR(x) STR_(x)

/* Per type: what it is called in "expected ..." and the default hint. */
static const struct {
    const char *what;
    const char *hint;
} types[] = {
    [CQ_CONF_K_DURATION] = {"a duration", "use a number with a unit: 250ms, 5s, 2m, 1h"},
    [CQ_CONF_K_SIZE] = {"a size", "use a number with a unit: 512B, 64KB, 10MB, 1GB"},
    [CQ_CONF_K_I64] = {"a whole number", NULL},
    [CQ_CONF_K_INT] = {"a whole number", NULL},
    [CQ_CONF_K_BOOL] = {"true or false", "use true or false (yes/no and on/off also work)"},
    [CQ_CONF_K_STR] = {"a string", "write a single value after the colon"},
    [CQ_CONF_K_ENUM] = {"a single value", NULL},
    [CQ_CONF_K_STRLIST] = {"a list of values", "write [a, b] or a single value"},
    [CQ_CONF_K_SECTION] = {"a mapping", "write key: value lines indented under it"},
    [CQ_CONF_K_LIST] = {"a mapping of names", "write name: lines indented under it"},
    [CQ_CONF_K_FUNC] = {"a value", NULL},
    [CQ_CONF_K_DEFER] = {"a single value", "write a single value after the colon"},
    [CQ_CONF_K_ANY] = {"anything", NULL},
};

static void check_pool(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                       const struct cq_conf_seen *s);
static void check_conn(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                       const struct cq_conf_seen *s);
static void check_state(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                        const struct cq_conf_seen *s);
static bool conns_reserve(struct cq_conf_loader *ld, void *parent, size_t n);
static void *conns_add(struct cq_conf_loader *ld, void *parent, const char *name,
                       const yaml_node_t *key);

/* ---- the tables -------------------------------------------------------------------------- */

static const struct cq_conf_key limits_keys[] = {
    {.name = "timeout",
     .type = CQ_CONF_K_DURATION,
     .off = offsetof(struct cq_limits, timeout_ms),
     .def = CQ_CONF_DEFAULT_TIMEOUT},
    {.name = "max_rows",
     .type = CQ_CONF_K_I64,
     .off = offsetof(struct cq_limits, max_rows),
     .def = CQ_CONF_DEFAULT_MAX_ROWS,
     .lo = 0,
     .hi = INT64_MAX,
     .hint = "use a whole number >= 0 (0 = unlimited)"},
    {.name = "max_bytes",
     .type = CQ_CONF_K_SIZE,
     .off = offsetof(struct cq_limits, max_bytes),
     .def = CQ_CONF_DEFAULT_MAX_BYTES},
    {.name = "max_concurrent",
     .type = CQ_CONF_K_INT,
     .off = offsetof(struct cq_limits, max_concurrent),
     .def = "0",
     .lo = 0,
     .hi = 1000,
     .hint = "use a whole number from 0 to 1000 (0 = pool max)"},
    {.name = "queue_timeout",
     .type = CQ_CONF_K_DURATION,
     .off = offsetof(struct cq_limits, queue_timeout_ms),
     .def = CQ_CONF_DEFAULT_QUEUE_TIMEOUT},
};

static const struct cq_conf_key pool_keys[] = {
    {.name = "min",
     .type = CQ_CONF_K_INT,
     .off = offsetof(struct cq_pool_conf, min),
     .def = STR(CQ_CONF_DEFAULT_POOL_MIN),
     .lo = 0,
     .hi = 1000},
    {.name = "max",
     .type = CQ_CONF_K_INT,
     .off = offsetof(struct cq_pool_conf, max),
     .def = STR(CQ_CONF_DEFAULT_POOL_MAX),
     .lo = 1,
     .hi = 1000},
    {.name = "idle_timeout",
     .type = CQ_CONF_K_DURATION,
     .off = offsetof(struct cq_pool_conf, idle_timeout_ms),
     .def = CQ_CONF_DEFAULT_IDLE_TIMEOUT},
    {.name = "pipeline",
     .type = CQ_CONF_K_INT,
     .off = offsetof(struct cq_pool_conf, pipeline),
     .def = "8",
     .lo = 1,
     .hi = 64},
};

static const struct cq_conf_section limits_section = {limits_keys, CQ_CONF_NKEYS(limits_keys), NULL,
                                                      NULL};
static const struct cq_conf_section pool_section = {pool_keys, CQ_CONF_NKEYS(pool_keys), check_pool,
                                                    NULL};

static const struct cq_conf_key conn_keys[] = {
    /* driver may be omitted: check_conn infers it from url or path. */
    {.name = "driver", .type = CQ_CONF_K_STR, .off = offsetof(struct cq_conn_conf, driver)},
    {.name = "url",
     .type = CQ_CONF_K_STR,
     .off = offsetof(struct cq_conn_conf, url),
     .flags = CQ_CONF_KF_SECRET},
    {.name = "path", .type = CQ_CONF_K_STR, .off = offsetof(struct cq_conn_conf, path)},
    {.name = "read_only",
     .type = CQ_CONF_K_BOOL,
     .off = offsetof(struct cq_conn_conf, read_only),
     .def = "true"},
    {.name = "pool",
     .type = CQ_CONF_K_SECTION,
     .off = offsetof(struct cq_conn_conf, pool),
     .child = &pool_section},
    /* Starts from the top-level limits (cq_conf_schema_conn_init), overridden per key. */
    {.name = "limits",
     .type = CQ_CONF_K_SECTION,
     .off = offsetof(struct cq_conn_conf, limits),
     .child = &limits_section},
};

static const struct cq_conf_section conn_section = {conn_keys, CQ_CONF_NKEYS(conn_keys), check_conn,
                                                    NULL};

static const struct cq_conf_list conns_list = {"connection", &conn_section, conns_reserve,
                                               conns_add, false};

static const struct cq_conf_key state_keys[] = {
    /* connection and path are checked against each other and the connections in
     * check_state and refs.c; path defaults in cq_conf_schema_finish. */
    {.name = "connection",
     .type = CQ_CONF_K_STR,
     .off = offsetof(struct cq_state_conf, connection)},
    {.name = "path", .type = CQ_CONF_K_STR, .off = offsetof(struct cq_state_conf, path)},
    {.name = "retention_days",
     .type = CQ_CONF_K_I64,
     .off = offsetof(struct cq_state_conf, retention_ms),
     .def = "30",
     .lo = 1,
     .hi = 3650,
     .scale = DAY_MS,
     .hint = "use a whole number of days from 1 to 3650"},
};

static const struct cq_conf_key sched_keys[] = {
    {.name = "workers",
     .type = CQ_CONF_K_INT,
     .off = offsetof(struct cq_sched_conf, workers),
     .def = "4",
     .lo = 1,
     .hi = 256},
    {.name = "shutdown_timeout",
     .type = CQ_CONF_K_DURATION,
     .off = offsetof(struct cq_sched_conf, shutdown_timeout_ms),
     .def = "30s"},
};

static const struct cq_conf_section state_section = {state_keys, CQ_CONF_NKEYS(state_keys),
                                                     check_state, NULL};
static const struct cq_conf_section sched_section = {sched_keys, CQ_CONF_NKEYS(sched_keys), NULL,
                                                     NULL};

static const struct cq_conf_key top_keys[] = {
    /* limits comes first: table order is apply order, and connections copy it. */
    {.name = "limits",
     .type = CQ_CONF_K_SECTION,
     .off = offsetof(struct cq_conf, limits),
     .child = &limits_section},
    {.name = "connections", .type = CQ_CONF_K_LIST, .list = &conns_list},
    {.name = "state",
     .type = CQ_CONF_K_SECTION,
     .off = offsetof(struct cq_conf, state),
     .child = &state_section},
    {.name = "scheduler",
     .type = CQ_CONF_K_SECTION,
     .off = offsetof(struct cq_conf, sched),
     .child = &sched_section},
    /* Applied by cq_conf_top_check in document order, so included alerts land where the
     * include: is written. */
    {.name = "channels", .type = CQ_CONF_K_DEFER},
    {.name = "alerts", .type = CQ_CONF_K_DEFER},
    {.name = "include", .type = CQ_CONF_K_DEFER},
    /* The governed-query catalog and roles (catalog.c), after connections: they name. */
    {.name = "catalog", .type = CQ_CONF_K_FUNC, .apply = cq_conf_catalog_apply},
    {.name = "roles", .type = CQ_CONF_K_FUNC, .apply = cq_conf_roles_apply},
    /* clariq serve (server.c), after connections: and roles: that api_keys name. */
    {.name = "server",
     .type = CQ_CONF_K_SECTION,
     .off = offsetof(struct cq_conf, server),
     .child = &cq_conf_server_section},
    /* Reserved for sections that later issues implement: accepted with any content and
     * not validated yet, so a file written for a newer clariq still loads. */
    {.name = "ingest", .type = CQ_CONF_K_ANY},
    {.name = "ui", .type = CQ_CONF_K_ANY},
};

static const struct cq_conf_section top_section = {top_keys, CQ_CONF_NKEYS(top_keys),
                                                   cq_conf_top_check, NULL};

_Static_assert(CQ_CONF_NKEYS(top_keys) <= CQ_CONF_MAX_KEYS, "top_keys: raise CQ_CONF_MAX_KEYS");
_Static_assert(CQ_CONF_NKEYS(conn_keys) <= CQ_CONF_MAX_KEYS, "conn_keys: raise CQ_CONF_MAX_KEYS");
_Static_assert(CQ_CONF_NKEYS(limits_keys) <= CQ_CONF_MAX_KEYS, "raise CQ_CONF_MAX_KEYS");
_Static_assert(CQ_CONF_NKEYS(pool_keys) <= CQ_CONF_MAX_KEYS, "raise CQ_CONF_MAX_KEYS");

/* ---- small helpers ----------------------------------------------------------------------- */

const yaml_node_t *cq_conf_node(const struct cq_conf_loader *ld, int index)
{
    return yaml_document_get_node(ld->doc, index);
}

const char *cq_conf_scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

bool cq_conf_is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }
    const char *v = cq_conf_scalar(n);
    return *v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

const char *cq_conf_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a single value";
    }
}

static bool contains_ci(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (; *s != '\0'; s++) {
        size_t i = 0;
        while (i < n && s[i] != '\0' && tolower((unsigned char)s[i]) == word[i]) {
            i++;
        }
        if (i == n) {
            return true;
        }
    }
    return false;
}

/* A URL with a password in its userinfo, or text mentioning a password or token. Such
 * text is never quoted, even under a key that should not hold secrets: people paste a
 * DATABASE_URL into the wrong key. */
static bool looks_secret_text(const char *s)
{
    static const char *const words[] = {"password", "passwd", "secret", "token", NULL};
    const char *sep = strstr(s, "://");
    if (sep != NULL) {
        const char *auth = sep + 3, *at = NULL;
        size_t n = strcspn(auth, "/?#");
        for (size_t i = 0; i < n; i++) {
            at = auth[i] == '@' ? auth + i : at;
        }
        if (at != NULL && memchr(auth, ':', (size_t)(at - auth)) != NULL) {
            return true;
        }
    }
    for (size_t i = 0; words[i] != NULL; i++) {
        if (contains_ci(s, words[i])) {
            return true;
        }
    }
    return false;
}

/* looks_secret_text outside ${...} references: "${DB_PASSWORD}" names a variable, and
 * showing the reference is how messages avoid showing the value. */
static bool looks_secret(const char *s)
{
    struct cq_buf b;
    bool secret;
    cq_buf_init(&b, CQ_CONF_MAX_VALUE);
    while (*s != '\0') {
        const char *end = s[0] == '$' && s[1] == '{' ? strchr(s, '}') : NULL;
        if (end != NULL) {
            cq_buf_putc(&b, ' ');
            s = end + 1;
        } else {
            cq_buf_putc(&b, *s++);
        }
    }
    /* When the copy failed, err on the side of hiding. */
    secret = cq_buf_rc(&b) != CQ_OK || looks_secret_text(cq_buf_str(&b));
    cq_buf_cleanup(&b);
    return secret;
}

/* s, at most max bytes (cut on a UTF-8 boundary, then "..."), control characters escaped
 * so a diagnostic stays on one line; in quotes when quoted. */
static const char *escape(struct cq_conf_loader *ld, const char *s, size_t max, bool quoted)
{
    struct cq_buf b;
    size_t n = strlen(s), cut = n > max ? max : n;
    while (cut < n && cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) {
        cut--;
    }
    cq_buf_init(&b, 4 * max + 8);
    if (quoted) {
        cq_buf_putc(&b, '\'');
    }
    for (size_t i = 0; i < cut; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') {
            cq_buf_puts(&b, "\\n");
        } else if (c < 0x20 || c == 0x7f) {
            cq_buf_printf(&b, "\\x%02x", c);
        } else {
            cq_buf_putc(&b, (char)c);
        }
    }
    cq_buf_puts(&b, cut < n ? "..." : "");
    if (quoted) {
        cq_buf_putc(&b, '\'');
    }
    const char *q = cq_conf_tmpf(ld, "%s", cq_buf_str(&b));
    if (cq_buf_rc(&b) != CQ_OK) {
        ld->rc = CQ_ENOMEM;
    }
    cq_buf_cleanup(&b);
    return q;
}

/* 'text' for a message, cut at QUOTE_MAX bytes. For keys and names; values go through
 * quote_value. */
const char *cq_conf_quote(struct cq_conf_loader *ld, const char *s)
{
    return escape(ld, s, QUOTE_MAX, true);
}

const char *cq_conf_clean(struct cq_conf_loader *ld, const char *s)
{
    return escape(ld, s, CLEAN_MAX, false);
}

/* The original text quoted; for values that came from ${VAR}, the expansion too. A
 * CQ_CONF_KF_SECRET key's value is never shown, in either form. */
const char *cq_conf_quote_value(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                                const char *orig, const char *val)
{
    const char *q;
    if ((k->flags & CQ_CONF_KF_SECRET) != 0) {
        return "(value hidden)";
    }
    q = looks_secret(orig) ? "'***'" : cq_conf_quote(ld, orig);
    if (strcmp(orig, val) == 0) {
        return q;
    }
    return cq_conf_tmpf(ld, "%s (expands to %s)", q,
                        looks_secret(val) ? "'***'" : cq_conf_quote(ld, val));
}

const char *cq_conf_join_path(struct cq_conf_loader *ld, const char *path, const char *name)
{
    return *path == '\0' ? name : cq_conf_tmpf(ld, "%s.%s", path, name);
}

/* "use one of: a, b, c" for an enum key. */
static const char *enum_list(struct cq_conf_loader *ld, const struct cq_conf_key *k)
{
    struct cq_buf b;
    cq_buf_init(&b, 1024);
    cq_buf_puts(&b, "use one of: ");
    for (size_t i = 0; k->names[i] != NULL; i++) {
        cq_buf_printf(&b, "%s%s", i ? ", " : "", k->names[i]);
    }
    const char *out = cq_conf_tmpf(ld, "%s", cq_buf_str(&b));
    cq_buf_cleanup(&b);
    return out;
}

static const char *key_hint(struct cq_conf_loader *ld, const struct cq_conf_key *k)
{
    if (k->hint != NULL) {
        return k->hint;
    }
    if (k->type == CQ_CONF_K_I64 || k->type == CQ_CONF_K_INT) {
        return cq_conf_tmpf(ld, "use a whole number from %" PRId64 " to %" PRId64, k->lo, k->hi);
    }
    if (k->type == CQ_CONF_K_ENUM) {
        return enum_list(ld, k);
    }
    return types[k->type].hint;
}

int cq_conf_key_index(const struct cq_conf_section *sec, const char *name)
{
    for (size_t i = 0; i < sec->n_keys; i++) {
        if (strcmp(sec->keys[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* ---- scalar values ----------------------------------------------------------------------- */

enum verdict { V_OK, V_INVALID, V_NEGATIVE, V_RANGE };

union value {
    int64_t i;
    bool b;
};

static enum verdict parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", NULL};
    static const char *const no[] = {"false", "no", "off", NULL};
    for (size_t i = 0; yes[i] != NULL; i++) {
        if (cq_streq_ci(s, yes[i]) || cq_streq_ci(s, no[i])) {
            *out = cq_streq_ci(s, yes[i]);
            return V_OK;
        }
    }
    return V_INVALID;
}

/* The one parser for user text and built-in defaults alike. */
static enum verdict parse_typed(const struct cq_conf_key *k, const char *s, union value *out)
{
    const char *cur = s;
    int rc;
    if (k->type == CQ_CONF_K_BOOL) {
        return parse_bool(s, &out->b);
    }
    if (k->type == CQ_CONF_K_ENUM) {
        for (size_t i = 0; k->names[i] != NULL; i++) {
            if (cq_streq_ci(s, k->names[i])) {
                out->i = (int64_t)i;
                return V_OK;
            }
        }
        return V_INVALID;
    }
    if (*s == '-' && (k->type == CQ_CONF_K_DURATION || k->type == CQ_CONF_K_SIZE || k->lo >= 0)) {
        return isdigit((unsigned char)s[1]) ? V_NEGATIVE : V_INVALID;
    }
    if (k->type == CQ_CONF_K_DURATION) {
        return cq_parse_duration_ms(s, &out->i, NULL) == CQ_OK ? V_OK : V_INVALID;
    }
    if (k->type == CQ_CONF_K_SIZE) {
        return cq_parse_size(s, &out->i, NULL) == CQ_OK ? V_OK : V_INVALID;
    }
    rc = cq_parse_i64(&cur, &out->i);
    if (rc == CQ_ETOOBIG) {
        return V_RANGE;
    }
    if (rc != CQ_OK || *cur != '\0') {
        return V_INVALID;
    }
    return out->i < k->lo || out->i > k->hi ? V_RANGE : V_OK;
}

static void store(const struct cq_conf_key *k, void *field, const union value *v)
{
    switch (k->type) {
    case CQ_CONF_K_BOOL:
        *(bool *)field = v->b;
        break;
    case CQ_CONF_K_INT:
    case CQ_CONF_K_ENUM: /* enum fields are int-sized (asserted in alerts.c) */
        *(int *)field = (int)v->i;
        break;
    default:
        /* bounds are small enough that lo..hi times scale fits (checked by the tables) */
        *(int64_t *)field = k->scale > 1 ? v->i * k->scale : v->i;
        break;
    }
}

static void value_diag(struct cq_conf_loader *ld, const struct cq_conf_key *k, const yaml_node_t *v,
                       const char *path, const char *val, enum verdict why)
{
    const char *q = cq_conf_quote_value(ld, k, cq_conf_scalar(v), val);
    const char *hint = key_hint(ld, k);
    if (why == V_NEGATIVE) {
        cq_conf_diag(ld, v->start_mark, path, hint, "negative value %s", q);
    } else if (why == V_RANGE) {
        cq_conf_diag(ld, v->start_mark, path, hint, "value %s is out of range", q);
    } else if (k->type == CQ_CONF_K_DURATION || k->type == CQ_CONF_K_SIZE) {
        cq_conf_diag(ld, v->start_mark, path, hint, "invalid %s %s",
                     k->type == CQ_CONF_K_DURATION ? "duration" : "size", q);
    } else if (k->type == CQ_CONF_K_BOOL) {
        cq_conf_diag(ld, v->start_mark, path, hint, "invalid boolean %s", q);
    } else if (k->type == CQ_CONF_K_ENUM) {
        const char *best =
            (k->flags & CQ_CONF_KF_NO_GUESS) != 0 ? NULL : cq_did_you_mean(val, k->names);
        cq_conf_diag(ld, v->start_mark, path,
                     best != NULL ? cq_conf_tmpf(ld, "did you mean '%s'?", best) : hint,
                     "unknown %s %s", k->what != NULL ? k->what : "value", q);
    } else {
        cq_conf_diag(ld, v->start_mark, path, hint, "expected a whole number, got %s", q);
    }
}

/* Where byte `off` of a scalar's value is in the file, when that is knowable: a one-line
 * scalar without escapes. Otherwise the scalar's start. */
yaml_mark_t cq_conf_mark_at(const yaml_node_t *v, size_t off)
{
    yaml_mark_t m = v->start_mark;
    const char *s = cq_conf_scalar(v);
    size_t len = v->data.scalar.length, chars = 0, before = 0;
    size_t raw = v->end_mark.index - v->start_mark.index;
    size_t quotes = v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? 0 : 1;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            chars++;
            before += i < off ? 1 : 0;
        }
    }
    bool exact = v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
                 v->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                 v->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    if (exact && v->start_mark.line == v->end_mark.line && raw == chars + 2 * quotes) {
        m.column += before + quotes;
    }
    return m;
}

static void env_diag(struct cq_conf_loader *ld, const yaml_node_t *v, const char *path,
                     enum cq_conf_env_status st, const struct cq_conf_env_problem *p)
{
    yaml_mark_t m = cq_conf_mark_at(v, p->off);
    if (st == CQ_CONF_ENV_UNSET) {
        int n = (int)p->name_len;
        cq_conf_diag(ld, m, path,
                     cq_conf_tmpf(ld, "set %.*s or write ${%.*s:-default}", n, p->name, n, p->name),
                     "environment variable %.*s is not set", n, p->name);
    } else if (st == CQ_CONF_ENV_SYNTAX) {
        /* Not quoted: the rest of a url may be a password. */
        cq_conf_diag(ld, m, path, "write ${NAME} or ${NAME:-default}; $$ is a literal $",
                     "invalid ${...} reference");
    } else if (st == CQ_CONF_ENV_TOOBIG) {
        cq_conf_diag(ld, m, path, "keep values under 1 MB", "value is too long after expansion");
    } else {
        ld->rc = CQ_ENOMEM;
    }
}

/* The scalar's text after ${VAR} expansion (in ld->tmp), or NULL after reporting why. */
const char *cq_conf_scalar_text(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                                const yaml_node_t *v, const char *path)
{
    struct cq_buf b;
    struct cq_conf_env_problem p;
    const char *out = NULL;
    if (v->type != YAML_SCALAR_NODE) {
        cq_conf_diag(ld, v->start_mark, path, key_hint(ld, k), "expected %s, got %s",
                     types[k->type].what, cq_conf_kind(v));
        return NULL;
    }
    if (cq_conf_is_null(v)) {
        cq_conf_diag(ld, v->start_mark, path, "write a value after the colon or remove the key",
                     "missing value (expected %s)", types[k->type].what);
        return NULL;
    }
    if (memchr(cq_conf_scalar(v), '\0', v->data.scalar.length) != NULL) {
        cq_conf_diag(ld, v->start_mark, path, "remove the \\0 escape", "value contains a NUL byte");
        return NULL;
    }
    cq_buf_init(&b, CQ_CONF_MAX_VALUE);
    enum cq_conf_env_status st =
        cq_conf_env_expand(cq_conf_scalar(v), v->data.scalar.length, &b, &p);
    if (st != CQ_CONF_ENV_OK) {
        env_diag(ld, v, path, st, &p);
        goto out;
    }
    out = cq_arena_strndup(&ld->tmp, cq_buf_str(&b), b.len);
    if (out == NULL) {
        ld->rc = CQ_ENOMEM;
    }
out:
    cq_buf_cleanup(&b);
    return out;
}

/* Applies one scalar key; false when the value was rejected (and reported). */
bool cq_conf_apply_scalar(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                          const yaml_node_t *v, void *field, const char *path)
{
    union value val;
    const char *text = cq_conf_scalar_text(ld, k, v, path);
    if (text == NULL) {
        return false;
    }
    if (k->type == CQ_CONF_K_STR) {
        char *z = cq_arena_strdup(ld->keep, text);
        if (z == NULL) {
            ld->rc = CQ_ENOMEM;
            return false;
        }
        *(char **)field = z;
        return true;
    }
    enum verdict why = parse_typed(k, text, &val);
    if (why != V_OK) {
        value_diag(ld, k, v, path, text, why);
        return false;
    }
    store(k, field, &val);
    return true;
}

int cq_conf_apply_defaults(const struct cq_conf_section *sec, void *target)
{
    for (size_t i = 0; i < sec->n_keys; i++) {
        const struct cq_conf_key *k = &sec->keys[i];
        union value v;
        if (k->type == CQ_CONF_K_SECTION &&
            cq_conf_apply_defaults(k->child, (char *)target + k->off) != CQ_OK) {
            return CQ_EINTERNAL;
        }
        if (k->def == NULL) {
            continue;
        }
        if (parse_typed(k, k->def, &v) != V_OK) {
            return CQ_EINTERNAL; /* a bad CQ_CONF_DEFAULT_* macro: a bug, not user input */
        }
        store(k, (char *)target + k->off, &v);
    }
    return CQ_OK;
}

/* A list of scalars (or one scalar) into a char ** and its count; false when rejected. */
static bool apply_strlist(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                          const yaml_node_t *v, void *target, const char *path)
{
    const yaml_node_item_t *items = NULL;
    size_t n = 1;
    bool ok = true;
    struct cq_conf_key one = *k; /* each item is a string */
    one.type = CQ_CONF_K_STR;
    if (v->type == YAML_MAPPING_NODE) {
        cq_conf_diag(ld, v->start_mark, path, key_hint(ld, k), "expected %s, got a mapping",
                     types[k->type].what);
        return false;
    }
    if (v->type == YAML_SEQUENCE_NODE) {
        items = v->data.sequence.items.start;
        n = (size_t)(v->data.sequence.items.top - items);
    }
    char **out = n > 0 ? cq_arena_alloc(ld->keep, n * sizeof(*out)) : NULL; /* n < file size */
    if (out == NULL && n > 0) {
        ld->rc = CQ_ENOMEM;
        return false;
    }
    for (size_t i = 0; i < n && !cq_conf_full(ld); i++) {
        const yaml_node_t *item = items != NULL ? cq_conf_node(ld, items[i]) : v;
        const char *text = NULL;
        if (item != NULL && (k->flags & CQ_CONF_KF_NULL_TEXT) != 0 && cq_conf_is_null(item)) {
            text = "null";
        } else if (item != NULL) {
            text = cq_conf_scalar_text(ld, &one, item, path);
        }
        if (text == NULL) {
            ok = false;
            continue;
        }
        out[i] = cq_arena_strdup(ld->keep, text);
        if (out[i] == NULL) {
            ld->rc = CQ_ENOMEM;
            ok = false;
        }
    }
    ok = ok && !cq_conf_full(ld); /* stopped early: items may be missing */
    *(char ***)((char *)target + k->off) = ok ? out : NULL;
    *(size_t *)((char *)target + k->off2) = ok ? n : 0;
    return ok;
}

static void unknown_key(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                        const yaml_node_t *k, const char *path)
{
    const char *names[CQ_CONF_MAX_KEYS + 1];
    const char *hint;
    struct cq_buf all;
    cq_buf_init(&all, 1024);
    for (size_t i = 0; i < sec->n_keys; i++) {
        names[i] = sec->keys[i].name;
        cq_buf_printf(&all, "%s%s", i ? ", " : "", names[i]);
    }
    names[sec->n_keys] = NULL;
    const char *best = cq_did_you_mean(cq_conf_scalar(k), names);
    if (best != NULL) {
        hint = cq_conf_tmpf(ld, "did you mean '%s'?", best);
    } else if (strcmp(cq_conf_scalar(k), "<<") == 0) {
        hint = "YAML merge keys are not supported; write the keys out";
    } else {
        hint = cq_conf_tmpf(ld, "valid keys: %s", cq_buf_str(&all));
    }
    cq_conf_diag(ld, k->start_mark, path, hint, "unknown %skey %s", *path ? "" : "top-level ",
                 cq_conf_quote(ld, cq_conf_scalar(k)));
    cq_buf_cleanup(&all);
}

/* First pass over a mapping: who is there, reporting unknown and repeated keys. */
static void collect(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                    const yaml_node_t *map, struct cq_conf_seen *s)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = cq_conf_node(ld, p->key), *v = cq_conf_node(ld, p->value);
        if (cq_conf_full(ld)) {
            return;
        }
        if (k == NULL || v == NULL) {
            continue;
        }
        if (k->type != YAML_SCALAR_NODE) {
            cq_conf_diag(ld, k->start_mark, s->path, "write plain names as keys",
                         "a key must be a name, not %s", cq_conf_kind(k));
            continue;
        }
        int i = cq_conf_key_index(sec, cq_conf_scalar(k));
        if (i < 0 && (sec->unknown == NULL || !sec->unknown(ld, k, s->path))) {
            unknown_key(ld, sec, k, s->path);
        } else if (i < 0) {
            continue;
        } else if (s->key[i] != NULL) {
            cq_conf_diag(ld, k->start_mark, s->path,
                         cq_conf_tmpf(ld, "first set at line %zu, column %zu; keep one",
                                      s->key[i]->start_mark.line + 1,
                                      s->key[i]->start_mark.column + 1),
                         "duplicate key '%s'", sec->keys[i].name);
        } else {
            s->key[i] = k;
            s->val[i] = v;
        }
    }
}

/* Applies one present key; false when its value was rejected. */
static bool apply_key(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                      const struct cq_conf_seen *s, int i, void *target)
{
    const char *path = cq_conf_join_path(ld, s->path, k->name);
    switch (k->type) {
    case CQ_CONF_K_SECTION:
        cq_conf_walk_section(ld, k->child, s->val[i], s->key[i], (char *)target + k->off, path);
        return true;
    case CQ_CONF_K_LIST:
        cq_conf_walk_list(ld, k->list, s->val[i], target, path);
        return true;
    case CQ_CONF_K_STRLIST:
        return apply_strlist(ld, k, s->val[i], target, path);
    case CQ_CONF_K_FUNC:
        return k->apply(ld, k, s, i, target);
    case CQ_CONF_K_DEFER:
    case CQ_CONF_K_ANY:
        return true;
    default:
        return cq_conf_apply_scalar(ld, k, s->val[i], (char *)target + k->off, path);
    }
}

void cq_conf_walk_section(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                          const yaml_node_t *node, const yaml_node_t *name, void *target,
                          const char *path)
{
    struct cq_conf_seen s;
    memset(&s, 0, sizeof(s));
    s.node = node;
    s.name = name;
    s.path = path;
    if (!cq_conf_is_null(node)) {
        if (node->type != YAML_MAPPING_NODE) {
            cq_conf_diag(ld, node->start_mark, path, types[CQ_CONF_K_SECTION].hint,
                         "expected a mapping, got %s", cq_conf_kind(node));
            return;
        }
        collect(ld, sec, node, &s);
    }
    for (size_t i = 0; i < sec->n_keys && !cq_conf_full(ld); i++) {
        if (s.val[i] != NULL) {
            s.bad[i] = !apply_key(ld, &sec->keys[i], &s, (int)i, target);
        }
    }
    if (sec->check != NULL && !cq_conf_full(ld)) {
        sec->check(ld, sec, target, &s);
    }
}

/* ---- named entries (connections) --------------------------------------------------------- */

struct entry {
    const char *name;
    const yaml_node_t *key, *val;
    size_t order; /* position in the document */
    bool skip;    /* invalid or duplicate name (reported) */
};

static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = *(const struct entry *const *)a, *y = *(const struct entry *const *)b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : (x->order < y->order ? -1 : (x->order > y->order));
}

/* n zeroed elements from the scratch arena, overflow-checked; NULL (rc set) on failure. */
void *cq_conf_tmp_array(struct cq_conf_loader *ld, size_t n, size_t size)
{
    size_t bytes;
    void *p = NULL;
    if (cq_size_mul(&bytes, n, size) && cq_size_add(&bytes, bytes, 1)) {
        p = cq_arena_alloc(&ld->tmp, bytes);
    }
    if (p == NULL) {
        ld->rc = CQ_ENOMEM;
    }
    return p;
}

bool cq_conf_valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN) {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.') {
            return false;
        }
    }
    return true;
}

/* Reports repeated names, sorted so that many entries cost n log n, not n^2. */
static void mark_duplicates(struct cq_conf_loader *ld, const struct cq_conf_list *spec,
                            struct entry *e, size_t n, const char *path)
{
    struct entry **by_name = cq_conf_tmp_array(ld, n, sizeof(*by_name));
    size_t m = 0;
    if (by_name == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!e[i].skip) {
            by_name[m++] = &e[i];
        }
    }
    qsort(by_name, m, sizeof(*by_name), entry_cmp);
    for (size_t i = 1, run = 0; i < m; i++) {
        if (strcmp(by_name[i]->name, by_name[run]->name) != 0) {
            run = i; /* the first (in the document) of a new name */
            continue;
        }
        by_name[i]->skip = true;
        cq_conf_diag(ld, by_name[i]->key->start_mark, path,
                     cq_conf_tmpf(ld, "first defined at line %zu; %s names must be unique",
                                  by_name[run]->key->start_mark.line + 1, spec->what),
                     "duplicate %s '%s'", spec->what, by_name[i]->name);
    }
}

/* First pass: names, checked for form and repetition. NULL when out of memory. */
static struct entry *list_entries(struct cq_conf_loader *ld, const struct cq_conf_list *spec,
                                  const yaml_node_t *map, size_t n, const char *path)
{
    struct entry *e = cq_conf_tmp_array(ld, n, sizeof(*e));
    if (e == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n && !cq_conf_full(ld); i++) {
        const yaml_node_pair_t *p = &map->data.mapping.pairs.start[i];
        e[i].key = cq_conf_node(ld, p->key);
        e[i].val = cq_conf_node(ld, p->value);
        e[i].order = i;
        e[i].skip = e[i].key == NULL || e[i].val == NULL;
        if (e[i].skip) {
            continue;
        }
        if (e[i].key->type != YAML_SCALAR_NODE) {
            e[i].skip = true;
            cq_conf_diag(ld, e[i].key->start_mark, path, "write plain names as keys",
                         "a key must be a name, not %s", cq_conf_kind(e[i].key));
            continue;
        }
        if (!cq_conf_valid_name(cq_conf_scalar(e[i].key))) {
            e[i].skip = true;
            cq_conf_diag(ld, e[i].key->start_mark, path,
                         "use letters, digits, '_', '-' or '.', at most 63 characters",
                         "invalid %s name %s", spec->what,
                         cq_conf_quote(ld, cq_conf_scalar(e[i].key)));
            continue;
        }
        e[i].name = cq_conf_scalar(e[i].key);
    }
    if (!cq_conf_full(ld) && !spec->unique_later) {
        mark_duplicates(ld, spec, e, n, path);
    }
    return e;
}

void cq_conf_walk_list(struct cq_conf_loader *ld, const struct cq_conf_list *spec,
                       const yaml_node_t *node, void *parent, const char *path)
{
    if (cq_conf_is_null(node)) {
        return;
    }
    if (node->type != YAML_MAPPING_NODE) {
        cq_conf_diag(ld, node->start_mark, path,
                     cq_conf_tmpf(ld,
                                  "write each %s as 'name:' with its keys indented below, "
                                  "not as a list item",
                                  spec->what),
                     "expected a mapping of %s names, got %s", spec->what, cq_conf_kind(node));
        return;
    }
    size_t n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    struct entry *e = list_entries(ld, spec, node, n, path);
    if (e == NULL || !spec->reserve(ld, parent, n)) {
        ld->rc = ld->rc != CQ_OK ? ld->rc : CQ_ENOMEM;
        return;
    }
    for (size_t i = 0; i < n && !cq_conf_full(ld); i++) {
        if (e[i].skip || e[i].name == NULL) {
            continue;
        }
        void *elem = spec->add(ld, parent, e[i].name, e[i].key);
        if (elem == NULL) {
            ld->rc = ld->rc != CQ_OK ? ld->rc : CQ_ENOMEM;
            return;
        }
        cq_conf_walk_section(ld, spec->entry, e[i].val, e[i].key, elem,
                             cq_conf_join_path(ld, path, e[i].name));
    }
}

/* ---- cross-key checks -------------------------------------------------------------------- */

const yaml_node_t *cq_conf_seen_val(const struct cq_conf_section *sec, const struct cq_conf_seen *s,
                                    const char *name, bool *bad)
{
    int i = cq_conf_key_index(sec, name);
    if (bad != NULL) {
        *bad = i >= 0 && s->bad[i];
    }
    return i >= 0 ? s->val[i] : NULL;
}

const yaml_node_t *cq_conf_seen_key(const struct cq_conf_section *sec, const struct cq_conf_seen *s,
                                    const char *name)
{
    int i = cq_conf_key_index(sec, name);
    return i >= 0 ? s->key[i] : NULL;
}

yaml_mark_t cq_conf_section_mark(const struct cq_conf_seen *s)
{
    return s->name != NULL ? s->name->start_mark : s->node->start_mark;
}

const char *cq_conf_names_hint(struct cq_conf_loader *ld, const char *word,
                               const char *const *names, size_t n, const char *what,
                               const char *none_hint)
{
    struct cq_buf all;
    const char *best = cq_did_you_mean(word, names), *hint;
    if (best != NULL) {
        return cq_conf_tmpf(ld, "did you mean '%s'?", best);
    }
    if (n == 0) {
        return none_hint;
    }
    cq_buf_init(&all, 2048);
    for (size_t i = 0; i < n && i < 20; i++) {
        cq_buf_printf(&all, "%s%s", i ? ", " : "", names[i]);
    }
    hint = cq_conf_tmpf(ld, "%s: %s%s", what, cq_buf_str(&all), n > 20 ? ", ..." : "");
    cq_buf_cleanup(&all);
    return hint;
}

static void check_pool(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                       const struct cq_conf_seen *s)
{
    const struct cq_pool_conf *p = target;
    bool min_bad, max_bad;
    const yaml_node_t *min = cq_conf_seen_val(sec, s, "min", &min_bad);
    const yaml_node_t *max = cq_conf_seen_val(sec, s, "max", &max_bad);
    if (min_bad || max_bad || p->min <= p->max) {
        return;
    }
    const yaml_node_t *at = min != NULL ? min : max;
    cq_conf_diag(ld, at != NULL ? at->start_mark : cq_conf_section_mark(s), s->path,
                 "lower pool.min or raise pool.max", "min (%d) is greater than max (%d)", p->min,
                 p->max);
}

/* The drivers a connection may name. conf sits below drv in the module order, so it
 * cannot ask the registry; this mirrors drv/registry.c, build options included, and
 * test_conf.c checks that both agree with cq_drv_find() and cq_drv_list(). */
struct known_driver {
    const char *name;           /* struct cq_driver.name */
    const char *const *schemes; /* struct cq_driver.schemes */
    bool file;                  /* takes path: (a local file) rather than url: */
    bool empty_url;             /* url: "" is meaningful (libpq: defaults and PG* variables) */
};

#ifndef CQ_WITHOUT_PG
static const char *const pg_schemes[] = {"postgres", "postgresql", NULL};
#endif
#ifndef CQ_WITHOUT_SQLITE
static const char *const sqlite_schemes[] = {"sqlite", NULL};
#endif

static const struct known_driver known_drivers[] = {
#ifndef CQ_WITHOUT_PG
    {"postgres", pg_schemes, false, true},
#endif
#ifndef CQ_WITHOUT_SQLITE
    {"sqlite", sqlite_schemes, true, false},
#endif
    {NULL, NULL, false, false},
};

/* By name or URL scheme, like cq_drv_find(). */
static const struct known_driver *find_driver(const char *name_or_scheme)
{
    for (const struct known_driver *d = known_drivers; d->name != NULL; d++) {
        if (strcmp(d->name, name_or_scheme) == 0) {
            return d;
        }
        for (const char *const *sc = d->schemes; *sc != NULL; sc++) {
            if (strcmp(*sc, name_or_scheme) == 0) {
                return d;
            }
        }
    }
    return NULL;
}

/* The driver a bare path: implies. */
static const struct known_driver *find_file_driver(void)
{
    for (const struct known_driver *d = known_drivers; d->name != NULL; d++) {
        if (d->file) {
            return d;
        }
    }
    return NULL;
}

/* The driver a url's scheme names ("postgres://", "postgresql://", "sqlite:"), or NULL. */
static const struct known_driver *driver_of_url(const char *url)
{
    char scheme[32];
    size_t n = 0;
    if (!isalpha((unsigned char)url[0])) {
        return NULL;
    }
    while (n < sizeof(scheme) - 1 &&
           (isalnum((unsigned char)url[n]) || url[n] == '+' || url[n] == '-' || url[n] == '.')) {
        scheme[n] = (char)tolower((unsigned char)url[n]);
        n++;
    }
    if (url[n] != ':') {
        return NULL;
    }
    scheme[n] = '\0';
    return find_driver(scheme);
}

static void unknown_driver(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                           const struct cq_conn_conf *cc, const yaml_node_t *v, const char *path)
{
    const char *names[16];
    size_t n = 0;
    struct cq_buf all;
    cq_buf_init(&all, 512);
    for (const struct known_driver *d = known_drivers; d->name != NULL && n < 15; d++) {
        names[n] = d->name;
        cq_buf_printf(&all, "%s%s", n ? ", " : "", names[n]);
        n++;
    }
    names[n] = NULL;
    const char *best = cq_did_you_mean(cc->driver, names);
    cq_conf_diag(ld, v->start_mark, path,
                 best != NULL ? cq_conf_tmpf(ld, "did you mean '%s'?", best)
                              : cq_conf_tmpf(ld, "available drivers: %s", cq_buf_str(&all)),
                 "unknown driver %s", cq_conf_quote_value(ld, k, cq_conf_scalar(v), cc->driver));
    cq_buf_cleanup(&all);
}

/* The connection's driver: named (and registered) or inferred from url/path. NULL after
 * reporting why, or when a problem elsewhere makes it unknowable. */
static const struct known_driver *conn_driver(struct cq_conf_loader *ld,
                                              const struct cq_conf_section *sec,
                                              const struct cq_conn_conf *cc,
                                              const struct cq_conf_seen *s)
{
    bool bad, url_bad;
    const yaml_node_t *dv = cq_conf_seen_val(sec, s, "driver", &bad);
    const yaml_node_t *uv = cq_conf_seen_val(sec, s, "url", &url_bad);
    const struct known_driver *d = NULL;
    if (dv != NULL) {
        d = bad ? NULL : find_driver(cc->driver);
        if (!bad && d == NULL) {
            unknown_driver(ld, &sec->keys[cq_conf_key_index(sec, "driver")], cc, dv,
                           cq_conf_join_path(ld, s->path, "driver"));
        }
        return d;
    }
    if (uv != NULL) {
        d = url_bad ? NULL : driver_of_url(cc->url);
        if (!url_bad && d == NULL) {
            /* The url is not quoted: it may hold a password. */
            cq_conf_diag(ld, uv->start_mark, cq_conf_join_path(ld, s->path, "url"),
                         "add driver: postgres or driver: sqlite; urls starting with "
                         "postgres://, postgresql:// or sqlite: are recognized",
                         "cannot tell the driver from this url");
        }
        return d;
    }
    return cq_conf_seen_val(sec, s, "path", NULL) != NULL ? find_file_driver() : NULL;
}

static const char *missing_target_hint(const struct known_driver *d)
{
    if (d == NULL) {
        return "add url: (postgres://...) or path: (a sqlite file)";
    }
    return d->file ? "add path: ./app.db (or ':memory:')"
                   : "add url: postgres://user@host/db (or a key=value DSN)";
}

/* url/path presence and their fit with the driver. */
static void check_target(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                         const struct cq_conn_conf *cc, const struct known_driver *d,
                         const struct cq_conf_seen *s)
{
    bool url_bad, path_bad;
    const yaml_node_t *uv = cq_conf_seen_val(sec, s, "url", &url_bad);
    const yaml_node_t *pv = cq_conf_seen_val(sec, s, "path", &path_bad);
    const yaml_node_t *pk = s->key[cq_conf_key_index(sec, "path")];
    if (uv != NULL && pv != NULL) {
        cq_conf_diag(ld, pk->start_mark, s->path,
                     "keep one: url for a server (or sqlite:FILE), path for a sqlite file",
                     "both url and path are set");
    } else if (uv == NULL && pv == NULL) {
        cq_conf_diag(ld, cq_conf_section_mark(s), s->path, missing_target_hint(d),
                     "missing url or path");
    } else if (d != NULL && !d->file && pv != NULL) {
        cq_conf_diag(ld, pk->start_mark, s->path, "write url: instead (a URL or key=value DSN)",
                     "path is only for sqlite; driver '%s' needs url", d->name);
    } else if (pv != NULL && !path_bad && *cc->path == '\0') {
        cq_conf_diag(ld, pv->start_mark, cq_conf_join_path(ld, s->path, "path"),
                     "use a file path or ':memory:'", "empty path");
    } else if (uv != NULL && !url_bad && *cc->url == '\0' && d != NULL && !d->empty_url) {
        cq_conf_diag(ld, uv->start_mark, cq_conf_join_path(ld, s->path, "url"),
                     "only postgres accepts an empty url (libpq defaults)", "empty url");
    }
}

/* A url whose scheme names another registered driver than the one written. */
static void check_url_driver(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                             const struct cq_conn_conf *cc, const struct known_driver *d,
                             const struct cq_conf_seen *s)
{
    bool url_bad;
    const yaml_node_t *uv = cq_conf_seen_val(sec, s, "url", &url_bad);
    const struct known_driver *by_url = uv != NULL && !url_bad ? driver_of_url(cc->url) : NULL;
    if (d != NULL && by_url != NULL && by_url != d) {
        cq_conf_diag(ld, uv->start_mark, cq_conf_join_path(ld, s->path, "url"),
                     "make driver and the url scheme agree",
                     "the url is for driver '%s' but driver is '%s'", by_url->name, d->name);
    }
}

/* A relative sqlite path is relative to the config file's directory, not to wherever
 * clariq happens to be started. */
char *cq_conf_resolve_path(struct cq_conf_loader *ld, char *path)
{
    if (path[0] == '/' || strcmp(path, ":memory:") == 0 || cq_has_prefix(path, "file:") ||
        ld->base_dir[0] == '\0') {
        return path;
    }
    const char *rel = path;
    while (rel[0] == '.' && rel[1] == '/') {
        rel += 2;
        while (*rel == '/') {
            rel++;
        }
    }
    size_t n = strlen(ld->base_dir);
    bool slash = n > 0 && ld->base_dir[n - 1] == '/';
    char *out = cq_arena_printf(ld->keep, "%s%s%s", ld->base_dir, slash ? "" : "/", rel);
    if (out == NULL) {
        ld->rc = CQ_ENOMEM;
        return path;
    }
    return out;
}

static void check_conn(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                       const struct cq_conf_seen *s)
{
    struct cq_conn_conf *cc = target;
    const struct known_driver *d = NULL;
    bool has_target = cq_conf_seen_val(sec, s, "url", NULL) != NULL ||
                      cq_conf_seen_val(sec, s, "path", NULL) != NULL;
    if (has_target || cq_conf_seen_val(sec, s, "driver", NULL) != NULL) {
        d = conn_driver(ld, sec, cc, s);
    }
    check_target(ld, sec, cc, d, s);
    check_url_driver(ld, sec, cc, d, s);
    if (d != NULL) {
        cc->driver = cq_arena_strdup(ld->keep, d->name); /* "postgresql" -> "postgres" */
        if (cc->driver == NULL) {
            ld->rc = CQ_ENOMEM;
        }
    }
    if (cc->path != NULL && *cc->path != '\0') {
        cc->path = cq_conf_resolve_path(ld, cc->path);
    }
}

/* ---- connections list -------------------------------------------------------------------- */

static bool conns_reserve(struct cq_conf_loader *ld, void *parent, size_t n)
{
    struct cq_conf *conf = parent;
    size_t bytes;
    if (!cq_size_mul(&bytes, n, sizeof(*conf->conns))) {
        return false;
    }
    conf->conns = cq_arena_alloc(ld->keep, bytes);
    conf->n_conns = 0;
    return conf->conns != NULL || n == 0;
}

static void *conns_add(struct cq_conf_loader *ld, void *parent, const char *name,
                       const yaml_node_t *key)
{
    struct cq_conf *conf = parent;
    struct cq_conn_conf *cc = &conf->conns[conf->n_conns];
    if (cq_conf_schema_conn_init(ld, cc, name, (int)key->start_mark.line + 1) != CQ_OK) {
        return NULL;
    }
    conf->n_conns++;
    return cc;
}

/* ---- state ------------------------------------------------------------------------------- */

static void check_state(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                        const struct cq_conf_seen *s)
{
    struct cq_state_conf *st = target;
    bool conn_bad, path_bad;
    const yaml_node_t *cv = cq_conf_seen_val(sec, s, "connection", &conn_bad);
    const yaml_node_t *pv = cq_conf_seen_val(sec, s, "path", &path_bad);
    if (cv != NULL && pv != NULL) {
        cq_conf_diag(ld, cq_conf_seen_key(sec, s, "path")->start_mark, s->path,
                     "keep one: connection for a postgres store shared by several runners, "
                     "path for a local sqlite file",
                     "both connection and path are set");
        return;
    }
    if (pv != NULL && !path_bad && *st->path == '\0') {
        cq_conf_diag(ld, pv->start_mark, cq_conf_join_path(ld, s->path, "path"),
                     "use a file path, or remove the key for clariq-state.db next to the "
                     "config file",
                     "empty path");
    } else if (pv != NULL && !path_bad) {
        st->path = cq_conf_resolve_path(ld, st->path);
    }
    if (cv != NULL && !conn_bad) {
        /* checked against connections: in refs.c, once every file was read */
        ld->state_conn.file = ld->kept_file;
        ld->state_conn.mark = cv->start_mark;
    }
}

/* ---- entry points ------------------------------------------------------------------------ */

bool cq_conf_schema_top_key(const char *name)
{
    return cq_conf_key_index(&top_section, name) >= 0;
}

void cq_conf_schema_finish(struct cq_conf_loader *ld)
{
    struct cq_state_conf *st = &ld->conf->state;
    cq_conf_server_finish(ld);
    if (st->connection == NULL && st->path == NULL && ld->rc == CQ_OK) {
        char *def = cq_arena_strdup(ld->keep, "clariq-state.db");
        if (def == NULL) {
            ld->rc = CQ_ENOMEM;
            return;
        }
        st->path = cq_conf_resolve_path(ld, def);
    }
}

int cq_conf_schema_conn_init(struct cq_conf_loader *ld, struct cq_conn_conf *cc, const char *name,
                             int line)
{
    memset(cc, 0, sizeof(*cc));
    if (cq_conf_apply_defaults(&conn_section, cc) != CQ_OK) {
        return ld->rc = CQ_EINTERNAL;
    }
    cc->limits = ld->conf->limits;
    cc->name = cq_arena_strdup(ld->keep, name);
    cc->file = ld->kept_file != NULL ? ld->kept_file : cq_arena_strdup(ld->keep, ld->file);
    cc->line = line;
    if (cc->name == NULL || cc->file == NULL) {
        return ld->rc = CQ_ENOMEM;
    }
    return CQ_OK;
}

int cq_conf_schema_defaults(struct cq_conf_loader *ld)
{
    if (cq_conf_apply_defaults(&top_section, ld->conf) != CQ_OK) {
        return ld->rc = CQ_EINTERNAL;
    }
    return CQ_OK;
}

void cq_conf_schema_walk(struct cq_conf_loader *ld)
{
    const yaml_node_t *root = yaml_document_get_root_node(ld->doc);
    if (root == NULL || cq_conf_is_null(root)) {
        return; /* an empty file: no connections, the caller decides */
    }
    if (root->type != YAML_MAPPING_NODE) {
        cq_conf_diag(ld, root->start_mark, "", "start with 'connections:' (see `clariq init`)",
                     "the top level must be a mapping of sections, got %s", cq_conf_kind(root));
        return;
    }
    cq_conf_walk_section(ld, &top_section, root, NULL, ld->conf, "");
}
