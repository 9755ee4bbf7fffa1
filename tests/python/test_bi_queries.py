"""The queries Metabase's and Grafana's PostgreSQL drivers send (issue 20, point 7; SPEC section 7).

The SQL is the captured and rendered text of `../shared/reference/clients.md` sections 3.7 and
3.8 with its example names (`orders`, `sales`) replaced by the lake's. Expected answers come
from SPEC section 3 (the tables, their columns, which are required) and, for data queries, from
DuckDB reading the same lake. Grafana sends plain simple-protocol queries (psql here);
Metabase goes through pgJDBC's extended protocol (psycopg here: the same protocol).
"""

import datetime
import subprocess

import duckref

# SPEC section 3: the tables.
SPEC_TABLES = set(duckref.TABLES)

# SPEC section 3, `messages`, in order; `!` columns are required (NOT NULL). `dt` is the
# partition column (SPEC section 2).
MESSAGE_COLUMNS = [
    ("tenant_id", True), ("channel_id", True), ("message_id", True), ("direction", True),
    ("ts", True), ("contact_id", True), ("wa_id", False), ("msg_type", True),
    ("interaction_id", False), ("is_template", True), ("template_name", False),
    ("template_category", False), ("author_type", True), ("author_id", False), ("flow_id", False),
    ("campaign_id", False), ("context_message_id", False), ("referral_source_type", False),
    ("referral_source_id", False), ("in_csw", False), ("country_code", False),
    ("calling_code", False), ("body_text", False), ("ingested_at", True),
]

METABASE_PRIVILEGES = """
with table_privileges as (
 select
   NULL as role,
   t.schemaname as schema,
   t.objectname as table,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'update') as update,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'select') as select,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'insert') as insert,
   pg_catalog.has_table_privilege(     current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'delete') as delete
 from (
   select schemaname, tablename as objectname from pg_catalog.pg_tables
   union
   select schemaname, viewname as objectname from pg_catalog.pg_views
   union
   select schemaname, matviewname as objectname from pg_catalog.pg_matviews
 ) t
 where t.schemaname !~ '^pg_'
   and t.schemaname <> 'information_schema'
   and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')
)
select t.*
from table_privileges t
"""

METABASE_TABLES = """
SELECT "n"."nspname" AS "schema", "c"."relname" AS "name",
       CASE "c"."relkind" WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS "type",
       "d"."description" AS "description", "stat"."n_live_tup" AS "estimated_row_count"
FROM "pg_catalog"."pg_class" AS "c"
INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "c"."relnamespace" = "n"."oid"
LEFT JOIN "pg_catalog"."pg_description" AS "d" ON ("c"."oid" = "d"."objoid") AND ("d"."objsubid" = 0) AND ("d"."classoid" = 'pg_class'::regclass)
LEFT JOIN "pg_stat_user_tables" AS "stat" ON ("n"."nspname" = "stat"."schemaname") AND ("c"."relname" = "stat"."relname")
WHERE ("c"."relnamespace" = "n"."oid") AND ("n"."nspname" !~ '^pg_') AND ("n"."nspname" <> 'information_schema')
  AND c.relkind in ('r', 'p', 'v', 'f', 'm') AND ("n"."nspname" IN ('public'))
ORDER BY "type" ASC, "schema" ASC, "name" ASC
"""

METABASE_ENUMS = ("SELECT nspname, typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                  "WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e)")

METABASE_FIELDS = """
SELECT "c"."column_name" AS "name",
       CASE WHEN "c"."udt_schema" IN ('public', 'pg_catalog') THEN FORMAT('%s', "c"."udt_name")
            ELSE FORMAT('"%s"."%s"', "c"."udt_schema", "c"."udt_name") END AS "database-type",
       "c"."ordinal_position" - 1 AS "database-position",
       "c"."table_schema" AS "table-schema",
       "c"."table_name" AS "table-name",
       "pk"."column_name" IS NOT NULL AS "pk?",
       COL_DESCRIPTION(CAST(CAST(FORMAT('%I.%I', CAST("c"."table_schema" AS TEXT), CAST("c"."table_name" AS TEXT)) AS REGCLASS) AS OID), "c"."ordinal_position") AS "field-comment",
       (("column_default" IS NULL) OR (LOWER("column_default") = 'null')) AND ("is_nullable" = 'NO')
         AND NOT ((("column_default" IS NOT NULL) AND ("column_default" LIKE '%nextval(%')) OR ("is_identity" <> 'NO')) AS "database-required",
       (("column_default" IS NOT NULL) AND ("column_default" LIKE '%nextval(%')) OR ("is_identity" <> 'NO') AS "database-is-auto-increment"
FROM "information_schema"."columns" AS "c"
LEFT JOIN (SELECT "tc"."table_schema", "tc"."table_name", "kc"."column_name"
           FROM "information_schema"."table_constraints" AS "tc"
           INNER JOIN "information_schema"."key_column_usage" AS "kc"
             ON ("tc"."constraint_name" = "kc"."constraint_name") AND ("tc"."table_schema" = "kc"."table_schema") AND ("tc"."table_name" = "kc"."table_name")
           WHERE "tc"."constraint_type" = 'PRIMARY KEY') AS "pk"
  ON ("c"."table_schema" = "pk"."table_schema") AND ("c"."table_name" = "pk"."table_name") AND ("c"."column_name" = "pk"."column_name")
WHERE c.table_schema !~ '^information_schema|catalog_history|pg_' AND ("c"."table_schema" IN ('public')) AND ("c"."table_name" IN ('messages', 'contacts'))
UNION ALL
SELECT "pa"."attname" AS "name",
       CASE WHEN "ptn"."nspname" IN ('public', 'pg_catalog') THEN FORMAT('%s', "pt"."typname") ELSE FORMAT('"%s"."%s"', "ptn"."nspname", "pt"."typname") END AS "database-type",
       "pa"."attnum" - 1 AS "database-position", "pn"."nspname" AS "table-schema", "pc"."relname" AS "table-name",
       FALSE AS "pk?", NULL AS "field-comment", FALSE AS "database-required", FALSE AS "database-is-auto-increment"
FROM "pg_catalog"."pg_class" AS "pc"
INNER JOIN "pg_catalog"."pg_namespace" AS "pn" ON "pn"."oid" = "pc"."relnamespace"
INNER JOIN "pg_catalog"."pg_attribute" AS "pa" ON "pa"."attrelid" = "pc"."oid"
INNER JOIN "pg_catalog"."pg_type" AS "pt" ON "pt"."oid" = "pa"."atttypid"
INNER JOIN "pg_catalog"."pg_namespace" AS "ptn" ON "ptn"."oid" = "pt"."typnamespace"
WHERE ("pc"."relkind" = 'm') AND ("pa"."attnum" >= 1) AND ("pn"."nspname" IN ('public')) AND ("pc"."relname" IN ('messages'))
ORDER BY "table-schema" ASC, "table-name" ASC, "database-position" ASC
"""

METABASE_FKS = """
SELECT "fk_ns"."nspname" AS "fk-table-schema", "fk_table"."relname" AS "fk-table-name", "fk_column"."attname" AS "fk-column-name",
       "pk_ns"."nspname" AS "pk-table-schema", "pk_table"."relname" AS "pk-table-name", "pk_column"."attname" AS "pk-column-name"
FROM "pg_constraint" AS "c"
INNER JOIN "pg_class" AS "fk_table" ON "c"."conrelid" = "fk_table"."oid"
INNER JOIN "pg_namespace" AS "fk_ns" ON "c"."connamespace" = "fk_ns"."oid"
INNER JOIN "pg_attribute" AS "fk_column" ON "c"."conrelid" = "fk_column"."attrelid"
INNER JOIN "pg_class" AS "pk_table" ON "c"."confrelid" = "pk_table"."oid"
INNER JOIN "pg_namespace" AS "pk_ns" ON "pk_table"."relnamespace" = "pk_ns"."oid"
INNER JOIN "pg_attribute" AS "pk_column" ON "c"."confrelid" = "pk_column"."attrelid"
WHERE fk_ns.nspname !~ '^information_schema|catalog_history|pg_' AND ("c"."contype" = 'f'::char)
  AND ("fk_column"."attnum" = ANY(c.conkey)) AND ("pk_column"."attnum" = ANY(c.confkey))
  AND ("fk_table"."relname" IN ('messages')) AND ("fk_ns"."nspname" IN ('public'))
ORDER BY "fk-table-schema" ASC, "fk-table-name" ASC
"""

METABASE_INDEXES = """
SELECT "tmp"."table-schema", "tmp"."table-name",
       TRIM(BOTH '"' FROM PG_CATALOG.PG_GET_INDEXDEF("tmp"."ci_oid", "tmp"."pos", FALSE)) AS "field-name"
FROM (SELECT "n"."nspname" AS "table-schema", "ct"."relname" AS "table-name", "ci"."oid" AS "ci_oid",
             (INFORMATION_SCHEMA._PG_EXPANDARRAY("i"."indkey")).n AS "pos"
      FROM "pg_catalog"."pg_class" AS "ct"
      INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "ct"."relnamespace" = "n"."oid"
      INNER JOIN "pg_catalog"."pg_index" AS "i" ON "ct"."oid" = "i"."indrelid"
      INNER JOIN "pg_catalog"."pg_class" AS "ci" ON "ci"."oid" = "i"."indexrelid"
      WHERE (PG_CATALOG.PG_GET_EXPR("i"."indpred", "i"."indrelid") IS NULL)
        AND n.nspname !~ '^information_schema|catalog_history|pg_'
        AND ("n"."nspname" IN ('public')) AND ("ct"."relname" IN ('messages'))) AS "tmp"
WHERE "tmp"."pos" = 1
"""

# Grafana's search-path test, shared by its table and column pickers.
SEARCH_PATH = """
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
"""

GRAFANA_TABLES = f"""
SELECT
    CASE WHEN quote_ident(table_schema) IN ({SEARCH_PATH})
      THEN quote_ident(table_name)
      ELSE quote_ident(table_schema) || '.' || quote_ident(table_name)
    END AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN ('information_schema', 'pg_catalog', '_timescaledb_cache',
                             '_timescaledb_catalog', '_timescaledb_internal', '_timescaledb_config',
                             'timescaledb_information', 'timescaledb_experimental')
    ORDER BY CASE WHEN quote_ident(table_schema) IN ({SEARCH_PATH}) THEN 0 ELSE 1 END, 1
"""


def grafana_columns(table):
    return f"""
SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('{table}'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('{table}'))[1]
          AND quote_ident(table_name) = (parse_ident('{table}'))[2]
        ELSE quote_ident(table_name) = '{table}'
          AND quote_ident(table_schema) IN ({SEARCH_PATH})
      END
"""


def psql(server, sql):
    """Rows of `sql` sent as one simple Query by psql (as Grafana's pgx and lib/pq do)."""
    done = subprocess.run(["psql", "-X", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1",
                           "-h", server["host"], "-p", str(server["port"]), "-U", "chatlake",
                           "chatlake", "-c", sql], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [line.split("|") for line in done.stdout.splitlines() if line]


def test_metabase_sync_sees_every_table_with_select(conn):
    # Metabase keeps only relations the privilege query grants `select` on.
    rows = conn.execute(METABASE_PRIVILEGES).fetchall()
    granted = {table for _, schema, table, _, select, _, _ in rows if schema == "public" and select}
    assert SPEC_TABLES <= granted, SPEC_TABLES - granted
    tables = conn.execute(METABASE_TABLES).fetchall()
    kinds = {name: kind for _, name, kind, _, _ in tables}
    assert {kinds.get(t) for t in SPEC_TABLES} == {"TABLE"}
    # conftest serves one view next to the tables.
    assert kinds["tenant_messages"] == "VIEW"
    assert set(kinds) == granted
    assert conn.execute(METABASE_ENUMS).fetchall() == []


def test_metabase_describe_fields_follows_the_spec(conn):
    rows = conn.execute(METABASE_FIELDS).fetchall()
    messages = [r for r in rows if r[4] == "messages"]
    spec_names = [name for name, _ in MESSAGE_COLUMNS]
    assert [r[0] for r in messages if r[0] != "dt"] == spec_names
    assert [r[2] for r in messages] == list(range(len(messages)))
    required = {r[0]: r[7] for r in messages}
    for name, must in MESSAGE_COLUMNS:
        assert required[name] is must, name
    types = {r[0]: r[1] for r in messages}
    assert (types["message_id"], types["ts"], types["is_template"], types["calling_code"],
            types["dt"]) == ("text", "timestamptz", "bool", "int4", "date")
    assert {r[4] for r in rows} == {"messages", "contacts"}
    # No keys, no comments, no identity columns in a lake.
    assert all(r[5] is False and r[6] is None and r[8] is False for r in rows)
    assert conn.execute(METABASE_FKS).fetchall() == []
    assert conn.execute(METABASE_INDEXES).fetchall() == []


def test_metabase_query_builder_sql_matches_duckdb(conn, duck):
    # Its time grains: DATE_TRUNC over a timestamp cast, and day of week as an integer.
    ours = conn.execute(
        "SELECT DATE_TRUNC('month', CAST(\"public\".\"messages\".\"ts\" AS timestamp)) AS \"ts\", "
        "COUNT(*) AS \"count\" FROM \"public\".\"messages\" GROUP BY 1 ORDER BY 1 ASC").fetchall()
    theirs = duck.execute("SELECT date_trunc('month', ts AT TIME ZONE 'UTC'), count(*) "
                          "FROM messages GROUP BY 1 ORDER BY 1").fetchall()
    assert ours == theirs
    ours = conn.execute("SELECT CAST(EXTRACT(dow FROM \"ts\") AS integer) AS \"dow\", COUNT(*) "
                        "FROM \"messages\" GROUP BY 1 ORDER BY 1").fetchall()
    theirs = duck.execute("SELECT CAST(dayofweek(ts AT TIME ZONE 'UTC') AS INTEGER), count(*) "
                          "FROM messages GROUP BY 1 ORDER BY 1").fetchall()
    assert ours == theirs


def test_grafana_data_source_setup_and_pickers(server):
    # Health check, then the version and TimescaleDB probes in one simple Query.
    assert psql(server, "-- ping") == []
    assert psql(server, "SELECT current_setting('server_version_num')::int/100 as version; "
                        "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'") == [["1600"]]
    schemas = psql(server, "SELECT schema_name AS \"name\" FROM information_schema.schemata "
                           "WHERE schema_name NOT IN ('information_schema', 'pg_catalog', 'pg_toast') "
                           "ORDER BY schema_name")
    assert schemas == [["public"]]
    # Tables of the search path come unqualified (public is on it), sorted by name.
    tables = [r[0] for r in psql(server, GRAFANA_TABLES)]
    assert SPEC_TABLES <= set(tables) and tables == sorted(tables)
    assert not any("." in t for t in tables), tables[:5]
    # The column picker finds a table with or without its schema.
    bare = psql(server, grafana_columns("messages"))
    qualified = psql(server, grafana_columns("public.messages"))
    assert bare == qualified
    types = dict(map(tuple, bare))
    assert [c for c in types if c != "dt"] == [name for name, _ in MESSAGE_COLUMNS]
    assert (types["ts"], types["is_template"], types["calling_code"], types["dt"],
            types["message_id"]) == ("timestamp with time zone", "boolean", "integer", "date", "text")


def test_grafana_time_series_macros_match_duckdb(server, duck):
    # `$__timeGroupAlias(ts, '1h')`, `$__timeFilter(ts)` as Grafana expands them.
    first, last = duck.execute("SELECT floor(epoch(min(ts))), ceil(epoch(max(ts))) FROM messages").fetchone()
    utc = datetime.timezone.utc
    start = datetime.datetime.fromtimestamp(first, utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = datetime.datetime.fromtimestamp(last, utc).strftime("%Y-%m-%dT%H:%M:%S.123Z")
    ours = psql(server, "SELECT floor(extract(epoch from ts)/3600)*3600 AS \"time\", count(*) AS \"value\" "
                        f"FROM messages WHERE ts BETWEEN '{start}' AND '{end}' GROUP BY 1 ORDER BY 1")
    theirs = duck.execute("SELECT CAST(floor(epoch(ts) / 3600) * 3600 AS BIGINT), count(*) "
                          "FROM messages GROUP BY 1 ORDER BY 1").fetchall()
    assert [(int(float(t)), int(v)) for t, v in ours] == theirs
