"""The expressions and small queries chatlake and PostgreSQL 15 must answer alike.

Each case is (id, zone, sql): the session's TimeZone is set to `zone` before `sql` runs; the
answer compared is the column names and every value as the server's text output, or the
SQLSTATE of the error. Ids are `family.name`; a difference that is accepted is listed, with
its reason, in the README's "Known differences" (test_pg_differential.py reads it).

Families: tz (time zones and DST days), cast (to and from text), num (integer and numeric
division, rounding), str (string functions), null (NULL handling), name (column names of
unnamed expressions), cat (regproc/regtype/oid), date (dates and intervals), agg (aggregates).
"""

ZONES = {
    "utc": "UTC",
    "kolkata": "Asia/Kolkata",
    "newyork": "America/New_York",
    "berlin": "Europe/Berlin",
    "adelaide": "Australia/Adelaide",
}

# Instants around DST changes: US spring forward (2026-03-08 07:00 UTC), EU spring forward
# (2026-03-29 01:00 UTC), EU fall back (2026-10-25 01:00 UTC), Adelaide fall back (2026-04-04
# 16:30 UTC), and an ordinary evening that is the next day in India.
INSTANTS = {
    "us_dst": "2026-03-08 06:30:00+00",
    "eu_dst": "2026-03-29 00:30:00+00",
    "eu_back": "2026-10-25 00:30:00+00",
    "adl_back": "2026-04-04 16:00:00+00",
    "evening": "2026-10-01 20:15:30+00",
}

TZ_EXPRESSIONS = {
    "print": "SELECT TIMESTAMPTZ '{t}'",
    "trunc_day": "SELECT date_trunc('day', TIMESTAMPTZ '{t}')",
    "trunc_hour": "SELECT date_trunc('hour', TIMESTAMPTZ '{t}')",
    "trunc_month": "SELECT date_trunc('month', TIMESTAMPTZ '{t}')",
    "to_date": "SELECT (TIMESTAMPTZ '{t}')::date",
    "to_text": "SELECT (TIMESTAMPTZ '{t}')::text",
    "hour": "SELECT extract(hour FROM TIMESTAMPTZ '{t}')",
    "dow": "SELECT extract(dow FROM TIMESTAMPTZ '{t}')",
    "epoch": "SELECT extract(epoch FROM TIMESTAMPTZ '{t}')",
    "to_char": "SELECT to_char(TIMESTAMPTZ '{t}', 'YYYY-MM-DD HH24:MI:SS')",
    "to_char_names": "SELECT to_char(TIMESTAMPTZ '{t}', 'FMDay Dy FMMonth Mon DDD IW WW W Q J HH12 AM')",
    "to_char_zone": "SELECT to_char(TIMESTAMPTZ '{t}', 'TZ OF TZH:TZM')",
    "to_timestamp_back": "SELECT to_timestamp(to_char(TIMESTAMPTZ '{t}', 'YYYY-MM-DD HH24:MI:SS'), 'YYYY-MM-DD HH24:MI:SS')",
    "plus_day": "SELECT TIMESTAMPTZ '{t}' + interval '1 day'",
    "at_utc": "SELECT TIMESTAMPTZ '{t}' AT TIME ZONE 'UTC'",
    "lt_local": "SELECT TIMESTAMPTZ '{t}' < '2026-10-01 23:00:00'",
    "column_trunc": "SELECT date_trunc('day', t) AS d FROM (VALUES (TIMESTAMPTZ '{t}')) v(t)",
    "column_date": "SELECT t::date AS d FROM (VALUES (TIMESTAMPTZ '{t}')) v(t)",
}


def _tz_cases():
    for zone_id, zone in ZONES.items():
        for instant_id, instant in INSTANTS.items():
            for expr_id, sql in TZ_EXPRESSIONS.items():
                yield (f"tz.{zone_id}.{instant_id}.{expr_id}", zone, sql.format(t=instant))


def _simple(family, items):
    for name, sql in items.items():
        yield (f"{family}.{name}", "UTC", sql)


CAST = {
    "text_int": "SELECT '42'::int",
    "text_int_spaces": "SELECT ' 42 '::int",
    "text_int_bad": "SELECT 'abc'::int",
    "text_int_overflow": "SELECT '3000000000'::int",
    "text_bigint": "SELECT '3000000000'::bigint",
    "text_numeric": "SELECT '4.50'::numeric",
    "text_float": "SELECT '1e3'::float8",
    "text_bool_t": "SELECT 't'::bool",
    "text_bool_yes": "SELECT 'yes'::boolean",
    "text_bool_bad": "SELECT 'maybe'::boolean",
    "text_date": "SELECT '2026-02-28'::date",
    "text_date_bad": "SELECT '2026-02-30'::date",
    "text_timestamp": "SELECT '2026-01-02 03:04:05'::timestamp",
    "int_text": "SELECT 42::text",
    "numeric_text": "SELECT 4.50::text",
    "float_text": "SELECT 1.5::float8::text",
    "float_sum": "SELECT 0.1::float8 + 0.2::float8",
    "bool_text": "SELECT true::text",
    "date_text": "SELECT DATE '2026-01-02'::text",
    "timestamp_text": "SELECT TIMESTAMP '2026-01-02 03:04:05'::text",
    "interval_text": "SELECT INTERVAL '1 day 2 hours'::text",
    "int_overflow": "SELECT 2147483647 + 1",
    "bigint_literal": "SELECT 3000000000",
    "int_to_bool": "SELECT 1::int::boolean",
    "float_to_int": "SELECT 2.5::float8::int",
    "numeric_to_int": "SELECT 3.5::numeric::int",
    "neg_numeric_to_int": "SELECT (-3.5)::numeric::int",
    "text_concat_int": "SELECT 'n=' || 42",
    "varchar_len": "SELECT 'abcdef'::varchar(3)",
}

NUM = {
    "int_div": "SELECT 7 / 2",
    "neg_int_div": "SELECT -7 / 2",
    "mod": "SELECT 7 % 3",
    "neg_mod": "SELECT -7 % 3",
    "numeric_div": "SELECT 7.0 / 2",
    "numeric_third": "SELECT 1.0 / 3",
    "float_div": "SELECT 7::float8 / 2",
    "div_zero": "SELECT 1 / 0",
    "numeric_div_zero": "SELECT 1.0 / 0",
    "mod_zero": "SELECT 1 % 0",
    "round_half": "SELECT round(2.5)",
    "round_neg_half": "SELECT round(-2.5)",
    "round_float_half": "SELECT round(2.5::float8)",
    "round_places": "SELECT round(2.345, 2)",
    "round_neg_places": "SELECT round(1234.5, -2)",
    "trunc": "SELECT trunc(-2.7)",
    "trunc_places": "SELECT trunc(2.789, 1)",
    "ceil": "SELECT ceil(2.1)",
    "floor": "SELECT floor(-2.1)",
    "abs": "SELECT abs(-3)",
    "power": "SELECT power(2, 10)",
    "sqrt": "SELECT sqrt(2)",
    "mod_fn": "SELECT mod(7, 3)",
    "div_fn": "SELECT div(7, 2)",
    "sign": "SELECT sign(-4.2)",
    "mod_neg": "SELECT mod(-7, 3), mod(7, -3)",
    "div_neg": "SELECT div(-7, 2)",
    "mod_div_null": "SELECT mod(NULL::int, 3), div(7, NULL::int)",
    "mod_by_zero": "SELECT mod(7, 0)",
    "div_by_zero": "SELECT div(7, 0)",
    "sign_zero_int": "SELECT sign(0), sign(-12)",
    "mod_column": "SELECT mod(x, 4) FROM (VALUES (10), (-10), (3)) v(x) ORDER BY 1",
    "greatest": "SELECT greatest(1, 5, 3)",
    "least_null": "SELECT least(2, NULL, 1)",
    "bigint_mul": "SELECT 3000000000 * 2",
    "int_mul_overflow": "SELECT 100000 * 100000",
    "exp_notation": "SELECT 1.5e2",
    "numeric_scale": "SELECT 1.10 + 2.205",
    "unary_minus": "SELECT -(-3)",
    "precedence": "SELECT 2 + 3 * 4 - 1",
    "bit_and": "SELECT 12 & 10",
    "float_print": "SELECT 1.0::float8 / 3",
}

STR = {
    # format(): Metabase's field sync builds type names and regclass text with it.
    "format_s": "SELECT format('Hello %s, %s', 'World', 42)",
    "format_ident_literal": "SELECT format('INSERT INTO %I VALUES(%L, %L)', 'Foo bar', 'O''Reilly', NULL)",
    "format_ident_plain": "SELECT format('%I.%I', 'public', 'messages')",
    "format_width": "SELECT format('|%10s|%-10s|%*s|', 'foo', 'bar', 6, 'baz')",
    "format_position": "SELECT format('%3$s %2$s %s', 'a', 'b', 'c')",
    "format_nulls": "SELECT format('[%s]', NULL::text), format(NULL::text)",
    "format_percent": "SELECT format('100%% of %s', 'it')",
    "format_bool": "SELECT format('%s/%s', true, false)",
    "format_too_few": "SELECT format('%s %s', 'a')",
    "format_bad_type": "SELECT format('%x', 'a')",
    "lower": "SELECT lower('HeLLo')",
    "upper": "SELECT upper('héllo')",
    "length": "SELECT length('héllo')",
    "char_length": "SELECT char_length('héllo')",
    "octet_length": "SELECT octet_length('héllo')",
    "substr": "SELECT substr('hello', 2, 3)",
    "substr_from": "SELECT substr('hello', 3)",
    "substring_sql": "SELECT substring('hello' FROM 2 FOR 3)",
    "substring_zero": "SELECT substring('hello' FROM 0 FOR 3)",
    "position": "SELECT position('l' IN 'hello')",
    "strpos": "SELECT strpos('hello', 'lo')",
    "replace": "SELECT replace('a-b-c', '-', '+')",
    "split_part": "SELECT split_part('a,b,c', ',', 2)",
    "split_part_out": "SELECT split_part('a,b,c', ',', 5)",
    "left": "SELECT left('hello', 2)",
    "left_neg": "SELECT left('hello', -2)",
    "right": "SELECT right('hello', 2)",
    "lpad": "SELECT lpad('7', 3, '0')",
    "lpad_cut": "SELECT lpad('hello', 3)",
    "rpad": "SELECT rpad('ab', 4, 'xy')",
    "trim": "SELECT trim('  x  ')",
    "trim_chars": "SELECT trim(BOTH 'x' FROM 'xxhixx')",
    "ltrim": "SELECT ltrim('  x ')",
    "rtrim": "SELECT rtrim(' x  ')",
    "btrim": "SELECT btrim('xxhixx', 'x')",
    "concat": "SELECT concat('a', NULL, 'b', 1)",
    "concat_op_null": "SELECT 'a' || NULL",
    "concat_ws": "SELECT concat_ws(',', 'a', NULL, 'b')",
    "initcap": "SELECT initcap('hello wORLD')",
    "reverse": "SELECT reverse('abc')",
    "repeat": "SELECT repeat('ab', 3)",
    "md5": "SELECT md5('abc')",
    "starts_with": "SELECT starts_with('hello', 'he')",
    "like": "SELECT 'abc' LIKE 'a%'",
    "ilike": "SELECT 'abc' ILIKE 'A%'",
    "like_escape": "SELECT 'a_c' LIKE 'a\\_c'",
    "not_like": "SELECT 'abc' NOT LIKE '%d'",
    "regexp_replace": "SELECT regexp_replace('a1b2', '[0-9]', 'X', 'g')",
    "regexp_replace_first": "SELECT regexp_replace('a1b2', '[0-9]', 'X')",
    "regex_match": "SELECT 'abc' ~ '^a.c$'",
    "to_hex": "SELECT to_hex(255)",
    "ascii": "SELECT ascii('A')",
    "chr": "SELECT chr(65)",
    "translate": "SELECT translate('abc', 'ab', 'xy')",
    "string_agg": "SELECT string_agg(x, ',' ORDER BY x) FROM (VALUES ('b'), ('a'), ('c')) v(x)",
    "upper_case_name": "SELECT UPPER('a')",
    "quoted_name": "SELECT \"upper\"('a')",
    "compare_collation": "SELECT 'a' < 'B'",
    "empty_vs_null": "SELECT '' IS NULL",
    "quote_literal": "SELECT 'it''s'",
}

NULL = {
    "eq": "SELECT NULL = NULL",
    "is_null": "SELECT NULL IS NULL",
    "distinct": "SELECT NULL IS DISTINCT FROM NULL",
    "distinct_value": "SELECT 1 IS DISTINCT FROM NULL",
    "coalesce": "SELECT coalesce(NULL, 1)",
    "nullif": "SELECT nullif(1, 1)",
    "nullif_diff": "SELECT nullif(1, 2)",
    "plus": "SELECT NULL::int + 1",
    "concat": "SELECT NULL::text || 'a'",
    "case": "SELECT CASE WHEN NULL THEN 1 ELSE 2 END",
    "not": "SELECT NOT NULL::boolean",
    "and_false": "SELECT NULL::boolean AND false",
    "or_true": "SELECT NULL::boolean OR true",
    "in_list": "SELECT 1 IN (NULL, 2)",
    "not_in_list": "SELECT 1 NOT IN (NULL, 2)",
    "in_found": "SELECT 2 IN (NULL, 2)",
    "count": "SELECT count(x), count(*) FROM (VALUES (1), (NULL), (3)) v(x)",
    "sum_all_null": "SELECT sum(x) FROM (VALUES (NULL::int), (NULL::int)) v(x)",
    "avg_empty": "SELECT avg(x) FROM (VALUES (1)) v(x) WHERE x > 5",
    "max_null": "SELECT max(x) FROM (VALUES (NULL::int)) v(x)",
    "order_nulls": "SELECT x FROM (VALUES (2), (NULL), (1)) v(x) ORDER BY x",
    "order_nulls_desc": "SELECT x FROM (VALUES (2), (NULL), (1)) v(x) ORDER BY x DESC",
    "group_null": "SELECT x, count(*) FROM (VALUES (NULL::int), (NULL::int), (1)) v(x) GROUP BY x ORDER BY x",
    "null_print": "SELECT NULL",
    "null_text_print": "SELECT NULL::text",
}

NAME = {
    # A function in FROM: its alias names the column (Grafana's search-path lookup).
    "series_alias": "SELECT i FROM generate_series(1, 3) AS i ORDER BY 1",
    "series_computed_bounds": "SELECT i FROM generate_series(1, array_length(ARRAY['a', 'b'], 1)) i ORDER BY 1",
    "scalar_in_from": "SELECT s FROM string_to_array('a,b', ',') s",
    "search_path_lookup": ("SELECT CASE WHEN trim(s[i]) = '\"$user\"' THEN 'me' ELSE trim(s[i]) END AS p "
                           "FROM generate_series(1, array_upper(string_to_array('\"$user\", public', ','), 1)) AS i, "
                           "string_to_array('\"$user\", public', ',') s ORDER BY 1"),
    "count": "SELECT count(*) FROM (VALUES (1)) v(x)",
    "sum": "SELECT sum(x) FROM (VALUES (1)) v(x)",
    "expr": "SELECT x + 1 FROM (VALUES (1)) v(x)",
    "cast_column": "SELECT x::text FROM (VALUES (1)) v(x)",
    "cast_literal": "SELECT '1'::integer",
    "two_literals": "SELECT 1, 2",
    "case": "SELECT CASE WHEN x > 0 THEN 'p' END FROM (VALUES (1)) v(x)",
    "case_else_column": "SELECT CASE WHEN x > 0 THEN 'p' ELSE y END FROM (VALUES (1, 'n')) v(x, y)",
    "coalesce": "SELECT coalesce(x, 0) FROM (VALUES (1)) v(x)",
    "alias": "SELECT x AS \"My Col\" FROM (VALUES (1)) v(x)",
    "alias_unquoted": "SELECT x AS MyCol FROM (VALUES (1)) v(x)",
    "subquery": "SELECT (SELECT max(x) FROM (VALUES (1)) v(x))",
    "exists": "SELECT EXISTS (SELECT 1)",
    "nested_star": "SELECT * FROM (SELECT count(*), max(x) FROM (VALUES (1)) v(x)) s",
    "duplicate_columns": "SELECT x, x FROM (VALUES (1)) v(x)",
    "two_subqueries": "SELECT (SELECT 1), (SELECT 2)",
    "window": "SELECT row_number() OVER (ORDER BY x) FROM (VALUES (1)) v(x)",
    "extract": "SELECT extract(year FROM DATE '2026-01-01')",
    "bool": "SELECT true",
    "typed_date": "SELECT DATE '2026-01-01'",
    "union": "SELECT 1 AS a UNION ALL SELECT 2 ORDER BY 1",
    "current_date_type": "SELECT pg_typeof(current_date)",
}

CAT = {
    "regtype_text": "SELECT 23::regtype::text",
    "regtype_oid": "SELECT 'int4'::regtype::oid::int",
    "typname": "SELECT typname FROM pg_catalog.pg_type WHERE oid = 23",
    "typreceive_name": "SELECT typreceive FROM pg_catalog.pg_type WHERE typname = 'int4'",
    "typreceive_text": "SELECT typreceive::text = 'int4recv' FROM pg_catalog.pg_type WHERE typname = 'int4'",
    "typreceive_nonzero": "SELECT typreceive != 0 FROM pg_catalog.pg_type WHERE typname = 'int4'",
    "adbc_type_query": (
        "SELECT count(*) > 0 FROM pg_catalog.pg_type WHERE (typreceive != 0 OR typsend != 0) "
        "AND typtype != 'r' AND typreceive::TEXT != 'array_recv' AND typname = 'int4'"
    ),
    "regclass": "SELECT 'pg_catalog.pg_class'::regclass::oid::int",
    "namespace": "SELECT nspname FROM pg_catalog.pg_namespace WHERE oid = 11",
    "format_type": "SELECT format_type(1184, NULL)",
    "typeof_int": "SELECT pg_typeof(1)",
    "typeof_numeric": "SELECT pg_typeof(1.5)",
    "typeof_text": "SELECT pg_typeof('a'::text)",
    "typeof_int_cast": "SELECT pg_typeof(1::int), pg_typeof(1::bigint), pg_typeof(true)",
    "typeof_timestamptz": "SELECT pg_typeof(now())",
    "typeof_text_array": "SELECT pg_typeof(ARRAY['a', 'b'])",
    "typeof_float": "SELECT pg_typeof(1.5::float8)",
    "version_prefix": "SELECT split_part(version(), ' ', 1)",
    "current_schema": "SELECT current_schema()",
}

DATE = {
    "plus_int": "SELECT DATE '2026-01-31' + 1",
    "minus_date": "SELECT DATE '2026-03-01' - DATE '2026-02-01'",
    "plus_month": "SELECT DATE '2026-01-31' + interval '1 month'",
    "interval_mul": "SELECT interval '1 day' * 2",
    "interval_minutes": "SELECT interval '90 minutes'",
    "interval_sum": "SELECT interval '1 hour' + interval '30 minutes'",
    "dow": "SELECT extract(dow FROM DATE '2026-12-07')",
    "isodow": "SELECT extract(isodow FROM DATE '2026-12-06')",
    "week": "SELECT extract(week FROM DATE '2026-01-01')",
    "doy": "SELECT extract(doy FROM DATE '2026-12-31')",
    "date_part": "SELECT date_part('month', DATE '2026-12-07')",
    "make_date": "SELECT make_date(2026, 2, 28)",
    "to_date": "SELECT to_date('2026-12-07', 'YYYY-MM-DD')",
    "to_timestamp": "SELECT to_timestamp(0)",
    "trunc_date": "SELECT date_trunc('month', DATE '2026-12-07')",
    "trunc_timestamp": "SELECT date_trunc('month', TIMESTAMP '2026-12-07 10:00:00')",
    "timestamp_print": "SELECT TIMESTAMP '2026-12-07 10:00:00.5'",
    "timestamp_minus": "SELECT TIMESTAMP '2026-12-07 10:00:00' - TIMESTAMP '2026-12-06 08:30:00'",
    "date_compare": "SELECT DATE '2026-12-07' > '2026-12-06'",
    "series": "SELECT count(*) FROM generate_series(1, 10) g",
    "between": "SELECT DATE '2026-12-07' BETWEEN DATE '2026-12-01' AND DATE '2026-12-31'",
}

# PostgreSQL's date/time template patterns (to_char, to_date, to_timestamp).
TEMPLATE = {
    "to_char_date": "SELECT to_char(DATE '2026-12-07', 'YYYY-MM-DD Day Month dy mon')",
    "to_char_fraction": "SELECT to_char(TIMESTAMP '2026-12-07 00:04:05.123456', 'HH24 HH12 AM MS US FF1 FF2 SSSS')",
    "to_char_ordinal": "SELECT to_char(DATE '2026-12-01', 'FMDDth'), to_char(DATE '2026-12-02', 'DDTH'), to_char(DATE '2026-12-03', 'FMDDth'), to_char(DATE '2026-12-11', 'FMDDth'), to_char(DATE '2026-12-22', 'FMDDth')",
    "to_char_quoted": "SELECT to_char(TIMESTAMP '2026-12-07 10:00:00', '\"Week\" IW \"of\" IYYY, \"Q\"Q')",
    "to_char_year": "SELECT to_char(DATE '0005-03-01', 'YYYY Y,YYY YYY YY Y CC FMYYYY RM FMrm')",
    "to_char_iso": "SELECT to_char(DATE '2027-01-01', 'IYYY-IW-ID IDDD'), to_char(DATE '2026-12-31', 'IYYY-IW-ID IDDD D')",
    "to_char_null": "SELECT to_char(NULL::timestamp, 'YYYY'), to_char(TIMESTAMP '2026-01-01 00:00:00', NULL)",
    "to_char_column": "SELECT to_char(d, 'FMMonth YYYY') AS m FROM (VALUES (DATE '2026-01-15'), (DATE '2026-02-15')) v(d) ORDER BY d",
    "to_char_chrono": "SELECT to_char(TIMESTAMP '2026-12-07 10:00:00', '%Y/%m')",
    "to_date_formats": "SELECT to_date('07 Dec 2026', 'DD Mon YYYY'), to_date('20261207', 'YYYYMMDD'), to_date('December 7, 2026', 'Month DD, YYYY'), to_date('2026-341', 'YYYY-DDD')",
    "to_date_yy": "SELECT to_date('07/12/26', 'DD/MM/YY'), to_date('07/12/95', 'DD/MM/YY')",
    "to_date_bad": "SELECT to_date('2026-xx-07', 'YYYY-MM-DD')",
    "to_date_feb_30": "SELECT to_date('2026-02-30', 'YYYY-MM-DD')",
    "to_date_month_13": "SELECT to_date('2026-13-01', 'YYYY-MM-DD')",
    "to_timestamp_utc": "SELECT to_timestamp('2026-12-07 15:04:05', 'YYYY-MM-DD HH24:MI:SS')",
    "to_timestamp_offset": "SELECT to_timestamp('2026-12-07 10:00 +05:30', 'YYYY-MM-DD HH24:MI TZH:TZM')",
    "to_timestamp_12h": "SELECT to_timestamp('07-12-2026 3:04 pm', 'DD-MM-YYYY HH12:MI am')",
}

AGG = {
    "avg_int": "SELECT avg(x) FROM (VALUES (1), (2)) v(x)",
    "sum_int_type": "SELECT pg_typeof(sum(x)) FROM (VALUES (1), (2)) v(x)",
    "avg_float": "SELECT avg(x) FROM (VALUES (1.0::float8), (2.0::float8)) v(x)",
    "count_distinct": "SELECT count(DISTINCT x) FROM (VALUES (1), (1), (2)) v(x)",
    "filter": "SELECT count(*) FILTER (WHERE x > 1) FROM (VALUES (1), (2), (3)) v(x)",
    "bool_and": "SELECT bool_and(x > 0), bool_or(x > 2) FROM (VALUES (1), (2)) v(x)",
    "min_text": "SELECT min(x) FROM (VALUES ('b'), ('a')) v(x)",
    "array_agg": "SELECT array_agg(x ORDER BY x) FROM (VALUES (2), (1)) v(x)",
    "stddev": "SELECT round(stddev_samp(x)::numeric, 6) FROM (VALUES (1.0), (2.0), (4.0)) v(x)",
    "percentile": "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM (VALUES (1), (2), (4)) v(x)",
    "having": "SELECT x, count(*) FROM (VALUES (1), (1), (2)) v(x) GROUP BY x HAVING count(*) > 1",
}


def cases():
    """Every case, in a stable order."""
    out = list(_tz_cases())
    for family, items in [("cast", CAST), ("num", NUM), ("str", STR), ("null", NULL),
                          ("name", NAME), ("cat", CAT), ("date", DATE), ("tmpl", TEMPLATE),
                          ("agg", AGG)]:
        out.extend(_simple(family, items))
    return out
