/*
 * sample.c - the demo database (a small shop) behind `clariq demo`, `clariq init` and the
 * embedded default configuration: cq_drv_sqlite_make_sample().
 *
 * The content is deterministic (a fixed-seed generator), so screenshots, docs and tests
 * see the same rows everywhere. The file is built under a temporary name in the target
 * directory, synced, and renamed into place: readers never see a half-built database.
 */
#include "drv/sqlite.h"

#ifdef CQ_WITHOUT_SQLITE

int cq_drv_sqlite_make_sample(const char *path, struct cq_err *err)
{
    return cq_err_set(err, CQ_EUNSUPPORTED,
                      "cannot create the demo database %s: built without SQLite", path);
}

#else

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"

#define N_CUSTOMERS 50
#define N_PRODUCTS 30
#define N_ORDERS 500   /* with 1 + (i % 5) items each: 1500 order_items */
#define N_EVENTS 200
#define EPOCH_2024 1704067200LL /* 2024-01-01T00:00:00Z */

static const char schema_sql[] =
    "PRAGMA journal_mode=OFF;" /* a scratch file until renamed: no journal needed */
    "PRAGMA synchronous=OFF;"  /* the finished file is fsync'ed once before the rename */
    "BEGIN;"
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT,"
    " country TEXT, created_at TIMESTAMP NOT NULL);"
    "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT,"
    " price NUMERIC NOT NULL, in_stock BOOLEAN NOT NULL);"
    "CREATE TABLE orders (id INTEGER PRIMARY KEY,"
    " customer_id INTEGER NOT NULL REFERENCES customers(id), status TEXT NOT NULL,"
    " ordered_at TIMESTAMP NOT NULL, total NUMERIC);"
    "CREATE TABLE order_items (order_id INTEGER NOT NULL REFERENCES orders(id),"
    " product_id INTEGER NOT NULL REFERENCES products(id), quantity INTEGER NOT NULL,"
    " unit_price NUMERIC NOT NULL, PRIMARY KEY (order_id, product_id));"
    "CREATE TABLE events (id INTEGER PRIMARY KEY, type TEXT NOT NULL, payload JSON,"
    " at TIMESTAMP NOT NULL);"
    "CREATE INDEX orders_customer ON orders(customer_id);"
    "CREATE INDEX events_type_at ON events(type, at);"
    "CREATE VIEW revenue_by_country AS"
    " SELECT c.country AS country, count(*) AS orders, round(sum(o.total), 2) AS revenue"
    " FROM orders AS o JOIN customers AS c ON c.id = o.customer_id"
    " WHERE o.status <> 'cancelled' GROUP BY c.country ORDER BY revenue DESC;";

/* xorshift32 with a fixed seed: the same "random" shop on every machine. */
struct gen {
    uint32_t s;
};

static uint32_t gen_below(struct gen *g, uint32_t n)
{
    g->s ^= g->s << 13;
    g->s ^= g->s >> 17;
    g->s ^= g->s << 5;
    return g->s % n;
}

/* ISO-8601 UTC text for EPOCH_2024 + secs. */
static void iso_time(int64_t secs, char *out, size_t size)
{
    time_t t = (time_t)(EPOCH_2024 + secs);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Steps an INSERT and resets it for the next row. */
static int insert_row(sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int fill_customers(sqlite3 *db, struct gen *g)
{
    static const char *const first[] = {"Alice", "Bob", "Carla", "David", "Emma", "Felix",
                                        "Grace", "Hugo", "Ines", "Jonas", "Karin", "Liam",
                                        "Maya", "Noah", "Olga", "Pedro", "Quinn", "Rosa",
                                        "Sven", "Tara", "Umar", "Vera", "Wen"};
    static const char *const last[] = {"Smith", "Garcia", "Rossi", "Dubois", "Kowalski",
                                       "Tanaka", "Silva", "Nguyen", "Berg", "Okafor"};
    static const char *const countries[] = {"US", "DE", "FR", "GB", "ES", "JP", "BR", "CN"};
    /* A few names that exercise UTF-8 end to end (id, name, email, country). */
    static const struct { int id; const char *name, *email, *country; } special[] = {
        {3, "Zoë Martin", "zoe.martin@example.fr", "FR"},
        {7, "李雷", "li.lei@example.cn", "CN"},
        {11, "José Álvarez", "jose.alvarez@example.es", "ES"},
    };
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT INTO customers VALUES (?1, ?2, ?3, ?4, ?5)", -1,
                                &stmt, NULL);
    for (int id = 1; rc == SQLITE_OK && id <= N_CUSTOMERS; id++) {
        char name[64], email[96], at[32];
        const char *f = first[(id - 1) % 23], *l = last[(id * 7) % 10];
        const char *country = countries[gen_below(g, 8)];
        snprintf(name, sizeof(name), "%s %s", f, l);
        snprintf(email, sizeof(email), "%s.%s%d@example.com", f, l, id);
        for (char *p = email; *p != '\0'; p++) {
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        }
        for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
            if (special[i].id == id) {
                cq_strlcpy(name, special[i].name, sizeof(name));
                cq_strlcpy(email, special[i].email, sizeof(email));
                country = special[i].country;
            }
        }
        iso_time((int64_t)gen_below(g, 300 * 24 * 60) * 60, at, sizeof(at));
        sqlite3_bind_int(stmt, 1, id);
        sqlite3_bind_text(stmt, 2, name, -1, SQLITE_TRANSIENT);
        if (id % 9 != 4) { /* some customers never gave an e-mail address */
            sqlite3_bind_text(stmt, 3, email, -1, SQLITE_TRANSIENT);
        }
        if (id % 17 != 5) {
            sqlite3_bind_text(stmt, 4, country, -1, SQLITE_STATIC);
        }
        sqlite3_bind_text(stmt, 5, at, -1, SQLITE_TRANSIENT);
        rc = insert_row(stmt);
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int fill_products(sqlite3 *db, struct gen *g, int64_t *price_cents)
{
    static const struct { const char *name, *category; } items[N_PRODUCTS] = {
        {"Paper notebook", "Office"}, {"Fountain pen", "Office"}, {"Desk lamp", "Home"},
        {"Standing desk", "Office"}, {"Ergonomic chair", "Office"}, {"USB-C cable", "Electronics"},
        {"Wireless mouse", "Electronics"}, {"Mechanical keyboard", "Electronics"},
        {"27\" monitor", "Electronics"}, {"Noise-cancelling headphones", "Electronics"},
        {"Coffee grinder", "Kitchen"}, {"French press", "Kitchen"},
        {"Espresso cups (4)", "Kitchen"},
        {"Cast-iron pan", "Kitchen"}, {"Chef's knife", "Kitchen"}, {"Yoga mat", "Sports"},
        {"Running shoes", "Sports"}, {"Water bottle", "Sports"}, {"Tennis balls (3)", "Sports"},
        {"Backpack", "Outdoor"}, {"Tent (2 person)", "Outdoor"}, {"Headlamp", "Outdoor"},
        {"Sleeping bag", "Outdoor"}, {"Board game", "Toys"}, {"Puzzle 1000 pcs", "Toys"},
        {"Building bricks", "Toys"}, {"Plant pot", "Garden"}, {"Garden hose", "Garden"},
        {"Seed mix", "Garden"}, {"Gift card", NULL},
    };
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT INTO products VALUES (?1, ?2, ?3, ?4, ?5)", -1,
                                &stmt, NULL);
    for (int i = 0; rc == SQLITE_OK && i < N_PRODUCTS; i++) {
        price_cents[i] = (int64_t)(gen_below(g, 200) + 2) * 100 - 1 - (i % 3 == 0 ? 50 : 0);
        sqlite3_bind_int(stmt, 1, i + 1);
        sqlite3_bind_text(stmt, 2, items[i].name, -1, SQLITE_STATIC);
        if (items[i].category != NULL) {
            sqlite3_bind_text(stmt, 3, items[i].category, -1, SQLITE_STATIC);
        }
        sqlite3_bind_double(stmt, 4, (double)price_cents[i] / 100.0);
        sqlite3_bind_int(stmt, 5, gen_below(g, 5) != 0);
        rc = insert_row(stmt);
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* Inserts order `id`'s items (distinct products); returns its total in cents via *total. */
static int fill_items(sqlite3_stmt *stmt, struct gen *g, int id, const int64_t *price_cents,
                      int64_t *total)
{
    int n = 1 + id % 5;
    int first = (int)gen_below(g, N_PRODUCTS);
    int step = 1 + (int)gen_below(g, 7); /* distinct: n <= 5 steps of < 8 stay under 30 */
    int rc = SQLITE_OK;
    *total = 0;
    for (int k = 0; rc == SQLITE_OK && k < n; k++) {
        int p = (first + k * step) % N_PRODUCTS;
        int qty = 1 + (int)gen_below(g, 4);
        sqlite3_bind_int(stmt, 1, id);
        sqlite3_bind_int(stmt, 2, p + 1);
        sqlite3_bind_int(stmt, 3, qty);
        sqlite3_bind_double(stmt, 4, (double)price_cents[p] / 100.0);
        *total += qty * price_cents[p];
        rc = insert_row(stmt);
    }
    return rc;
}

static int fill_orders(sqlite3 *db, struct gen *g, const int64_t *price_cents)
{
    static const char *const statuses[] = {"delivered", "delivered", "delivered", "shipped",
                                           "paid", "pending", "cancelled"};
    sqlite3_stmt *ord = NULL, *item = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5)", -1, &ord,
                                NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db, "INSERT INTO order_items VALUES (?1, ?2, ?3, ?4)", -1,
                                &item, NULL);
    }
    for (int id = 1; rc == SQLITE_OK && id <= N_ORDERS; id++) {
        char at[32];
        int64_t total = 0;
        const char *status = statuses[gen_below(g, 7)];
        iso_time(200LL * 86400 + (int64_t)gen_below(g, 330 * 24 * 4) * 900, at, sizeof(at));
        rc = fill_items(item, g, id, price_cents, &total);
        if (rc != SQLITE_OK) {
            break;
        }
        sqlite3_bind_int(ord, 1, id);
        sqlite3_bind_int(ord, 2, 1 + (int)gen_below(g, N_CUSTOMERS));
        sqlite3_bind_text(ord, 3, status, -1, SQLITE_STATIC);
        sqlite3_bind_text(ord, 4, at, -1, SQLITE_TRANSIENT);
        if (strcmp(status, "pending") != 0) { /* a pending order has no total yet */
            sqlite3_bind_double(ord, 5, (double)total / 100.0);
        }
        rc = insert_row(ord);
    }
    sqlite3_finalize(ord);
    sqlite3_finalize(item);
    return rc;
}

static int fill_events(sqlite3 *db, struct gen *g)
{
    static const char *const types[] = {"page_view", "page_view", "page_view", "search",
                                        "add_to_cart", "checkout", "signup", "error"};
    struct cq_buf payload;
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT INTO events VALUES (?1, ?2, ?3, ?4)", -1, &stmt,
                                NULL);
    cq_buf_init(&payload, 1024);
    for (int id = 1; rc == SQLITE_OK && id <= N_EVENTS; id++) {
        char at[32];
        const char *type = types[gen_below(g, 8)];
        cq_buf_reset(&payload);
        cq_buf_printf(&payload, "{\"customer_id\":%u,\"path\":\"/products/%u\"",
                      1 + gen_below(g, N_CUSTOMERS), 1 + gen_below(g, N_PRODUCTS));
        if (strcmp(type, "error") == 0) {
            cq_buf_puts(&payload, ",\"error\":{\"code\":500,\"retry\":true}");
        } else if (strcmp(type, "checkout") == 0) {
            cq_buf_printf(&payload, ",\"amount\":%u.%02u,\"tags\":[\"web\",\"promo\"]",
                          10 + gen_below(g, 300), gen_below(g, 100));
        }
        cq_buf_putc(&payload, '}');
        iso_time(300LL * 86400 + (int64_t)id * 1800 + gen_below(g, 1800), at, sizeof(at));
        sqlite3_bind_int(stmt, 1, id);
        sqlite3_bind_text(stmt, 2, type, -1, SQLITE_STATIC);
        if (id % 23 != 0 && cq_buf_rc(&payload) == CQ_OK) { /* some events carry nothing */
            sqlite3_bind_text(stmt, 3, cq_buf_str(&payload), -1, SQLITE_TRANSIENT);
        }
        sqlite3_bind_text(stmt, 4, at, -1, SQLITE_TRANSIENT);
        rc = insert_row(stmt);
    }
    cq_buf_cleanup(&payload);
    sqlite3_finalize(stmt);
    return rc;
}

/* Builds the whole shop into the open (empty) database. */
static int build(sqlite3 *db)
{
    struct gen g = {.s = 20250301u};
    int64_t price_cents[N_PRODUCTS];
    int rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        rc = fill_customers(db, &g);
    }
    if (rc == SQLITE_OK) {
        rc = fill_products(db, &g, price_cents);
    }
    if (rc == SQLITE_OK) {
        rc = fill_orders(db, &g, price_cents);
    }
    if (rc == SQLITE_OK) {
        rc = fill_events(db, &g);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(db, "COMMIT; ANALYZE;", NULL, NULL, NULL);
    }
    return rc;
}

/* mkdir -p of the directory part of path. */
static int make_parents(const char *path, struct cq_err *err)
{
    char dir[4096];
    if (cq_strlcpy(dir, path, sizeof(dir)) >= sizeof(dir)) {
        return cq_err_set(err, CQ_EINVAL, "demo database path is too long: %.80s...", path);
    }
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir) {
        return CQ_OK;
    }
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        bool end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
                return cq_err_set(err, CQ_EIO, "cannot create directory %s for the demo "
                                  "database: %s", dir, strerror(errno));
            }
            if (end) {
                return CQ_OK;
            }
            *p = '/';
        }
    }
}

/* Builds the database at tmp (an empty file we created). */
static int build_file(const char *tmp, const char *path, struct cq_err *err)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK) {
        rc = build(db);
    }
    if (rc != SQLITE_OK) {
        rc = cq_err_set(err, rc == SQLITE_NOMEM ? CQ_ENOMEM : CQ_EBACKEND,
                        "cannot build the demo database %s: %s", path,
                        db != NULL ? sqlite3_errmsg(db) : "out of memory");
    }
    if (sqlite3_close(db) != SQLITE_OK && rc == CQ_OK) {
        rc = cq_err_set(err, CQ_EBACKEND, "cannot finish the demo database %s", path);
    }
    return rc;
}

int cq_drv_sqlite_make_sample(const char *path, struct cq_err *err)
{
    struct stat sb;
    struct cq_buf tmp;
    int fd = -1;
    bool renamed = false;
    int rc;

    if (stat(path, &sb) == 0) {
        return CQ_OK; /* never rebuilt: the user may have changed it */
    }
    cq_buf_init(&tmp, 4200);
    rc = make_parents(path, err);
    if (rc != CQ_OK) {
        goto out;
    }
    cq_buf_printf(&tmp, "%s.tmp-XXXXXX", path);
    if (cq_buf_rc(&tmp) != CQ_OK) {
        rc = cq_err_set(err, CQ_EINVAL, "demo database path is too long: %.80s...", path);
        goto out;
    }
    fd = mkstemp(tmp.p);
    if (fd < 0 || fchmod(fd, 0644) != 0) {
        rc = cq_err_set(err, CQ_EIO, "cannot create %s: %s", cq_buf_str(&tmp), strerror(errno));
        goto out;
    }
    rc = build_file(tmp.p, path, err);
    if (rc != CQ_OK) {
        goto out;
    }
    if (fsync(fd) != 0 || rename(tmp.p, path) != 0) {
        rc = cq_err_set(err, CQ_EIO, "cannot move the demo database into place at %s: %s",
                        path, strerror(errno));
        goto out;
    }
    renamed = true;
out:
    if (fd >= 0) {
        close(fd);
        if (!renamed) {
            unlink(tmp.p);
        }
    }
    cq_buf_cleanup(&tmp);
    return rc;
}

#endif /* CQ_WITHOUT_SQLITE */
