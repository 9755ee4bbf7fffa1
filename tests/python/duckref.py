"""The expected side of the report tests: the lake read by DuckDB, and what the specs define.

Everything here is written from SPEC 3-6 and reference sections 5-6, 10 and 11.7, in DuckDB's
dialect and plain Python, never from chatlake's SQL: local dates come from ICU's `timezone()`,
billing conversations from a small Python model of the CBP rules.
"""

import datetime

import duckdb
from deltalake import DeltaTable

TABLES = ["tenants", "channels", "messages", "message_statuses", "contacts", "contact_events",
          "flow_events", "campaigns", "campaign_recipients", "analytics_events", "comments",
          "chat_events", "conversations"]


def load(lake):
    """A DuckDB connection with every table of the lake registered under its name."""
    con = duckdb.connect()
    for table in TABLES:
        con.register(table, DeltaTable(str(lake / table)).to_pyarrow_table())
    con.execute("SET TimeZone = 'UTC'")
    # The local calendar date of an instant in an IANA zone (ICU).
    con.execute("CREATE MACRO ldate(ts, tz) AS CAST(timezone(tz, ts) AS DATE)")
    # The instant of local midnight starting a date in a zone.
    con.execute("CREATE MACRO lmidnight(d, tz) AS timezone(tz, CAST(d AS TIMESTAMP))")
    # An instant as a naive UTC timestamp, for results fetched into Python.
    con.execute("CREATE MACRO utc_ts(ts) AS CAST(timezone('UTC', ts) AS TIMESTAMP)")
    return con


def rows(cur):
    """All rows of a cursor (a list of rows works too), instants as naive UTC, sorted."""
    fetched = cur.fetchall() if hasattr(cur, "fetchall") else cur
    return sorted((tuple(utc(v) for v in r) for r in fetched), key=_nulls_first)


def _nulls_first(row):
    return tuple((v is not None, v) for v in row)


def utc(value):
    """An aware datetime as naive UTC (DuckDB returns instants as naive UTC: `utc_ts` below,
    which needs no pytz)."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def last_days(duck, tz, n):
    """The last `n` local days (in `tz`) that have messages: (first, last)."""
    last = duck.execute(f"SELECT max(ldate(ts, '{tz}')) FROM messages").fetchone()[0]
    return last - datetime.timedelta(days=n - 1), last


def channel_zone(duck, channel_id):
    """SPEC 6: a report on one channel defaults to the channel's zone, else its tenant's."""
    return duck.execute(
        "SELECT coalesce(c.tz, t.tz) FROM channels c JOIN tenants t USING (tenant_id) "
        "WHERE c.channel_id = ?", [channel_id]).fetchone()[0]


def zone(duck, channel_id, tz):
    """The zone a report call runs in: `tz` when given, else the channel's default."""
    return tz if tz is not None else channel_zone(duck, channel_id)


def days_cte(lo, hi):
    """A `days` CTE: every calendar day from `lo` to `hi`, both included."""
    return (f"days AS (SELECT CAST(d AS DATE) AS day "
            f"FROM range(DATE '{lo}', DATE '{hi}' + 1, INTERVAL 1 DAY) t(d))")


def in_range(lo, hi, tz, ts="ts"):
    """A condition: the local date of `ts` in `tz` lies in [lo, hi]."""
    return f"ldate({ts}, '{tz}') BETWEEN DATE '{lo}' AND DATE '{hi}'"


def where_channel(channel_id, col="channel_id"):
    return "TRUE" if channel_id is None else f"{col} = '{channel_id}'"


def call_args(lo, hi, channel_id, tz):
    """Report arguments as SQL literals (table-function arguments cannot be bind parameters)."""
    ch = "NULL" if channel_id is None else f"'{channel_id}'"
    zone = "NULL" if tz is None else f"'{tz}'"
    return f"'{lo}', '{hi}', {ch}, {zone}"


# ---- WhatsApp billing conversations (reference 5.3, 6 and 11.7) ----

H24 = datetime.timedelta(hours=24)
H72 = datetime.timedelta(hours=72)
CBP_V2 = datetime.datetime(2023, 6, 1)  # naive UTC, as the instants read from DuckDB below


def cbp_conversations(events):
    """Billing conversations of one contact on one number, by the reference model.

    `events`: (ts, direction, delivered, is_template, template_category, has_referral).
    Rules (reference 11.7): inbound first on ties; an inbound opens the customer-service window
    for 24 h (and the free-entry-point offer if it carries a referral); only delivered outbound
    messages count; an open FEP conversation absorbs everything; a message while the offer is
    on and nothing is open opens `referral_conversion` for 72 h. Before 2023-06-01 (CBP v1) one
    open conversation absorbs everything, else a new one is `user_initiated` inside the window
    or `business_initiated` (a template) outside; from 2023-06-01 (CBP v2, and the conversations
    still reported under PMP) a template of category c rides in an open c conversation (no
    category = marketing), a free-form message in any open one, else a template opens c and a
    free-form message inside the window opens `service`. Conversations last 24 h, fixed.
    Returns [(opened_at, expires_at, origin)].
    """
    out = []
    csw_until = ref_until = None
    for ts, direction, delivered, is_template, category, referral in sorted(
            events, key=lambda e: (e[0], e[1] != "inbound")):
        if direction == "inbound":
            csw_until = ts + H24
            if referral:
                ref_until = ts + H24
            continue
        if not delivered:
            continue
        open_now = [c for c in out if c[0] <= ts < c[1]]
        if any(c[2] == "referral_conversion" for c in open_now):
            continue
        in_csw = csw_until is not None and ts < csw_until
        if not open_now and ref_until is not None and ts <= ref_until:
            out.append((ts, ts + H72, "referral_conversion"))
            continue
        if ts < CBP_V2:
            if open_now:
                continue
            if in_csw:
                out.append((ts, ts + H24, "user_initiated"))
            elif is_template:
                out.append((ts, ts + H24, "business_initiated"))
        elif is_template:
            cat = category or "marketing"
            if not any(c[2] == cat for c in open_now):
                out.append((ts, ts + H24, cat))
        elif not open_now and in_csw:
            out.append((ts, ts + H24, "service"))
    return out


def register_conversations(duck):
    """Table `conv`: every billing conversation, as all_conversations should have it (SPEC 4).

    Webhook-reported ones as they are (source = 'webhook': the table also holds the rows
    chatlake derived at write time, which this reference recomputes on its own); for WhatsApp
    numbers that have no webhook conversation at all, the conversations of the reference model over their messages, billable unless free
    entry point or (from 2024-11-01, all service free) service.
    """
    if duck.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'conv'"
                    ).fetchone()[0]:
        return
    msgs = duck.execute("""
        SELECT m.tenant_id, m.channel_id, m.contact_id, CAST(m.ts AS TIMESTAMP), m.direction,
               EXISTS (SELECT 1 FROM message_statuses s
                       WHERE s.tenant_id = m.tenant_id AND s.message_id = m.message_id
                         AND s.status IN ('delivered', 'read', 'played')),
               m.is_template, m.template_category, m.referral_source_type IS NOT NULL
        FROM messages m JOIN channels c USING (tenant_id, channel_id)
        WHERE c.channel_type = 'whatsapp'
          AND NOT EXISTS (SELECT 1 FROM conversations w
                          WHERE w.tenant_id = c.tenant_id AND w.channel_id = c.channel_id
                            AND w.source = 'webhook')
    """).fetchall()
    per_contact = {}
    for tenant, channel, contact, *event in msgs:
        per_contact.setdefault((tenant, channel, contact), []).append(tuple(event))
    derived = [(t, ch, co, o, e, origin)
               for (t, ch, co), evs in per_contact.items()
               for o, e, origin in cbp_conversations(evs)]
    duck.execute("CREATE TEMP TABLE derived (tenant_id VARCHAR, channel_id VARCHAR, "
                 "contact_id VARCHAR, opened_at TIMESTAMPTZ, expires_at TIMESTAMPTZ, "
                 "origin VARCHAR)")
    if derived:
        duck.executemany("INSERT INTO derived VALUES (?, ?, ?, ?, ?, ?)", derived)
    duck.execute("""
        CREATE TEMP TABLE conv AS
        SELECT tenant_id, channel_id, waba_id, contact_id, opened_at, origin, billable,
               'webhook' AS source
        FROM conversations
        WHERE source = 'webhook'
        UNION ALL
        SELECT d.tenant_id, d.channel_id, c.waba_id, d.contact_id, d.opened_at, d.origin,
               NOT (d.origin = 'referral_conversion'
                    OR (d.origin = 'service' AND d.opened_at >= TIMESTAMPTZ '2024-11-01 00:00:00+00')),
               'derived'
        FROM derived d JOIN channels c USING (tenant_id, channel_id)
    """)
