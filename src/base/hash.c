/*
 * hash.c - SHA-256 through OpenSSL's direct digest functions.
 *
 * OpenSSL 3's one-shot SHA256() fetches the digest through a library context, which loads
 * the configuration and the default provider: about 2 MB of resident memory in a server
 * that otherwise never needs them (issue 5's idle RSS goal). SHA256_Init/Update/Final are
 * deprecated but still compute the digest directly, with nothing to initialise.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "base/hash.h"

void cq_sha256(const void *p, size_t len, unsigned char out[CQ_SHA256_LEN])
{
    SHA256_CTX ctx;

    SHA256_Init(&ctx);
    SHA256_Update(&ctx, p, len);
    SHA256_Final(out, &ctx);
}
