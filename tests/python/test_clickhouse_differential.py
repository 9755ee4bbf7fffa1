"""Random differential test: chatlake's window_funnel, retention, sequence_match and
sequence_count against ClickHouse's windowFunnel, retention, sequenceMatch and sequenceCount
(the `chdb` package, ClickHouse in-process) on the same rows.

Seeded random event groups are written to one Parquet file; each engine evaluates the same
calls over it, grouped by `g`, and every group's answers must be identical. chatlake runs
in-process through `chatlake sql --parquet events=FILE` (CSV out), no server or lake needed.

Set CHATLAKE_DIFF_SEED to try another seed (the failing seed is in the assertion message).
"""

import csv
import io
import itertools
import os
import random
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from needs import require_module

chdb = require_module("chdb")

SEED = int(os.environ.get("CHATLAKE_DIFF_SEED", "20261122"))
MAX_CONDS = 8
MODES = ["strict_order", "strict_deduplication", "strict_increase", "strict_once", "allow_reentry"]


def _binary():
    path = os.environ.get("CHATLAKE_BIN")
    if not path or not os.path.exists(path):
        pytest.fail("set CHATLAKE_BIN to the chatlake binary (scripts/test does)")
    return path


def _write_events(path, rng, groups, distinct_ts):
    """Random groups: 1-12 rows, timestamps 0-40 s (distinct within a group if asked),
    each condition true with a per-group probability."""
    cols = {"g": [], "ts": []}
    for i in range(1, MAX_CONDS + 1):
        cols[f"c{i}"] = []
    for g in range(groups):
        rows = rng.randint(1, 12)
        if distinct_ts:
            times = rng.sample(range(0, 60), rows)
        else:
            times = [rng.randint(0, 40) for _ in range(rows)]
        p = rng.choice([0.15, 0.3, 0.5])
        for t in times:
            cols["g"].append(g)
            cols["ts"].append(t)
            for i in range(1, MAX_CONDS + 1):
                cols[f"c{i}"].append(rng.random() < p)
    table = pa.table({
        "g": pa.array(cols["g"], pa.int32()),
        "ts": pa.array(cols["ts"], pa.int64()),
        **{f"c{i}": pa.array(cols[f"c{i}"], pa.bool_()) for i in range(1, MAX_CONDS + 1)},
    })
    pq.write_table(table, path)


def _chatlake(path, select):
    # Aliases: a random set of calls may repeat one, and DataFusion wants unique names.
    cols = ", ".join(f"{expr} AS r{i}" for i, expr in enumerate(select))
    sql = f"SELECT g, {cols} FROM events GROUP BY g ORDER BY g"
    out = subprocess.run([_binary(), "sql", "--target-partitions", "4", "--parquet",
                          f"events={path}", sql], capture_output=True, text=True)
    assert out.returncode == 0, f"chatlake failed: {out.stderr.strip()}"
    rows = list(csv.reader(io.StringIO(out.stdout)))
    return [[_norm(v) for v in r] for r in rows[1:]]


def _clickhouse(path, select):
    cols = ", ".join(f"{expr} AS r{i}" for i, expr in enumerate(select))
    sql = (f"SELECT g, {cols} FROM file('{path}', Parquet) "
           "GROUP BY g ORDER BY g")
    out = chdb.query(sql, "CSV").data()
    return [[_norm(v) for v in r] for r in csv.reader(io.StringIO(out))]


def _norm(v):
    return {"true": "1", "false": "0"}.get(v, v)


def _compare(names, ours, theirs, context):
    assert len(ours) == len(theirs), f"{context}: group counts differ"
    for mine, ref in zip(ours, theirs):
        assert mine[0] == ref[0], f"{context}: group keys differ"
        for name, a, b in zip(names, mine[1:], ref[1:]):
            assert a == b, f"{context} seed {SEED}: group {mine[0]}, {name}: chatlake {a}, ClickHouse {b}"


def _mode_sets():
    for r in range(len(MODES) + 1):
        for combo in itertools.combinations(MODES, r):
            if "allow_reentry" in combo and "strict_order" not in combo:
                continue
            yield list(combo)


def _funnel_calls(rng, mode_sets):
    ours_sql, ch_sql = [], []
    for modes in mode_sets:
        for n in range(1, MAX_CONDS + 1):
            window = rng.choice([0, 1, 2, 3, 5, 10, 20, 100])
            conds = ", ".join(f"c{i}" for i in range(1, n + 1))
            # Half the calls take ts as a TIMESTAMP, half as a plain integer (same unit).
            ts = "to_timestamp_seconds(ts)" if rng.random() < 0.5 else "ts"
            ours_sql.append(f"window_funnel({window}, '{','.join(modes)}', {ts}, {conds})")
            params = ", ".join([str(window)] + [f"'{m}'" for m in modes])
            ch_conds = ", ".join(f"toUInt8(assumeNotNull(c{i}))" for i in range(1, n + 1))
            ch_sql.append(f"windowFunnel({params})(toUInt32(assumeNotNull(ts)), {ch_conds})")
    return ours_sql, ch_sql


def test_window_funnel_matches_clickhouse(tmp_path):
    rng = random.Random(SEED)
    # strict_once + strict_deduplication is the one combination where ClickHouse depends on
    # input order: two rows with the same timestamp and condition are taken in arrival order
    # (their unique ids), and whether the first of them extends a chain decides whether the
    # second is a "repeat". chatlake orders such ties by condition mask (order-insensitive,
    # SPEC 5), so that combination is compared on rows with distinct timestamps only.
    order_free = [m for m in _mode_sets() if not {"strict_once", "strict_deduplication"} <= set(m)]
    tie_sensitive = [m for m in _mode_sets() if {"strict_once", "strict_deduplication"} <= set(m)]
    for name, mode_sets, distinct in (("ties", order_free, False), ("distinct", tie_sensitive, True)):
        path = tmp_path / f"funnel-{name}.parquet"
        _write_events(path, rng, groups=1500, distinct_ts=distinct)
        ours_sql, ch_sql = _funnel_calls(rng, mode_sets)
        _compare(ours_sql, _chatlake(path, ours_sql), _clickhouse(path, ch_sql),
                 f"window_funnel ({name} timestamps)")


def test_retention_matches_clickhouse(tmp_path):
    rng = random.Random(SEED + 1)
    path = tmp_path / "retention.parquet"
    _write_events(path, rng, groups=1500, distinct_ts=False)
    ours_sql, ch_sql, names = [], [], []
    for n in range(2, MAX_CONDS + 1):
        conds = ", ".join(f"c{i}" for i in range(1, n + 1))
        ch_conds = ", ".join(f"toUInt8(assumeNotNull(c{i}))" for i in range(1, n + 1))
        # One column per element (the CSV writer has no list type).
        for k in range(1, n + 1):
            ours_sql.append(f"retention({conds})[{k}]")
            ch_sql.append(f"retention({ch_conds})[{k}]")
            names.append(f"retention(c1..c{n})[{k}]")
    _compare(names, _chatlake(path, ours_sql), _clickhouse(path, ch_sql), "retention")


def _random_pattern(rng, n):
    """A random pattern of 1-5 tokens; time tokens only right after an event, '.' or '.*'."""
    tokens = []
    for _ in range(rng.randint(1, 5)):
        kind = rng.random()
        if kind < 0.55:
            tokens.append(f"(?{rng.randint(1, n)})")
        elif kind < 0.7:
            tokens.append(".")
        elif kind < 0.85:
            tokens.append(".*")
        elif tokens and not tokens[-1].startswith("(?t"):
            op = rng.choice(["<=", "<", ">=", ">", "=="])
            tokens.append(f"(?t{op}{rng.randint(0, 15)})")
        else:
            tokens.append(f"(?{rng.randint(1, n)})")
    # A time token closes on the event after it. ClickHouse answers a pattern that ends with one
    # differently from run to run on the same data (it compares with an event past the last
    # one: 1 run in 20 of `(?2)(?t<10)` flipped whole groups with chdb 4.4), so it is no oracle
    # there: such a pattern gets an event to close on.
    if tokens[-1].startswith("(?t"):
        tokens.append(f"(?{rng.randint(1, n)})")
    return "".join(tokens)


def test_sequence_functions_match_clickhouse(tmp_path):
    rng = random.Random(SEED + 2)
    path = tmp_path / "sequence.parquet"
    # Distinct timestamps within a group: ClickHouse orders ties with an unstable sort.
    _write_events(path, rng, groups=1500, distinct_ts=True)
    ours_sql, ch_sql, names = [], [], []
    for _ in range(60):
        n = rng.randint(2, MAX_CONDS)
        pattern = _random_pattern(rng, n)
        conds = ", ".join(f"c{i}" for i in range(1, n + 1))
        ch_conds = ", ".join(f"toUInt8(assumeNotNull(c{i}))" for i in range(1, n + 1))
        ts = "to_timestamp_seconds(ts)" if rng.random() < 0.5 else "ts"
        for ours_fn, ch_fn in (("sequence_match", "sequenceMatch"), ("sequence_count", "sequenceCount")):
            ours_sql.append(f"{ours_fn}('{pattern}', {ts}, {conds})")
            ch_sql.append(f"{ch_fn}('{pattern}')(toDateTime(assumeNotNull(ts)), {ch_conds})")
            names.append(ours_sql[-1])
    _compare(names, _chatlake(path, ours_sql), _clickhouse(path, ch_sql), "sequence")


def test_arg_min_and_arg_max_match_clickhouse(tmp_path):
    rng = random.Random(SEED + 3)
    path = tmp_path / "arg.parquet"
    # Distinct timestamps within a group: on a tie ClickHouse keeps the first row it meets.
    _write_events(path, rng, groups=1500, distinct_ts=True)
    ours_sql, ch_sql, names = [], [], []
    for i in range(1, MAX_CONDS + 1):
        # The value is a string built from the row (condition and time), the key the time as a
        # TIMESTAMP or a plain integer; half the calls only look at rows where c{i} holds.
        value = f"concat(CAST(c{i} AS VARCHAR), '@', CAST(ts AS VARCHAR))"
        ch_value = f"concat(toString(toUInt8(assumeNotNull(c{i}))), '@', toString(ts))"
        for ours_fn, ch_fn in (("arg_min", "argMin"), ("arg_max", "argMax")):
            key = "to_timestamp_seconds(ts)" if rng.random() < 0.5 else "ts"
            ours_sql.append(f"{ours_fn}(replace(replace({value}, 'true', '1'), 'false', '0'), {key})")
            ch_sql.append(f"{ch_fn}({ch_value}, ts)")
            names.append(f"{ours_fn}(c{i}@ts, {key})")
            ours_sql.append(f"COALESCE({ours_fn}(CAST(ts AS VARCHAR), {key}) FILTER (WHERE c{i}), '-')")
            ch_sql.append(f"if(countIf(c{i}) = 0, '-', toString({ch_fn}If(ts, ts, c{i})))")
            names.append(f"{ours_fn}(ts, {key}) FILTER (WHERE c{i})")
    _compare(names, _chatlake(path, ours_sql), _clickhouse(path, ch_sql), "arg_min/arg_max")
