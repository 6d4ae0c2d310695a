/*
 * hash.h - SHA-256 of a byte string (API key digests).
 */
#ifndef CQ_BASE_HASH_H
#define CQ_BASE_HASH_H

#include <stddef.h>

#define CQ_SHA256_LEN 32

/* Writes the SHA-256 of p[0..len) to out. */
void cq_sha256(const void *p, size_t len, unsigned char out[CQ_SHA256_LEN]);

#endif
