"""chatlake vs its peers: a reproducible benchmark harness (see benches/README.md).

Modules: `cli` (the command), `lake` (generating lakes, checking globs against Delta
snapshots), `queries` (the query set, hand-written SQL per engine), `engines` (running a query
in chatlake in-process, chatlake over pgwire, DuckDB and chDB; timing and peak memory),
`worker` (a peer query in its own process), `normalise` (answer checking), `wire` (rows/s to
psycopg and psql, chatlake vs PostgreSQL 15), `report` (markdown tables).
"""
