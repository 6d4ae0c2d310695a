/*
 * refs.c - the checks that need every file: alert ids and channel names unique across
 * files, alerts naming existing connections and channels, an alert's timeout only
 * lowering its connection's, and a state connection that can hold the store.
 *
 * Problems are reported at the places alerts.c and channels.c recorded while their
 * documents were open. Lookups use sorted name indexes, so many alerts cost n log n.
 */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "conf/internal.h"

/* One name of a conf array and its position there. */
struct named {
    const char *name;
    size_t i;
};

struct index {
    struct named *v; /* sorted by name, then position */
    size_t n;
    const char **names; /* the names in conf order, NULL-terminated (did-you-mean) */
    size_t n_names;
};

static int named_cmp(const void *a, const void *b)
{
    const struct named *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : (x->i < y->i ? -1 : (x->i > y->i));
}

/* Indexes the char * at name_off of n elements of stride bytes; NULL names are left out.
 * false when out of memory. */
static bool index_build(struct cq_conf_loader *ld, struct index *ix, const void *base, size_t n,
                        size_t stride, size_t name_off)
{
    memset(ix, 0, sizeof(*ix));
    ix->v = cq_conf_tmp_array(ld, n, sizeof(*ix->v));
    ix->names = cq_conf_tmp_array(ld, n + 1, sizeof(*ix->names));
    if (ix->v == NULL || ix->names == NULL) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = *(char *const *)((const char *)base + i * stride + name_off);
        if (name != NULL) {
            ix->v[ix->n].name = name;
            ix->v[ix->n++].i = i;
            ix->names[ix->n_names++] = name;
        }
    }
    qsort(ix->v, ix->n, sizeof(*ix->v), named_cmp);
    return true;
}

/* Position of the first element named name, or SIZE_MAX. */
static size_t index_find(const struct index *ix, const char *name)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix->v[mid].name, name) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < ix->n && strcmp(ix->v[lo].name, name) == 0 ? ix->v[lo].i : SIZE_MAX;
}

/* Reports every element after the first of each name; at[i] is where element i is. */
static void report_duplicates(struct cq_conf_loader *ld, const struct index *ix,
                              const struct cq_conf_place *at, const char *path, const char *what,
                              const char *rule)
{
    for (size_t k = 1, first = 0; k < ix->n && !cq_conf_full(ld); k++) {
        if (strcmp(ix->v[k].name, ix->v[first].name) != 0) {
            first = k;
            continue;
        }
        const struct cq_conf_place *f = &at[ix->v[first].i];
        cq_conf_diag_at(
            ld, &at[ix->v[k].i], path,
            cq_conf_tmpf(ld, "first defined at %s:%zu; %s", f->file, f->mark.line + 1, rule),
            "duplicate %s %s", what, cq_conf_quote(ld, ix->v[k].name));
    }
}

/* ---- alerts ------------------------------------------------------------------------------ */

static void check_timeout(struct cq_conf_loader *ld, struct cq_alert_conf *a,
                          const struct cq_conf_alert_ref *ref, const struct cq_conn_conf *cc)
{
    char mine[32], limit[32];
    int64_t max = cc->limits.timeout_ms;
    if (ref->timeout.file == NULL) {
        a->timeout_ms = max;
        return;
    }
    if (max == 0 || (a->timeout_ms > 0 && a->timeout_ms <= max)) {
        return;
    }
    cq_format_duration(mine, sizeof(mine), a->timeout_ms);
    cq_format_duration(limit, sizeof(limit), max);
    cq_conf_diag_at(ld, &ref->timeout, cq_conf_join_path(ld, ref->path, "timeout"),
                    cq_conf_tmpf(ld,
                                 "an alert can only lower its connection's timeout; raise "
                                 "connections.%s.limits.timeout instead",
                                 cc->name),
                    "%s is longer than connection '%s' allows (%s)",
                    a->timeout_ms == 0 ? "0 (no timeout)" : mine, cc->name, limit);
}

/* stamp[c] == alert + 1 when channel c was already listed by this alert. */
static void check_channels(struct cq_conf_loader *ld, const struct cq_alert_conf *a, size_t alert,
                           const struct cq_conf_alert_ref *ref, const struct index *chans,
                           size_t *stamp)
{
    const char *path = cq_conf_join_path(ld, ref->path, "channels");
    for (size_t j = 0; j < a->n_channels && ref->channels != NULL && !cq_conf_full(ld); j++) {
        size_t c = index_find(chans, a->channels[j]);
        if (c == SIZE_MAX) {
            cq_conf_diag_at(ld, &ref->channels[j], path,
                            cq_conf_names_hint(ld, a->channels[j], chans->names, chans->n_names,
                                               "channels", "define it under channels:"),
                            "unknown channel %s", cq_conf_quote(ld, a->channels[j]));
        } else if (stamp[c] == alert + 1) {
            cq_conf_diag_at(ld, &ref->channels[j], path, "list each channel once",
                            "channel %s is listed twice", cq_conf_quote(ld, a->channels[j]));
        } else {
            stamp[c] = alert + 1;
        }
    }
}

static void check_alert_refs(struct cq_conf_loader *ld, const struct index *conns,
                             const struct index *chans)
{
    struct cq_conf *conf = ld->conf;
    size_t *stamp = cq_conf_tmp_array(ld, conf->n_channels, sizeof(*stamp));
    for (size_t i = 0; stamp != NULL && i < conf->n_alerts && !cq_conf_full(ld); i++) {
        struct cq_alert_conf *a = &conf->alerts[i];
        const struct cq_conf_alert_ref *ref = &ld->alert_refs[i];
        if (a->connection != NULL && ref->conn.file != NULL) {
            size_t c = index_find(conns, a->connection);
            if (c == SIZE_MAX) {
                cq_conf_diag_at(ld, &ref->conn, cq_conf_join_path(ld, ref->path, "connection"),
                                cq_conf_names_hint(ld, a->connection, conns->names, conns->n_names,
                                                   "connections", "define it under connections:"),
                                "unknown connection %s", cq_conf_quote(ld, a->connection));
            } else {
                check_timeout(ld, a, ref, &conf->conns[c]);
            }
        }
        check_channels(ld, a, i, ref, chans, stamp);
    }
}

/* ---- state ------------------------------------------------------------------------------- */

static void check_state_conn(struct cq_conf_loader *ld, const struct index *conns)
{
    const char *name = ld->conf->state.connection;
    const char *path = "state.connection";
    if (ld->state_conn.file == NULL || name == NULL) {
        return;
    }
    size_t c = index_find(conns, name);
    if (c == SIZE_MAX) {
        cq_conf_diag_at(ld, &ld->state_conn, path,
                        cq_conf_names_hint(ld, name, conns->names, conns->n_names, "connections",
                                           "define it under connections:"),
                        "unknown connection %s", cq_conf_quote(ld, name));
        return;
    }
    const struct cq_conn_conf *cc = &ld->conf->conns[c];
    if (cc->driver != NULL && strcmp(cc->driver, "postgres") != 0) {
        cq_conf_diag_at(ld, &ld->state_conn, path,
                        "use a postgres connection, which several runners can share, or remove "
                        "state.connection to keep state in a local sqlite file",
                        "connection '%s' is %s; the state store needs postgres", cc->name,
                        cc->driver);
    } else if (cc->driver != NULL && cc->read_only) {
        cq_conf_diag_at(ld, &ld->state_conn, path,
                        cq_conf_tmpf(ld,
                                     "the store writes to it: set read_only: false under "
                                     "connections.%s, or use another connection",
                                     cc->name),
                        "connection '%s' is read-only", cc->name);
    }
}

void cq_conf_refs_check(struct cq_conf_loader *ld)
{
    struct cq_conf *conf = ld->conf;
    struct index conns, chans, ids;
    if (!index_build(ld, &conns, conf->conns, conf->n_conns, sizeof(*conf->conns),
                     offsetof(struct cq_conn_conf, name)) ||
        !index_build(ld, &chans, conf->channels, conf->n_channels, sizeof(*conf->channels),
                     offsetof(struct cq_channel_conf, name)) ||
        !index_build(ld, &ids, conf->alerts, conf->n_alerts, sizeof(*conf->alerts),
                     offsetof(struct cq_alert_conf, id))) {
        return;
    }
    /* ids: at[i] must be indexable by alert position, so gather the id places */
    struct cq_conf_place *id_at = cq_conf_tmp_array(ld, conf->n_alerts, sizeof(*id_at));
    for (size_t i = 0; id_at != NULL && i < conf->n_alerts; i++) {
        id_at[i] = ld->alert_refs[i].id;
    }
    if (id_at == NULL) {
        return;
    }
    report_duplicates(ld, &chans, ld->channel_at, "channels", "channel",
                      "channel names must be unique");
    report_duplicates(ld, &ids, id_at, "alerts", "alert id", "alert ids must be unique");
    check_alert_refs(ld, &conns, &chans);
    check_state_conn(ld, &conns);
}
