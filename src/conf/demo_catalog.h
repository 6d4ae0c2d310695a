/*
 * demo_catalog.h - the governed-query catalog and roles of the embedded demo database.
 */
#ifndef CQ_CONF_DEMO_CATALOG_H
#define CQ_CONF_DEMO_CATALOG_H

#include <jansson.h>

#include "base/err.h"

/* Builds the demo's MetadataConfig object and RoleMeta[] array (new references, owned by
 * the caller: json_decref). CQ_OK, or CQ_ENOMEM with both set to NULL. */
int cq_conf_demo_catalog(json_t **catalog, json_t **roles, struct cq_err *err);

#endif
