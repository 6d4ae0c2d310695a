/*
 * list.h - intrusive doubly linked lists, in the style of BSD's <sys/queue.h>: any struct
 * with `prev` and `next` pointers to its own type is an element, and a list is a pointer to
 * its first element. Macros so the element keeps its type; pass plain lvalues (each argument
 * is evaluated more than once). The caller does the locking.
 */
#ifndef CQ_BASE_LIST_H
#define CQ_BASE_LIST_H

#include <stddef.h>

/* Puts e first in the list head. */
#define CQ_LIST_PUSH(head, e)                                                                      \
    do {                                                                                           \
        (e)->prev = NULL;                                                                          \
        (e)->next = (head);                                                                        \
        if ((head) != NULL) {                                                                      \
            (head)->prev = (e);                                                                    \
        }                                                                                          \
        (head) = (e);                                                                              \
    } while (0)

/* Takes e out of the list head (e must be in it). */
#define CQ_LIST_REMOVE(head, e)                                                                    \
    do {                                                                                           \
        if ((e)->prev != NULL) {                                                                   \
            (e)->prev->next = (e)->next;                                                           \
        } else {                                                                                   \
            (head) = (e)->next;                                                                    \
        }                                                                                          \
        if ((e)->next != NULL) {                                                                   \
            (e)->next->prev = (e)->prev;                                                           \
        }                                                                                          \
        (e)->prev = (e)->next = NULL;                                                              \
    } while (0)

#endif
