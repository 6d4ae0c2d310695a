/*
 * demo_catalog.c - the governed-query catalog of the embedded demo database (the shop that
 * drv/sample.c builds): cq_conf_demo_catalog, used by cq_conf_demo so that `clariq query`
 * works with no configuration at all.
 *
 * The JSON is the spec's MetadataConfig and RoleMeta[] (spec/multidb-wire.md §2, §0.13),
 * written with ' for " so that it stays readable here: exactly what a `catalog:` /
 * `roles:` section of clariq.yaml becomes. Keep it in step with the schema in
 * src/drv/sample.c (tests/integration/it_query.c runs queries on it).
 *
 * Roles: admin sees everything; analyst sees every table with customer names and e-mail
 * addresses masked and no event payloads; customer sees its own customer row and orders
 * (row filters on contextValues.customerId) and the products; country-manager sees the
 * customers and revenue of the countries in contextValues.countries, e-mail masked.
 */
#include "conf/demo_catalog.h"

#include <string.h>

#include "base/mem.h"
#include "base/str.h"

static const char demo_metadata[] =
    "{'databases':[{'id':'demo','engine':'sqlite','connection':'demo'}],"
    " 'tables':["
    "  {'id':'customers','apiName':'customers','database':'demo','physicalName':'main.customers',"
    "   'columns':["
    "    {'apiName':'id','physicalName':'id','type':'int','nullable':false},"
    "    {'apiName':'name','physicalName':'name','type':'string','nullable':false,"
    "     'maskingFn':'name'},"
    "    {'apiName':'email','physicalName':'email','type':'string','nullable':true,"
    "     'maskingFn':'email'},"
    "    {'apiName':'country','physicalName':'country','type':'string','nullable':true},"
    "    {'apiName':'createdAt','physicalName':'created_at','type':'timestamp','nullable':false}],"
    "   'primaryKey':['id'],'relations':[]},"
    "  {'id':'products','apiName':'products','database':'demo','physicalName':'main.products',"
    "   'columns':["
    "    {'apiName':'id','physicalName':'id','type':'int','nullable':false},"
    "    {'apiName':'name','physicalName':'name','type':'string','nullable':false},"
    "    {'apiName':'category','physicalName':'category','type':'string','nullable':true},"
    "    {'apiName':'price','physicalName':'price','type':'decimal','nullable':false},"
    "    {'apiName':'inStock','physicalName':'in_stock','type':'boolean','nullable':false}],"
    "   'primaryKey':['id'],'relations':[]},"
    "  {'id':'orders','apiName':'orders','database':'demo','physicalName':'main.orders',"
    "   'columns':["
    "    {'apiName':'id','physicalName':'id','type':'int','nullable':false},"
    "    {'apiName':'customerId','physicalName':'customer_id','type':'int','nullable':false},"
    "    {'apiName':'status','physicalName':'status','type':'string','nullable':false},"
    "    {'apiName':'orderedAt','physicalName':'ordered_at','type':'timestamp','nullable':false},"
    "    {'apiName':'total','physicalName':'total','type':'decimal','nullable':true}],"
    "   'primaryKey':['id'],"
    "   'relations':[{'column':'customerId','references':{'table':'customers','column':'id'},"
    "                 'type':'many-to-one'}]},"
    "  {'id':'orderItems','apiName':'orderItems','database':'demo',"
    "     'physicalName':'main.order_items',"
    "   'columns':["
    "    {'apiName':'orderId','physicalName':'order_id','type':'int','nullable':false},"
    "    {'apiName':'productId','physicalName':'product_id','type':'int','nullable':false},"
    "    {'apiName':'quantity','physicalName':'quantity','type':'int','nullable':false},"
    "    {'apiName':'unitPrice','physicalName':'unit_price','type':'decimal','nullable':false}],"
    "   'primaryKey':['orderId','productId'],"
    "   'relations':[{'column':'orderId','references':{'table':'orders','column':'id'},"
    "                 'type':'many-to-one'},"
    "                {'column':'productId','references':{'table':'products','column':'id'},"
    "                 'type':'many-to-one'}]},"
    "  {'id':'events','apiName':'events','database':'demo','physicalName':'main.events',"
    "   'columns':["
    "    {'apiName':'id','physicalName':'id','type':'int','nullable':false},"
    "    {'apiName':'type','physicalName':'type','type':'string','nullable':false},"
    "    {'apiName':'payload','physicalName':'payload','type':'string','nullable':true},"
    "    {'apiName':'at','physicalName':'at','type':'timestamp','nullable':false}],"
    "   'primaryKey':['id'],'relations':[]},"
    "  {'id':'revenueByCountry','apiName':'revenueByCountry','database':'demo',"
    "   'physicalName':'main.revenue_by_country',"
    "   'columns':["
    "    {'apiName':'country','physicalName':'country','type':'string','nullable':true},"
    "    {'apiName':'orders','physicalName':'orders','type':'int','nullable':false},"
    "    {'apiName':'revenue','physicalName':'revenue','type':'decimal','nullable':true}],"
    "   'primaryKey':[],'relations':[]}],"
    " 'caches':[],'externalSyncs':[]}";

static const char demo_roles[] =
    "[{'id':'admin','tables':'*'},"
    " {'id':'analyst','tables':["
    "   {'tableId':'customers','allowedColumns':'*','maskedColumns':['name','email']},"
    "   {'tableId':'products','allowedColumns':'*'},"
    "   {'tableId':'orders','allowedColumns':'*'},"
    "   {'tableId':'orderItems','allowedColumns':'*'},"
    "   {'tableId':'events','allowedColumns':['id','type','at']},"
    "   {'tableId':'revenueByCountry','allowedColumns':'*'}]},"
    " {'id':'customer','tables':["
    "   {'tableId':'customers','allowedColumns':['id','name','email','country'],"
    "    'filters':[{'column':'id','operator':'=','contextKey':'customerId'}]},"
    "   {'tableId':'orders','allowedColumns':'*',"
    "    'filters':[{'column':'customerId','operator':'=','contextKey':'customerId'}]},"
    "   {'tableId':'products','allowedColumns':'*'}]},"
    " {'id':'country-manager','tables':["
    "   {'tableId':'customers','allowedColumns':'*','maskedColumns':['email'],"
    "    'filters':[{'column':'country','operator':'in','contextKey':'countries'}]},"
    "   {'tableId':'revenueByCountry','allowedColumns':'*',"
    "    'filters':[{'column':'country','operator':'in','contextKey':'countries'}]}]}]";

/* Parses text written with ' for " (readable in C) into a JSON value. */
static json_t *load(const char *text, json_error_t *je)
{
    size_t len = strlen(text);
    char *copy = cq_malloc(len + 1);
    json_t *j = NULL;
    if (copy == NULL) {
        cq_strlcpy(je->text, "out of memory", sizeof(je->text));
        return NULL;
    }
    for (size_t i = 0; i <= len; i++) {
        copy[i] = text[i] == '\'' ? '"' : text[i];
    }
    j = json_loadb(copy, len, 0, je);
    cq_free(copy);
    return j;
}

int cq_conf_demo_catalog(json_t **catalog, json_t **roles, struct cq_err *err)
{
    json_error_t je = {0};
    int rc = CQ_OK;

    *catalog = load(demo_metadata, &je);
    *roles = *catalog != NULL ? load(demo_roles, &je) : NULL;
    if (*catalog == NULL || *roles == NULL) {
        /* the text is constant and valid (it-tested): only memory can fail here */
        rc = cq_err_set(err, CQ_ENOMEM, "demo catalog: %s", je.text);
        json_decref(*catalog);
        json_decref(*roles);
        *catalog = NULL;
        *roles = NULL;
    }
    return rc;
}
