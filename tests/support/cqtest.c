/* cqtest.c - shared test helpers (see cqtest.h). Tests may use libc allocation directly. */
#include "cqtest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/buf.h"
#include "conf/conf.h"

#define MAX_VARS 32

static char *keys[MAX_VARS];
static char *vals[MAX_VARS];
static int n_vars = -1;

static void load_env_file(void)
{
    const char *path = getenv("CQ_IT_ENV_FILE");
    n_vars = 0;
    if (path == NULL) {
        return;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return;
    }
    char line[1024];
    while (n_vars < MAX_VARS && fgets(line, sizeof(line), f) != NULL) {
        char *eq = strchr(line, '=');
        if (eq == NULL) {
            continue;
        }
        *eq = '\0';
        char *v = eq + 1;
        v[strcspn(v, "\r\n")] = '\0';
        keys[n_vars] = strdup(line);
        vals[n_vars] = strdup(v);
        n_vars++;
    }
    fclose(f);
}

const char *cq_test_env(const char *key)
{
    const char *v = getenv(key);
    if (v != NULL && *v != '\0') {
        return v;
    }
    if (n_vars < 0) {
        load_env_file();
    }
    for (int i = 0; i < n_vars; i++) {
        if (strcmp(keys[i], key) == 0) {
            return vals[i];
        }
    }
    return NULL;
}

const char *cq_test_require(const char *key)
{
    const char *v = cq_test_env(key);
    if (v == NULL) {
        const char *ci = getenv("CI");
        bool in_ci = ci != NULL && strcmp(ci, "true") == 0;
        fprintf(stderr, "%s: %s is not set (server not available)\n", in_ci ? "FAIL" : "SKIP", key);
        exit(in_ci ? 1 : 77);
    }
    return v;
}

int cq_test_itenv(const char *args)
{
    const char *src = getenv("CQ_SOURCE_DIR");
    const char *envf = getenv("CQ_IT_ENV_FILE");
    char cmd[2048];
    char dir[1024];
    if (src == NULL || envf == NULL) {
        return -1;
    }
    snprintf(dir, sizeof(dir), "%s", envf);
    char *slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    snprintf(cmd, sizeof(cmd), "bash '%s/tests/integration/itenv.sh' %s '%s'", src, args, dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

struct sink {
    int fd;
    char *p;
    size_t len, cap;
    bool open;
};

static void drain(struct sink *s)
{
    char buf[65536];
    ssize_t n = read(s->fd, buf, sizeof(buf));
    if (n <= 0) {
        s->open = false;
        return;
    }
    if (s->len + (size_t)n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 65536;
        while (cap < s->len + (size_t)n + 1) {
            cap *= 2;
        }
        char *p = realloc(s->p, cap);
        if (p == NULL) {
            s->open = false;
            return;
        }
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->len, buf, (size_t)n);
    s->len += (size_t)n;
    s->p[s->len] = '\0';
}

int cq_test_run(const char *cmd, const char *input, char **out, char **err)
{
    int po[2], pe[2], pi[2];
    if (pipe(po) != 0 || pipe(pe) != 0 || pipe(pi) != 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        dup2(pi[0], 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]), close(pe[0]), close(pi[1]);
        close(po[1]), close(pe[1]), close(pi[0]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(po[1]), close(pe[1]), close(pi[0]);
    if (input != NULL) {
        size_t left = strlen(input);
        while (left > 0) {
            ssize_t n = write(pi[1], input, left);
            if (n <= 0) {
                break;
            }
            input += n;
            left -= (size_t)n;
        }
    }
    close(pi[1]);
    struct sink so = {.fd = po[0], .open = true}, se = {.fd = pe[0], .open = true};
    while (so.open || se.open) {
        struct pollfd fds[2] = {{.fd = so.open ? so.fd : -1, .events = POLLIN},
                                {.fd = se.open ? se.fd : -1, .events = POLLIN}};
        if (poll(fds, 2, -1) < 0 && errno != EINTR) {
            break;
        }
        if (fds[0].revents) {
            drain(&so);
        }
        if (fds[1].revents) {
            drain(&se);
        }
    }
    close(po[0]), close(pe[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (out != NULL) {
        *out = so.p ? so.p : strdup("");
    } else {
        free(so.p);
    }
    if (err != NULL) {
        *err = se.p ? se.p : strdup("");
    } else {
        free(se.p);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *cq_test_tmpdir(const char *tag)
{
    const char *base = getenv("CQ_TEST_TMP");
    char tmpl[1024];
    if (base == NULL) {
        base = "/tmp";
    }
    mkdir(base, 0755);
    snprintf(tmpl, sizeof(tmpl), "%s/%s.XXXXXX", base, tag);
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

bool cq_test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return false;
    }
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

long cq_test_peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
        }
    }
    fclose(f);
    return kib;
}

/* Under AddressSanitizer, freed memory waits in a quarantine (256 MB by default) before
 * reuse, which would hide whether streaming keeps memory flat. A small quarantine keeps the
 * peak-RSS checks of the integration tests meaningful; ASAN_OPTIONS still apply on top. */
#if CQ_TEST_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=4:thread_local_quarantine_size_kb=256";
}
#endif

char *cq_test_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *s;
    long n;

    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s = malloc((size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n) {
        n = 0;
    }
    s[n] = '\0';
    fclose(f);
    return s;
}

void cq_test_quote_ident(struct cq_buf *b, const char *s, size_t len)
{
    cq_buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') {
            cq_buf_putc(b, '"');
        }
        cq_buf_putc(b, s[i]);
    }
    cq_buf_putc(b, '"');
}

struct cq_conf *cq_test_conf_load(const char *text, char **diags)
{
    struct cq_conf_diags d = {0};
    struct cq_err err = {0};
    struct cq_buf b;
    struct cq_conf *conf = cq_conf_load_mem("clariq.yaml", text, strlen(text), &d, &err);

    cq_buf_init(&b, 1 << 20);
    cq_conf_diags_format(&d, &b);
    *diags = strdup(cq_buf_str(&b));
    cq_buf_cleanup(&b);
    cq_conf_diags_cleanup(&d);
    return conf;
}

struct cq_conf *cq_test_conf_good(const char *text)
{
    char *diags = NULL;
    struct cq_conf *conf = cq_test_conf_load(text, &diags);

    if (conf == NULL) {
        fail_msg("unexpected problems:\n%s", diags);
    }
    free(diags);
    return conf;
}

void cq_test_conf_bad(const char *text, const char *want)
{
    char *diags = NULL;
    struct cq_conf *conf = cq_test_conf_load(text, &diags);

    if (conf != NULL || strcmp(diags, want) != 0) {
        fail_msg("diagnostics:\n got:\n%s\n want:\n%s", diags, want);
    }
    cq_conf_free(conf);
    free(diags);
}

void cq_test_expect_json(const struct json_t *j, const char *want)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

    assert_non_null(s);
    if (strcmp(s, want) != 0) {
        fail_msg("JSON:\n got  %s\n want %s", s, want);
    }
    free(s);
}

void cq_test_tally_bad(struct cq_test_tally *t, const char *fmt, ...)
{
    if (t->bad++ == 0) {
        va_list ap;
        int n = snprintf(t->why, sizeof(t->why), "client %d: ", t->id);
        va_start(ap, fmt);
        vsnprintf(t->why + n, sizeof(t->why) - (size_t)n, fmt, ap);
        va_end(ap);
    }
}

void cq_test_parallel(int n, void *(*fn)(void *), void *ctx)
{
    pthread_t *th = calloc((size_t)n, sizeof(*th));
    struct cq_test_tally *t = calloc((size_t)n, sizeof(*t));
    assert_non_null(th);
    assert_non_null(t);
    for (int i = 0; i < n; i++) {
        t[i] = (struct cq_test_tally){.id = i, .ctx = ctx};
        assert_int_equal(pthread_create(&th[i], NULL, fn, &t[i]), 0);
    }
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
    }
    for (int i = 0; i < n; i++) {
        if (t[i].bad > 0) {
            char why[sizeof(t[i].why)];
            int bad = t[i].bad;
            memcpy(why, t[i].why, sizeof(why));
            free(th);
            free(t);
            fail_msg("%d wrong answers; %s", bad, why);
        }
    }
    free(th);
    free(t);
}
