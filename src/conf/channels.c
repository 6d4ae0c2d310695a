/*
 * channels.c - the channels: mapping (slack, email, webhook). One table holds every key;
 * each type-specific key names the types it applies to, and a key written for another
 * type is an error naming the channel's type (a webhook_url on an email channel is a
 * mistake, not something to ignore). URLs, passwords, HMAC keys and header values are
 * secrets: no message ever shows them.
 *
 * Names must be unique across every file; refs.c checks that after the last include.
 */
#include <ctype.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "conf/internal.h"

#define BIT(x) (1u << (x))
#define ONLY_SLACK BIT(CQ_CHANNEL_SLACK)
#define ONLY_EMAIL BIT(CQ_CHANNEL_EMAIL)
#define ONLY_WEBHOOK BIT(CQ_CHANNEL_WEBHOOK)
#define MAX_HEADERS 100 /* per webhook channel */

_Static_assert(sizeof(enum cq_channel_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cq_tls_mode) == sizeof(int), "enum size");

/* Indexed by the enums of conf.h. */
static const char *const kinds[] = {"slack", "email", "webhook", NULL};
static const char *const articles[] = {"a", "an", "a"};
static const char *const tls_modes[] = {"starttls", "tls", "none", NULL};
static const int default_ports[] = {587, 465, 25}; /* by tls mode */

static void check_channel(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                          void *target, const struct cq_conf_seen *s);
static bool apply_headers(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                          const struct cq_conf_seen *s, int i, void *target);
static bool channels_reserve(struct cq_conf_loader *ld, void *parent, size_t n);
static void *channels_add(struct cq_conf_loader *ld, void *parent, const char *name,
                          const yaml_node_t *key);

static const struct cq_conf_key channel_keys[] = {
    {.name = "type",
     .type = CQ_CONF_K_ENUM,
     .off = offsetof(struct cq_channel_conf, kind),
     .names = kinds,
     .what = "channel type"},
    {.name = "timeout",
     .type = CQ_CONF_K_DURATION,
     .off = offsetof(struct cq_channel_conf, timeout_ms),
     .def = "10s"},
    {.name = "retries",
     .type = CQ_CONF_K_INT,
     .off = offsetof(struct cq_channel_conf, retries),
     .def = "3",
     .lo = 0,
     .hi = 20},
    {.name = "backoff",
     .type = CQ_CONF_K_DURATION,
     .off = offsetof(struct cq_channel_conf, backoff_ms),
     .def = "1s"},
    {.name = "backoff_max",
     .type = CQ_CONF_K_DURATION,
     .off = offsetof(struct cq_channel_conf, backoff_max_ms),
     .def = "5m"},
    {.name = "max_rows",
     .type = CQ_CONF_K_INT,
     .off = offsetof(struct cq_channel_conf, max_rows),
     .def = "10",
     .lo = 0,
     .hi = 1000},
    {.name = "webhook_url",
     .type = CQ_CONF_K_STR,
     .off = offsetof(struct cq_channel_conf, webhook_url),
     .flags = CQ_CONF_KF_SECRET,
     .only = ONLY_SLACK},
    {.name = "url",
     .type = CQ_CONF_K_STR,
     .off = offsetof(struct cq_channel_conf, url),
     .flags = CQ_CONF_KF_SECRET,
     .only = ONLY_WEBHOOK},
    {.name = "headers", .type = CQ_CONF_K_FUNC, .apply = apply_headers, .only = ONLY_WEBHOOK},
    {.name = "hmac_secret",
     .type = CQ_CONF_K_STR,
     .off = offsetof(struct cq_channel_conf, hmac_secret),
     .flags = CQ_CONF_KF_SECRET,
     .only = ONLY_WEBHOOK},
    {.name = "signature_header",
     .type = CQ_CONF_K_STR,
     .off = offsetof(struct cq_channel_conf, signature_header),
     .only = ONLY_WEBHOOK},
    {.name = "host",
     .type = CQ_CONF_K_STR,
     .off = offsetof(struct cq_channel_conf, host),
     .only = ONLY_EMAIL},
    /* default from tls, in check_email */
    {.name = "port",
     .type = CQ_CONF_K_INT,
     .off = offsetof(struct cq_channel_conf, port),
     .lo = 1,
     .hi = 65535,
     .only = ONLY_EMAIL},
    {.name = "tls",
     .type = CQ_CONF_K_ENUM,
     .off = offsetof(struct cq_channel_conf, tls),
     .def = "starttls",
     .names = tls_modes,
     .what = "tls mode",
     .only = ONLY_EMAIL},
    {.name = "username",
     .type = CQ_CONF_K_STR,
     .off = offsetof(struct cq_channel_conf, username),
     .only = ONLY_EMAIL},
    {.name = "password",
     .type = CQ_CONF_K_STR,
     .off = offsetof(struct cq_channel_conf, password),
     .flags = CQ_CONF_KF_SECRET,
     .only = ONLY_EMAIL},
    {.name = "from",
     .type = CQ_CONF_K_STR,
     .off = offsetof(struct cq_channel_conf, from),
     .only = ONLY_EMAIL},
    {.name = "to",
     .type = CQ_CONF_K_STRLIST,
     .off = offsetof(struct cq_channel_conf, to),
     .off2 = offsetof(struct cq_channel_conf, n_to),
     .hint = "write [a@example.com, b@example.com] or one address",
     .only = ONLY_EMAIL},
    {.name = "cc",
     .type = CQ_CONF_K_STRLIST,
     .off = offsetof(struct cq_channel_conf, cc),
     .off2 = offsetof(struct cq_channel_conf, n_cc),
     .hint = "write [a@example.com, b@example.com] or one address",
     .only = ONLY_EMAIL},
    {.name = "subject",
     .type = CQ_CONF_K_STR,
     .off = offsetof(struct cq_channel_conf, subject),
     .only = ONLY_EMAIL},
};

static const struct cq_conf_section channel_section = {channel_keys, CQ_CONF_NKEYS(channel_keys),
                                                       check_channel, NULL};

_Static_assert(CQ_CONF_NKEYS(channel_keys) <= CQ_CONF_MAX_KEYS, "raise CQ_CONF_MAX_KEYS");

const struct cq_conf_list cq_conf_channels_list = {"channel", &channel_section, channels_reserve,
                                                   channels_add, true};

/* ---- values ------------------------------------------------------------------------------ */

/* RFC 9110 token: what a header name may contain. */
static bool header_name_ok(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL) {
            return false;
        }
    }
    return true;
}

static bool has_line_break(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

/* local@domain, nothing that could end an SMTP command or a header. */
static bool address_ok(const char *s)
{
    const char *at = strchr(s, '@');
    if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL) {
        return false;
    }
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',') {
            return false;
        }
    }
    return true;
}

static bool http_url_ok(const char *s)
{
    return (cq_has_prefix(s, "http://") && s[7] != '\0') ||
           (cq_has_prefix(s, "https://") && s[8] != '\0');
}

static const struct cq_conf_key header_value_key = {
    .name = "headers", .type = CQ_CONF_K_STR, .flags = CQ_CONF_KF_SECRET};

/* One name: value pair of headers:; false when rejected. */
static bool apply_header(struct cq_conf_loader *ld, const yaml_node_t *k, const yaml_node_t *v,
                         struct cq_header *h, const char *path)
{
    if (k->type != YAML_SCALAR_NODE || !header_name_ok(cq_conf_scalar(k))) {
        cq_conf_diag(ld, k->start_mark, path, "use letters, digits and '-', such as X-Team",
                     "invalid header name %s",
                     k->type == YAML_SCALAR_NODE ? cq_conf_quote(ld, cq_conf_scalar(k))
                                                 : cq_conf_kind(k));
        return false;
    }
    const char *hpath = cq_conf_join_path(ld, path, cq_conf_scalar(k));
    const char *text = cq_conf_scalar_text(ld, &header_value_key, v, hpath);
    if (text == NULL) {
        return false;
    }
    if (has_line_break(text)) {
        cq_conf_diag(ld, v->start_mark, hpath, "write the value on one line",
                     "value contains a line break");
        return false;
    }
    h->name = cq_arena_strdup(ld->keep, cq_conf_scalar(k));
    h->value = cq_arena_strdup(ld->keep, text);
    if (h->name == NULL || h->value == NULL) {
        ld->rc = CQ_ENOMEM;
        return false;
    }
    return true;
}

static bool apply_headers(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                          const struct cq_conf_seen *s, int i, void *target)
{
    struct cq_channel_conf *c = target;
    const yaml_node_t *v = s->val[i];
    const char *path = cq_conf_join_path(ld, s->path, k->name);
    bool ok = true;
    if (cq_conf_is_null(v)) {
        return true;
    }
    size_t n = v->type == YAML_MAPPING_NODE
                   ? (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start)
                   : 0;
    if (v->type != YAML_MAPPING_NODE || n > MAX_HEADERS) {
        cq_conf_diag(ld, v->start_mark, path, "write headers: {X-Team: data}",
                     n > MAX_HEADERS ? "more than 100 headers"
                                     : "expected a mapping of header names to values");
        return false;
    }
    c->headers = n > 0 ? cq_arena_alloc(ld->keep, n * sizeof(*c->headers)) : NULL;
    if (n > 0 && c->headers == NULL) {
        ld->rc = CQ_ENOMEM;
        return false;
    }
    for (size_t j = 0; j < n && !cq_conf_full(ld); j++) {
        const yaml_node_pair_t *p = &v->data.mapping.pairs.start[j];
        const yaml_node_t *hk = cq_conf_node(ld, p->key), *hv = cq_conf_node(ld, p->value);
        if (hk == NULL || hv == NULL ||
            !apply_header(ld, hk, hv, &c->headers[c->n_headers], path)) {
            ok = false;
            continue;
        }
        for (size_t m = 0; m < c->n_headers; m++) { /* n <= MAX_HEADERS */
            if (cq_streq_ci(c->headers[m].name, c->headers[c->n_headers].name)) {
                cq_conf_diag(ld, hk->start_mark, path, "header names ignore case; keep one",
                             "duplicate header %s", cq_conf_quote(ld, cq_conf_scalar(hk)));
                ok = false;
            }
        }
        c->n_headers++;
    }
    return ok;
}

/* ---- checks ------------------------------------------------------------------------------ */

static bool require(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                    const struct cq_conf_seen *s, const char *name, const char *hint)
{
    if (cq_conf_seen_val(sec, s, name, NULL) != NULL) {
        return true;
    }
    cq_conf_diag(ld, cq_conf_section_mark(s), s->path, hint, "missing %s", name);
    return false;
}

/* The value of key name when present and accepted, else NULL. */
static const yaml_node_t *good_val(const struct cq_conf_section *sec, const struct cq_conf_seen *s,
                                   const char *name)
{
    bool bad;
    const yaml_node_t *v = cq_conf_seen_val(sec, s, name, &bad);
    return bad ? NULL : v;
}

static void check_url(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                      const struct cq_conf_seen *s, const char *name, const char *url)
{
    const yaml_node_t *v = good_val(sec, s, name);
    if (v != NULL && !http_url_ok(url)) {
        /* the value is a secret: not shown */
        cq_conf_diag(ld, v->start_mark, cq_conf_join_path(ld, s->path, name),
                     "write the full URL, starting with https://",
                     "expected an http:// or https:// URL");
    }
}

/* Each address of a list key (to, cc) or of from. */
static void check_addresses(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                            const struct cq_conf_seen *s, const char *name, char **v, size_t n)
{
    const yaml_node_t *node = good_val(sec, s, name);
    const char *path = cq_conf_join_path(ld, s->path, name);
    if (node == NULL) {
        return;
    }
    if (n == 0) {
        cq_conf_diag(ld, node->start_mark, path, "list at least one address", "no addresses");
    }
    for (size_t i = 0; i < n && !cq_conf_full(ld); i++) {
        const yaml_node_t *item = node->type == YAML_SEQUENCE_NODE
                                      ? cq_conf_node(ld, node->data.sequence.items.start[i])
                                      : node;
        if (!address_ok(v[i])) {
            cq_conf_diag(ld, item != NULL ? item->start_mark : node->start_mark, path,
                         "write a plain address such as oncall@example.com", "invalid address %s",
                         cq_conf_quote(ld, v[i]));
        }
    }
}

static void check_login(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                        const struct cq_conf_seen *s)
{
    const yaml_node_t *user = cq_conf_seen_key(sec, s, "username");
    const yaml_node_t *pass = cq_conf_seen_key(sec, s, "password");
    if (user != NULL && pass == NULL) {
        cq_conf_diag(ld, user->start_mark, s->path, "add password: ${SMTP_PASSWORD}",
                     "username is set but password is not");
    } else if (pass != NULL && user == NULL) {
        cq_conf_diag(ld, pass->start_mark, s->path, "add username:, or remove password",
                     "password is set but username is not");
    }
}

static void check_email(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                        struct cq_channel_conf *c, const struct cq_conf_seen *s)
{
    const yaml_node_t *v;
    require(ld, sec, s, "host", "add host: smtp.example.com");
    require(ld, sec, s, "from", "add from: clariq@example.com");
    require(ld, sec, s, "to", "add to: [oncall@example.com]");
    v = good_val(sec, s, "host");
    if (v != NULL && (*c->host == '\0' || strpbrk(c->host, " \t\r\n/") != NULL)) {
        cq_conf_diag(ld, v->start_mark, cq_conf_join_path(ld, s->path, "host"),
                     "write a host name such as smtp.example.com", "invalid host %s",
                     cq_conf_quote(ld, c->host));
    }
    if (cq_conf_seen_val(sec, s, "port", NULL) == NULL) {
        c->port = default_ports[c->tls];
    }
    check_login(ld, sec, s);
    if (good_val(sec, s, "from") != NULL) {
        check_addresses(ld, sec, s, "from", &c->from, 1);
    }
    check_addresses(ld, sec, s, "to", c->to, c->n_to);
    check_addresses(ld, sec, s, "cc", c->cc, c->n_cc);
    v = good_val(sec, s, "subject");
    if (v == NULL) {
        c->subject = cq_arena_strdup(ld->keep, "[clariq] {{alert.name}}: {{state}}");
        ld->rc = c->subject == NULL ? CQ_ENOMEM : ld->rc;
    } else if (has_line_break(c->subject)) {
        cq_conf_diag(ld, v->start_mark, cq_conf_join_path(ld, s->path, "subject"),
                     "write the subject on one line", "subject contains a line break");
    } else {
        cq_conf_check_tmpl(ld, v, c->subject, cq_conf_join_path(ld, s->path, "subject"));
    }
}

static void check_webhook(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                          struct cq_channel_conf *c, const struct cq_conf_seen *s)
{
    const yaml_node_t *v;
    if (require(ld, sec, s, "url", "add url: https://example.com/hook")) {
        check_url(ld, sec, s, "url", c->url);
    }
    v = good_val(sec, s, "hmac_secret");
    if (v != NULL && *c->hmac_secret == '\0') {
        cq_conf_diag(ld, v->start_mark, cq_conf_join_path(ld, s->path, "hmac_secret"),
                     "remove it to send unsigned requests", "empty hmac_secret");
    }
    v = good_val(sec, s, "signature_header");
    if (v == NULL) {
        c->signature_header = cq_arena_strdup(ld->keep, "X-Clariq-Signature");
        ld->rc = c->signature_header == NULL ? CQ_ENOMEM : ld->rc;
    } else if (!header_name_ok(c->signature_header)) {
        cq_conf_diag(ld, v->start_mark, cq_conf_join_path(ld, s->path, "signature_header"),
                     "use letters, digits and '-', such as X-Clariq-Signature",
                     "invalid header name %s", cq_conf_quote(ld, c->signature_header));
    }
}

/* Keys written for another type; the hint lists the ones this type takes. */
static void check_applies(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                          const struct cq_channel_conf *c, const struct cq_conf_seen *s)
{
    struct cq_buf own;
    size_t n = 0;
    cq_buf_init(&own, 1024);
    for (size_t i = 0; i < sec->n_keys; i++) {
        if ((sec->keys[i].only & BIT(c->kind)) != 0) {
            cq_buf_printf(&own, "%s%s", n++ ? ", " : "", sec->keys[i].name);
        }
    }
    const char *hint =
        cq_conf_tmpf(ld, "remove it; %s channels take %s", kinds[c->kind], cq_buf_str(&own));
    cq_buf_cleanup(&own);
    for (size_t i = 0; i < sec->n_keys; i++) {
        unsigned only = sec->keys[i].only;
        if (s->key[i] != NULL && only != 0 && (only & BIT(c->kind)) == 0) {
            cq_conf_diag(ld, s->key[i]->start_mark, s->path, hint,
                         "'%s' does not apply to %s %s channel", sec->keys[i].name,
                         articles[c->kind], kinds[c->kind]);
        }
    }
}

static void check_delivery(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                           const struct cq_channel_conf *c, const struct cq_conf_seen *s)
{
    char a[32], b[32];
    const yaml_node_t *v = good_val(sec, s, "timeout");
    if (v != NULL && c->timeout_ms == 0) {
        cq_conf_diag(ld, v->start_mark, cq_conf_join_path(ld, s->path, "timeout"),
                     "a delivery needs a deadline: use a duration such as 10s", "zero timeout");
    }
    if (c->backoff_ms <= c->backoff_max_ms) {
        return;
    }
    v = good_val(sec, s, "backoff_max");
    v = v != NULL ? v : good_val(sec, s, "backoff");
    if (v != NULL) {
        cq_format_duration(a, sizeof(a), c->backoff_ms);
        cq_format_duration(b, sizeof(b), c->backoff_max_ms);
        cq_conf_diag(ld, v->start_mark, s->path, "lower backoff or raise backoff_max",
                     "backoff (%s) is greater than backoff_max (%s)", a, b);
    }
}

static void check_channel(struct cq_conf_loader *ld, const struct cq_conf_section *sec,
                          void *target, const struct cq_conf_seen *s)
{
    struct cq_channel_conf *c = target;
    bool bad;
    if (cq_conf_seen_val(sec, s, "type", &bad) == NULL) {
        cq_conf_diag(ld, cq_conf_section_mark(s), s->path, "add type: slack, email or webhook",
                     "missing type");
        return;
    }
    if (bad) {
        return;
    }
    check_applies(ld, sec, c, s);
    check_delivery(ld, sec, c, s);
    if (c->kind == CQ_CHANNEL_SLACK) {
        if (require(ld, sec, s, "webhook_url", "add webhook_url: ${SLACK_WEBHOOK_URL}")) {
            check_url(ld, sec, s, "webhook_url", c->webhook_url);
        }
    } else if (c->kind == CQ_CHANNEL_EMAIL) {
        check_email(ld, sec, c, s);
    } else {
        check_webhook(ld, sec, c, s);
    }
}

/* ---- the list ---------------------------------------------------------------------------- */

static bool channels_reserve(struct cq_conf_loader *ld, void *parent, size_t n)
{
    struct cq_conf *conf = parent;
    size_t need, cap = ld->channels_cap, bytes, place_bytes;
    if (!cq_size_add(&need, conf->n_channels, n)) {
        return false;
    }
    if (need <= cap) {
        return true;
    }
    cap = need > 2 * cap ? need : 2 * cap;
    if (!cq_size_mul(&bytes, cap, sizeof(*conf->channels)) ||
        !cq_size_mul(&place_bytes, cap, sizeof(*ld->channel_at))) {
        return false;
    }
    struct cq_channel_conf *v = cq_arena_alloc(ld->keep, bytes);
    struct cq_conf_place *at = cq_arena_alloc(&ld->tmp, place_bytes);
    if (v == NULL || at == NULL) {
        return false;
    }
    if (conf->n_channels > 0) {
        memcpy(v, conf->channels, conf->n_channels * sizeof(*v));
        memcpy(at, ld->channel_at, conf->n_channels * sizeof(*at));
    }
    conf->channels = v;
    ld->channel_at = at;
    ld->channels_cap = cap;
    return true;
}

static void *channels_add(struct cq_conf_loader *ld, void *parent, const char *name,
                          const yaml_node_t *key)
{
    struct cq_conf *conf = parent;
    struct cq_channel_conf *c = &conf->channels[conf->n_channels];
    memset(c, 0, sizeof(*c));
    if (cq_conf_apply_defaults(&channel_section, c) != CQ_OK) {
        ld->rc = CQ_EINTERNAL;
        return NULL;
    }
    c->name = cq_arena_strdup(ld->keep, name);
    if (c->name == NULL) {
        return NULL;
    }
    c->file = ld->kept_file;
    c->line = (int)key->start_mark.line + 1;
    ld->channel_at[conf->n_channels].file = ld->kept_file;
    ld->channel_at[conf->n_channels].mark = key->start_mark;
    conf->n_channels++;
    return c;
}

const struct cq_channel_conf *cq_conf_channel(const struct cq_conf *conf, const char *name)
{
    if (conf == NULL || name == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < conf->n_channels; i++) {
        if (strcmp(conf->channels[i].name, name) == 0) {
            return &conf->channels[i];
        }
    }
    return NULL;
}
