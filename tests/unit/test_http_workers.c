/*
 * test_http_workers.c - the worker threads of clariq serve (src/http/loop.c): every job
 * submitted runs exactly once, blocked jobs do not hold up the others (the pool grows), and
 * a stop runs what is queued before it joins; a submit after the stop is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "http/internal.h"

#define N_JOBS 200

struct job {
    struct cq_http_job j; /* first */
    int seq;
    atomic_int *ran;
    int *order;           /* the seq of each run, in run order */
    atomic_int *next;
    pthread_mutex_t *gate; /* held by the test: the job blocks until it is released */
};

static void run(struct cq_http_job *hj)
{
    struct job *j = (struct job *)(void *)hj;
    if (j->gate != NULL) {
        pthread_mutex_lock(j->gate);
        pthread_mutex_unlock(j->gate);
    }
    j->order[atomic_fetch_add(j->next, 1)] = j->seq;
    atomic_fetch_add(j->ran, 1);
}

static void every_job_runs_once_and_stop_drains_the_queue(void **state)
{
    struct cq_http_workers ws;
    static struct job jobs[N_JOBS];
    static int order[N_JOBS];
    atomic_int ran = 0, next = 0;
    (void)state;
    cq_http_workers_init(&ws);
    for (int i = 0; i < N_JOBS; i++) {
        jobs[i] = (struct job){.j.run = run, .seq = i, .ran = &ran, .order = order,
                               .next = &next};
        assert_int_equal(cq_http_workers_submit(&ws, &jobs[i].j), CQ_OK);
    }
    cq_http_workers_stop(&ws); /* runs what is still queued, then joins */
    assert_int_equal(atomic_load(&ran), N_JOBS);
    struct job late = {.j.run = run, .ran = &ran, .order = order, .next = &next};
    assert_int_equal(cq_http_workers_submit(&ws, &late.j), CQ_ECANCELED);
    assert_int_equal(atomic_load(&ran), N_JOBS);
    int seen[N_JOBS] = {0};
    for (int i = 0; i < N_JOBS; i++) {
        seen[order[i]]++;
    }
    for (int i = 0; i < N_JOBS; i++) {
        assert_int_equal(seen[i], 1);
    }
    cq_http_workers_cleanup(&ws);
}

/* Jobs that block do not hold up the others: the pool grows a thread per blocked job. */
static void blocked_jobs_do_not_hold_up_others(void **state)
{
    struct cq_http_workers ws;
    struct job blocked[8], quick;
    int order[16];
    atomic_int ran = 0, next = 0;
    pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
    (void)state;
    cq_http_workers_init(&ws);
    pthread_mutex_lock(&gate);
    for (int i = 0; i < 8; i++) {
        blocked[i] = (struct job){.j.run = run, .seq = i, .ran = &ran, .order = order,
                                  .next = &next, .gate = &gate};
        assert_int_equal(cq_http_workers_submit(&ws, &blocked[i].j), CQ_OK);
    }
    quick = (struct job){.j.run = run, .seq = 99, .ran = &ran, .order = order, .next = &next};
    assert_int_equal(cq_http_workers_submit(&ws, &quick.j), CQ_OK);
    for (int i = 0; i < 500 && atomic_load(&ran) == 0; i++) {
        usleep(10 * 1000); /* up to 5 s */
    }
    assert_int_equal(atomic_load(&ran), 1); /* the quick one, while 8 are blocked */
    assert_int_equal(order[0], 99);
    assert_true(ws.n >= 9);
    pthread_mutex_unlock(&gate);
    cq_http_workers_stop(&ws);
    assert_int_equal(atomic_load(&ran), 9);
    cq_http_workers_cleanup(&ws);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_job_runs_once_and_stop_drains_the_queue),
        cmocka_unit_test(blocked_jobs_do_not_hold_up_others),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
