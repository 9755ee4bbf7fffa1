"""Markdown tables of a run: medians, chatlake/peer ratios, peak RSS, and scaling."""

PEERS = ("duckdb", "chdb")


def _secs(r):
    if r is None:
        return "—"
    if r["status"] != "ok":
        return r["status"]
    return f"{r['median_s']:.3f}"


def _mib(r):
    if r is None or r.get("peak_rss_bytes") is None:
        return "—"
    return f"{r['peak_rss_bytes'] / 2**20:,.0f}"


def _ratio(ours, theirs):
    if not ours or not theirs or ours["status"] != "ok" or theirs["status"] != "ok":
        return "—"
    return f"{ours['median_s'] / theirs['median_s']:.2f}"


def best_peer(results):
    """The fastest answer of any peer formulation (variants like duckdb:asof included)."""
    ok = [r for e, r in results.items() if e.split(":")[0] in PEERS and r["status"] == "ok"]
    return min(ok, key=lambda r: r["median_s"]) if ok else None


def query_table(scale, rows, engines):
    """rows: [(query name, {engine: summary}, check)]"""
    peers = [p for p in engines if p.split(":")[0] in PEERS]
    ours = [e for e in ("chatlake", "pgwire") if e in engines]
    head = (["query"] + [f"{e} s" for e in engines]
            + [f"{o}/{p}" for o in ours[:1] for p in peers]
            + (["chatlake/best peer"] if ours and peers else [])
            + [f"{e} MiB" for e in engines] + ["answers"])
    lines = [f"### {scale} messages", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, res, check in rows:
        cells = [name] + [_secs(res.get(e)) for e in engines]
        if ours:
            o = res.get(ours[0])
            cells += [_ratio(o, res.get(p)) for p in peers]
            if peers:
                cells.append(_ratio(o, best_peer(res)))
        cells += [_mib(res.get(e)) for e in engines]
        cells.append(check)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def scaling_table(records, scales, engines):
    """One row per query: each engine's median (s) and peak RSS (MiB) at each scale."""
    by = {(r["scale"], r["query"], r["engine"]): r for r in records}
    queries = list(dict.fromkeys(r["query"] for r in records))
    head = ["query", "engine"] + [f"{s} s" for s in scales] + [f"{s} MiB" for s in scales]
    lines = ["### Scaling", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for q in queries:
        for e in engines:
            cells = [q, e] + [_secs(by.get((s, q, e))) for s in scales] + [_mib(by.get((s, q, e))) for s in scales]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def wire_table(wire):
    head = ["client", "server", "rows", "median s", "rows/s", "server peak MiB", "chatlake/PostgreSQL rows/s"]
    check = ("same rows from both servers (count and digest)" if wire["answers_ok"]
             else "MISMATCH between the servers' rows")
    lines = [f"### Wire throughput ({wire['rows']:,} rows, {wire['columns']} columns)", "",
             f"`{wire['chatlake_sql']}` on chatlake; `{wire['postgresql_sql']}` on PostgreSQL "
             f"{wire['postgresql']}; answers: {check}.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    by = {(m["client"], m["server"]): m for m in wire["measurements"]}
    for m in wire["measurements"]:
        pg = by.get((m["client"], "postgresql"))
        ratio = "—"
        if m["server"] == "chatlake" and pg and pg.get("rows_per_s") and m.get("rows_per_s"):
            ratio = f"{m['rows_per_s'] / pg['rows_per_s']:.2f}"
        rps = f"{m['rows_per_s']:,.0f}" if m.get("rows_per_s") else m.get("status", "—")
        med = f"{m['median_s']:.3f}" if m.get("median_s") else "—"
        mib = f"{m['server_peak_bytes'] / 2**20:,.0f}" if m.get("server_peak_bytes") else "—"
        lines.append(f"| {m['client']} | {m['server']} | {m.get('rows', 0):,} | {med} | {rps} | {mib} | {ratio} |")
    return "\n".join(lines)
