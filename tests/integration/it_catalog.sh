#!/usr/bin/env bash
# it_catalog.sh - `clariq catalog introspect` on a seeded PostgreSQL schema (foreign keys,
# arrays, numerics, timestamps, a composite key, reserved and odd names) and on a SQLite
# file; the output (YAML pasted into clariq.yaml, JSON named by catalog.file) loads back
# and passes `clariq catalog validate`; validate on broken catalogs prints every problem.
set -uo pipefail

TEST=it_catalog
. "$(dirname "$0")/lib.sh"

schema="it_catalog_$$"
export IT_PG_URL=$PG_DSN
cat > "$T/base.yaml" <<YAML
connections:
  pg:
    url: \${IT_PG_URL}
  pgrw:
    url: \${IT_PG_URL}
    read_only: false
  lite:
    path: lite.db
    read_only: false
  down:
    url: postgresql://clariq@127.0.0.1:1/nothing
YAML
C="--config $T/base.yaml"

# --- seed -------------------------------------------------------------------------------
t seed-pg 0 -- "$BIN" $C run -c pgrw --allow-multi --format json "
CREATE SCHEMA $schema;
CREATE TABLE $schema.customers (id serial PRIMARY KEY, full_name text NOT NULL, email varchar(200),
  tags text[], scores int[], balance numeric(12,2) NOT NULL DEFAULT 0, created_at timestamptz,
  birth date, active boolean NOT NULL DEFAULT true, ext_id uuid, rating double precision);
CREATE TABLE $schema.orders (id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES $schema.customers,
  total numeric, placed_at timestamp, \"from\" text, \"Ship Date\" date, line_dates date[],
  flags boolean[]);
CREATE TABLE $schema.order_items (order_id bigint REFERENCES $schema.orders, product_no int,
  qty smallint, PRIMARY KEY (order_id, product_no));
CREATE TABLE $schema.shipments (id int PRIMARY KEY, order_id bigint, product_no int,
  FOREIGN KEY (order_id, product_no) REFERENCES $schema.order_items);
CREATE TABLE $schema.\"odd.name\" (id int);
CREATE VIEW $schema.big_orders AS SELECT id, total FROM $schema.orders WHERE total > 100;"
cleanup_hooks+=("\"$BIN\" $C run -c pgrw --format json \"DROP SCHEMA $schema CASCADE\" >/dev/null 2>&1")

# --- PostgreSQL: YAML ------------------------------------------------------------------------
t pg-yaml 0 -- "$BIN" $C catalog introspect -c pg --schema "$schema"
cp "$OUT" "$T/pg.catalog.yaml"
has pg-yaml-head "$OUT" "catalog:"
has pg-yaml-db "$OUT" "    - id: pg"
has pg-yaml-engine "$OUT" "      engine: postgres"
has pg-yaml-phys "$OUT" "physicalName: $schema.customers"
has pg-yaml-array "$OUT" "{apiName: tags, physicalName: tags, type: \"string[]\", nullable: true}"
has pg-yaml-intarr "$OUT" "{apiName: scores, physicalName: scores, type: \"int[]\", nullable: true}"
has pg-yaml-numeric "$OUT" "{apiName: balance, physicalName: balance, type: decimal, nullable: false}"
has pg-yaml-tstz "$OUT" "{apiName: createdAt, physicalName: created_at, type: timestamp, nullable: true}"
has pg-yaml-reserved "$OUT" "{apiName: fromCol, physicalName: from, type: string, nullable: true}"
has pg-yaml-spaces "$OUT" "{apiName: shipDate, physicalName: \"Ship Date\", type: date, nullable: true}"
has pg-yaml-pk2 "$OUT" "primaryKey: [orderId, productNo]"
has pg-yaml-fk "$OUT" "references: {table: customers, column: id}"
has pg-yaml-roles "$OUT" "#     tables: \"*\""
hasnt pg-yaml-odd "$OUT" "odd.name"
has pg-yaml-odd-note "$ERR" "skipping table $schema.odd.name"

# pasted under the connections, it loads and validates
{ cat "$T/base.yaml"; grep -v '^#' "$T/pg.catalog.yaml"; printf 'roles:\n  - id: admin\n    tables: "*"\n'; } > "$T/pg-cat.yaml"
t pg-yaml-validate 0 -- "$BIN" --config "$T/pg-cat.yaml" catalog validate
has pg-yaml-validate "$OUT" "catalog ok: 1 database, 5 tables, 1 role"

# --- PostgreSQL: JSON ------------------------------------------------------------------------
t pg-json 0 -- "$BIN" $C catalog introspect -c pg --schema "$schema" --format json
cp "$OUT" "$T/pg.catalog.json"
pyck pg-json-db "$OUT" "j['databases'] == [{'id':'pg','engine':'postgres','connection':'pg'}] and j['caches'] == [] and j['externalSyncs'] == []"
pyck pg-json-tables "$OUT" "[t['apiName'] for t in j['tables']] == ['bigOrders','customers','orderItems','orders','shipments']"
pyck pg-json-cols "$OUT" "[(c['apiName'],c['type'],c['nullable']) for c in j['tables'][3]['columns']] == [('id','int',False),('customerId','int',False),('total','decimal',True),('placedAt','timestamp',True),('fromCol','string',True),('shipDate','date',True),('lineDates','date[]',True),('flags','boolean[]',True)]"
pyck pg-json-rel "$OUT" "j['tables'][3]['relations'] == [{'column':'customerId','references':{'table':'customers','column':'id'},'type':'many-to-one'}]"
pyck pg-json-rel2 "$OUT" "j['tables'][2]['relations'] == [{'column':'orderId','references':{'table':'orders','column':'id'},'type':'many-to-one'}]"
pyck pg-json-composite-fk "$OUT" "j['tables'][4]['relations'] == []"
pyck pg-json-view "$OUT" "j['tables'][0]['primaryKey'] == [] and j['tables'][0]['physicalName'] == '$schema.big_orders'"
pyck pg-json-uuid "$OUT" "{c['apiName']: c['type'] for c in j['tables'][1]['columns']}['extId'] == 'uuid'"
pyck pg-json-ids "$OUT" "all(t['id'] == t['apiName'] for t in j['tables'])"
{ cat "$T/base.yaml"; echo "catalog: {file: pg.catalog.json}"; } > "$T/pg-json.yaml"
t pg-json-validate 0 -- "$BIN" --config "$T/pg-json.yaml" catalog validate
has pg-json-validate "$OUT" "catalog ok: 1 database, 5 tables, 0 roles"

# every user schema when --schema is absent
t pg-all 0 -- "$BIN" $C catalog introspect -c pg --format json
pyck pg-all "$OUT" "'$schema.orders' in [t['physicalName'] for t in j['tables']]"

# --- SQLite --------------------------------------------------------------------------------------
t seed-lite 0 -- "$BIN" $C run -c lite --allow-multi --format json "
CREATE TABLE customers (id INTEGER PRIMARY KEY, full_name TEXT NOT NULL, email VARCHAR(200),
  created_at DATETIME, birth DATE, active BOOLEAN, score REAL, ext_id UUID);
CREATE TABLE \"order\" (order_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
  total NUMERIC(10,2), \"2fa\" TEXT);
CREATE TABLE items (a INTEGER, b INTEGER, qty INT, order_ref INTEGER REFERENCES \"order\",
  PRIMARY KEY (b, a));"
t lite-json 0 -- "$BIN" $C catalog introspect -c lite --format json
cp "$OUT" "$T/lite.catalog.json"
pyck lite-db "$OUT" "j['databases'] == [{'id':'lite','engine':'sqlite','connection':'lite'}]"
pyck lite-names "$OUT" "[(t['apiName'], t['physicalName']) for t in j['tables']] == [('customers','customers'),('items','items'),('orderTable','order')]"
pyck lite-types "$OUT" "[(c['apiName'],c['type'],c['nullable']) for c in j['tables'][0]['columns']] == [('id','int',False),('fullName','string',False),('email','string',True),('createdAt','timestamp',True),('birth','date',True),('active','boolean',True),('score','decimal',True),('extId','uuid',True)]"
pyck lite-pk "$OUT" "j['tables'][1]['primaryKey'] == ['b','a'] and j['tables'][2]['primaryKey'] == ['orderId']"
pyck lite-digit "$OUT" "j['tables'][2]['columns'][3]['apiName'] == 'c2fa'"
pyck lite-fk "$OUT" "j['tables'][1]['relations'] == [{'column':'orderRef','references':{'table':'orderTable','column':'orderId'},'type':'many-to-one'}] and j['tables'][2]['relations'][0]['references'] == {'table':'customers','column':'id'}"
t lite-yaml 0 -- "$BIN" $C catalog introspect -c lite
{ cat "$T/base.yaml"; cat "$OUT"; } > "$T/lite-cat.yaml"
t lite-validate 0 -- "$BIN" --config "$T/lite-cat.yaml" catalog validate
has lite-validate "$OUT" "catalog ok: 1 database, 3 tables, 0 roles"

# --- validate: broken catalogs ---------------------------------------------------------------
cat > "$T/bad.yaml" <<'YAML'
catalog:
  databases:
    - {id: db, engine: postgres}
  tables:
    - id: t
      apiName: T
      database: nodb
      physicalName: public.t
      columns:
        - {apiName: id, physicalName: id, type: int, nullable: false}
      primaryKey: [id]
      relations:
        - {column: id, references: {table: ghost, column: id}}
roles:
  - id: r
    tables: [{tableId: t, allowedColumns: [nope]}]
YAML
t bad-validate 1 -- "$BIN" --config "$T/bad.yaml" catalog validate
has bad-api "$OUT" "$T/bad.yaml: catalog: INVALID_API_NAME: Table 't': apiName must match ^[a-z][a-zA-Z0-9]*\$, got 'T'"
has bad-db "$OUT" "$T/bad.yaml: catalog: INVALID_REFERENCE: Table 't' references non-existent database 'nodb'"
has bad-rel "$OUT" "$T/bad.yaml: catalog: INVALID_RELATION: Relation in table 't': references non-existent table 'ghost'"
has bad-role "$OUT" "$T/bad.yaml: catalog: INVALID_ROLE: Role 'r' table 't': unknown column 'nope' in allowedColumns"
has bad-summary "$ERR" "Config invalid: 4 errors"

printf '{"databases": [],\n "tables": [}\n' > "$T/broken.json"
printf 'catalog: {file: broken.json}\n' > "$T/broken.yaml"
t bad-json 2 -- "$BIN" --config "$T/broken.yaml" catalog validate
has bad-json "$ERR" "$T/broken.json:2:"
has bad-json-msg "$ERR" "catalog.file: invalid JSON"

printf '{"tables": [{"id": "x", "columns": 5}]}\n' > "$T/shape.json"
printf 'catalog: {file: shape.json}\n' > "$T/shape.yaml"
t bad-shape 1 -- "$BIN" --config "$T/shape.yaml" catalog validate
has bad-shape "$OUT" "$T/shape.json: catalog: INVALID_CONFIG: Table 'x': columns must be an array, got number"

{ cat "$T/base.yaml"; printf 'catalog:\n  databases: [{id: a, engine: postgres, connection: pgg}]\n'; } > "$T/conn.yaml"
t bad-conn 2 -- "$BIN" --config "$T/conn.yaml" catalog validate
has bad-conn "$ERR" "unknown connection 'pgg' (did you mean 'pg'?)"

t no-catalog 2 -- "$BIN" $C catalog validate
has no-catalog "$ERR" "no catalog: section"

# --- usage and connection errors -------------------------------------------------------------
t help 0 -- "$BIN" catalog --help; has help "$OUT" "Usage: clariq catalog validate"
t bad-sub 2 -- "$BIN" $C catalog frobnicate
t bad-format 2 -- "$BIN" $C catalog introspect -c pg --format xml
t unknown-conn 2 -- "$BIN" $C catalog introspect -c nope
t lite-schema 2 -- "$BIN" $C catalog introspect -c lite --schema main
has lite-schema "$ERR" "--schema is for postgres connections"
t down 3 -- "$BIN" $C catalog introspect -c down

summary
