/*
 * include.c - the sections that may span files: alerts:, channels: and include:.
 *
 * They are applied in the order they are written (not table order), so the alerts of an
 * included file land where its include: line is. include: takes file names and glob(3)
 * patterns relative to the main file's directory; patterns expand sorted, and a pattern
 * that matches nothing is fine while a name that does not exist is an error. An included
 * file may hold only alerts: and channels:, and includes do not nest. Every file is read
 * at most once (by device and inode), and the main file is never included by a pattern
 * that happens to match it.
 *
 * Only cq_conf_load_file reads files: loading from memory (tests, the fuzzer) checks the
 * form of include: and never touches the filesystem.
 */
#include <errno.h>
#include <glob.h>
#include <string.h>
#include <sys/stat.h>

#include "base/mem.h"
#include "base/str.h"
#include "conf/internal.h"

struct file_id {
    dev_t dev;
    ino_t ino;
};

static bool included_unknown(struct cq_conf_loader *ld, const yaml_node_t *key, const char *path);

static const struct cq_conf_key include_key = {
    .name = "include",
    .type = CQ_CONF_K_STR,
    .hint = "write a file name or a pattern such as alerts.d/*.yaml"};

static const struct cq_conf_key included_keys[] = {
    {.name = "alerts", .type = CQ_CONF_K_DEFER},
    {.name = "channels", .type = CQ_CONF_K_DEFER},
};

static const struct cq_conf_section included_section = {included_keys, CQ_CONF_NKEYS(included_keys),
                                                        cq_conf_top_check, included_unknown};

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/* A top-level key of the main file in an included one: say where it belongs. */
static bool included_unknown(struct cq_conf_loader *ld, const yaml_node_t *key, const char *path)
{
    const char *name = cq_conf_scalar(key);
    const char *main_file = base_name(ld->conf->path);
    (void)path;
    if (!cq_conf_schema_top_key(name)) {
        return false; /* the usual unknown key, with did-you-mean over alerts, channels */
    }
    cq_conf_diag(ld, key->start_mark, name,
                 strcmp(name, "include") == 0
                     ? cq_conf_tmpf(ld, "includes do not nest: list the pattern in %s", main_file)
                     : cq_conf_tmpf(ld, "move it to %s", main_file),
                 "only alerts and channels may appear in an included file");
    return true;
}

/* ---- files ------------------------------------------------------------------------------- */

/* True when the file was read already; remembers it otherwise. */
static bool seen_file(struct cq_conf_loader *ld, const struct stat *st)
{
    struct file_id *ids = ld->file_ids;
    for (size_t i = 0; i < ld->n_file_ids; i++) {
        if (ids[i].dev == st->st_dev && ids[i].ino == st->st_ino) {
            return true;
        }
    }
    ids = cq_conf_grow(ld, &ld->tmp, ids, ld->n_file_ids, &ld->file_ids_cap, sizeof(*ids));
    if (ids != NULL) {
        ld->file_ids = ids;
        ids[ld->n_file_ids].dev = st->st_dev;
        ids[ld->n_file_ids].ino = st->st_ino;
        ld->n_file_ids++;
    }
    return false;
}

static void walk_included_doc(struct cq_conf_loader *ld)
{
    const yaml_node_t *root = yaml_document_get_root_node(ld->doc);
    if (root == NULL || cq_conf_is_null(root)) {
        return;
    }
    if (root->type != YAML_MAPPING_NODE) {
        cq_conf_diag(ld, root->start_mark, "", "an included file holds alerts: and channels:",
                     "the top level must be a mapping, got %s", cq_conf_kind(root));
        return;
    }
    cq_conf_walk_section(ld, &included_section, root, NULL, ld->conf, "");
}

/* Walks text as the included file path, with its own name and directory. */
static void walk_included(struct cq_conf_loader *ld, const char *path, const struct cq_buf *text)
{
    const char *file = ld->file, *base_dir = ld->base_dir;
    char *kept = ld->kept_file;
    if (cq_conf_add_file(ld, path) != CQ_OK) {
        return;
    }
    ld->file = ld->kept_file;
    ld->base_dir = cq_conf_dir_of(ld, path);
    ld->included = true;
    cq_conf_parse(ld, cq_buf_str(text), text->len, walk_included_doc);
    ld->included = false;
    ld->file = file;
    ld->base_dir = base_dir;
    ld->kept_file = kept;
}

/* Reads and walks one file. written: the include item as the user wrote it, for
 * messages; NULL for a file a pattern matched. */
static void include_file(struct cq_conf_loader *ld, const yaml_node_t *item, const char *path,
                         const char *written)
{
    struct stat st;
    struct cq_buf text;
    struct cq_err why = {0};
    const char *shown = cq_conf_quote(ld, written != NULL ? written : path);
    const char *hint = cq_conf_tmpf(ld, "include paths are relative to the directory of %s",
                                    base_name(ld->conf->path));
    if (stat(path, &st) != 0) {
        cq_conf_diag(ld, item->start_mark, "include", hint, "cannot read %s: %s", shown,
                     errno == ENOENT || errno == ENOTDIR ? "not found" : strerror(errno));
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        cq_conf_diag(ld, item->start_mark, "include", "use a pattern such as alerts.d/*.yaml",
                     "%s is a directory", shown);
        return;
    }
    if (seen_file(ld, &st) || ld->rc != CQ_OK) {
        return;
    }
    cq_buf_init(&text, CQ_CONF_MAX_FILE);
    if (cq_conf_read_file(path, &text, &why) != CQ_OK) {
        if (why.rc == CQ_ENOMEM) {
            ld->rc = CQ_ENOMEM;
        } else {
            cq_conf_diag(ld, item->start_mark, "include", hint, "cannot read %s: %s", shown,
                         why.msg);
        }
    } else {
        walk_included(ld, path, &text);
    }
    cq_buf_cleanup(&text);
}

/* dir/rel, with dir's glob characters escaped when the result is a pattern. */
static const char *join_dir(struct cq_conf_loader *ld, const char *rel, bool pattern)
{
    struct cq_buf b;
    const char *dir = ld->base_dir;
    if (rel[0] == '/' || dir[0] == '\0') {
        return rel;
    }
    while (rel[0] == '.' && rel[1] == '/') {
        rel += 2;
        while (*rel == '/') {
            rel++;
        }
    }
    cq_buf_init(&b, CQ_CONF_MAX_VALUE + 4096);
    for (const char *p = dir; *p != '\0'; p++) {
        if (pattern && strchr("*?[\\", *p) != NULL) {
            cq_buf_putc(&b, '\\');
        }
        cq_buf_putc(&b, *p);
    }
    if (dir[strlen(dir) - 1] != '/') {
        cq_buf_putc(&b, '/');
    }
    cq_buf_puts(&b, rel);
    const char *out = cq_buf_rc(&b) == CQ_OK ? cq_conf_tmpf(ld, "%s", cq_buf_str(&b)) : "";
    ld->rc = cq_buf_rc(&b) == CQ_ENOMEM ? CQ_ENOMEM : ld->rc;
    cq_buf_cleanup(&b);
    return out;
}

static void include_pattern(struct cq_conf_loader *ld, const yaml_node_t *item, const char *text)
{
    glob_t g;
    if (strpbrk(text, "*?[") == NULL) {
        include_file(ld, item, join_dir(ld, text, false), text);
        return;
    }
    memset(&g, 0, sizeof(g));
    int grc = glob(join_dir(ld, text, true), GLOB_MARK, NULL, &g);
    if (grc == GLOB_NOSPACE) {
        ld->rc = CQ_ENOMEM;
    } else if (grc == GLOB_ABORTED) {
        cq_conf_diag(ld, item->start_mark, "include", "check the directory's permissions",
                     "cannot read the directory of %s", cq_conf_quote(ld, text));
    }
    for (size_t i = 0; grc == 0 && i < g.gl_pathc && !cq_conf_full(ld); i++) {
        size_t n = strlen(g.gl_pathv[i]);
        if (n > 0 && g.gl_pathv[i][n - 1] != '/') { /* GLOB_MARK: directories end in '/' */
            include_file(ld, item, g.gl_pathv[i], NULL);
        }
    }
    globfree(&g);
}

/* The main file counts as read: a pattern matching it does not include it again. */
static void remember_main(struct cq_conf_loader *ld)
{
    struct stat st;
    if (ld->n_file_ids == 0 && stat(ld->conf->path, &st) == 0) {
        seen_file(ld, &st);
    }
}

static void walk_includes(struct cq_conf_loader *ld, const yaml_node_t *v)
{
    const yaml_node_item_t *items = NULL;
    size_t n = 1;
    if (cq_conf_is_null(v)) {
        return;
    }
    if (v->type == YAML_MAPPING_NODE) {
        cq_conf_diag(ld, v->start_mark, "include", "write include: [alerts.yaml, alerts.d/*.yaml]",
                     "expected a list of file names or patterns, got a mapping");
        return;
    }
    if (v->type == YAML_SEQUENCE_NODE) {
        items = v->data.sequence.items.start;
        n = (size_t)(v->data.sequence.items.top - items);
    }
    for (size_t i = 0; i < n && !cq_conf_full(ld); i++) {
        const yaml_node_t *item = items != NULL ? cq_conf_node(ld, items[i]) : v;
        const char *text =
            item != NULL ? cq_conf_scalar_text(ld, &include_key, item, "include") : NULL;
        if (text != NULL && *text == '\0') {
            cq_conf_diag(ld, item->start_mark, "include", include_key.hint, "empty file name");
        } else if (text != NULL && ld->read_files) {
            remember_main(ld);
            include_pattern(ld, item, text);
        }
    }
}

/* ---- the top level ----------------------------------------------------------------------- */

void cq_conf_top_check(struct cq_conf_loader *ld, const struct cq_conf_section *sec, void *target,
                       const struct cq_conf_seen *s)
{
    static const char *const names[] = {"channels", "alerts", "include"};
    const yaml_node_t *key[3], *val[3];
    size_t order[3], n = 0;
    (void)target;
    for (size_t i = 0; i < 3; i++) {
        key[i] = cq_conf_seen_key(sec, s, names[i]);
        val[i] = cq_conf_seen_val(sec, s, names[i], NULL);
        if (key[i] == NULL) {
            continue;
        }
        size_t j = n++;
        while (j > 0 && key[order[j - 1]]->start_mark.index > key[i]->start_mark.index) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (size_t j = 0; j < n && !cq_conf_full(ld); j++) {
        size_t i = order[j];
        if (i == 0) {
            cq_conf_walk_list(ld, &cq_conf_channels_list, val[i], ld->conf, "channels");
        } else if (i == 1) {
            cq_conf_alerts_walk(ld, val[i]);
        } else {
            walk_includes(ld, val[i]);
        }
    }
}
