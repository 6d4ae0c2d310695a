/*
 * fz_params.c - parameter parsing. The first byte picks the parser (even: one CLI value,
 * odd: a --params-json array); the rest is the text. Every parsed value must be a
 * NUL-terminated arena string whose len matches, and errors must carry a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/mem.h"
#include "drv/param.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_param(const struct cq_param *p)
{
    if (p->type == CQ_P_NULL) {
        if (p->text != NULL) {
            abort();
        }
        return;
    }
    if (p->text == NULL || strlen(p->text) != p->len) {
        abort();
    }
    if (p->type == CQ_P_BOOL && strcmp(p->text, "true") != 0 && strcmp(p->text, "false") != 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cq_arena a;
    struct cq_err err = {0};
    if (size == 0) {
        return 0;
    }
    char *text = cq_malloc(size);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    cq_arena_init(&a, 4096, 0);
    int rc;
    if ((data[0] & 1) == 0) {
        struct cq_param p;
        rc = cq_drv_param_parse(&a, text, &p, &err);
        if (rc == CQ_OK) {
            check_param(&p);
        }
    } else {
        struct cq_param *ps = NULL;
        size_t n = 0;
        rc = cq_drv_params_json(&a, text, &ps, &n, &err);
        for (size_t i = 0; rc == CQ_OK && i < n; i++) {
            check_param(&ps[i]);
        }
    }
    if (rc != CQ_OK && err.msg[0] == '\0') {
        abort();
    }
    cq_arena_free(&a);
    cq_free(text);
    return 0;
}
