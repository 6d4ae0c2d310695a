/*
 * conf.c - loading clariq.yaml: reading the file, libyaml, the list of diagnostics, and
 * the conf object's lifetime. What the keys mean lives in schema.c, ${VAR} in env.c.
 *
 * A conf and all its strings live in one arena next to it (struct conf_box), so
 * cq_conf_free is a single release and a half-built conf on a failed load costs one call;
 * only the time zones the alerts use are separate objects, listed in the box.
 * libyaml's document API gives every node a mark (line, column) and resolves aliases, so
 * anchors/aliases are supported; merge keys (<<) are not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/str.h"
#include "conf/demo_catalog.h"
#include "conf/internal.h"

#define READ_CHUNK 16384 /* bytes per read(2) */

struct conf_box {
    struct cq_conf conf;   /* first, so a struct cq_conf * is the box */
    struct cq_arena arena; /* everything the conf points to */
    struct cq_tz **tzs;    /* zones the alerts point to (heap array) */
    size_t n_tzs, cap_tzs;
};

/* ---- diagnostics ------------------------------------------------------------------------- */

bool cq_conf_full(const struct cq_conf_loader *ld)
{
    /* One problem past the cap proves there are more: stop there, so hostile input costs
     * bounded work. */
    return ld->n_problems > CQ_CONF_MAX_DIAGS || ld->rc != CQ_OK;
}

const char *cq_conf_tmpf(struct cq_conf_loader *ld, const char *fmt, ...)
{
    struct cq_buf b;
    va_list ap;
    const char *s;
    cq_buf_init(&b, 4096);
    va_start(ap, fmt);
    cq_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    s = cq_arena_strndup(&ld->tmp, cq_buf_str(&b), b.len);
    if (s == NULL || cq_buf_rc(&b) == CQ_ENOMEM) {
        ld->rc = CQ_ENOMEM;
        s = "";
    }
    cq_buf_cleanup(&b);
    return s;
}

static int diags_push(struct cq_conf_diags *d, const char *file, int line, int col, char *msg,
                      const char *hint)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8, bytes;
        struct cq_conf_diag *v = NULL;
        if (cq_size_mul(&bytes, cap, sizeof(*v))) {
            v = cq_realloc(d->v, bytes);
        }
        if (v == NULL) {
            cq_free(msg);
            return CQ_ENOMEM;
        }
        d->v = v;
        d->cap = cap;
    }
    struct cq_conf_diag *g = &d->v[d->n];
    g->file = cq_strdup(file);
    g->line = line;
    g->col = col;
    g->msg = msg;
    g->hint = cq_strdup(hint);
    d->n++; /* counted even when a copy failed, so cleanup frees what exists */
    return g->file == NULL || (hint != NULL && g->hint == NULL) ? CQ_ENOMEM : CQ_OK;
}

void cq_conf_diag(struct cq_conf_loader *ld, yaml_mark_t mark, const char *path, const char *hint,
                  const char *fmt, ...)
{
    struct cq_buf b;
    va_list ap;
    if (ld->rc != CQ_OK || ++ld->n_problems > CQ_CONF_MAX_DIAGS) {
        return;
    }
    cq_buf_init(&b, 2048);
    if (path != NULL && *path != '\0') {
        cq_buf_printf(&b, "%s: ", path);
    }
    va_start(ap, fmt);
    cq_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    /* A message over the cap keeps what fit; only a failed allocation loses it. */
    char *msg = cq_buf_rc(&b) == CQ_ENOMEM ? NULL : cq_buf_take(&b);
    cq_buf_cleanup(&b);
    if (msg == NULL) {
        ld->rc = CQ_ENOMEM;
        return;
    }
    /* line/column fit an int: libyaml marks, bounded by the 16 MB file cap. */
    int rc = diags_push(ld->diags, ld->file, (int)mark.line + 1, (int)mark.column + 1, msg, hint);
    if (rc != CQ_OK) {
        ld->rc = rc;
    }
}

void cq_conf_diag_at(struct cq_conf_loader *ld, const struct cq_conf_place *at, const char *path,
                     const char *hint, const char *fmt, ...)
{
    struct cq_buf b;
    va_list ap;
    const char *file = ld->file;
    cq_buf_init(&b, 2048);
    va_start(ap, fmt);
    cq_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (cq_buf_rc(&b) == CQ_ENOMEM) {
        ld->rc = CQ_ENOMEM;
    } else {
        ld->file = at->file != NULL ? at->file : ld->file;
        cq_conf_diag(ld, at->mark, path, hint, "%s", cq_buf_str(&b));
        ld->file = file;
    }
    cq_buf_cleanup(&b);
}

/* Position of file in conf->files (files read first sort first). */
static size_t file_rank(const struct cq_conf *conf, const char *file)
{
    for (size_t i = 0; conf != NULL && file != NULL && i < conf->n_files; i++) {
        if (strcmp(conf->files[i], file) == 0) {
            return i;
        }
    }
    return SIZE_MAX;
}

static bool diag_before(const struct cq_conf_diag *a, size_t ra, const struct cq_conf_diag *b,
                        size_t rb)
{
    if (ra != rb) {
        return ra < rb;
    }
    return a->line < b->line || (a->line == b->line && a->col < b->col);
}

/* File order reads best: by file (as read), then position; insertion sort keeps equal
 * positions in finding order. There are at most CQ_CONF_MAX_DIAGS of them. */
static void diags_sort(struct cq_conf_diags *d, size_t first, const struct cq_conf *conf)
{
    size_t rank[CQ_CONF_MAX_DIAGS + 1];
    for (size_t i = first; i < d->n && i - first <= CQ_CONF_MAX_DIAGS; i++) {
        struct cq_conf_diag x = d->v[i];
        size_t rx = file_rank(conf, x.file), j = i;
        while (j > first && diag_before(&x, rx, &d->v[j - 1], rank[j - 1 - first])) {
            d->v[j] = d->v[j - 1];
            rank[j - first] = rank[j - 1 - first];
            j--;
        }
        d->v[j] = x;
        rank[j - first] = rx;
    }
}

void cq_conf_diags_format(const struct cq_conf_diags *d, struct cq_buf *out)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct cq_conf_diag *g = &d->v[i];
        const char *file = g->file != NULL ? g->file : "(config)";
        const char *msg = g->msg != NULL ? g->msg : "(no message)";
        if (g->line > 0) {
            cq_buf_printf(out, "%s:%d:%d: error: %s", file, g->line, g->col, msg);
        } else {
            cq_buf_printf(out, "%s: error: %s", file, msg);
        }
        if (g->hint != NULL) {
            cq_buf_printf(out, " (%s)", g->hint);
        }
        cq_buf_putc(out, '\n');
    }
}

void cq_conf_diags_cleanup(struct cq_conf_diags *d)
{
    if (d == NULL) {
        return;
    }
    for (size_t i = 0; i < d->n; i++) {
        cq_free(d->v[i].file);
        cq_free(d->v[i].msg);
        cq_free(d->v[i].hint);
    }
    cq_free(d->v);
    memset(d, 0, sizeof(*d));
}

/* ---- conf lifetime ----------------------------------------------------------------------- */

void cq_conf_free(struct cq_conf *conf)
{
    struct conf_box *box = (struct conf_box *)conf;
    if (box != NULL) {
        json_decref(conf->catalog);
        json_decref(conf->roles);
        json_decref(conf->catalog_conns);
        cq_conf_server_cleanup(&conf->server);
        for (size_t i = 0; i < box->n_tzs; i++) {
            cq_tz_free(box->tzs[i]);
        }
        cq_free(box->tzs);
        cq_arena_free(&box->arena);
        cq_free(box);
    }
}

/* The conf owns tz from now on (also when this fails: then it is freed). */
static int own_tz(struct cq_conf_loader *ld, struct cq_tz *tz)
{
    struct conf_box *box = (struct conf_box *)ld->conf;
    if (box->n_tzs == box->cap_tzs) {
        size_t cap = box->cap_tzs ? box->cap_tzs * 2 : 4, bytes;
        struct cq_tz **v = NULL;
        if (cq_size_mul(&bytes, cap, sizeof(*v))) {
            v = cq_realloc(box->tzs, bytes);
        }
        if (v == NULL) {
            cq_tz_free(tz);
            return ld->rc = CQ_ENOMEM;
        }
        box->tzs = v;
        box->cap_tzs = cap;
    }
    box->tzs[box->n_tzs++] = tz;
    return CQ_OK;
}

struct cq_tz *cq_conf_tz(struct cq_conf_loader *ld, const char *name, struct cq_err *err)
{
    struct cq_conf_tz_entry *e;
    struct cq_tz *tz;
    for (size_t i = 0; i < ld->n_tzs; i++) {
        if (strcmp(ld->tzs[i].name, name) == 0) {
            return ld->tzs[i].tz;
        }
    }
    tz = cq_tz_load(name, err);
    if (tz == NULL || own_tz(ld, tz) != CQ_OK) {
        return NULL;
    }
    e = cq_conf_grow(ld, &ld->tmp, ld->tzs, ld->n_tzs, &ld->tzs_cap, sizeof(*e));
    if (e == NULL) {
        return tz; /* usable; only the cache missed it (rc is set anyway) */
    }
    ld->tzs = e;
    e[ld->n_tzs].name = cq_arena_strdup(&ld->tmp, name);
    e[ld->n_tzs].tz = tz;
    if (e[ld->n_tzs].name == NULL) {
        ld->rc = CQ_ENOMEM;
    } else {
        ld->n_tzs++;
    }
    return tz;
}

void *cq_conf_grow(struct cq_conf_loader *ld, struct cq_arena *a, void *v, size_t n, size_t *cap,
                   size_t size)
{
    void *nv = cq_arena_grow(a, v, n, cap, size);
    if (nv == NULL) {
        ld->rc = CQ_ENOMEM;
    }
    return nv;
}

int cq_conf_add_file(struct cq_conf_loader *ld, const char *name)
{
    struct cq_conf *conf = ld->conf;
    char **files =
        cq_conf_grow(ld, ld->keep, conf->files, conf->n_files, &ld->files_cap, sizeof(*files));
    char *kept = cq_arena_strdup(ld->keep, name);
    if (files == NULL || kept == NULL) {
        return ld->rc = CQ_ENOMEM;
    }
    conf->files = files;
    files[conf->n_files++] = kept;
    ld->kept_file = kept;
    return CQ_OK;
}

const struct cq_conn_conf *cq_conf_conn(const struct cq_conf *conf, const char *name)
{
    if (conf == NULL || name == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < conf->n_conns; i++) {
        if (strcmp(conf->conns[i].name, name) == 0) {
            return &conf->conns[i];
        }
    }
    return NULL;
}

/* A loader with a fresh, defaulted conf. file names the source in messages. */
static int loader_init(struct cq_conf_loader *ld, const char *file, struct cq_conf_diags *diags)
{
    struct conf_box *box = cq_calloc(1, sizeof(*box));
    memset(ld, 0, sizeof(*ld));
    ld->file = file;
    ld->base_dir = "";
    ld->diags = diags;
    cq_arena_init(&ld->tmp, 8192, 0);
    if (box == NULL) {
        return ld->rc = CQ_ENOMEM;
    }
    cq_arena_init(&box->arena, 4096, CQ_CONF_MAX_KEEP);
    ld->conf = &box->conf;
    ld->keep = &box->arena;
    return cq_conf_schema_defaults(ld);
}

/* Frees what the load made besides the conf, and the conf too unless it is the result. */
static void loader_cleanup(struct cq_conf_loader *ld, bool keep_conf)
{
    if (!keep_conf) {
        cq_conf_free(ld->conf);
    }
    ld->conf = NULL;
    cq_arena_free(&ld->tmp);
}

/* ---- YAML -------------------------------------------------------------------------------- */

/* A reader error (bad encoding, control character) has a byte offset, not a mark. */
static yaml_mark_t offset_mark(const char *text, size_t len, size_t off)
{
    yaml_mark_t m = {0, 0, 0};
    for (size_t i = 0; i < off && i < len; i++) {
        m.column = text[i] == '\n' ? 0 : m.column + 1;
        m.line += text[i] == '\n' ? 1 : 0;
    }
    m.index = off;
    return m;
}

static void syntax_diag(struct cq_conf_loader *ld, const yaml_parser_t *p, const char *text,
                        size_t len)
{
    const char *problem = p->problem != NULL ? p->problem : "syntax error";
    if (p->error == YAML_MEMORY_ERROR) {
        ld->rc = CQ_ENOMEM;
    } else if (p->error == YAML_READER_ERROR) {
        cq_conf_diag(ld, offset_mark(text, len, p->problem_offset), "",
                     "save the file as UTF-8 text", "cannot read the file: %s", problem);
    } else {
        const char *ctx = p->context == NULL
                              ? ""
                              : cq_conf_tmpf(ld, "%s at line %zu, column %zu; ", p->context,
                                             p->context_mark.line + 1, p->context_mark.column + 1);
        cq_conf_diag(ld, p->problem_mark, "",
                     cq_conf_tmpf(ld,
                                  "%scheck indentation, and quote values that contain ': ' "
                                  "or ' #' or start with a special character",
                                  ctx),
                     "invalid YAML: %s", problem);
    }
}

/* A second document would be silently ignored; say so instead. */
static void check_single_document(struct cq_conf_loader *ld, yaml_parser_t *parser,
                                  const char *text, size_t len)
{
    yaml_document_t more;
    if (!yaml_parser_load(parser, &more)) {
        syntax_diag(ld, parser, text, len);
        return;
    }
    yaml_node_t *root = yaml_document_get_root_node(&more);
    if (root != NULL) {
        cq_conf_diag(ld, more.start_mark, "", "keep one document per file; remove the '---' line",
                     "a second YAML document starts here");
    }
    yaml_document_delete(&more);
}

void cq_conf_parse(struct cq_conf_loader *ld, const char *text, size_t len,
                   void (*walk)(struct cq_conf_loader *ld))
{
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_document_t *outer = ld->doc; /* an include is parsed while the main file is walked */
    bool have_doc = false;
    if (!yaml_parser_initialize(&parser)) {
        ld->rc = CQ_ENOMEM;
        return;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        syntax_diag(ld, &parser, text, len);
        goto out;
    }
    have_doc = true;
    ld->doc = &doc;
    walk(ld);
    ld->doc = outer;
    if (yaml_document_get_root_node(&doc) != NULL && ld->rc == CQ_OK) {
        check_single_document(ld, &parser, text, len);
    }
out:
    if (have_doc) {
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
}

/* ---- loading ----------------------------------------------------------------------------- */

/* Everything after the walk: the verdict, sorted diagnostics, the error summary. */
static int finish(struct cq_conf_loader *ld, size_t first, struct cq_err *err)
{
    struct cq_conf_diags *d = ld->diags;
    if (ld->rc != CQ_OK) {
        return cq_err_set(err, ld->rc, "config '%s': %s", ld->file,
                          ld->rc == CQ_ENOMEM ? "out of memory" : "internal error (bad default)");
    }
    if (ld->n_problems == 0) {
        return CQ_OK;
    }
    diags_sort(d, first, ld->conf);
    bool more = ld->n_problems > CQ_CONF_MAX_DIAGS;
    if (more) {
        char *msg = cq_strdup(cq_conf_tmpf(ld, "stopped after %d problems", CQ_CONF_MAX_DIAGS));
        if (msg == NULL || diags_push(d, ld->file, 0, 0, msg, "fix these and run again") != CQ_OK) {
            return cq_err_set(err, CQ_ENOMEM, "config '%s': out of memory", ld->file);
        }
    }
    const struct cq_conf_diag *g = &d->v[first];
    if (ld->n_problems == 1) {
        return cq_err_set(err, CQ_EINVAL, "%s:%d:%d: %s", g->file, g->line, g->col, g->msg);
    }
    size_t others = (more ? CQ_CONF_MAX_DIAGS : ld->n_problems) - 1;
    return cq_err_set(err, CQ_EINVAL, "%s:%d:%d: %s (and %zu%s more problem%s)", g->file, g->line,
                      g->col, g->msg, others, more ? "+" : "", others == 1 && !more ? "" : "s");
}

/* The directory relative paths are resolved against: name up to its last '/'. */
const char *cq_conf_dir_of(struct cq_conf_loader *ld, const char *name)
{
    const char *slash = strrchr(name, '/');
    if (slash == NULL) {
        return "";
    }
    return slash == name ? "/" : cq_conf_tmpf(ld, "%.*s", (int)(slash - name), name);
}

/* Loads text; read_files allows include: and sql_file: to read other files. */
static struct cq_conf *load_text(const char *name, const char *text, size_t len, bool read_files,
                                 struct cq_conf_diags *diags, struct cq_err *err)
{
    struct cq_conf_loader ld;
    struct cq_conf_diags own = {NULL, 0, 0};
    struct cq_conf_diags *d = diags != NULL ? diags : &own;
    struct cq_conf *result = NULL;
    size_t first = d->n;
    if (name == NULL) {
        name = "clariq.yaml";
    }
    if (len > CQ_CONF_MAX_FILE) {
        cq_err_set(err, CQ_ETOOBIG, "config file '%s': larger than 16 MB", name);
        return NULL;
    }
    if (loader_init(&ld, name, d) == CQ_OK && cq_conf_add_file(&ld, name) == CQ_OK) {
        ld.conf->path = ld.kept_file;
        ld.base_dir = cq_conf_dir_of(&ld, name);
        ld.read_files = read_files;
        cq_conf_parse(&ld, text != NULL ? text : "", text != NULL ? len : 0, cq_conf_schema_walk);
        if (!cq_conf_full(&ld)) {
            cq_conf_refs_check(&ld);
        }
        cq_conf_schema_finish(&ld);
    }
    if (finish(&ld, first, err) == CQ_OK) {
        result = ld.conf;
    }
    loader_cleanup(&ld, result != NULL);
    cq_conf_diags_cleanup(&own);
    return result;
}

struct cq_conf *cq_conf_load_mem(const char *name, const char *text, size_t len,
                                 struct cq_conf_diags *diags, struct cq_err *err)
{
    return load_text(name, text, len, false, diags, err);
}

/* Reads fd into out (capped by out's max). */
static int read_fd(int fd, struct cq_buf *out, struct cq_err *err)
{
    char chunk[READ_CHUNK];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return cq_err_set(err, CQ_EIO, "cannot read: %s", strerror(errno));
        }
        if (n == 0) {
            return CQ_OK;
        }
        cq_buf_append(out, chunk, (size_t)n);
        if (cq_buf_rc(out) == CQ_ETOOBIG) {
            return cq_err_set(err, CQ_ETOOBIG, "larger than %zu MB", out->max >> 20);
        }
        if (cq_buf_rc(out) != CQ_OK) {
            return cq_err_set(err, CQ_ENOMEM, "out of memory");
        }
    }
}

int cq_conf_read_file(const char *path, struct cq_buf *out, struct cq_err *err)
{
    struct stat st;
    int rc = CQ_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return cq_err_set(err, CQ_ENOTFOUND, "not found");
        }
        return cq_err_set(err, CQ_EIO, "cannot open: %s", strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        rc = cq_err_set(err, CQ_EIO, "cannot read: %s", strerror(errno));
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = cq_err_set(err, CQ_EIO, "cannot read: is a directory");
        goto out;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > (uint64_t)out->max) {
        rc = cq_err_set(err, CQ_ETOOBIG, "larger than %zu MB", out->max >> 20);
        goto out;
    }
    rc = read_fd(fd, out, err);
out:
    close(fd);
    return rc;
}

struct cq_conf *cq_conf_load_file(const char *path, struct cq_conf_diags *diags, struct cq_err *err)
{
    struct cq_buf text;
    struct cq_err why = {0};
    struct cq_conf *conf = NULL;
    cq_buf_init(&text, CQ_CONF_MAX_FILE);
    if (path == NULL || *path == '\0') {
        cq_err_set(err, CQ_EINVAL, "config file: no path given");
    } else if (cq_conf_read_file(path, &text, &why) == CQ_OK) {
        conf = load_text(path, cq_buf_str(&text), text.len, true, diags, err);
    } else if (why.rc == CQ_ENOTFOUND) {
        cq_err_set(err, why.rc,
                   "config file '%s': not found (pass --config, set CLARIQ_CONFIG, or run "
                   "`clariq init`)",
                   path);
    } else {
        cq_err_set(err, why.rc, "config file '%s': %s", path, why.msg);
    }
    cq_buf_cleanup(&text);
    return conf;
}

struct cq_conf *cq_conf_demo(const char *db_path, struct cq_err *err)
{
    struct cq_conf_loader ld;
    struct cq_conf_diags unused = {NULL, 0, 0}; /* nothing here is user input */
    struct cq_conn_conf *cc;
    struct cq_conf *result = NULL;
    if (loader_init(&ld, "(built-in demo)", &unused) != CQ_OK) {
        goto out;
    }
    cc = cq_arena_alloc(ld.keep, sizeof(*cc));
    if (cc == NULL) {
        ld.rc = CQ_ENOMEM;
        goto out;
    }
    ld.conf->conns = cc;
    if (cq_conf_schema_conn_init(&ld, cc, "demo", 0) != CQ_OK) {
        goto out;
    }
    ld.conf->n_conns = 1;
    cc->driver = cq_arena_strdup(ld.keep, "sqlite");
    cc->path = cq_arena_strdup(ld.keep, db_path != NULL ? db_path : ":memory:");
    cc->read_only = true;
    /* clariq demo serves on loopback without keys (local development) */
    ld.conf->server.auth = CQ_AUTH_NONE;
    if (cc->driver == NULL || cc->path == NULL) {
        ld.rc = CQ_ENOMEM;
        goto out;
    }
    ld.base_dir = cq_conf_dir_of(&ld, cc->path); /* the state file goes next to the demo db */
    cq_conf_schema_finish(&ld);
    /* the shop's governed-query catalog, so `clariq query` works without a config */
    if (ld.rc == CQ_OK &&
        cq_conf_demo_catalog(&ld.conf->catalog, &ld.conf->roles, NULL) != CQ_OK) {
        ld.rc = CQ_ENOMEM;
    }
out:
    if (ld.rc != CQ_OK) {
        cq_err_set(err, ld.rc, "demo config: %s",
                   ld.rc == CQ_ENOMEM ? "out of memory" : "internal error (bad default)");
    } else {
        result = ld.conf;
    }
    loader_cleanup(&ld, result != NULL);
    cq_conf_diags_cleanup(&unused);
    return result;
}
