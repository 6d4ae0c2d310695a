/*
 * catalog.c - the `catalog:` and `roles:` sections: the governed-query metadata and roles,
 * converted from YAML to the spec's JSON shapes (MetadataConfig, RoleMeta[]) or read from
 * the JSON files they name. conf checks only the form it needs; dsl/ checks the content
 * (spec §6 and the role rules) when it builds the catalog.
 *
 *   catalog:                         catalog:
 *     databases: [...]                 file: catalog.json      # relative to this file
 *     tables: [...]                    connections: {pg-main: main}
 *     caches: [...]
 *     externalSyncs: [...]           roles: [...]   or   roles: {file: roles.json}
 *     trino: {enabled: true}
 *     connections: {dbId: connName}
 *
 * YAML typing follows the YAML 1.2 core schema on the text after ${VAR} expansion: plain
 * true/false -> boolean, plain integers and floats -> numbers, plain null/~/empty -> null,
 * anything quoted or in a block scalar -> string. A JSON file may also hold the
 * /validate/config body shape {"metadata": {...}, "roles": [...]}; its roles are used when
 * there is no roles: section. Only cq_conf_load_file reads those files: a load from memory
 * records the path in catalog_file and leaves catalog (or roles) NULL.
 *
 * Connections: a database's own `connection:` member, else catalog.connections, else a
 * connection named like the database id whose driver is the database's engine. The
 * resulting map (explicit entries and those defaults) is conf->catalog_conns, the
 * `connections` argument of cq_dsl_catalog_new. Names that are no connection get a
 * did-you-mean, and a connection whose driver is not the database's engine is refused.
 *
 * Aliases: a node converts once and is shared by reference (jansson counts), so an alias
 * bomb costs one conversion per distinct node; a node that contains itself is reported.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "conf/internal.h"

#define MAX_DEPTH 64 /* nesting of a catalog; real ones need 6 */

/* Where a node sits, for messages: a chain up to the section key. */
struct ypath {
    const struct ypath *up;
    const char *key; /* mapping key, or NULL for a sequence item */
    size_t idx;      /* sequence index */
};

struct conv {
    struct cq_conf_loader *ld;
    json_t **memo;       /* per document node: its conversion (borrowed), or NULL */
    unsigned char *busy; /* per node: being converted (an alias to an ancestor) */
    size_t n_nodes;
    bool failed;         /* a problem was reported: the result is not used */
};

static const struct cq_conf_key text_key = {.name = "catalog", .type = CQ_CONF_K_STR};

static const char *const catalog_keys[] = {"databases", "tables", "caches", "externalSyncs",
                                           "trino", "connections", "file", NULL};

/* ---- messages ----------------------------------------------------------------------------- */

static void render(struct cq_buf *b, const struct ypath *p)
{
    if (p == NULL) {
        return;
    }
    render(b, p->up);
    if (p->key != NULL) {
        cq_buf_printf(b, "%s%s", p->up != NULL ? "." : "", p->key);
    } else {
        cq_buf_printf(b, "[%zu]", p->idx);
    }
}

static const char *path_str(struct cq_conf_loader *ld, const struct ypath *p)
{
    struct cq_buf b;
    cq_buf_init(&b, 4096);
    render(&b, p);
    const char *s = cq_conf_tmpf(ld, "%s", cq_buf_str(&b));
    cq_buf_cleanup(&b);
    return s;
}

/* ---- YAML -> JSON ------------------------------------------------------------------------- */

static bool all_digits(const char *s)
{
    size_t n = strspn(s, "0123456789");
    return n > 0 && s[n] == '\0';
}

/* YAML 1.2 core float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s)
{
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0, d = strspn(s + i, "0123456789");
    i += d;
    if (s[i] == '.') {
        size_t f = strspn(s + i + 1, "0123456789");
        if (d == 0 && f == 0) {
            return false;
        }
        i += 1 + f;
    } else if (d == 0) {
        return false;
    }
    if (s[i] == 'e' || s[i] == 'E') {
        i++;
        i += (s[i] == '-' || s[i] == '+') ? 1 : 0;
        size_t e = strspn(s + i, "0123456789");
        if (e == 0) {
            return false;
        }
        i += e;
    }
    return s[i] == '\0';
}

/* A plain scalar's JSON value by the core schema (text already expanded). */
static json_t *typed(const char *s)
{
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    for (size_t i = 0; trues[i] != NULL; i++) {
        if (strcmp(s, trues[i]) == 0) {
            return json_true();
        }
        if (strcmp(s, falses[i]) == 0) {
            return json_false();
        }
    }
    const char *digits = (s[0] == '-' || s[0] == '+') ? s + 1 : s;
    if (all_digits(digits)) {
        errno = 0;
        long long v = strtoll(s, NULL, 10);
        if (errno == 0) {
            return json_integer((json_int_t)v);
        }
        return json_real(strtod(s, NULL)); /* past int64: a number all the same */
    }
    if (is_float(s)) {
        return json_real(strtod(s, NULL));
    }
    return json_string(s);
}

static json_t *scalar_json(struct conv *cv, const yaml_node_t *n, const struct ypath *p)
{
    if (cq_conf_is_null(n)) {
        return json_null();
    }
    const char *text = cq_conf_scalar_text(cv->ld, &text_key, n, path_str(cv->ld, p));
    if (text == NULL) {
        cv->failed = true;
        return NULL;
    }
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        return typed(text);
    }
    return json_string(text);
}

static json_t *node_json(struct conv *cv, const yaml_node_t *n, const struct ypath *p, int depth);

static json_t *seq_json(struct conv *cv, const yaml_node_t *n, const struct ypath *p, int depth)
{
    json_t *a = json_array();
    size_t i = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start;
         a != NULL && it < n->data.sequence.items.top; it++, i++) {
        struct ypath sub = {p, NULL, i};
        const yaml_node_t *child = cq_conf_node(cv->ld, *it);
        json_t *v = child != NULL ? node_json(cv, child, &sub, depth + 1) : json_null();
        if (v == NULL || json_array_append_new(a, v) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *map_json(struct conv *cv, const yaml_node_t *n, const struct ypath *p, int depth)
{
    json_t *o = json_object();
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
         o != NULL && pr < n->data.mapping.pairs.top; pr++) {
        const yaml_node_t *k = cq_conf_node(cv->ld, pr->key), *v = cq_conf_node(cv->ld, pr->value);
        if (k == NULL || v == NULL) {
            continue;
        }
        if (k->type != YAML_SCALAR_NODE) {
            cq_conf_diag(cv->ld, k->start_mark, path_str(cv->ld, p), "write plain names as keys",
                         "a key must be a name, not %s", cq_conf_kind(k));
            goto fail;
        }
        const char *name = cq_conf_scalar(k);
        if (json_object_get(o, name) != NULL) {
            cq_conf_diag(cv->ld, k->start_mark, path_str(cv->ld, p), "keep one",
                         "duplicate key %s", cq_conf_quote(cv->ld, name));
            goto fail;
        }
        struct ypath sub = {p, name, 0};
        json_t *jv = node_json(cv, v, &sub, depth + 1);
        if (jv == NULL || json_object_set_new(o, name, jv) != 0) {
            goto fail;
        }
    }
    return o;
fail:
    cv->failed = true;
    json_decref(o);
    return NULL;
}

/* A new reference to n's JSON, or NULL (reported, or cv->ld->rc set). */
static json_t *node_json(struct conv *cv, const yaml_node_t *n, const struct ypath *p, int depth)
{
    size_t i = (size_t)(n - cv->ld->doc->nodes.start);
    json_t *j = NULL;
    if (cv->failed || cq_conf_full(cv->ld) || i >= cv->n_nodes) {
        cv->failed = true;
        return NULL;
    }
    if (cv->memo[i] != NULL) {
        return json_incref(cv->memo[i]);
    }
    if (cv->busy[i] || depth > MAX_DEPTH) {
        cq_conf_diag(cv->ld, n->start_mark, path_str(cv->ld, p),
                     "write the structure out instead of nesting an alias in itself",
                     cv->busy[i] ? "an alias refers to a value that contains it"
                                 : "nested more than %d levels deep",
                     MAX_DEPTH);
        cv->failed = true;
        return NULL;
    }
    cv->busy[i] = 1;
    switch (n->type) {
    case YAML_SCALAR_NODE:
        j = scalar_json(cv, n, p);
        break;
    case YAML_SEQUENCE_NODE:
        j = seq_json(cv, n, p, depth);
        break;
    case YAML_MAPPING_NODE:
        j = map_json(cv, n, p, depth);
        break;
    default:
        j = json_null();
        break;
    }
    cv->busy[i] = 0;
    if (j == NULL && !cv->failed) {
        cv->ld->rc = CQ_ENOMEM; /* jansson could not allocate */
        cv->failed = true;
    }
    cv->memo[i] = j;
    return j;
}

static bool conv_init(struct conv *cv, struct cq_conf_loader *ld)
{
    memset(cv, 0, sizeof(*cv));
    cv->ld = ld;
    cv->n_nodes = (size_t)(ld->doc->nodes.top - ld->doc->nodes.start);
    cv->memo = cq_conf_tmp_array(ld, cv->n_nodes, sizeof(*cv->memo));
    cv->busy = cq_conf_tmp_array(ld, cv->n_nodes, sizeof(*cv->busy));
    return cv->memo != NULL && cv->busy != NULL;
}

/* n converted with its path rooted at `root`; NULL after a reported problem. */
static json_t *to_json(struct cq_conf_loader *ld, const yaml_node_t *n, const char *root)
{
    struct conv cv;
    struct ypath p = {NULL, root, 0};
    if (!conv_init(&cv, ld)) {
        return NULL;
    }
    json_t *j = node_json(&cv, n, &p, 0);
    if (cv.failed) {
        json_decref(j);
        return NULL;
    }
    return j;
}

json_t *cq_conf_yaml_json(struct cq_conf_loader *ld, const yaml_node_t *n, const char *root)
{
    return to_json(ld, n, root);
}

/* ---- JSON files --------------------------------------------------------------------------- */

/* Reads and parses the JSON file named by the scalar fv (relative to the config file).
 * *kept is the resolved path, kept by the conf. NULL after reporting a problem. */
static json_t *read_json(struct cq_conf_loader *ld, const yaml_node_t *fv, const char *path,
                         char **kept)
{
    struct cq_buf text;
    struct cq_err why = {0};
    json_error_t jerr;
    json_t *j = NULL;
    const char *name = cq_conf_scalar_text(ld, &text_key, fv, path);
    *kept = NULL;
    if (name == NULL) {
        return NULL;
    }
    if (*name == '\0') {
        cq_conf_diag(ld, fv->start_mark, path, "name a JSON file", "empty file name");
        return NULL;
    }
    char *copy = cq_arena_strdup(ld->keep, name);
    if (copy == NULL) {
        ld->rc = CQ_ENOMEM;
        return NULL;
    }
    *kept = cq_conf_resolve_path(ld, copy);
    if (!ld->read_files) {
        return NULL; /* a load from memory reads no file */
    }
    cq_buf_init(&text, CQ_CONF_MAX_FILE);
    if (cq_conf_read_file(*kept, &text, &why) != CQ_OK) {
        if (why.rc == CQ_ENOMEM) {
            ld->rc = CQ_ENOMEM;
        } else {
            cq_conf_diag(ld, fv->start_mark, path,
                         "the path is relative to the directory of the config file",
                         "cannot read '%s': %s", cq_conf_clean(ld, *kept), why.msg);
        }
        goto out;
    }
    j = json_loadb(cq_buf_str(&text), text.len, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) {
        struct cq_conf_place at = {*kept, {0, 0, 0}};
        at.mark.line = jerr.line > 0 ? (size_t)jerr.line - 1 : 0;
        at.mark.column = jerr.column > 0 ? (size_t)jerr.column - 1 : 0;
        cq_conf_diag_at(ld, &at, path, "check the JSON syntax (a validator or jq shows it)",
                        "invalid JSON: %s", jerr.text);
        goto out;
    }
    char *prev = ld->kept_file; /* list the file for reloads without making it current */
    if (cq_conf_add_file(ld, *kept) == CQ_OK) {
        ld->kept_file = prev;
    }
out:
    cq_buf_cleanup(&text);
    return j;
}

/* ---- connections -------------------------------------------------------------------------- */

static const char **conn_names(struct cq_conf_loader *ld)
{
    const struct cq_conf *conf = ld->conf;
    const char **names = cq_conf_tmp_array(ld, conf->n_conns + 1, sizeof(*names));
    for (size_t i = 0; names != NULL && i < conf->n_conns; i++) {
        names[i] = conf->conns[i].name;
    }
    return names;
}

/* Reports when name is no connection, or one of another driver than engine. */
static bool check_conn_ref(struct cq_conf_loader *ld, yaml_mark_t at, const char *path,
                           const char *name, const char *engine, const char *db)
{
    const struct cq_conn_conf *cc = cq_conf_conn(ld->conf, name);
    if (cc == NULL) {
        const char **names = conn_names(ld);
        cq_conf_diag(ld, at, path,
                     names == NULL ? NULL
                                   : cq_conf_names_hint(ld, name, names, ld->conf->n_conns,
                                                        "connections",
                                                        "define it under connections:"),
                     "database '%s': unknown connection %s", db, cq_conf_quote(ld, name));
        return false;
    }
    if (engine != NULL && cc->driver != NULL && strcmp(engine, cc->driver) != 0) {
        cq_conf_diag(ld, at, path, "map the database to a connection of its engine",
                     "database '%s' is %s but connection '%s' is %s", db, engine, name,
                     cc->driver);
        return false;
    }
    return true;
}

/* The database object with that id in the metadata, or NULL. */
static const json_t *find_db(const json_t *md, const char *id)
{
    const json_t *dbs = json_object_get(md, "databases"), *d;
    size_t i;
    json_array_foreach(dbs, i, d) {
        const char *did = json_string_value(json_object_get(d, "id"));
        if (did != NULL && strcmp(did, id) == 0) {
            return d;
        }
    }
    return NULL;
}

/* catalog.connections: a mapping of database id -> connection name. */
static json_t *explicit_conns(struct cq_conf_loader *ld, const yaml_node_t *cn, const json_t *md)
{
    json_t *map = json_object();
    const char *path = "catalog.connections";
    if (map == NULL || cn == NULL || cq_conf_is_null(cn)) {
        return map;
    }
    if (cn->type != YAML_MAPPING_NODE) {
        cq_conf_diag(ld, cn->start_mark, path, "write databaseId: connectionName lines",
                     "expected a mapping of database ids to connection names, got %s",
                     cq_conf_kind(cn));
        return map;
    }
    for (yaml_node_pair_t *pr = cn->data.mapping.pairs.start; pr < cn->data.mapping.pairs.top;
         pr++) {
        const yaml_node_t *k = cq_conf_node(ld, pr->key), *v = cq_conf_node(ld, pr->value);
        if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE) {
            continue;
        }
        const char *db = cq_conf_scalar(k);
        const char *sub = cq_conf_join_path(ld, path, db);
        const char *name = cq_conf_scalar_text(ld, &text_key, v, sub);
        const json_t *d = md != NULL ? find_db(md, db) : NULL;
        if (name == NULL) {
            continue;
        }
        if (md != NULL && d == NULL) {
            cq_conf_diag(ld, k->start_mark, path, "use the id of a database of the catalog",
                         "unknown database %s", cq_conf_quote(ld, db));
            continue;
        }
        if (check_conn_ref(ld, v->start_mark, sub, name,
                           json_string_value(json_object_get(d, "engine")), db) &&
            json_object_set_new(map, db, json_string(name)) != 0) {
            ld->rc = CQ_ENOMEM;
        }
    }
    return map;
}

/* The YAML `connection:` node of databases[i], for pointing at it; NULL in file form. */
static const yaml_node_t *yaml_db_conn(struct cq_conf_loader *ld, const yaml_node_t *dbs,
                                       size_t i)
{
    if (dbs == NULL || dbs->type != YAML_SEQUENCE_NODE ||
        (ptrdiff_t)i >= dbs->data.sequence.items.top - dbs->data.sequence.items.start) {
        return NULL;
    }
    const yaml_node_t *d = cq_conf_node(ld, dbs->data.sequence.items.start[i]);
    if (d == NULL || d->type != YAML_MAPPING_NODE) {
        return NULL;
    }
    for (yaml_node_pair_t *pr = d->data.mapping.pairs.start; pr < d->data.mapping.pairs.top;
         pr++) {
        const yaml_node_t *k = cq_conf_node(ld, pr->key);
        if (k != NULL && k->type == YAML_SCALAR_NODE &&
            strcmp(cq_conf_scalar(k), "connection") == 0) {
            return cq_conf_node(ld, pr->value);
        }
    }
    return NULL;
}

/* Checks each database's own connection and fills the defaults into map. */
static void database_conns(struct cq_conf_loader *ld, const json_t *md, const yaml_node_t *dbs,
                           yaml_mark_t fallback, json_t *map)
{
    const json_t *d;
    size_t i;
    json_array_foreach(json_object_get(md, "databases"), i, d) {
        const char *id = json_string_value(json_object_get(d, "id"));
        const char *engine = json_string_value(json_object_get(d, "engine"));
        const char *own = json_string_value(json_object_get(d, "connection"));
        if (id == NULL) {
            continue; /* dsl reports it */
        }
        if (own != NULL) {
            const yaml_node_t *at = yaml_db_conn(ld, dbs, i);
            check_conn_ref(ld, at != NULL ? at->start_mark : fallback,
                           cq_conf_tmpf(ld, "catalog.databases[%zu].connection", i), own, engine,
                           id);
            continue;
        }
        const struct cq_conn_conf *cc = cq_conf_conn(ld->conf, id);
        if (json_object_get(map, id) == NULL && cc != NULL && engine != NULL &&
            cc->driver != NULL && strcmp(cc->driver, engine) == 0 &&
            json_object_set_new(map, id, json_string(id)) != 0) {
            ld->rc = CQ_ENOMEM;
        }
    }
}

/* ---- catalog: ---------------------------------------------------------------------------- */

/* The keys of the catalog mapping: known ones, and not file: with inline metadata. */
static bool catalog_form(struct cq_conf_loader *ld, const yaml_node_t *v, const yaml_node_t **file,
                         const yaml_node_t **conns)
{
    const yaml_node_t *inline_key = NULL, *file_key = NULL;
    bool ok = true;
    *file = *conns = NULL;
    for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top;
         pr++) {
        const yaml_node_t *k = cq_conf_node(ld, pr->key), *val = cq_conf_node(ld, pr->value);
        const char *name = k != NULL && k->type == YAML_SCALAR_NODE ? cq_conf_scalar(k) : NULL;
        size_t j = 0;
        while (name != NULL && catalog_keys[j] != NULL && strcmp(catalog_keys[j], name) != 0) {
            j++;
        }
        if (name == NULL || catalog_keys[j] == NULL) {
            cq_conf_diag(ld, k != NULL ? k->start_mark : v->start_mark, "catalog",
                         cq_conf_names_hint(ld, name != NULL ? name : "", catalog_keys, 7,
                                            "valid keys", NULL),
                         "unknown key %s", cq_conf_quote(ld, name != NULL ? name : "?"));
            ok = false;
        } else if (strcmp(name, "file") == 0) {
            *file = val;
            file_key = k;
        } else if (strcmp(name, "connections") == 0) {
            *conns = val;
        } else if (inline_key == NULL) {
            inline_key = k;
        }
    }
    if (file_key != NULL && inline_key != NULL) {
        cq_conf_diag(ld, inline_key->start_mark, "catalog",
                     "keep one: file: names a JSON MetadataConfig, or write databases:, "
                     "tables: ... here",
                     "both file: and inline metadata are set");
        ok = false;
    }
    return ok;
}

/* Inline metadata: every key but connections, in document order. */
static json_t *inline_metadata(struct cq_conf_loader *ld, const yaml_node_t *v)
{
    json_t *all = to_json(ld, v, "catalog");
    if (all != NULL) {
        json_object_del(all, "connections");
    }
    return all;
}

/* file form: the MetadataConfig, or the body shape {"metadata", "roles"}. */
static json_t *file_metadata(struct cq_conf_loader *ld, const yaml_node_t *fv)
{
    char *kept = NULL;
    json_t *j = read_json(ld, fv, "catalog.file", &kept);
    ld->conf->catalog_file = kept;
    if (j == NULL) {
        return NULL;
    }
    json_t *md = json_object_get(j, "metadata");
    if (json_is_object(md)) {
        json_t *roles = json_object_get(j, "roles");
        json_incref(md);
        if (json_is_array(roles) && ld->conf->roles == NULL) {
            ld->conf->roles = json_incref(roles);
        }
        json_decref(j);
        return md;
    }
    if (!json_is_object(j)) {
        cq_conf_diag(ld, fv->start_mark, "catalog.file",
                     "the file holds a MetadataConfig object {\"databases\": [...], \"tables\": "
                     "[...], ...}",
                     "'%s' must hold a JSON object, got %s", cq_conf_clean(ld, kept),
                     json_is_array(j) ? "an array" : "a single value");
        json_decref(j);
        return NULL;
    }
    return j;
}

bool cq_conf_catalog_apply(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                           const struct cq_conf_seen *s, int i, void *target)
{
    struct cq_conf *conf = target;
    const yaml_node_t *v = s->val[i], *file = NULL, *conns = NULL;
    (void)k;
    if (cq_conf_is_null(v)) {
        return true; /* an empty section: no catalog */
    }
    if (v->type != YAML_MAPPING_NODE) {
        cq_conf_diag(ld, v->start_mark, "catalog",
                     "write databases:, tables:, caches:, externalSyncs: under it, or "
                     "file: catalog.json",
                     "expected a mapping, got %s", cq_conf_kind(v));
        return false;
    }
    if (!catalog_form(ld, v, &file, &conns)) {
        return false;
    }
    size_t before = ld->n_problems;
    if (file == NULL) {
        conf->catalog_file = ld->kept_file;
        conf->catalog = inline_metadata(ld, v);
    } else {
        conf->catalog = file_metadata(ld, file);
    }
    if (ld->n_problems > before || ld->rc != CQ_OK) {
        return false;
    }
    conf->catalog_conns = explicit_conns(ld, conns, conf->catalog);
    if (conf->catalog_conns == NULL) {
        ld->rc = CQ_ENOMEM;
        return false;
    }
    if (conf->catalog != NULL) {
        const yaml_node_t *dbs = NULL;
        for (yaml_node_pair_t *pr = v->data.mapping.pairs.start;
             file == NULL && pr < v->data.mapping.pairs.top; pr++) {
            const yaml_node_t *key = cq_conf_node(ld, pr->key);
            if (key != NULL && strcmp(cq_conf_scalar(key), "databases") == 0) {
                dbs = cq_conf_node(ld, pr->value);
            }
        }
        database_conns(ld, conf->catalog, dbs, (file != NULL ? file : v)->start_mark,
                       conf->catalog_conns);
    }
    return ld->n_problems == before;
}

/* ---- roles: ------------------------------------------------------------------------------- */

/* The value of a mapping's only key when that key is file:, else NULL. */
static const yaml_node_t *file_form(struct cq_conf_loader *ld, const yaml_node_t *v)
{
    if (v->type != YAML_MAPPING_NODE ||
        v->data.mapping.pairs.top - v->data.mapping.pairs.start != 1) {
        return NULL;
    }
    const yaml_node_t *k = cq_conf_node(ld, v->data.mapping.pairs.start->key);
    if (k == NULL || k->type != YAML_SCALAR_NODE || strcmp(cq_conf_scalar(k), "file") != 0) {
        return NULL;
    }
    return cq_conf_node(ld, v->data.mapping.pairs.start->value);
}

/* roles: {file: roles.json}: a JSON array, or the body shape {"roles": [...]}. */
static json_t *file_roles(struct cq_conf_loader *ld, const yaml_node_t *fv)
{
    char *kept = NULL;
    json_t *roles = read_json(ld, fv, "roles.file", &kept);
    json_t *inner = json_object_get(roles, "roles");
    if (json_is_array(inner)) {
        json_incref(inner);
        json_decref(roles);
        roles = inner;
    }
    if (roles != NULL && !json_is_array(roles)) {
        cq_conf_diag(ld, fv->start_mark, "roles.file",
                     "the file holds a JSON array of roles [{\"id\": ..., \"tables\": ...}]",
                     "'%s' must hold a JSON array, got %s", cq_conf_clean(ld, kept),
                     json_is_object(roles) ? "an object" : "a single value");
        json_decref(roles);
        return NULL;
    }
    return roles;
}

bool cq_conf_roles_apply(struct cq_conf_loader *ld, const struct cq_conf_key *k,
                         const struct cq_conf_seen *s, int i, void *target)
{
    struct cq_conf *conf = target;
    const yaml_node_t *v = s->val[i], *fv = file_form(ld, v);
    json_t *roles = NULL;
    size_t before = ld->n_problems;
    (void)k;
    if (cq_conf_is_null(v)) {
        return true;
    }
    if (v->type == YAML_SEQUENCE_NODE) {
        roles = to_json(ld, v, "roles");
    } else if (fv != NULL) {
        roles = file_roles(ld, fv);
    } else {
        cq_conf_diag(ld, v->start_mark, "roles",
                     "write a list of roles ('- id: admin' with 'tables: \"*\"' below it) or "
                     "file: roles.json",
                     "expected a list of roles or {file: ...}, got %s", cq_conf_kind(v));
        return false;
    }
    if (roles == NULL) {
        return ld->rc == CQ_OK && ld->n_problems == before; /* not read: a memory load */
    }
    json_decref(conf->roles); /* a roles: section wins over roles in the catalog file */
    conf->roles = roles;
    return true;
}
