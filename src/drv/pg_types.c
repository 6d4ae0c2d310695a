/*
 * pg_types.c - PostgreSQL type table (builtin OID -> name and value conversion) and the
 * text-to-JSON conversions of the pg driver: numbers kept with the server's digits,
 * booleans, json inline, timestamps to ISO-8601, and array literals to JSON arrays.
 *
 * Everything here works on libpq's text values and appends into the per-exec scratch
 * buffers, so the row loop allocates nothing once the buffers have grown.
 */
#include "drv/drv.h"

#ifndef CQ_WITHOUT_PG

#include <string.h>

#include "base/json.h"
#include "drv/pg_int.h"

/* Builtin types by OID (generated from pg_type of PostgreSQL 15; OIDs below 10000 are
 * fixed across versions). Sorted by oid for the binary search. Types created by users
 * (enums, domains, composites) are not here and come out as "unknown" strings. */
static const struct cq_drv_pg_type types[] = {
    {16, "bool", CQ_PG_BOOL, CQ_PG_STR, ','},
    {17, "bytea", CQ_PG_STR, CQ_PG_STR, ','},
    {18, "char", CQ_PG_STR, CQ_PG_STR, ','},
    {19, "name", CQ_PG_STR, CQ_PG_STR, ','},
    {20, "int8", CQ_PG_INT, CQ_PG_STR, ','},
    {21, "int2", CQ_PG_INT, CQ_PG_STR, ','},
    {22, "int2vector", CQ_PG_STR, CQ_PG_STR, ','},
    {23, "int4", CQ_PG_INT, CQ_PG_STR, ','},
    {24, "regproc", CQ_PG_STR, CQ_PG_STR, ','},
    {25, "text", CQ_PG_STR, CQ_PG_STR, ','},
    {26, "oid", CQ_PG_INT, CQ_PG_STR, ','},
    {27, "tid", CQ_PG_STR, CQ_PG_STR, ','},
    {28, "xid", CQ_PG_STR, CQ_PG_STR, ','},
    {29, "cid", CQ_PG_STR, CQ_PG_STR, ','},
    {30, "oidvector", CQ_PG_STR, CQ_PG_STR, ','},
    {114, "json", CQ_PG_JSON, CQ_PG_STR, ','},
    {142, "xml", CQ_PG_STR, CQ_PG_STR, ','},
    {143, "_xml", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {194, "pg_node_tree", CQ_PG_STR, CQ_PG_STR, ','},
    {199, "_json", CQ_PG_ARRAY, CQ_PG_JSON, ','},
    {271, "_xid8", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {600, "point", CQ_PG_STR, CQ_PG_STR, ','},
    {601, "lseg", CQ_PG_STR, CQ_PG_STR, ','},
    {602, "path", CQ_PG_STR, CQ_PG_STR, ','},
    {603, "box", CQ_PG_STR, CQ_PG_STR, ','},
    {604, "polygon", CQ_PG_STR, CQ_PG_STR, ','},
    {628, "line", CQ_PG_STR, CQ_PG_STR, ','},
    {629, "_line", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {650, "cidr", CQ_PG_STR, CQ_PG_STR, ','},
    {651, "_cidr", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {700, "float4", CQ_PG_NUM, CQ_PG_STR, ','},
    {701, "float8", CQ_PG_NUM, CQ_PG_STR, ','},
    {705, "unknown", CQ_PG_STR, CQ_PG_STR, ','},
    {718, "circle", CQ_PG_STR, CQ_PG_STR, ','},
    {719, "_circle", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {774, "macaddr8", CQ_PG_STR, CQ_PG_STR, ','},
    {775, "_macaddr8", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {790, "money", CQ_PG_STR, CQ_PG_STR, ','},
    {791, "_money", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {829, "macaddr", CQ_PG_STR, CQ_PG_STR, ','},
    {869, "inet", CQ_PG_STR, CQ_PG_STR, ','},
    {1000, "_bool", CQ_PG_ARRAY, CQ_PG_BOOL, ','},
    {1001, "_bytea", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1002, "_char", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1003, "_name", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1005, "_int2", CQ_PG_ARRAY, CQ_PG_INT, ','},
    {1006, "_int2vector", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1007, "_int4", CQ_PG_ARRAY, CQ_PG_INT, ','},
    {1008, "_regproc", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1009, "_text", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1010, "_tid", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1011, "_xid", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1012, "_cid", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1013, "_oidvector", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1014, "_bpchar", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1015, "_varchar", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1016, "_int8", CQ_PG_ARRAY, CQ_PG_INT, ','},
    {1017, "_point", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1018, "_lseg", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1019, "_path", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1020, "_box", CQ_PG_ARRAY, CQ_PG_STR, ';'},
    {1021, "_float4", CQ_PG_ARRAY, CQ_PG_NUM, ','},
    {1022, "_float8", CQ_PG_ARRAY, CQ_PG_NUM, ','},
    {1027, "_polygon", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1028, "_oid", CQ_PG_ARRAY, CQ_PG_INT, ','},
    {1033, "aclitem", CQ_PG_STR, CQ_PG_STR, ','},
    {1034, "_aclitem", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1040, "_macaddr", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1041, "_inet", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1042, "bpchar", CQ_PG_STR, CQ_PG_STR, ','},
    {1043, "varchar", CQ_PG_STR, CQ_PG_STR, ','},
    {1082, "date", CQ_PG_STR, CQ_PG_STR, ','},
    {1083, "time", CQ_PG_STR, CQ_PG_STR, ','},
    {1114, "timestamp", CQ_PG_TS, CQ_PG_STR, ','},
    {1115, "_timestamp", CQ_PG_ARRAY, CQ_PG_TS, ','},
    {1182, "_date", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1183, "_time", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1184, "timestamptz", CQ_PG_TSTZ, CQ_PG_STR, ','},
    {1185, "_timestamptz", CQ_PG_ARRAY, CQ_PG_TSTZ, ','},
    {1186, "interval", CQ_PG_STR, CQ_PG_STR, ','},
    {1187, "_interval", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1231, "_numeric", CQ_PG_ARRAY, CQ_PG_NUM, ','},
    {1263, "_cstring", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1266, "timetz", CQ_PG_STR, CQ_PG_STR, ','},
    {1270, "_timetz", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1560, "bit", CQ_PG_STR, CQ_PG_STR, ','},
    {1561, "_bit", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1562, "varbit", CQ_PG_STR, CQ_PG_STR, ','},
    {1563, "_varbit", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {1700, "numeric", CQ_PG_NUM, CQ_PG_STR, ','},
    {1790, "refcursor", CQ_PG_STR, CQ_PG_STR, ','},
    {2201, "_refcursor", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {2202, "regprocedure", CQ_PG_STR, CQ_PG_STR, ','},
    {2203, "regoper", CQ_PG_STR, CQ_PG_STR, ','},
    {2204, "regoperator", CQ_PG_STR, CQ_PG_STR, ','},
    {2205, "regclass", CQ_PG_STR, CQ_PG_STR, ','},
    {2206, "regtype", CQ_PG_STR, CQ_PG_STR, ','},
    {2207, "_regprocedure", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {2208, "_regoper", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {2209, "_regoperator", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {2210, "_regclass", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {2211, "_regtype", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {2249, "record", CQ_PG_STR, CQ_PG_STR, ','},
    {2275, "cstring", CQ_PG_STR, CQ_PG_STR, ','},
    {2278, "void", CQ_PG_STR, CQ_PG_STR, ','},
    {2287, "_record", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {2949, "_txid_snapshot", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {2950, "uuid", CQ_PG_STR, CQ_PG_STR, ','},
    {2951, "_uuid", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {2970, "txid_snapshot", CQ_PG_STR, CQ_PG_STR, ','},
    {3220, "pg_lsn", CQ_PG_STR, CQ_PG_STR, ','},
    {3361, "pg_ndistinct", CQ_PG_STR, CQ_PG_STR, ','},
    {3402, "pg_dependencies", CQ_PG_STR, CQ_PG_STR, ','},
    {3614, "tsvector", CQ_PG_STR, CQ_PG_STR, ','},
    {3615, "tsquery", CQ_PG_STR, CQ_PG_STR, ','},
    {3642, "gtsvector", CQ_PG_STR, CQ_PG_STR, ','},
    {3643, "_tsvector", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {3644, "_gtsvector", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {3645, "_tsquery", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {3734, "regconfig", CQ_PG_STR, CQ_PG_STR, ','},
    {3735, "_regconfig", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {3769, "regdictionary", CQ_PG_STR, CQ_PG_STR, ','},
    {3770, "_regdictionary", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {3802, "jsonb", CQ_PG_JSON, CQ_PG_STR, ','},
    {3807, "_jsonb", CQ_PG_ARRAY, CQ_PG_JSON, ','},
    {3904, "int4range", CQ_PG_STR, CQ_PG_STR, ','},
    {3905, "_int4range", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {3906, "numrange", CQ_PG_STR, CQ_PG_STR, ','},
    {3907, "_numrange", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {3908, "tsrange", CQ_PG_STR, CQ_PG_STR, ','},
    {3909, "_tsrange", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {3910, "tstzrange", CQ_PG_STR, CQ_PG_STR, ','},
    {3911, "_tstzrange", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {3912, "daterange", CQ_PG_STR, CQ_PG_STR, ','},
    {3913, "_daterange", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {3926, "int8range", CQ_PG_STR, CQ_PG_STR, ','},
    {3927, "_int8range", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {4072, "jsonpath", CQ_PG_STR, CQ_PG_STR, ','},
    {4073, "_jsonpath", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {4089, "regnamespace", CQ_PG_STR, CQ_PG_STR, ','},
    {4090, "_regnamespace", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {4096, "regrole", CQ_PG_STR, CQ_PG_STR, ','},
    {4097, "_regrole", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {4191, "regcollation", CQ_PG_STR, CQ_PG_STR, ','},
    {4192, "_regcollation", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {4451, "int4multirange", CQ_PG_STR, CQ_PG_STR, ','},
    {4532, "nummultirange", CQ_PG_STR, CQ_PG_STR, ','},
    {4533, "tsmultirange", CQ_PG_STR, CQ_PG_STR, ','},
    {4534, "tstzmultirange", CQ_PG_STR, CQ_PG_STR, ','},
    {4535, "datemultirange", CQ_PG_STR, CQ_PG_STR, ','},
    {4536, "int8multirange", CQ_PG_STR, CQ_PG_STR, ','},
    {4600, "pg_brin_bloom_summary", CQ_PG_STR, CQ_PG_STR, ','},
    {4601, "pg_brin_minmax_multi_summary", CQ_PG_STR, CQ_PG_STR, ','},
    {5017, "pg_mcv_list", CQ_PG_STR, CQ_PG_STR, ','},
    {5038, "pg_snapshot", CQ_PG_STR, CQ_PG_STR, ','},
    {5069, "xid8", CQ_PG_STR, CQ_PG_STR, ','},
    {6150, "_int4multirange", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {6151, "_nummultirange", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {6152, "_tsmultirange", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {6153, "_tstzmultirange", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {6155, "_datemultirange", CQ_PG_ARRAY, CQ_PG_STR, ','},
    {6157, "_int8multirange", CQ_PG_ARRAY, CQ_PG_STR, ','},
};

static const struct cq_drv_pg_type unknown_type = {0, "unknown", CQ_PG_STR, CQ_PG_STR, ','};

const struct cq_drv_pg_type *cq_drv_pg_type_find(unsigned oid)
{
    size_t lo = 0, hi = sizeof(types) / sizeof(types[0]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (types[mid].oid == oid) {
            return &types[mid];
        }
        if (types[mid].oid < oid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return &unknown_type;
}

enum cq_vkind cq_drv_pg_type_kind(const struct cq_drv_pg_type *t)
{
    switch (t->conv) {
    case CQ_PG_INT:
    case CQ_PG_NUM:
        return CQ_V_NUMBER;
    case CQ_PG_BOOL:
        return CQ_V_BOOL;
    case CQ_PG_JSON:
    case CQ_PG_ARRAY:
        return CQ_V_JSON;
    default:
        return CQ_V_STRING;
    }
}

/* Drops what was appended after len (a conversion that turned out not to apply). Only
 * shrinks, so the NUL terminator always has room. */
static void buf_truncate(struct cq_buf *b, size_t len)
{
    if (b->rc == CQ_OK && b->p != NULL && len <= b->len) {
        b->len = len;
        b->p[len] = '\0';
    }
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) {
            return false;
        }
    }
    return true;
}

/* Length of the "[+-]hh[:mm[:ss]]" offset at s, which must end the value; 0 if not one. */
static size_t offset_len(const char *s, size_t len)
{
    if (len < 3 || (s[0] != '+' && s[0] != '-') || !digits(s + 1, 2)) {
        return 0;
    }
    size_t i = 3;
    while (i < len && i < 9 && s[i] == ':' && i + 3 <= len && digits(s + i + 1, 2)) {
        i += 3;
    }
    return i == len ? i : 0;
}

bool cq_drv_pg_ts_iso(const char *s, size_t len, bool tz, struct cq_buf *out)
{
    /* ISO DateStyle (forced at connect): Y{4,}-MM-DD HH:MM:SS[.ffffff][offset]. Anything
     * else (infinity, " BC", a DateStyle changed by the session) is left as the server
     * wrote it. */
    size_t y = 0;
    while (y < len && is_digit(s[y])) {
        y++;
    }
    size_t sep = y + 6, t_end = sep + 9;
    if (y < 4 || t_end > len || s[y] != '-' || !digits(s + y + 1, 2) || s[y + 3] != '-' ||
        !digits(s + y + 4, 2) || s[sep] != ' ' || !digits(s + sep + 1, 2) || s[sep + 3] != ':' ||
        !digits(s + sep + 4, 2) || s[sep + 6] != ':' || !digits(s + sep + 7, 2)) {
        return false;
    }
    if (t_end < len && s[t_end] == '.') {
        t_end++;
        while (t_end < len && is_digit(s[t_end])) {
            t_end++;
        }
    }
    size_t off = tz ? offset_len(s + t_end, len - t_end) : 0;
    if ((tz && off == 0) || (!tz && t_end != len)) {
        return false;
    }
    cq_buf_append(out, s, sep);
    cq_buf_putc(out, 'T');
    cq_buf_append(out, s + sep + 1, t_end - sep - 1);
    if (tz) {
        cq_buf_append(out, s + t_end, off);
        if (off == 3) {
            cq_buf_append(out, ":00", 3); /* +hh -> +hh:00 */
        }
    }
    return true;
}

/* NaN, Infinity and -Infinity are not JSON numbers; everything else PostgreSQL prints
 * for numeric/float types is (extra_float_digits=3 gives "1e+100", never ".5"). */
static enum cq_vkind num_kind(const char *s, size_t len)
{
    return cq_json_is_number(s, len) ? CQ_V_NUMBER : CQ_V_STRING;
}

bool cq_drv_pg_convert(const struct cq_drv_pg_type *t, const char *s, size_t len,
                       struct cq_drv_pg_scratch *sc, struct cq_value *v, size_t *off)
{
    v->p = s;
    v->len = len;
    v->kind = CQ_V_STRING;
    switch (t->conv) {
    case CQ_PG_INT:
        v->kind = CQ_V_NUMBER;
        return false;
    case CQ_PG_NUM:
        v->kind = num_kind(s, len);
        return false;
    case CQ_PG_BOOL:
        v->kind = CQ_V_BOOL;
        v->p = s[0] == 't' ? "true" : "false";
        v->len = s[0] == 't' ? 4 : 5;
        return false;
    case CQ_PG_JSON:
        v->kind = CQ_V_JSON;
        return false;
    case CQ_PG_TS:
    case CQ_PG_TSTZ:
        *off = sc->out.len;
        if (!cq_drv_pg_ts_iso(s, len, t->conv == CQ_PG_TSTZ, &sc->out)) {
            return false;
        }
        v->len = sc->out.len - *off;
        return true;
    case CQ_PG_ARRAY:
        *off = sc->out.len;
        if (!cq_drv_pg_array_json(s, len, (enum cq_drv_pg_conv)t->elem, t->delim, sc)) {
            buf_truncate(&sc->out, *off); /* not an array literal: pass the text through */
            return false;
        }
        v->kind = CQ_V_JSON;
        v->len = sc->out.len - *off;
        return true;
    default:
        return false;
    }
}

/* ---- array literals ---------------------------------------------------------------------- */

/* Writes one array element (already unescaped) as JSON according to its type. */
static void put_elem(struct cq_buf *out, enum cq_drv_pg_conv conv, const char *s, size_t len,
                     bool quoted)
{
    if (!quoted && len == 4 && strncmp(s, "NULL", 4) == 0) {
        cq_buf_append(out, "null", 4);
        return;
    }
    switch (conv) {
    case CQ_PG_INT:
    case CQ_PG_NUM:
        if (cq_json_is_number(s, len)) {
            cq_buf_append(out, s, len);
            return;
        }
        break;
    case CQ_PG_BOOL:
        if (len == 1 && (s[0] == 't' || s[0] == 'f')) {
            cq_buf_puts(out, s[0] == 't' ? "true" : "false");
            return;
        }
        break;
    case CQ_PG_JSON:
        cq_buf_append(out, s, len);
        return;
    case CQ_PG_TS:
    case CQ_PG_TSTZ: {
        size_t mark = out->len;
        cq_buf_putc(out, '"'); /* ISO timestamps need no JSON escaping */
        if (cq_drv_pg_ts_iso(s, len, conv == CQ_PG_TSTZ, out)) {
            cq_buf_putc(out, '"');
            return;
        }
        buf_truncate(out, mark);
        break;
    }
    default:
        break;
    }
    cq_json_put_str(out, s, len);
}

/* Parses the element at *pp (quoted with backslash escapes, or bare up to a delimiter or
 * brace) and writes it. Unescaping goes through sc->elem only when there are escapes. */
static bool elem(const char **pp, const char *end, char delim, enum cq_drv_pg_conv conv,
                 struct cq_drv_pg_scratch *sc)
{
    const char *p = *pp, *start, *stop;
    bool quoted = *p == '"', escaped = false;
    if (quoted) {
        p++;
    }
    start = p;
    while (p < end && (quoted ? *p != '"' : (*p != delim && *p != '}' && *p != '{'))) {
        if (*p == '\\') {
            escaped = true;
            p++;
            if (p >= end) {
                return false;
            }
        } else if (!quoted && *p == '"') {
            return false;
        }
        p++;
    }
    if (p >= end) {
        return false; /* unterminated quote, or an element not followed by } */
    }
    stop = p;
    *pp = quoted ? p + 1 : p;
    if (!quoted) {
        while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t' || stop[-1] == '\n')) {
            stop--; /* whitespace around bare elements is not part of them */
        }
    }
    if (!escaped) {
        put_elem(&sc->out, conv, start, (size_t)(stop - start), quoted);
        return true;
    }
    cq_buf_reset(&sc->elem);
    for (const char *q = start; q < stop; q++) {
        if (*q == '\\') {
            q++;
        }
        cq_buf_putc(&sc->elem, *q);
    }
    if (cq_buf_rc(&sc->elem) != CQ_OK) {
        return false;
    }
    put_elem(&sc->out, conv, sc->elem.p, sc->elem.len, true); /* "\N" is no NULL either */
    return true;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool cq_drv_pg_array_json(const char *s, size_t len, enum cq_drv_pg_conv conv, char delim,
                          struct cq_drv_pg_scratch *sc)
{
    const char *p = s, *end = s + len;
    char prev = 0; /* last token: 0 start, 'o' {, 'c' }, 'd' delimiter, 'e' element */
    int depth = 0;
    if (p < end && *p == '[') {
        /* "[0:1][1:2]={...}": JSON arrays have no bounds, keep the elements only */
        const char *eq = memchr(p, '=', len);
        if (eq == NULL) {
            return false;
        }
        p = eq + 1;
    }
    while (p < end && (depth > 0 || prev == 0)) {
        char c = *p;
        if (is_space(c)) {
            p++;
        } else if (c == '{' && (prev == 0 || prev == 'o' || prev == 'd')) {
            cq_buf_putc(&sc->out, '[');
            depth++;
            prev = 'o';
            p++;
        } else if (c == '}' && prev != 'd' && prev != 0) {
            cq_buf_putc(&sc->out, ']');
            depth--;
            prev = 'c';
            p++;
        } else if (c == delim && (prev == 'e' || prev == 'c')) {
            cq_buf_putc(&sc->out, ',');
            prev = 'd';
            p++;
        } else if ((prev == 'o' || prev == 'd') && c != '{' && c != '}' && c != delim) {
            if (!elem(&p, end, delim, conv, sc)) {
                return false;
            }
            prev = 'e';
        } else {
            return false;
        }
    }
    while (p < end && is_space(*p)) {
        p++;
    }
    return depth == 0 && prev == 'c' && p == end && cq_buf_rc(&sc->out) == CQ_OK;
}

#endif /* CQ_WITHOUT_PG */
