/*
 * sqlite.c - the SQLite driver (libsqlite3): cq_drv_sqlite.
 *
 * A connection is one sqlite3 handle on a file or ":memory:". Statements are prepared one
 * at a time with sqlite3_prepare_v3 and stepped straight into the caller's sink, so
 * results stream with a single reused conversion buffer. SQLite binds its own numbered
 * parameters ($N, ?N, ?), so no SQL rewriting happens here. See docs/internals/sqlite.md.
 *
 * Threads: the handle is opened with SQLITE_OPEN_NOMUTEX because one thread at a time
 * uses a connection (drv.h). The exception is cancel, which may come from any thread: it
 * only stores an atomic flag and calls sqlite3_interrupt(), which SQLite documents as
 * safe to call from a different thread while the connection is open.
 */
#include "drv/sqlite.h"

#ifndef CQ_WITHOUT_SQLITE

#include <ctype.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "drv/drv.h"

#define BUSY_TIMEOUT_MS 5000  /* wait for another writer's lock, ms (capped by the timeout) */
#define PROGRESS_OPS 1000     /* VM instructions between deadline/cancel checks */
#define DEADLINE_EVERY 64     /* rows between clock reads in the row loop */
#define NO_OFF ((size_t)-1)   /* value not in the scratch buffer */
#define STMT_CACHE 16         /* prepared single statements kept per connection */

/* The instance: registry.c allocates conn_size bytes; base comes first. */
struct sq_conn {
    struct cq_conn base;
    sqlite3 *db;           /* owned; closed by sq_disconnect */
    atomic_bool canceled;  /* set by sq_cancel (any thread); cleared when exec starts */
    int64_t deadline_ms;   /* monotonic; 0 = none. Only the exec thread touches it */
    int64_t timeout_ms;    /* the current statement's timeout, for the message */
    /* Recently run single statements, prepared: callers such as the alert state store run
     * the same few statements thousands of times, and parsing dominated their cost. */
    struct {
        char *sql;         /* owned; NULL = free slot */
        sqlite3_stmt *stmt; /* owned, reset, bindings cleared */
        uint64_t used;     /* tick of the last use, for LRU eviction */
    } cache[STMT_CACHE];
    uint64_t tick;
};

/* Per-column facts of the statement being streamed. */
#define F_JSON 0x01u  /* declared json/jsonb: valid text goes inline */
#define F_BOOL 0x02u  /* declared boolean/bool: integers 0/1 become true/false */

struct cols {
    size_t n;
    struct cq_col *cols;   /* n, in the exec arena */
    struct cq_value *vals; /* n; the current row */
    size_t *off;           /* n; offset of vals[i] in the scratch buffer, or NO_OFF */
    unsigned char *flags;  /* n; F_* */
};

/* One exec call. */
struct run {
    struct sq_conn *sc;
    const struct cq_stmt *st;
    struct cq_arena arena;   /* column descriptions; freed when exec returns */
    struct cq_buf scratch;   /* the row's formatted numbers and blob hex; reused per row */
    int max_param;           /* highest parameter index used by the statements so far */
    size_t off;              /* byte offset of the current statement in st->sql */
    int64_t start_us;
};

/* ---- small text helpers ------------------------------------------------------------------ */

/* Skips whitespace and comments (and ';' when semis), like SQLite's tokenizer. */
static const char *skip_blank(const char *p, bool semis)
{
    for (;;) {
        if (isspace((unsigned char)*p) || (semis && *p == ';')) {
            p++;
        } else if (p[0] == '-' && p[1] == '-') {
            p += strcspn(p, "\n");
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            p = end != NULL ? end + 2 : p + strlen(p);
        } else {
            return p;
        }
    }
}

/* Copies the word at p (letters, digits, '_', '.') uppercased; returns the end of it. */
static const char *upper_word(const char *p, char *out, size_t size)
{
    size_t n = 0;
    while (isalnum((unsigned char)*p) || *p == '_' || *p == '.') {
        if (n + 1 < size) {
            out[n++] = (char)toupper((unsigned char)*p);
        }
        p++;
    }
    if (size > 0) {
        out[n] = '\0';
    }
    return p;
}

/*
 * The statement's leading keyword(s) for messages: "INSERT", "CREATE TABLE", "DROP INDEX",
 * "PRAGMA QUERY_ONLY". With `object` false only the first keyword (the command).
 */
static void lead_words(const char *sql, bool object, char *out, size_t size)
{
    char word[32];
    const char *p = upper_word(skip_blank(sql, true), word, sizeof(word));
    cq_strlcpy(out, word[0] != '\0' ? word : "statement", size);
    if (!object) {
        return;
    }
    bool ddl = strcmp(word, "CREATE") == 0 || strcmp(word, "DROP") == 0 ||
               strcmp(word, "ALTER") == 0;
    int more = ddl ? 4 : strcmp(word, "PRAGMA") == 0 ? 1 : 0;
    while (more-- > 0) {
        p = upper_word(skip_blank(p, false), word, sizeof(word));
        if (word[0] == '\0' || strlen(out) + 1 + strlen(word) + 1 > size) {
            return;
        }
        size_t len = strlen(out);
        out[len] = ' ';
        cq_strlcpy(out + len + 1, word, size - len - 1);
        if (strcmp(word, "TABLE") == 0 || strcmp(word, "INDEX") == 0 ||
            strcmp(word, "VIEW") == 0 || strcmp(word, "TRIGGER") == 0) {
            return;
        }
    }
}

/* "SQLITE_ERROR", "SQLITE_CONSTRAINT_UNIQUE"... for an extended result code. */
static const char *code_name(int code)
{
    static const struct {
        int code;
        const char *name;
    } names[] = {
        {SQLITE_CONSTRAINT_UNIQUE, "SQLITE_CONSTRAINT_UNIQUE"},
        {SQLITE_CONSTRAINT_PRIMARYKEY, "SQLITE_CONSTRAINT_PRIMARYKEY"},
        {SQLITE_CONSTRAINT_NOTNULL, "SQLITE_CONSTRAINT_NOTNULL"},
        {SQLITE_CONSTRAINT_FOREIGNKEY, "SQLITE_CONSTRAINT_FOREIGNKEY"},
        {SQLITE_CONSTRAINT_CHECK, "SQLITE_CONSTRAINT_CHECK"},
        {SQLITE_ERROR, "SQLITE_ERROR"}, {SQLITE_INTERNAL, "SQLITE_INTERNAL"},
        {SQLITE_PERM, "SQLITE_PERM"}, {SQLITE_ABORT, "SQLITE_ABORT"},
        {SQLITE_BUSY, "SQLITE_BUSY"}, {SQLITE_LOCKED, "SQLITE_LOCKED"},
        {SQLITE_NOMEM, "SQLITE_NOMEM"}, {SQLITE_READONLY, "SQLITE_READONLY"},
        {SQLITE_INTERRUPT, "SQLITE_INTERRUPT"}, {SQLITE_IOERR, "SQLITE_IOERR"},
        {SQLITE_CORRUPT, "SQLITE_CORRUPT"}, {SQLITE_NOTFOUND, "SQLITE_NOTFOUND"},
        {SQLITE_FULL, "SQLITE_FULL"}, {SQLITE_CANTOPEN, "SQLITE_CANTOPEN"},
        {SQLITE_PROTOCOL, "SQLITE_PROTOCOL"}, {SQLITE_SCHEMA, "SQLITE_SCHEMA"},
        {SQLITE_TOOBIG, "SQLITE_TOOBIG"}, {SQLITE_CONSTRAINT, "SQLITE_CONSTRAINT"},
        {SQLITE_MISMATCH, "SQLITE_MISMATCH"}, {SQLITE_MISUSE, "SQLITE_MISUSE"},
        {SQLITE_AUTH, "SQLITE_AUTH"}, {SQLITE_RANGE, "SQLITE_RANGE"},
        {SQLITE_NOTADB, "SQLITE_NOTADB"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].code == code) {
            return names[i].name;
        }
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].code == (code & 0xff)) {
            return names[i].name;
        }
    }
    return "SQLITE_ERROR";
}

/* ---- errors ------------------------------------------------------------------------------ */

static int interrupted_error(struct sq_conn *sc, struct cq_err *err)
{
    if (atomic_load(&sc->canceled)) {
        return cq_err_set(err, CQ_ECANCELED, "connection '%s': statement canceled",
                          sc->base.name);
    }
    return cq_err_set(err, CQ_ETIMEOUT,
                      "connection '%s': statement timed out after %lld ms (raise limits.timeout "
                      "or pass a larger --timeout, up to the connection's limit)",
                      sc->base.name, (long long)sc->timeout_ms);
}

static int readonly_error(struct sq_conn *sc, const char *sql, struct cq_err *err)
{
    char what[64];
    lead_words(sql, true, what, sizeof(what));
    return cq_err_set(err, CQ_EREADONLY,
                      "connection '%s' is read-only: %s is not allowed (use a connection with "
                      "read_only: false for writes)",
                      sc->base.name, what);
}

/* Maps a failed prepare/step (code) of the statement text `sql` to an error. */
static int sql_error(struct run *r, int code, const char *sql, struct cq_err *err)
{
    struct sq_conn *sc = r->sc;
    int prim = code & 0xff;
    char num[16];
    if (prim == SQLITE_INTERRUPT) {
        return interrupted_error(sc, err);
    }
    if ((prim == SQLITE_AUTH || prim == SQLITE_READONLY) && sc->base.read_only) {
        return readonly_error(sc, sql, err);
    }
    if (prim == SQLITE_NOMEM) {
        return cq_err_set(err, CQ_ENOMEM, "connection '%s': SQLite is out of memory",
                          sc->base.name);
    }
    int at = sqlite3_error_offset(sc->db);
    enum cq_rc kind = prim == SQLITE_READONLY ? CQ_EREADONLY : CQ_EBACKEND;
    int rc;
    if (at >= 0) {
        rc = cq_err_set(err, kind, "connection '%s': %s (%s at offset %zu)", sc->base.name,
                        sqlite3_errmsg(sc->db), code_name(code), r->off + (size_t)at);
    } else {
        rc = cq_err_set(err, kind, "connection '%s': %s (%s)", sc->base.name,
                        sqlite3_errmsg(sc->db), code_name(code));
    }
    snprintf(num, sizeof(num), "%d", code);
    cq_err_code(err, num);
    if (err != NULL) {
        err->retryable = prim == SQLITE_BUSY || prim == SQLITE_LOCKED;
    }
    if (prim == SQLITE_IOERR || prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB) {
        sc->base.broken = true; /* the pool reopens the file rather than reuse this handle */
    }
    return rc;
}

/* ---- connection lifecycle --------------------------------------------------------------- */

/* Stops a statement once its deadline passes or cancel was called (SQLITE_INTERRUPT). */
static int progress_cb(void *ctx)
{
    struct sq_conn *sc = ctx;
    if (atomic_load_explicit(&sc->canceled, memory_order_relaxed)) {
        return 1;
    }
    return sc->deadline_ms > 0 && cq_now_ms() >= sc->deadline_ms;
}

/* Pragmas a read-only connection may run with an argument; they only read. */
static bool pragma_allowed(const char *name, const char *arg)
{
    static const char *const reads[] = {
        "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
        "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check", NULL,
    };
    if (arg == NULL) {
        return true; /* PRAGMA x: reports a setting */
    }
    for (const char *const *p = reads; *p != NULL; p++) {
        if (name != NULL && cq_streq_ci(name, *p)) {
            return true;
        }
    }
    return false;
}

/* Read-only connections: an allow-list, so new SQLite write actions are denied too. */
static int ro_authorizer(void *ctx, int action, const char *a1, const char *a2, const char *db,
                         const char *trigger)
{
    (void)ctx, (void)db, (void)trigger;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        return SQLITE_OK;
    case SQLITE_PRAGMA:
        return pragma_allowed(a1, a2) ? SQLITE_OK : SQLITE_DENY;
    case SQLITE_UPDATE:
        /* Connecting table-valued pragmas (pragma_table_info('t')) reports updates of
         * sqlite_master columns. A real UPDATE of it still fails: query_only, defensive
         * mode and the sqlite3_stmt_readonly() check in run_stmt all refuse it. */
        return a1 != NULL && strcmp(a1, "sqlite_master") == 0 ? SQLITE_OK : SQLITE_DENY;
    default:
        return SQLITE_DENY; /* INSERT, UPDATE, DELETE, CREATE_*, DROP_*, ALTER, ATTACH... */
    }
}

static int open_error(struct sq_conn *sc, const char *path, bool ro, const char *why,
                      struct cq_err *err)
{
    return cq_err_set(err, CQ_ECONNECT, "connection '%s' (%s): cannot open database: %s (%s)",
                      sc->base.name, path, why,
                      ro ? "check the path; read-only connections do not create files"
                         : "check the path and that its directory exists");
}

/* ---- SQL functions ----------------------------------------------------------------------- */

#define LEV_MAX 4096 /* characters per argument: the table is O(n*m) time */

/* The characters of s as one number each (its UTF-8 bytes packed; an invalid byte stands
 * alone), so two characters are equal exactly when their encodings are. */
static size_t lev_chars(const unsigned char *s, size_t len, uint32_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        size_t k = cq_utf8_seq(s + i, len - i);
        uint32_t c = 0;
        if (k == 0) {
            k = 1;
        }
        for (size_t j = 0; j < k; j++) {
            c = (c << 8) | s[i + j];
        }
        if (out != NULL) {
            out[n] = c;
        }
        i += k;
    }
    return n;
}

/* levenshtein(a, b): edit distance in characters, for the governed query's levenshteinLte
 * (src/dsl/dialect_sqlite.c); NULL when either argument is NULL. */
static void levenshtein_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *a, *b;
    size_t la, lb, na, nb;
    uint32_t *ca, *cb, *row; /* distances fit: both sides are at most LEV_MAX */

    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    a = sqlite3_value_text(argv[0]);
    la = (size_t)sqlite3_value_bytes(argv[0]);
    b = sqlite3_value_text(argv[1]);
    lb = (size_t)sqlite3_value_bytes(argv[1]);
    if (a == NULL || b == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    na = lev_chars(a, la, NULL);
    nb = lev_chars(b, lb, NULL);
    if (na > LEV_MAX || nb > LEV_MAX) {
        sqlite3_result_error(ctx, "levenshtein: an argument is longer than 4096 characters", -1);
        return;
    }
    ca = cq_malloc((na + nb + nb + 1) * sizeof(uint32_t));
    if (ca == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    cb = ca + na;
    row = cb + nb;
    lev_chars(a, la, ca);
    lev_chars(b, lb, cb);
    for (size_t j = 0; j <= nb; j++) {
        row[j] = (uint32_t)j;
    }
    for (size_t i = 1; i <= na; i++) {
        uint32_t diag = row[0];
        row[0] = (uint32_t)i;
        for (size_t j = 1; j <= nb; j++) {
            uint32_t up = row[j];
            uint32_t best = diag + (ca[i - 1] != cb[j - 1]);
            if (up + 1 < best) {
                best = up + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            diag = up;
            row[j] = best;
        }
    }
    sqlite3_result_int64(ctx, (sqlite3_int64)row[nb]);
    cq_free(ca);
}

int cq_drv_sqlite_functions(struct sqlite3 *db)
{
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    return sqlite3_create_function(db, "levenshtein", 2, flags, NULL, levenshtein_fn, NULL,
                                   NULL) == SQLITE_OK ? CQ_OK : CQ_EBACKEND;
}

/* Settings every connection gets; read-only ones are locked down here. */
static int setup(struct sq_conn *sc, const char *path, bool ro, struct cq_err *err)
{
    sqlite3 *db = sc->db;
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    sqlite3_progress_handler(db, PROGRESS_OPS, progress_cb, sc);
    /* No writable_schema tricks or shadow-table writes through the gateway. */
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    if (cq_drv_sqlite_functions(db) != CQ_OK) {
        return open_error(sc, path, ro, sqlite3_errmsg(db), err);
    }
    if (ro && sqlite3_exec(db, "PRAGMA query_only=1", NULL, NULL, NULL) != SQLITE_OK) {
        return open_error(sc, path, ro, sqlite3_errmsg(db), err);
    }
    /* Reading the schema now turns "not a database" into a connect error, not a query one. */
    if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK) {
        return open_error(sc, path, ro, sqlite3_errmsg(db), err);
    }
    if (ro) {
        sqlite3_set_authorizer(db, ro_authorizer, sc);
    }
    return CQ_OK;
}

/* "sqlite:///abs" -> "/abs", "sqlite://rel" -> "rel", "sqlite:PATH" -> "PATH". */
static const char *strip_scheme(const char *t)
{
    if (cq_has_prefix(t, "sqlite://")) {
        return t + 9;
    }
    if (cq_has_prefix(t, "sqlite:")) {
        return t + 7;
    }
    return t;
}

static int sq_connect(struct cq_conn *c, const struct cq_dsn *dsn, struct cq_err *err)
{
    struct sq_conn *sc = (struct sq_conn *)c;
    const char *path = strip_scheme(dsn->target != NULL ? dsn->target : "");
    bool mem = strcmp(path, ":memory:") == 0;
    int flags = SQLITE_OPEN_NOMUTEX;
    int rc = CQ_OK;

    atomic_init(&sc->canceled, false);
    if (*path == '\0') {
        return cq_err_set(err, CQ_ECONNECT,
                          "connection '%s': no database path (give a file path or :memory:)",
                          c->name);
    }
    /* ":memory:" cannot be opened read-only usefully; query_only and the authorizer guard it. */
    flags |= dsn->read_only && !mem ? SQLITE_OPEN_READONLY
                                    : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &sc->db, flags, NULL) != SQLITE_OK) {
        rc = open_error(sc, path, dsn->read_only,
                        sc->db != NULL ? sqlite3_errmsg(sc->db) : "out of memory", err);
        goto out;
    }
    rc = setup(sc, path, dsn->read_only, err);
out:
    if (rc != CQ_OK) {
        sqlite3_close_v2(sc->db); /* the registry frees c without calling disconnect */
        sc->db = NULL;
    }
    return rc;
}

static void sq_disconnect(struct cq_conn *c)
{
    struct sq_conn *sc = (struct sq_conn *)c;
    for (size_t i = 0; i < STMT_CACHE; i++) {
        sqlite3_finalize(sc->cache[i].stmt);
        cq_free(sc->cache[i].sql);
        sc->cache[i].stmt = NULL;
        sc->cache[i].sql = NULL;
    }
    sqlite3_close_v2(sc->db);
    sc->db = NULL;
}

static int sq_ping(struct cq_conn *c, struct cq_err *err)
{
    struct sq_conn *sc = (struct sq_conn *)c;
    if (sc->db == NULL) {
        return cq_err_set(err, CQ_ECONNECT, "connection '%s': not open", c->name);
    }
    return CQ_OK; /* an open file handle has nothing to lose, unlike a socket */
}

static int sq_cancel(struct cq_conn *c, struct cq_err *err)
{
    struct sq_conn *sc = (struct sq_conn *)c;
    (void)err;
    atomic_store(&sc->canceled, true);
    if (sc->db != NULL) {
        sqlite3_interrupt(sc->db);
    }
    return CQ_OK;
}

static int sq_server_version(struct cq_conn *c, char *out, size_t size, struct cq_err *err)
{
    (void)c, (void)err;
    snprintf(out, size, "SQLite %s", sqlite3_libversion());
    return CQ_OK;
}

/* ---- parameters -------------------------------------------------------------------------- */

/* A decimal literal reduced to sign, significant digits and exponent ("1.10" == "11e-1"). */
struct dec {
    bool neg;
    char digits[48];   /* no leading or trailing zeros; "" for zero */
    long exp;          /* value = 0.digits... scaled so that digits * 10^exp */
};

/* false if s is not a plain decimal literal or has too many digits to compare. */
static bool dec_parse(const char *s, struct dec *d)
{
    size_t n = 0;
    long frac = 0;
    bool point = false, any = false;
    int64_t e = 0;
    memset(d, 0, sizeof(*d));
    if (*s == '-' || *s == '+') {
        d->neg = *s++ == '-';
    }
    for (; isdigit((unsigned char)*s) || (*s == '.' && !point); s++) {
        if (*s == '.') {
            point = true;
            continue;
        }
        any = true;
        frac += point ? 1 : 0;
        if (n == 0 && *s == '0') {
            continue; /* leading zero */
        }
        if (n + 1 >= sizeof(d->digits)) {
            return false;
        }
        d->digits[n++] = *s;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (cq_parse_i64(&s, &e) != CQ_OK || e > 100000 || e < -100000) {
            return false;
        }
    }
    if (!any || *s != '\0') {
        return false;
    }
    d->exp = (long)e - frac;
    while (n > 0 && d->digits[n - 1] == '0') {
        d->digits[--n] = '\0';
        d->exp++;
    }
    if (n == 0) {
        d->neg = false;
        d->exp = 0;
    }
    return true;
}

/* Shortest of %.15g/%.16g/%.17g that reads back as d (finite d). Returns the length. */
static int format_real(double d, char *out, size_t size)
{
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, size, "%.*g", prec, d);
        if (strtod(out, NULL) == d) {
            break;
        }
    }
    return n;
}

/* True when the decimal text survives a trip through a double exactly (digits kept). */
static bool numeric_is_exact(const char *text, double *out)
{
    char *end = NULL;
    char back[40];
    struct dec a, b;
    double d = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(d)) {
        return false;
    }
    format_real(d, back, sizeof(back));
    if (!dec_parse(text, &a) || !dec_parse(back, &b)) {
        return false;
    }
    *out = d;
    return a.neg == b.neg && a.exp == b.exp && strcmp(a.digits, b.digits) == 0;
}

/* Same wording as param.c's parser. */
static int bad_value(int idx, const struct cq_param *p, const char *what, struct cq_err *err)
{
    return cq_err_set(err, CQ_EINVAL, "parameter $%d: '%.40s%s' is not a valid %s", idx, p->text,
                      p->len > 40 ? "..." : "", what);
}

/* Binds params[idx-1] to slot i with the mapping in docs/internals/sqlite.md. */
static int bind_one(struct run *r, sqlite3_stmt *stmt, int i, int idx, struct cq_err *err)
{
    const struct cq_param *p = &r->st->params[idx - 1];
    const char *s = p->text;
    int64_t v = 0;
    double d = 0;
    char *end = NULL;
    int rc;

    if (p->type == CQ_P_NULL || s == NULL) {
        rc = sqlite3_bind_null(stmt, i);
    } else if (p->type == CQ_P_INT) {
        if (cq_parse_i64(&s, &v) != CQ_OK || *s != '\0') {
            return bad_value(idx, p, "int", err);
        }
        rc = sqlite3_bind_int64(stmt, i, v);
    } else if (p->type == CQ_P_FLOAT) {
        d = strtod(s, &end);
        if (end == s || *end != '\0') {
            return bad_value(idx, p, "float", err);
        }
        rc = sqlite3_bind_double(stmt, i, d);
    } else if (p->type == CQ_P_NUMERIC && numeric_is_exact(s, &d)) {
        rc = sqlite3_bind_double(stmt, i, d);
    } else if (p->type == CQ_P_BOOL) {
        bool t = cq_streq_ci(s, "true") || cq_streq_ci(s, "t") || strcmp(s, "1") == 0;
        bool f = cq_streq_ci(s, "false") || cq_streq_ci(s, "f") || strcmp(s, "0") == 0;
        if (!t && !f) {
            return bad_value(idx, p, "bool", err);
        }
        rc = sqlite3_bind_int(stmt, i, t ? 1 : 0);
    } else {
        /* TEXT, DATE, TIMESTAMP, JSON, and NUMERIC that a double would round. The text
         * outlives the statement (the caller's), so SQLite need not copy it. */
        rc = sqlite3_bind_text64(stmt, i, s, p->len, SQLITE_STATIC, SQLITE_UTF8);
    }
    return rc == SQLITE_OK ? CQ_OK : sql_error(r, rc, sqlite3_sql(stmt), err);
}

/* The parameter number slot i refers to: $N / ?N -> N, anonymous ? -> i. */
static int slot_index(sqlite3_stmt *stmt, int i, int *idx, struct cq_err *err)
{
    const char *name = sqlite3_bind_parameter_name(stmt, i);
    const char *p = name != NULL ? name + 1 : NULL;
    int64_t v = 0;
    if (name == NULL) {
        *idx = i;
        return CQ_OK;
    }
    if ((name[0] != '$' && name[0] != '?') || !isdigit((unsigned char)*p)) {
        return cq_err_set(err, CQ_EINVAL,
                          "named parameters ('%s') are not supported; use $1..$n", name);
    }
    if (cq_parse_i64(&p, &v) != CQ_OK || *p != '\0' || v < 1 || v > INT_MAX) {
        return cq_err_set(err, CQ_EINVAL, "parameter '%s' is out of range; use $1..$n", name);
    }
    *idx = (int)v;
    return CQ_OK;
}

/* Same wording as the PostgreSQL driver: callers and docs see one message per problem. */
static int count_error(int used, size_t given, struct cq_err *err)
{
    char uses[32], got[48];
    if (used == 0) {
        snprintf(uses, sizeof(uses), "no parameters");
    } else if (used == 1) {
        snprintf(uses, sizeof(uses), "$1");
    } else {
        snprintf(uses, sizeof(uses), "$1..$%d", used);
    }
    if (given == 0) {
        snprintf(got, sizeof(got), "no parameters were given");
    } else if (given == 1) {
        snprintf(got, sizeof(got), "1 was given");
    } else {
        snprintf(got, sizeof(got), "%zu parameters were given", given);
    }
    return cq_err_set(err, CQ_EINVAL, "statement uses %s but %s", uses, got);
}

/*
 * Checks the parameter count and binds. Statements of a multi-statement text are checked
 * one by one (a later one may depend on tables an earlier one creates, so they cannot all
 * be prepared up front): each may use at most n_params; the last completes the check.
 */
static int bind_params(struct run *r, sqlite3_stmt *stmt, bool last, struct cq_err *err)
{
    int n = sqlite3_bind_parameter_count(stmt);
    int max = 0, idx = 0, rc = CQ_OK;
    for (int i = 1; i <= n && rc == CQ_OK; i++) {
        rc = slot_index(stmt, i, &idx, err);
        max = idx > max ? idx : max;
    }
    if (rc != CQ_OK) {
        return rc;
    }
    r->max_param = max > r->max_param ? max : r->max_param;
    if ((size_t)max > r->st->n_params) {
        return count_error(max, r->st->n_params, err);
    }
    if (last && (size_t)r->max_param != r->st->n_params) {
        return count_error(r->max_param, r->st->n_params, err);
    }
    for (int i = 1; i <= n && rc == CQ_OK; i++) {
        rc = slot_index(stmt, i, &idx, err);
        if (rc == CQ_OK) {
            rc = bind_one(r, stmt, i, idx, err);
        }
    }
    return rc;
}

/* ---- values ------------------------------------------------------------------------------ */

static void put_i64(struct cq_buf *b, int64_t x)
{
    char tmp[24];
    char *end = tmp + sizeof(tmp);
    char *p = end;
    uint64_t u = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (x < 0) {
        *--p = '-';
    }
    cq_buf_append(b, p, (size_t)(end - p));
}

static void put_hex(struct cq_buf *b, const unsigned char *p, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t need = 2 + 2 * len; /* len <= SQLITE_LIMIT_LENGTH (an int): cannot overflow */
    char *dst = cq_buf_reserve(b, need);
    if (dst == NULL) {
        return;
    }
    dst[0] = '\\';
    dst[1] = 'x';
    for (size_t i = 0; i < len; i++) {
        dst[2 + 2 * i] = hex[p[i] >> 4];
        dst[3 + 2 * i] = hex[p[i] & 15];
    }
    cq_buf_commit(b, need);
}

static bool json_ok(const char *p, size_t len)
{
    json_error_t je;
    /* INT_AS_REAL: big integers are valid JSON even if they do not fit an int64. */
    json_t *j = json_loadb(p, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL,
                           &je);
    json_decref(j);
    return j != NULL;
}

static void set_const(struct cq_value *v, enum cq_vkind kind, const char *s)
{
    v->kind = kind;
    v->p = s;
    v->len = strlen(s);
}

/* Converts column i of the current row into k->vals[i] (scratch-based ones by offset). */
static void convert(struct run *r, sqlite3_stmt *stmt, struct cols *k, size_t i)
{
    struct cq_value *v = &k->vals[i];
    struct cq_buf *b = &r->scratch;
    size_t start = b->len;
    int col = (int)i;
    k->off[i] = NO_OFF;
    switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER: {
        int64_t x = sqlite3_column_int64(stmt, col);
        if ((k->flags[i] & F_BOOL) && (x == 0 || x == 1)) {
            set_const(v, CQ_V_BOOL, x ? "true" : "false");
            return;
        }
        put_i64(b, x);
        v->kind = CQ_V_NUMBER;
        break;
    }
    case SQLITE_FLOAT: {
        double d = sqlite3_column_double(stmt, col);
        char tmp[40];
        if (!isfinite(d)) {
            set_const(v, CQ_V_STRING, isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
            return;
        }
        cq_buf_append(b, tmp, (size_t)format_real(d, tmp, sizeof(tmp)));
        v->kind = CQ_V_NUMBER;
        break;
    }
    case SQLITE_TEXT:
        v->p = (const char *)sqlite3_column_text(stmt, col);
        v->len = (size_t)sqlite3_column_bytes(stmt, col);
        v->kind = (k->flags[i] & F_JSON) && v->p != NULL && json_ok(v->p, v->len) ? CQ_V_JSON
                                                                                 : CQ_V_STRING;
        return;
    case SQLITE_BLOB: {
        const void *p = sqlite3_column_blob(stmt, col);
        put_hex(b, p, (size_t)sqlite3_column_bytes(stmt, col));
        v->kind = CQ_V_STRING;
        break;
    }
    default:
        v->kind = CQ_V_NULL;
        v->p = NULL;
        v->len = 0;
        return;
    }
    k->off[i] = start;
    v->len = b->len - start;
}

/* Converts the current row; pointers into the scratch buffer are fixed up at the end. */
static int build_row(struct run *r, sqlite3_stmt *stmt, struct cols *k, struct cq_err *err)
{
    cq_buf_reset(&r->scratch);
    for (size_t i = 0; i < k->n; i++) {
        convert(r, stmt, k, i);
        if (k->vals[i].kind == CQ_V_STRING && k->vals[i].p == NULL && k->off[i] == NO_OFF) {
            return cq_err_set(err, CQ_ENOMEM, "connection '%s': out of memory reading a value",
                              r->sc->base.name);
        }
    }
    int rc = cq_buf_rc(&r->scratch);
    if (rc == CQ_ETOOBIG) {
        return cq_err_set(err, CQ_ETOOBIG,
                          "connection '%s': a row is too large to convert (over %zu bytes)",
                          r->sc->base.name, r->scratch.max);
    }
    if (rc != CQ_OK) {
        return cq_err_set(err, CQ_ENOMEM, "connection '%s': out of memory converting a row",
                          r->sc->base.name);
    }
    for (size_t i = 0; i < k->n; i++) {
        if (k->off[i] != NO_OFF) {
            k->vals[i].p = r->scratch.p + k->off[i];
        }
    }
    return CQ_OK;
}

/* ---- columns ----------------------------------------------------------------------------- */

static const char *storage_name(int type)
{
    switch (type) {
    case SQLITE_INTEGER: return "integer";
    case SQLITE_FLOAT: return "real";
    case SQLITE_TEXT: return "text";
    case SQLITE_BLOB: return "blob";
    default: return "null";
    }
}

/* The usual kind of a declared type, for result sets without rows. */
static enum cq_vkind decl_kind(const char *t, unsigned flags)
{
    if (flags & F_BOOL) {
        return CQ_V_BOOL;
    }
    if (flags & F_JSON) {
        return CQ_V_JSON;
    }
    if (t != NULL && (strstr(t, "int") != NULL || strstr(t, "real") != NULL ||
                      strstr(t, "floa") != NULL || strstr(t, "doub") != NULL ||
                      strstr(t, "numeric") != NULL || strstr(t, "decimal") != NULL)) {
        return CQ_V_NUMBER;
    }
    return CQ_V_STRING;
}

/* Names and declared types; types of expressions are left NULL for first_row(). */
static int describe(struct run *r, sqlite3_stmt *stmt, struct cols *k, struct cq_err *err)
{
    size_t n = (size_t)sqlite3_column_count(stmt);
    k->n = n;
    k->cols = cq_arena_alloc(&r->arena, (n + 1) * sizeof(*k->cols));
    k->vals = cq_arena_alloc(&r->arena, (n + 1) * sizeof(*k->vals));
    k->off = cq_arena_alloc(&r->arena, (n + 1) * sizeof(*k->off));
    k->flags = cq_arena_alloc(&r->arena, n + 1);
    if (k->cols == NULL || k->vals == NULL || k->off == NULL || k->flags == NULL) {
        goto nomem;
    }
    for (size_t i = 0; i < n; i++) {
        const char *decl = sqlite3_column_decltype(stmt, (int)i);
        char *t = decl != NULL && *decl != '\0' ? cq_arena_strdup(&r->arena, decl) : NULL;
        k->cols[i].name = sqlite3_column_name(stmt, (int)i);
        if (k->cols[i].name == NULL || (decl != NULL && *decl != '\0' && t == NULL)) {
            goto nomem;
        }
        for (char *p = t; p != NULL && *p != '\0'; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
        if (t != NULL && (strcmp(t, "json") == 0 || strcmp(t, "jsonb") == 0)) {
            k->flags[i] |= F_JSON;
        }
        if (t != NULL && (strcmp(t, "boolean") == 0 || strcmp(t, "bool") == 0)) {
            k->flags[i] |= F_BOOL;
        }
        k->cols[i].type = t;
        k->cols[i].kind = decl_kind(t, k->flags[i]);
    }
    return CQ_OK;
nomem:
    return cq_err_set(err, CQ_ENOMEM, "connection '%s': out of memory describing columns",
                      r->sc->base.name);
}

/* With the first row converted: kinds from its values, expression types from its classes. */
static void first_row(sqlite3_stmt *stmt, struct cols *k, bool have_row)
{
    for (size_t i = 0; i < k->n; i++) {
        int type = have_row ? sqlite3_column_type(stmt, (int)i) : SQLITE_NULL;
        if (k->cols[i].type == NULL) {
            k->cols[i].type = storage_name(type);
        }
        if (have_row) {
            enum cq_vkind kind = k->vals[i].kind;
            k->cols[i].kind = kind == CQ_V_NULL ? CQ_V_STRING : kind;
        }
    }
}

/* ---- statements -------------------------------------------------------------------------- */

static int between_rows(struct run *r, int64_t rows, struct cq_err *err)
{
    struct sq_conn *sc = r->sc;
    if (atomic_load_explicit(&sc->canceled, memory_order_relaxed) ||
        (sc->deadline_ms > 0 && rows % DEADLINE_EVERY == 0 && cq_now_ms() >= sc->deadline_ms)) {
        return interrupted_error(sc, err); /* a slow sink must not outlive the deadline */
    }
    return CQ_OK;
}

static int finish(struct run *r, sqlite3_stmt *stmt, int64_t rows, const struct cq_rowsink *out,
                  struct cq_err *err)
{
    char command[32];
    struct cq_result_info info = {.row_count = rows, .rows_affected = -1};
    lead_words(sqlite3_sql(stmt), false, command, sizeof(command));
    if (strcmp(command, "INSERT") == 0 || strcmp(command, "UPDATE") == 0 ||
        strcmp(command, "DELETE") == 0 || strcmp(command, "REPLACE") == 0) {
        info.rows_affected = sqlite3_changes64(r->sc->db);
    }
    info.command = command;
    info.elapsed_ms = (double)(cq_now_us() - r->start_us) / 1000.0;
    return out->on_end(out->ctx, &info, err);
}

/* Steps one prepared statement into `out`: columns after the first step, rows, end. */
static int stream(struct run *r, sqlite3_stmt *stmt, const struct cq_rowsink *out,
                  struct cq_err *err)
{
    struct cols k = {0};
    int64_t rows = 0;
    int step = sqlite3_step(stmt);
    int rc;
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        return sql_error(r, step, sqlite3_sql(stmt), err);
    }
    rc = describe(r, stmt, &k, err);
    if (rc == CQ_OK && step == SQLITE_ROW) {
        rc = build_row(r, stmt, &k, err);
    }
    if (rc != CQ_OK) {
        return rc;
    }
    first_row(stmt, &k, step == SQLITE_ROW);
    rc = out->on_columns(out->ctx, k.n, k.cols, err);
    while (rc == CQ_OK && step == SQLITE_ROW) {
        rc = out->on_row(out->ctx, k.n, k.vals, err);
        if (rc == CQ_SINK_STOP) {
            sqlite3_reset(stmt); /* a cap was reached: stop the VM, keep memory flat */
            return finish(r, stmt, rows, out, err);
        }
        if (rc == CQ_OK) {
            rc = between_rows(r, ++rows, err);
        }
        if (rc == CQ_OK) {
            step = sqlite3_step(stmt);
            if (step == SQLITE_ROW) {
                rc = build_row(r, stmt, &k, err);
            } else if (step != SQLITE_DONE) {
                rc = sql_error(r, step, sqlite3_sql(stmt), err);
            }
        }
    }
    return rc == CQ_OK ? finish(r, stmt, rows, out, err) : rc;
}

/* Binds, checks read-only, and streams one statement. */
static int run_stmt(struct run *r, sqlite3_stmt *stmt, bool last, const struct cq_rowsink *out,
                    struct cq_err *err)
{
    /* The authorizer already refuses most writes at prepare; this catches the rest
     * (VACUUM, anything SQLite adds later) before it runs. */
    if (r->sc->base.read_only && !sqlite3_stmt_readonly(stmt)) {
        return readonly_error(r->sc, sqlite3_sql(stmt), err);
    }
    int rc = bind_params(r, stmt, last, err);
    return rc == CQ_OK ? stream(r, stmt, out, err) : rc;
}

/* Takes the cached statement for sql out of the cache, or NULL. */
static sqlite3_stmt *cache_take(struct sq_conn *sc, const char *sql)
{
    for (size_t i = 0; i < STMT_CACHE; i++) {
        if (sc->cache[i].sql != NULL && strcmp(sc->cache[i].sql, sql) == 0) {
            sqlite3_stmt *stmt = sc->cache[i].stmt;
            cq_free(sc->cache[i].sql);
            sc->cache[i].sql = NULL;
            sc->cache[i].stmt = NULL;
            return stmt;
        }
    }
    return NULL;
}

/* Keeps a statement that ran cleanly for the next exec of the same text (else finalizes). */
static void cache_put(struct sq_conn *sc, const char *sql, sqlite3_stmt *stmt)
{
    size_t victim = 0;
    char *copy = cq_strdup(sql);
    if (copy == NULL || sqlite3_reset(stmt) != SQLITE_OK) {
        cq_free(copy);
        sqlite3_finalize(stmt);
        return;
    }
    sqlite3_clear_bindings(stmt);
    for (size_t i = 1; i < STMT_CACHE; i++) {
        victim = sc->cache[i].used < sc->cache[victim].used ? i : victim;
    }
    sqlite3_finalize(sc->cache[victim].stmt);
    cq_free(sc->cache[victim].sql);
    sc->cache[victim].sql = copy;
    sc->cache[victim].stmt = stmt;
    sc->cache[victim].used = ++sc->tick;
}

/* Runs the statements of st->sql in order; only the last one's rows reach `out`. */
static int run_all(struct run *r, const struct cq_rowsink *out, struct cq_err *err)
{
    const char *pos = r->st->sql;
    sqlite3_stmt *stmt = cache_take(r->sc, pos);
    int rc = CQ_OK;
    bool any = false;
    if (stmt != NULL) { /* a cached statement is always the whole text */
        rc = run_stmt(r, stmt, true, out, err);
        if (rc == CQ_OK) {
            cache_put(r->sc, pos, stmt);
            stmt = NULL;
        }
        goto out;
    }
    for (;;) {
        const char *tail = NULL;
        r->off = (size_t)(pos - r->st->sql);
        int prc = sqlite3_prepare_v3(r->sc->db, pos, -1, 0, &stmt, &tail);
        if (prc != SQLITE_OK) {
            rc = sql_error(r, prc, pos, err);
            goto out;
        }
        bool last = *skip_blank(tail, true) == '\0';
        if (stmt == NULL) { /* only blanks or a lone ';' */
            if (last || tail == pos) {
                break;
            }
            pos = tail;
            continue;
        }
        if (!last && !r->st->allow_multi) {
            rc = cq_err_set(err, CQ_EINVAL, "the SQL holds several statements; run one at a "
                            "time or pass --allow-multi");
            goto out;
        }
        any = true;
        /* Tail-driven, so a trigger's BEGIN ... ; ... END body stays one statement. */
        rc = run_stmt(r, stmt, last, last ? out : &cq_drv_discard_sink, err);
        if (rc == CQ_OK && last && pos == r->st->sql) {
            cache_put(r->sc, pos, stmt);
        } else {
            sqlite3_finalize(stmt);
        }
        stmt = NULL;
        if (rc != CQ_OK || last) {
            goto out;
        }
        pos = tail;
    }
    if (!any) {
        rc = cq_err_set(err, CQ_EINVAL, "the SQL holds no statement");
    }
out:
    sqlite3_finalize(stmt);
    return rc;
}

static int sq_exec(struct cq_conn *c, const struct cq_stmt *st, const struct cq_rowsink *out,
                   struct cq_err *err)
{
    struct sq_conn *sc = (struct sq_conn *)c;
    struct run r = {.sc = sc, .st = st, .start_us = cq_now_us()};
    int64_t t = st->timeout_ms;
    int rc;

    if (sc->db == NULL) {
        return cq_err_set(err, CQ_ECONNECT, "connection '%s': not open", c->name);
    }
    /* A converted row holds at most SQLite's own value limit in hex (2 chars a byte). */
    size_t max_len = (size_t)sqlite3_limit(sc->db, SQLITE_LIMIT_LENGTH, -1);
    cq_arena_init(&r.arena, 4096, 0);
    cq_buf_init(&r.scratch, 2 * max_len + 65536);
    atomic_store(&sc->canceled, false);
    sc->timeout_ms = t > 0 ? t : 0;
    sc->deadline_ms = t > 0 ? cq_now_ms() + t : 0;
    sqlite3_busy_timeout(sc->db, t > 0 && t < BUSY_TIMEOUT_MS ? (int)t : BUSY_TIMEOUT_MS);
    rc = run_all(&r, out, err);
    sc->deadline_ms = 0;
    cq_buf_cleanup(&r.scratch);
    cq_arena_free(&r.arena);
    return rc;
}

static const struct cq_drv_ops sqlite_ops = {
    .connect = sq_connect,
    .disconnect = sq_disconnect,
    .ping = sq_ping,
    .exec = sq_exec,
    .cancel = sq_cancel,
    .server_version = sq_server_version,
};

static const char *const sqlite_schemes[] = {"sqlite", NULL};

const struct cq_driver cq_drv_sqlite = {
    .abi = CQ_DRV_ABI,
    .name = "sqlite",
    .schemes = sqlite_schemes,
    .dialect = CQ_DIALECT_SQLITE,
    .caps = CQ_CAP_PARAMS | CQ_CAP_CANCEL | CQ_CAP_STREAM | CQ_CAP_TX,
    .conn_size = sizeof(struct sq_conn),
    .ops = &sqlite_ops,
};

#endif /* CQ_WITHOUT_SQLITE */
