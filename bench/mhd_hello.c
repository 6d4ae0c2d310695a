/*
 * mhd_hello.c - the baseline of bench/http.sh: the smallest libmicrohttpd server that
 * answers every request with a fixed JSON body, with the thread model closest to
 * `clariq serve`'s that libmicrohttpd has built in (src/http/loop.c runs one epoll event
 * loop per core; here MHD's own epoll threads, one per core) and queueing its response on
 * the second access-handler call
 * (SERVICES.md: queueing on the first makes MHD close the connection). What clariq adds
 * over this - routing, request ids, auth, the handler, access log, metrics - is what the
 * GET /health ratio measures.
 *
 *   cq-bench-mhd-hello PORT     listens on 127.0.0.1:PORT (0 = any free port), prints
 *                               the port on stdout, serves until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#if MHD_VERSION < 0x00097002
#define MHD_Result int
#endif

static const char body[] = "{\"healthy\":true,\"executors\":{},\"cacheProviders\":{}}";

static enum MHD_Result ahc(void *cls, struct MHD_Connection *c, const char *url,
                           const char *method, const char *version, const char *upload,
                           size_t *upload_size, void **con_cls)
{
    struct MHD_Response *r;
    enum MHD_Result ok;
    static int first;

    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload;
    if (*con_cls == NULL) {
        *con_cls = &first; /* first call: headers only; answer on the next one */
        return MHD_YES;
    }
    if (*upload_size != 0) {
        *upload_size = 0; /* a body is read and dropped */
        return MHD_YES;
    }
    r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)(uintptr_t)body,
                                        MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

int main(int argc, char **argv)
{
    struct sockaddr_in addr;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    sigset_t set;
    int sig;

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)(argc > 1 ? strtol(argv[1], NULL, 10) : 0));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Block the signals before MHD starts its threads, so that sigwait below gets them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                         ahc, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                         MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_THREAD_POOL_SIZE,
                         (unsigned)(cores > 0 ? cores : 1), MHD_OPTION_CONNECTION_LIMIT,
                         20000u, MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "cq-bench-mhd-hello: cannot listen\n");
        return 1;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("%u\n", info != NULL ? (unsigned)info->port : 0u);
    fflush(stdout);
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}
