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
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "conf/internal.h"

#define MAX_KEYS 16     /* keys per section table */
#define QUOTE_MAX 60    /* bytes of user text quoted in a message */
#define NAME_MAX_LEN 63 /* connection names fit struct cq_conn.name */
#define STR_(x) #x
#define STR(x) STR_(x)

enum ktype {
    K_DURATION, /* int64_t ms, cq_parse_duration_ms */
    K_SIZE,     /* int64_t bytes, cq_parse_size */
    K_I64,      /* int64_t in [lo, hi] */
    K_INT,      /* int in [lo, hi] */
    K_BOOL,     /* bool: true/false/yes/no/on/off */
    K_STR,      /* char *, kept by the conf */
    K_SECTION,  /* a nested mapping described by child */
    K_LIST,     /* a mapping of named entries described by list */
    K_ANY,      /* accepted, not validated (reserved for later) */
};

#define KF_SECRET 0x1u /* may hold a password: the value never appears in messages */

struct cq_conf_loader;
struct section;
struct list_spec;

struct key {
    const char *name;
    enum ktype type;
    size_t off;                   /* offsetof into the section's struct */
    const char *def;              /* default, parsed like user input; NULL = none */
    int64_t lo, hi;               /* bounds for K_I64 / K_INT */
    const char *hint;             /* how to write a valid value; NULL = the type's */
    const struct section *child;  /* K_SECTION */
    const struct list_spec *list; /* K_LIST */
    unsigned flags;               /* KF_* */
};

/* What the walker found in one mapping, by table index. */
struct seen {
    const yaml_node_t *key[MAX_KEYS]; /* key node; NULL when absent */
    const yaml_node_t *val[MAX_KEYS]; /* value node; NULL when absent */
    bool bad[MAX_KEYS];               /* present but rejected (already reported) */
    const yaml_node_t *node;          /* the mapping itself (or a null scalar) */
    const yaml_node_t *name;          /* the key naming this section in its parent, or NULL */
    const char *path;                 /* dotted path of the section; "" at the top */
};

struct section {
    const struct key *keys;
    size_t n_keys;
    /* Cross-key validation after the keys were applied; may be NULL. */
    void (*check)(struct cq_conf_loader *ld, const struct section *sec, void *target,
                  const struct seen *s);
};

struct list_spec {
    const char *what;            /* "connection", for messages */
    const struct section *entry; /* each entry's keys */
    /* Makes room for n entries in parent; false when out of memory. */
    bool (*reserve)(struct cq_conf_loader *ld, void *parent, size_t n);
    /* Appends an entry with its defaults; NULL when out of memory. line is 1-based. */
    void *(*add)(struct cq_conf_loader *ld, void *parent, const char *name, int line);
};

/* Per type: what it is called in "expected ..." and the default hint. */
static const struct {
    const char *what;
    const char *hint;
} types[] = {
    [K_DURATION] = {"a duration", "use a number with a unit: 250ms, 5s, 2m, 1h"},
    [K_SIZE] = {"a size", "use a number with a unit: 512B, 64KB, 10MB, 1GB"},
    [K_I64] = {"a whole number", NULL},
    [K_INT] = {"a whole number", NULL},
    [K_BOOL] = {"true or false", "use true or false (yes/no and on/off also work)"},
    [K_STR] = {"a string", "write a single value after the colon"},
    [K_SECTION] = {"a mapping", "write key: value lines indented under it"},
    [K_LIST] = {"a mapping of names", "write name: lines indented under it"},
    [K_ANY] = {"anything", NULL},
};

static void check_pool(struct cq_conf_loader *ld, const struct section *sec, void *target,
                       const struct seen *s);
static void check_conn(struct cq_conf_loader *ld, const struct section *sec, void *target,
                       const struct seen *s);
static bool conns_reserve(struct cq_conf_loader *ld, void *parent, size_t n);
static void *conns_add(struct cq_conf_loader *ld, void *parent, const char *name, int line);

/* ---- the tables -------------------------------------------------------------------------- */

static const struct key limits_keys[] = {
    {.name = "timeout",
     .type = K_DURATION,
     .off = offsetof(struct cq_limits, timeout_ms),
     .def = CQ_CONF_DEFAULT_TIMEOUT},
    {.name = "max_rows",
     .type = K_I64,
     .off = offsetof(struct cq_limits, max_rows),
     .def = CQ_CONF_DEFAULT_MAX_ROWS,
     .lo = 0,
     .hi = INT64_MAX,
     .hint = "use a whole number >= 0 (0 = unlimited)"},
    {.name = "max_bytes",
     .type = K_SIZE,
     .off = offsetof(struct cq_limits, max_bytes),
     .def = CQ_CONF_DEFAULT_MAX_BYTES},
    {.name = "max_concurrent",
     .type = K_INT,
     .off = offsetof(struct cq_limits, max_concurrent),
     .def = "0",
     .lo = 0,
     .hi = 1000,
     .hint = "use a whole number from 0 to 1000 (0 = pool max)"},
    {.name = "queue_timeout",
     .type = K_DURATION,
     .off = offsetof(struct cq_limits, queue_timeout_ms),
     .def = CQ_CONF_DEFAULT_QUEUE_TIMEOUT},
};

static const struct key pool_keys[] = {
    {.name = "min",
     .type = K_INT,
     .off = offsetof(struct cq_pool_conf, min),
     .def = STR(CQ_CONF_DEFAULT_POOL_MIN),
     .lo = 0,
     .hi = 1000},
    {.name = "max",
     .type = K_INT,
     .off = offsetof(struct cq_pool_conf, max),
     .def = STR(CQ_CONF_DEFAULT_POOL_MAX),
     .lo = 1,
     .hi = 1000},
    {.name = "idle_timeout",
     .type = K_DURATION,
     .off = offsetof(struct cq_pool_conf, idle_timeout_ms),
     .def = CQ_CONF_DEFAULT_IDLE_TIMEOUT},
};

static const struct section limits_section = {limits_keys,
                                              sizeof(limits_keys) / sizeof(limits_keys[0]), NULL};
static const struct section pool_section = {pool_keys, sizeof(pool_keys) / sizeof(pool_keys[0]),
                                            check_pool};

static const struct key conn_keys[] = {
    /* driver may be omitted: check_conn infers it from url or path. */
    {.name = "driver", .type = K_STR, .off = offsetof(struct cq_conn_conf, driver)},
    {.name = "url", .type = K_STR, .off = offsetof(struct cq_conn_conf, url), .flags = KF_SECRET},
    {.name = "path", .type = K_STR, .off = offsetof(struct cq_conn_conf, path)},
    {.name = "read_only",
     .type = K_BOOL,
     .off = offsetof(struct cq_conn_conf, read_only),
     .def = "true"},
    {.name = "pool",
     .type = K_SECTION,
     .off = offsetof(struct cq_conn_conf, pool),
     .child = &pool_section},
    /* Starts from the top-level limits (cq_conf_schema_conn_init), overridden per key. */
    {.name = "limits",
     .type = K_SECTION,
     .off = offsetof(struct cq_conn_conf, limits),
     .child = &limits_section},
};

static const struct section conn_section = {conn_keys, sizeof(conn_keys) / sizeof(conn_keys[0]),
                                            check_conn};

static const struct list_spec conns_list = {"connection", &conn_section, conns_reserve, conns_add};

static const struct key top_keys[] = {
    /* limits comes first: table order is apply order, and connections copy it. */
    {.name = "limits",
     .type = K_SECTION,
     .off = offsetof(struct cq_conf, limits),
     .child = &limits_section},
    {.name = "connections", .type = K_LIST, .list = &conns_list},
    /* Reserved for sections that later issues implement: accepted with any content and
     * not validated yet, so a file written for a newer clariq still loads. */
    {.name = "alerts", .type = K_ANY},
    {.name = "include", .type = K_ANY},
    {.name = "catalog", .type = K_ANY},
    {.name = "roles", .type = K_ANY},
    {.name = "server", .type = K_ANY},
    {.name = "ingest", .type = K_ANY},
    {.name = "ui", .type = K_ANY},
    {.name = "channels", .type = K_ANY},
    {.name = "state", .type = K_ANY},
};

static const struct section top_section = {top_keys, sizeof(top_keys) / sizeof(top_keys[0]), NULL};

_Static_assert(sizeof(top_keys) / sizeof(top_keys[0]) <= MAX_KEYS, "top_keys: raise MAX_KEYS");
_Static_assert(sizeof(conn_keys) / sizeof(conn_keys[0]) <= MAX_KEYS, "conn_keys: raise MAX_KEYS");
_Static_assert(sizeof(limits_keys) / sizeof(limits_keys[0]) <= MAX_KEYS, "raise MAX_KEYS");
_Static_assert(sizeof(pool_keys) / sizeof(pool_keys[0]) <= MAX_KEYS, "raise MAX_KEYS");

/* ---- small helpers ----------------------------------------------------------------------- */

static const yaml_node_t *node_at(const struct cq_conf_loader *ld, int index)
{
    return yaml_document_get_node(ld->doc, index);
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }
    const char *v = scalar(n);
    return *v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

static const char *kind(const yaml_node_t *n)
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

/* 'text' for a message: at most QUOTE_MAX bytes (cut on a UTF-8 boundary), control
 * characters escaped so a diagnostic stays on one line. For keys and names; values go
 * through quote_value. */
static const char *quote(struct cq_conf_loader *ld, const char *s)
{
    struct cq_buf b;
    size_t n = strlen(s), cut = n > QUOTE_MAX ? QUOTE_MAX : n;
    while (cut < n && cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) {
        cut--;
    }
    cq_buf_init(&b, 4 * QUOTE_MAX + 8);
    cq_buf_putc(&b, '\'');
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
    cq_buf_puts(&b, cut < n ? "...'" : "'");
    const char *q = cq_conf_tmpf(ld, "%s", cq_buf_str(&b));
    if (cq_buf_rc(&b) != CQ_OK) {
        ld->rc = CQ_ENOMEM;
    }
    cq_buf_cleanup(&b);
    return q;
}

/* The original text quoted; for values that came from ${VAR}, the expansion too. A
 * KF_SECRET key's value is never shown, in either form. */
static const char *quote_value(struct cq_conf_loader *ld, const struct key *k, const char *orig,
                               const char *val)
{
    const char *q;
    if ((k->flags & KF_SECRET) != 0) {
        return "(value hidden)";
    }
    q = looks_secret(orig) ? "'***'" : quote(ld, orig);
    if (strcmp(orig, val) == 0) {
        return q;
    }
    return cq_conf_tmpf(ld, "%s (expands to %s)", q, looks_secret(val) ? "'***'" : quote(ld, val));
}

static const char *join_path(struct cq_conf_loader *ld, const char *path, const char *name)
{
    return *path == '\0' ? name : cq_conf_tmpf(ld, "%s.%s", path, name);
}

static const char *key_hint(struct cq_conf_loader *ld, const struct key *k)
{
    if (k->hint != NULL) {
        return k->hint;
    }
    if (k->type == K_I64 || k->type == K_INT) {
        return cq_conf_tmpf(ld, "use a whole number from %" PRId64 " to %" PRId64, k->lo, k->hi);
    }
    return types[k->type].hint;
}

static int key_index(const struct section *sec, const char *name)
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
static enum verdict parse_typed(const struct key *k, const char *s, union value *out)
{
    const char *cur = s;
    int rc;
    if (k->type == K_BOOL) {
        return parse_bool(s, &out->b);
    }
    if (*s == '-' && (k->type == K_DURATION || k->type == K_SIZE || k->lo >= 0)) {
        return isdigit((unsigned char)s[1]) ? V_NEGATIVE : V_INVALID;
    }
    if (k->type == K_DURATION) {
        return cq_parse_duration_ms(s, &out->i, NULL) == CQ_OK ? V_OK : V_INVALID;
    }
    if (k->type == K_SIZE) {
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

static void store(const struct key *k, void *field, const union value *v)
{
    switch (k->type) {
    case K_BOOL:
        *(bool *)field = v->b;
        break;
    case K_INT:
        *(int *)field = (int)v->i;
        break;
    default:
        *(int64_t *)field = v->i;
        break;
    }
}

static void value_diag(struct cq_conf_loader *ld, const struct key *k, const yaml_node_t *v,
                       const char *path, const char *val, enum verdict why)
{
    const char *q = quote_value(ld, k, scalar(v), val);
    const char *hint = key_hint(ld, k);
    if (why == V_NEGATIVE) {
        cq_conf_diag(ld, v->start_mark, path, hint, "negative value %s", q);
    } else if (why == V_RANGE) {
        cq_conf_diag(ld, v->start_mark, path, hint, "value %s is out of range", q);
    } else if (k->type == K_DURATION || k->type == K_SIZE) {
        cq_conf_diag(ld, v->start_mark, path, hint, "invalid %s %s",
                     k->type == K_DURATION ? "duration" : "size", q);
    } else if (k->type == K_BOOL) {
        cq_conf_diag(ld, v->start_mark, path, hint, "invalid boolean %s", q);
    } else {
        cq_conf_diag(ld, v->start_mark, path, hint, "expected a whole number, got %s", q);
    }
}

/* Where byte `off` of a scalar's value is in the file, when that is knowable: a one-line
 * scalar without escapes. Otherwise the scalar's start. */
static yaml_mark_t mark_at(const yaml_node_t *v, size_t off)
{
    yaml_mark_t m = v->start_mark;
    const char *s = scalar(v);
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
    yaml_mark_t m = mark_at(v, p->off);
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
static const char *scalar_text(struct cq_conf_loader *ld, const struct key *k, const yaml_node_t *v,
                               const char *path)
{
    struct cq_buf b;
    struct cq_conf_env_problem p;
    const char *out = NULL;
    if (v->type != YAML_SCALAR_NODE) {
        cq_conf_diag(ld, v->start_mark, path, key_hint(ld, k), "expected %s, got %s",
                     types[k->type].what, kind(v));
        return NULL;
    }
    if (is_null(v)) {
        cq_conf_diag(ld, v->start_mark, path, "write a value after the colon or remove the key",
                     "missing value (expected %s)", types[k->type].what);
        return NULL;
    }
    if (memchr(scalar(v), '\0', v->data.scalar.length) != NULL) {
        cq_conf_diag(ld, v->start_mark, path, "remove the \\0 escape", "value contains a NUL byte");
        return NULL;
    }
    cq_buf_init(&b, CQ_CONF_MAX_VALUE);
    enum cq_conf_env_status st = cq_conf_env_expand(scalar(v), v->data.scalar.length, &b, &p);
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
static bool apply_scalar(struct cq_conf_loader *ld, const struct key *k, const yaml_node_t *v,
                         void *field, const char *path)
{
    union value val;
    const char *text = scalar_text(ld, k, v, path);
    if (text == NULL) {
        return false;
    }
    if (k->type == K_STR) {
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

static int apply_defaults(const struct section *sec, void *target)
{
    for (size_t i = 0; i < sec->n_keys; i++) {
        const struct key *k = &sec->keys[i];
        union value v;
        if (k->type == K_SECTION && apply_defaults(k->child, (char *)target + k->off) != CQ_OK) {
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

/* ---- mappings ---------------------------------------------------------------------------- */

static void walk_section(struct cq_conf_loader *ld, const struct section *sec,
                         const yaml_node_t *node, const yaml_node_t *name, void *target,
                         const char *path);
static void walk_list(struct cq_conf_loader *ld, const struct list_spec *spec,
                      const yaml_node_t *node, void *parent, const char *path);

static void unknown_key(struct cq_conf_loader *ld, const struct section *sec, const yaml_node_t *k,
                        const char *path)
{
    const char *names[MAX_KEYS + 1];
    const char *hint;
    struct cq_buf all;
    cq_buf_init(&all, 1024);
    for (size_t i = 0; i < sec->n_keys; i++) {
        names[i] = sec->keys[i].name;
        cq_buf_printf(&all, "%s%s", i ? ", " : "", names[i]);
    }
    names[sec->n_keys] = NULL;
    const char *best = cq_did_you_mean(scalar(k), names);
    if (best != NULL) {
        hint = cq_conf_tmpf(ld, "did you mean '%s'?", best);
    } else if (strcmp(scalar(k), "<<") == 0) {
        hint = "YAML merge keys are not supported; write the keys out";
    } else {
        hint = cq_conf_tmpf(ld, "valid keys: %s", cq_buf_str(&all));
    }
    cq_conf_diag(ld, k->start_mark, path, hint, "unknown %skey %s", *path ? "" : "top-level ",
                 quote(ld, scalar(k)));
    cq_buf_cleanup(&all);
}

/* First pass over a mapping: who is there, reporting unknown and repeated keys. */
static void collect(struct cq_conf_loader *ld, const struct section *sec, const yaml_node_t *map,
                    struct seen *s)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = node_at(ld, p->key), *v = node_at(ld, p->value);
        if (cq_conf_full(ld)) {
            return;
        }
        if (k == NULL || v == NULL) {
            continue;
        }
        if (k->type != YAML_SCALAR_NODE) {
            cq_conf_diag(ld, k->start_mark, s->path, "write plain names as keys",
                         "a key must be a name, not %s", kind(k));
            continue;
        }
        int i = key_index(sec, scalar(k));
        if (i < 0) {
            unknown_key(ld, sec, k, s->path);
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
static bool apply_key(struct cq_conf_loader *ld, const struct key *k, const struct seen *s, int i,
                      void *target)
{
    const char *path = join_path(ld, s->path, k->name);
    switch (k->type) {
    case K_SECTION:
        walk_section(ld, k->child, s->val[i], s->key[i], (char *)target + k->off, path);
        return true;
    case K_LIST:
        walk_list(ld, k->list, s->val[i], target, path);
        return true;
    case K_ANY:
        return true;
    default:
        return apply_scalar(ld, k, s->val[i], (char *)target + k->off, path);
    }
}

static void walk_section(struct cq_conf_loader *ld, const struct section *sec,
                         const yaml_node_t *node, const yaml_node_t *name, void *target,
                         const char *path)
{
    struct seen s;
    memset(&s, 0, sizeof(s));
    s.node = node;
    s.name = name;
    s.path = path;
    if (!is_null(node)) {
        if (node->type != YAML_MAPPING_NODE) {
            cq_conf_diag(ld, node->start_mark, path, types[K_SECTION].hint,
                         "expected a mapping, got %s", kind(node));
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
static void *tmp_array(struct cq_conf_loader *ld, size_t n, size_t size)
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

static bool valid_name(const char *s)
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
static void mark_duplicates(struct cq_conf_loader *ld, const struct list_spec *spec,
                            struct entry *e, size_t n, const char *path)
{
    struct entry **by_name = tmp_array(ld, n, sizeof(*by_name));
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
static struct entry *list_entries(struct cq_conf_loader *ld, const struct list_spec *spec,
                                  const yaml_node_t *map, size_t n, const char *path)
{
    struct entry *e = tmp_array(ld, n, sizeof(*e));
    if (e == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n && !cq_conf_full(ld); i++) {
        const yaml_node_pair_t *p = &map->data.mapping.pairs.start[i];
        e[i].key = node_at(ld, p->key);
        e[i].val = node_at(ld, p->value);
        e[i].order = i;
        e[i].skip = e[i].key == NULL || e[i].val == NULL;
        if (e[i].skip) {
            continue;
        }
        if (e[i].key->type != YAML_SCALAR_NODE) {
            e[i].skip = true;
            cq_conf_diag(ld, e[i].key->start_mark, path, "write plain names as keys",
                         "a key must be a name, not %s", kind(e[i].key));
            continue;
        }
        if (!valid_name(scalar(e[i].key))) {
            e[i].skip = true;
            cq_conf_diag(ld, e[i].key->start_mark, path,
                         "use letters, digits, '_', '-' or '.', at most 63 characters",
                         "invalid %s name %s", spec->what, quote(ld, scalar(e[i].key)));
            continue;
        }
        e[i].name = scalar(e[i].key);
    }
    if (!cq_conf_full(ld)) {
        mark_duplicates(ld, spec, e, n, path);
    }
    return e;
}

static void walk_list(struct cq_conf_loader *ld, const struct list_spec *spec,
                      const yaml_node_t *node, void *parent, const char *path)
{
    if (is_null(node)) {
        return;
    }
    if (node->type != YAML_MAPPING_NODE) {
        cq_conf_diag(ld, node->start_mark, path,
                     cq_conf_tmpf(ld,
                                  "write each %s as 'name:' with its keys indented below, "
                                  "not as a list item",
                                  spec->what),
                     "expected a mapping of %s names, got %s", spec->what, kind(node));
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
        void *elem = spec->add(ld, parent, e[i].name, (int)e[i].key->start_mark.line + 1);
        if (elem == NULL) {
            ld->rc = ld->rc != CQ_OK ? ld->rc : CQ_ENOMEM;
            return;
        }
        walk_section(ld, spec->entry, e[i].val, e[i].key, elem, join_path(ld, path, e[i].name));
    }
}

/* ---- cross-key checks -------------------------------------------------------------------- */

static const yaml_node_t *seen_val(const struct section *sec, const struct seen *s,
                                   const char *name, bool *bad)
{
    int i = key_index(sec, name);
    if (bad != NULL) {
        *bad = i >= 0 && s->bad[i];
    }
    return i >= 0 ? s->val[i] : NULL;
}

/* Where to point for a problem with the section as a whole. */
static yaml_mark_t section_mark(const struct seen *s)
{
    return s->name != NULL ? s->name->start_mark : s->node->start_mark;
}

static void check_pool(struct cq_conf_loader *ld, const struct section *sec, void *target,
                       const struct seen *s)
{
    const struct cq_pool_conf *p = target;
    bool min_bad, max_bad;
    const yaml_node_t *min = seen_val(sec, s, "min", &min_bad);
    const yaml_node_t *max = seen_val(sec, s, "max", &max_bad);
    if (min_bad || max_bad || p->min <= p->max) {
        return;
    }
    const yaml_node_t *at = min != NULL ? min : max;
    cq_conf_diag(ld, at != NULL ? at->start_mark : section_mark(s), s->path,
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

static void unknown_driver(struct cq_conf_loader *ld, const struct key *k,
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
                 "unknown driver %s", quote_value(ld, k, scalar(v), cc->driver));
    cq_buf_cleanup(&all);
}

/* The connection's driver: named (and registered) or inferred from url/path. NULL after
 * reporting why, or when a problem elsewhere makes it unknowable. */
static const struct known_driver *conn_driver(struct cq_conf_loader *ld, const struct section *sec,
                                              const struct cq_conn_conf *cc, const struct seen *s)
{
    bool bad, url_bad;
    const yaml_node_t *dv = seen_val(sec, s, "driver", &bad);
    const yaml_node_t *uv = seen_val(sec, s, "url", &url_bad);
    const struct known_driver *d = NULL;
    if (dv != NULL) {
        d = bad ? NULL : find_driver(cc->driver);
        if (!bad && d == NULL) {
            unknown_driver(ld, &sec->keys[key_index(sec, "driver")], cc, dv,
                           join_path(ld, s->path, "driver"));
        }
        return d;
    }
    if (uv != NULL) {
        d = url_bad ? NULL : driver_of_url(cc->url);
        if (!url_bad && d == NULL) {
            /* The url is not quoted: it may hold a password. */
            cq_conf_diag(ld, uv->start_mark, join_path(ld, s->path, "url"),
                         "add driver: postgres or driver: sqlite; urls starting with "
                         "postgres://, postgresql:// or sqlite: are recognized",
                         "cannot tell the driver from this url");
        }
        return d;
    }
    return seen_val(sec, s, "path", NULL) != NULL ? find_file_driver() : NULL;
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
static void check_target(struct cq_conf_loader *ld, const struct section *sec,
                         const struct cq_conn_conf *cc, const struct known_driver *d,
                         const struct seen *s)
{
    bool url_bad, path_bad;
    const yaml_node_t *uv = seen_val(sec, s, "url", &url_bad);
    const yaml_node_t *pv = seen_val(sec, s, "path", &path_bad);
    const yaml_node_t *pk = s->key[key_index(sec, "path")];
    if (uv != NULL && pv != NULL) {
        cq_conf_diag(ld, pk->start_mark, s->path,
                     "keep one: url for a server (or sqlite:FILE), path for a sqlite file",
                     "both url and path are set");
    } else if (uv == NULL && pv == NULL) {
        cq_conf_diag(ld, section_mark(s), s->path, missing_target_hint(d), "missing url or path");
    } else if (d != NULL && !d->file && pv != NULL) {
        cq_conf_diag(ld, pk->start_mark, s->path, "write url: instead (a URL or key=value DSN)",
                     "path is only for sqlite; driver '%s' needs url", d->name);
    } else if (pv != NULL && !path_bad && *cc->path == '\0') {
        cq_conf_diag(ld, pv->start_mark, join_path(ld, s->path, "path"),
                     "use a file path or ':memory:'", "empty path");
    } else if (uv != NULL && !url_bad && *cc->url == '\0' && d != NULL && !d->empty_url) {
        cq_conf_diag(ld, uv->start_mark, join_path(ld, s->path, "url"),
                     "only postgres accepts an empty url (libpq defaults)", "empty url");
    }
}

/* A url whose scheme names another registered driver than the one written. */
static void check_url_driver(struct cq_conf_loader *ld, const struct section *sec,
                             const struct cq_conn_conf *cc, const struct known_driver *d,
                             const struct seen *s)
{
    bool url_bad;
    const yaml_node_t *uv = seen_val(sec, s, "url", &url_bad);
    const struct known_driver *by_url = uv != NULL && !url_bad ? driver_of_url(cc->url) : NULL;
    if (d != NULL && by_url != NULL && by_url != d) {
        cq_conf_diag(ld, uv->start_mark, join_path(ld, s->path, "url"),
                     "make driver and the url scheme agree",
                     "the url is for driver '%s' but driver is '%s'", by_url->name, d->name);
    }
}

/* A relative sqlite path is relative to the config file's directory, not to wherever
 * clariq happens to be started. */
static char *resolve_path(struct cq_conf_loader *ld, char *path)
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

static void check_conn(struct cq_conf_loader *ld, const struct section *sec, void *target,
                       const struct seen *s)
{
    struct cq_conn_conf *cc = target;
    const struct known_driver *d = NULL;
    bool has_target =
        seen_val(sec, s, "url", NULL) != NULL || seen_val(sec, s, "path", NULL) != NULL;
    if (has_target || seen_val(sec, s, "driver", NULL) != NULL) {
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
        cc->path = resolve_path(ld, cc->path);
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

static void *conns_add(struct cq_conf_loader *ld, void *parent, const char *name, int line)
{
    struct cq_conf *conf = parent;
    struct cq_conn_conf *cc = &conf->conns[conf->n_conns];
    if (cq_conf_schema_conn_init(ld, cc, name, line) != CQ_OK) {
        return NULL;
    }
    conf->n_conns++;
    return cc;
}

/* ---- entry points ------------------------------------------------------------------------ */

int cq_conf_schema_conn_init(struct cq_conf_loader *ld, struct cq_conn_conf *cc, const char *name,
                             int line)
{
    memset(cc, 0, sizeof(*cc));
    if (apply_defaults(&conn_section, cc) != CQ_OK) {
        return ld->rc = CQ_EINTERNAL;
    }
    cc->limits = ld->conf->limits;
    cc->name = cq_arena_strdup(ld->keep, name);
    cc->file = cq_arena_strdup(ld->keep, ld->file);
    cc->line = line;
    if (cc->name == NULL || cc->file == NULL) {
        return ld->rc = CQ_ENOMEM;
    }
    return CQ_OK;
}

int cq_conf_schema_defaults(struct cq_conf_loader *ld)
{
    if (apply_defaults(&top_section, ld->conf) != CQ_OK) {
        return ld->rc = CQ_EINTERNAL;
    }
    return CQ_OK;
}

void cq_conf_schema_walk(struct cq_conf_loader *ld)
{
    const yaml_node_t *root = yaml_document_get_root_node(ld->doc);
    if (root == NULL || is_null(root)) {
        return; /* an empty file: no connections, the caller decides */
    }
    if (root->type != YAML_MAPPING_NODE) {
        cq_conf_diag(ld, root->start_mark, "", "start with 'connections:' (see `clariq init`)",
                     "the top level must be a mapping of sections, got %s", kind(root));
        return;
    }
    walk_section(ld, &top_section, root, NULL, ld->conf, "");
}
