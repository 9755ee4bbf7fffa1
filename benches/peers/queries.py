"""The query set: one semantics per query, written by hand for each engine.

`chatlake` is DataFusion SQL over the lake's tables (with chatlake's functions and reports);
`duckdb` and `chdb` read the same Parquet files: `{table}` is replaced by the engine's
reader of `<lake>/<table>/**/*.parquet` (DuckDB `read_parquet(..., hive_partitioning = true)`,
ClickHouse `file(..., Parquet)` with `use_hive_partitioning = 1`), so `dt` is a DATE column
in every engine. Every query's answer is compared across engines after normalisation
(sorted rows, floats rounded): dates in the SQL assume the harness's lake (120 days ending
2026-10-31, 4 tenants, see lake.py).

Each peer formulation is the fastest correct one we found; where an engine has a purpose-built
function (chatlake's window_funnel / wa_conversations / most_active_hour, ClickHouse's
windowFunnel / argMax / arrayFold) it is used. Status callbacks join their message by
`(tenant_id, message_id)` in every engine (SPEC 3's key for callbacks).
"""

from dataclasses import dataclass, field


@dataclass
class Query:
    name: str
    title: str
    chatlake: str
    duckdb: str
    chdb: str
    notes: str = ""
    float_digits: int = 6
    # Other formulations, run with --variants as extra engines "<engine>:<label>" (answer-checked too).
    variants: dict = field(default_factory=dict)


QUERIES = []


def query(**kw):
    QUERIES.append(Query(**kw))


# --- 1. daily active users for a month --------------------------------------------------------
query(
    name="dau_month",
    title="daily active users (inbound) per tenant, October 2026",
    chatlake="""
SELECT tenant_id, dt AS day, count(DISTINCT contact_id) AS active_users
FROM messages
WHERE direction = 'inbound' AND dt BETWEEN DATE '2026-10-01' AND DATE '2026-10-31'
GROUP BY tenant_id, dt""",
    duckdb="""
SELECT tenant_id, dt AS day, count(DISTINCT contact_id) AS active_users
FROM {messages}
WHERE direction = 'inbound' AND dt BETWEEN DATE '2026-10-01' AND DATE '2026-10-31'
GROUP BY tenant_id, dt""",
    chdb="""
SELECT tenant_id, dt AS day, uniqExact(contact_id) AS active_users
FROM {messages}
WHERE direction = 'inbound' AND dt BETWEEN toDate('2026-10-01') AND toDate('2026-10-31')
GROUP BY tenant_id, dt""",
)

# --- 2. unique users over a range --------------------------------------------------------------
query(
    name="unique_users_range",
    title="unique inbound users per tenant over 92 days (Aug-Oct)",
    chatlake="""
SELECT tenant_id, count(DISTINCT contact_id) AS users
FROM messages
WHERE direction = 'inbound' AND dt BETWEEN DATE '2026-08-01' AND DATE '2026-10-31'
GROUP BY tenant_id""",
    duckdb="""
SELECT tenant_id, count(DISTINCT contact_id) AS users
FROM {messages}
WHERE direction = 'inbound' AND dt BETWEEN DATE '2026-08-01' AND DATE '2026-10-31'
GROUP BY tenant_id""",
    chdb="""
SELECT tenant_id, uniqExact(contact_id) AS users
FROM {messages}
WHERE direction = 'inbound' AND dt BETWEEN toDate('2026-08-01') AND toDate('2026-10-31')
GROUP BY tenant_id""",
)

# --- 3. most active hour in a local zone -------------------------------------------------------
# Argmax of the 24-bin local-hour histogram of inbound messages, ties to the lowest hour
# (SPEC 5.8). The peers build the histogram, then take argmax by (count, -hour).
query(
    name="most_active_hour",
    title="most active local hour (Asia/Kolkata) of inbound messages per tenant, all days",
    chatlake="""
SELECT tenant_id, most_active_hour(ts, 'Asia/Kolkata') AS hour
FROM messages
WHERE direction = 'inbound'
GROUP BY tenant_id""",
    duckdb="""
SELECT tenant_id, arg_max(hour, n * 24 + (23 - hour)) AS hour
FROM (SELECT tenant_id, hour(timezone('Asia/Kolkata', ts)) AS hour, count(*) AS n
      FROM {messages} WHERE direction = 'inbound' GROUP BY ALL)
GROUP BY tenant_id""",
    chdb="""
SELECT tenant_id, argMax(hour, (n, -hour)) AS hour
FROM (SELECT tenant_id, toHour(ts, 'Asia/Kolkata') AS hour, count() AS n
      FROM {messages} WHERE direction = 'inbound' GROUP BY tenant_id, hour)
GROUP BY tenant_id""",
)

# --- 4. messages sent/delivered by country and integration (join to channels) -----------------
# Stella's WhatsApp messages panel for October (chatlake: the report itself). sent / delivered =
# a sent-or-later / delivered-or-later callback exists; notification = template sent outside
# the customer-service window; customer support = sent inside it. Every engine reads callbacks
# from the day before the range on (the report's own pruning: none precedes its message).
_SENT_DELIVERED_PEER = """
WITH s AS (
    SELECT tenant_id, message_id,
           count(*) FILTER (WHERE status IN ('sent', 'delivered', 'read', 'played')) > 0 AS sent,
           count(*) FILTER (WHERE status IN ('delivered', 'read', 'played')) > 0 AS delivered
    FROM {message_statuses}
    WHERE dt >= DATE '2026-09-30'
    GROUP BY tenant_id, message_id)
SELECT c.integration, m.country_code, c.display_phone,
       count(*) FILTER (WHERE s.sent) AS messages_sent,
       count(*) FILTER (WHERE s.delivered) AS messages_delivered,
       count(*) FILTER (WHERE s.sent AND m.is_template AND NOT coalesce(m.in_csw, false)) AS notification_messages,
       count(*) FILTER (WHERE s.sent AND coalesce(m.in_csw, false)) AS customer_support_messages
FROM {messages} m
JOIN {channels} c ON c.tenant_id = m.tenant_id AND c.channel_id = m.channel_id
LEFT JOIN s ON s.tenant_id = m.tenant_id AND s.message_id = m.message_id
WHERE m.direction = 'outbound' AND c.channel_type = 'whatsapp'
  AND m.ts >= TIMESTAMPTZ '2026-10-01 00:00:00+00' AND m.ts < TIMESTAMPTZ '2026-11-01 00:00:00+00'
  AND m.dt BETWEEN DATE '2026-10-01' AND DATE '2026-10-31'
GROUP BY c.integration, m.country_code, c.display_phone"""
query(
    name="sent_delivered_by_country",
    title="WhatsApp messages sent/delivered by integration, country, number (Oct; statuses join)",
    chatlake="""
SELECT integration, country_code, display_phone, messages_sent, messages_delivered,
       notification_messages, customer_support_messages
FROM stella_whatsapp_messages(DATE '2026-10-01', DATE '2026-10-31')""",
    duckdb=_SENT_DELIVERED_PEER,
    chdb="""
SELECT c.integration, m.country_code, c.display_phone,
       countIf(s.sent) AS messages_sent,
       countIf(s.delivered) AS messages_delivered,
       countIf(s.sent AND m.is_template AND NOT coalesce(m.in_csw, false)) AS notification_messages,
       countIf(s.sent AND coalesce(m.in_csw, false)) AS customer_support_messages
FROM {messages} m
JOIN {channels} c ON c.tenant_id = m.tenant_id AND c.channel_id = m.channel_id
LEFT JOIN (
    SELECT tenant_id, message_id,
           countIf(status IN ('sent', 'delivered', 'read', 'played')) > 0 AS sent,
           countIf(status IN ('delivered', 'read', 'played')) > 0 AS delivered
    FROM {message_statuses}
    WHERE dt >= toDate('2026-09-30')
    GROUP BY tenant_id, message_id) s
  ON s.tenant_id = m.tenant_id AND s.message_id = m.message_id
WHERE m.direction = 'outbound' AND c.channel_type = 'whatsapp'
  AND m.ts >= toDateTime64('2026-10-01 00:00:00', 6, 'UTC') AND m.ts < toDateTime64('2026-11-01 00:00:00', 6, 'UTC')
  AND m.dt BETWEEN toDate('2026-10-01') AND toDate('2026-10-31')
GROUP BY c.integration, m.country_code, c.display_phone""",
)

# --- 5. delivery funnel per template campaign (statuses pivot) --------------------------------
_STATUS_PIVOT = """
    SELECT tenant_id, message_id,
           count(*) FILTER (WHERE status IN ('sent', 'delivered', 'read', 'played')) > 0 AS sent,
           count(*) FILTER (WHERE status IN ('delivered', 'read', 'played')) > 0 AS delivered,
           count(*) FILTER (WHERE status = 'read') > 0 AS is_read,
           count(*) FILTER (WHERE status = 'failed') > 0 AS failed
    FROM {message_statuses}
    GROUP BY tenant_id, message_id"""
_TEMPLATE_FUNNEL = """
WITH s AS ({pivot})
SELECT m.campaign_id, count(*) AS messages,
       count(*) FILTER (WHERE s.sent) AS sent,
       count(*) FILTER (WHERE s.delivered) AS delivered,
       count(*) FILTER (WHERE s.is_read) AS "read",
       count(*) FILTER (WHERE s.failed AND NOT s.delivered) AS failed
FROM {messages} m
JOIN {campaigns} c ON c.tenant_id = m.tenant_id AND c.campaign_id = m.campaign_id
LEFT JOIN s ON s.tenant_id = m.tenant_id AND s.message_id = m.message_id
WHERE m.direction = 'outbound' AND c.kind = 'template_campaign'
GROUP BY m.campaign_id"""
query(
    name="template_funnel",
    title="delivery funnel per template campaign: messages, sent, delivered, read, failed (statuses pivot)",
    chatlake=_TEMPLATE_FUNNEL.replace("{pivot}", _STATUS_PIVOT).replace("{message_statuses}", "message_statuses")
    .replace("{messages}", "messages").replace("{campaigns}", "campaigns"),
    duckdb=_TEMPLATE_FUNNEL.replace("{pivot}", _STATUS_PIVOT),
    chdb="""
SELECT m.campaign_id, count() AS messages,
       countIf(s.sent) AS sent, countIf(s.delivered) AS delivered, countIf(s.is_read) AS read,
       countIf(s.failed AND NOT s.delivered) AS failed
FROM {messages} m
JOIN {campaigns} c ON c.tenant_id = m.tenant_id AND c.campaign_id = m.campaign_id
LEFT JOIN (
    SELECT tenant_id, message_id,
           countIf(status IN ('sent', 'delivered', 'read', 'played')) > 0 AS sent,
           countIf(status IN ('delivered', 'read', 'played')) > 0 AS delivered,
           countIf(status = 'read') > 0 AS is_read,
           countIf(status = 'failed') > 0 AS failed
    FROM {message_statuses}
    GROUP BY tenant_id, message_id) s
  ON s.tenant_id = m.tenant_id AND s.message_id = m.message_id
WHERE m.direction = 'outbound' AND c.kind = 'template_campaign'
GROUP BY m.campaign_id""",
)

# --- 6. push results -----------------------------------------------------------------------------
# chatlake: the push_results() report for every campaign. Each recipient counts once, by its
# latest attempt; success = accepted, has a message, and not failed without a delivery;
# read = a read callback; interacted = an inbound quoting the message or a campaign
# analytics event of the contact. (pct_ columns left out: they are these counts / recipients.)
_PUSH_PEER = """
WITH latest AS (
    SELECT tenant_id, campaign_id, contact_id,
           arg_max({'message_id': message_id, 'send_result': send_result}, attempt) AS l
    FROM {campaign_recipients}
    GROUP BY tenant_id, campaign_id, contact_id),
st AS (
    SELECT tenant_id, message_id,
           count(*) FILTER (WHERE status IN ('delivered', 'read', 'played')) > 0 AS delivered,
           count(*) FILTER (WHERE status = 'read') > 0 AS is_read,
           count(*) FILTER (WHERE status = 'failed') > 0 AS failed
    FROM {message_statuses}
    GROUP BY tenant_id, message_id),
replies AS (
    SELECT DISTINCT tenant_id, context_message_id AS message_id
    FROM {messages}
    WHERE direction = 'inbound' AND context_message_id IS NOT NULL),
clicks AS (
    SELECT DISTINCT tenant_id, contact_id, label AS campaign_id
    FROM {analytics_events}
    WHERE category = 'campaign'),
outcome AS (
    SELECT x.tenant_id, x.campaign_id,
           x.l.send_result = 'accepted' AND x.l.message_id IS NOT NULL
               AND NOT coalesce(st.failed AND NOT st.delivered, false) AS success,
           coalesce(st.is_read, false) AS is_read,
           r.message_id IS NOT NULL OR k.contact_id IS NOT NULL AS interacted
    FROM latest x
    LEFT JOIN st ON st.tenant_id = x.tenant_id AND st.message_id = x.l.message_id
    LEFT JOIN replies r ON r.tenant_id = x.tenant_id AND r.message_id = x.l.message_id
    LEFT JOIN clicks k ON k.tenant_id = x.tenant_id AND k.contact_id = x.contact_id
                      AND k.campaign_id = x.campaign_id)
SELECT campaign_id,
       count(*) AS recipients,
       count(*) FILTER (WHERE success AND is_read AND interacted) AS read_and_interacted,
       count(*) FILTER (WHERE success AND is_read AND NOT interacted) AS read_only,
       count(*) FILTER (WHERE success AND NOT is_read AND interacted) AS interacted_only,
       count(*) FILTER (WHERE success AND NOT is_read AND NOT interacted) AS not_read_or_interacted,
       count(*) FILTER (WHERE success) AS sent_success,
       count(*) FILTER (WHERE NOT success) AS sent_fail
FROM outcome
GROUP BY tenant_id, campaign_id"""
query(
    name="push_results",
    title="push results of every campaign (latest attempt, read/interacted split)",
    chatlake="""
SELECT campaign_id, recipients, read_and_interacted, read_only, interacted_only,
       not_read_or_interacted, sent_success, sent_fail
FROM push_results()""",
    duckdb=_PUSH_PEER,
    chdb="""
WITH latest AS (
    SELECT tenant_id, campaign_id, contact_id,
           argMax(tuple(message_id, send_result), attempt) AS l
    FROM {campaign_recipients}
    GROUP BY tenant_id, campaign_id, contact_id),
st AS (
    SELECT tenant_id, message_id,
           countIf(status IN ('delivered', 'read', 'played')) > 0 AS delivered,
           countIf(status = 'read') > 0 AS is_read,
           countIf(status = 'failed') > 0 AS failed
    FROM {message_statuses}
    GROUP BY tenant_id, message_id),
replies AS (
    SELECT DISTINCT tenant_id, context_message_id AS message_id
    FROM {messages}
    WHERE direction = 'inbound' AND context_message_id IS NOT NULL),
clicks AS (
    SELECT DISTINCT tenant_id, contact_id, label AS campaign_id
    FROM {analytics_events}
    WHERE category = 'campaign'),
outcome AS (
    SELECT x.tenant_id AS tenant_id, x.campaign_id AS campaign_id,
           tupleElement(x.l, 2) = 'accepted' AND tupleElement(x.l, 1) IS NOT NULL
               AND NOT coalesce(st.failed AND NOT st.delivered, false) AS success,
           coalesce(st.is_read, false) AS is_read,
           r.message_id IS NOT NULL OR k.contact_id IS NOT NULL AS interacted
    FROM latest x
    LEFT JOIN st ON st.tenant_id = x.tenant_id AND st.message_id = tupleElement(x.l, 1)
    LEFT JOIN replies r ON r.tenant_id = x.tenant_id AND r.message_id = tupleElement(x.l, 1)
    LEFT JOIN clicks k ON k.tenant_id = x.tenant_id AND k.contact_id = x.contact_id
                      AND k.campaign_id = x.campaign_id)
SELECT campaign_id,
       count() AS recipients,
       countIf(success AND is_read AND interacted) AS read_and_interacted,
       countIf(success AND is_read AND NOT interacted) AS read_only,
       countIf(success AND NOT is_read AND interacted) AS interacted_only,
       countIf(success AND NOT is_read AND NOT interacted) AS not_read_or_interacted,
       countIf(success) AS sent_success,
       countIf(NOT success) AS sent_fail
FROM outcome
GROUP BY tenant_id, campaign_id""",
)

# --- 7. a 4-step window_funnel per contact over 90 days ---------------------------------------
# Steps: a template is sent -> the contact writes -> a flow sends an interactive message ->
# the contact answers it (inbound interactive); window 1 day (inclusive), ClickHouse default
# mode: the level is the longest k with events t1 <= ... <= tk matching steps 1..k in order and
# tk - t1 <= 1 day. DuckDB has no windowFunnel: for each step-1 event the greedy chain of
# earliest next steps is optimal, and the contact's level is the best start's. The chain is
# computed with window functions over "the rest of the contact's events" (earliest step-4 at or
# after each event, then the step-4 time of the earliest step 3, then of the earliest step 2),
# three windows with one sort order; the variant `duckdb:asof` does it with three ASOF joins
# (same answers, 10-30x slower in DuckDB 2.0).
_FUNNEL_STEPS = ("is_template", "direction = 'inbound'",
                 "direction = 'outbound' AND msg_type = 'interactive'",
                 "direction = 'inbound' AND msg_type = 'interactive'")
_FUNNEL_DUCKDB_ASOF = f"""
WITH e AS (
    SELECT tenant_id, contact_id, ts,
           {_FUNNEL_STEPS[0]} AS c1, {_FUNNEL_STEPS[1]} AS c2, ({_FUNNEL_STEPS[2]}) AS c3, ({_FUNNEL_STEPS[3]}) AS c4
    FROM {{messages}} WHERE dt >= DATE '2026-08-03'),
e2 AS (SELECT tenant_id, contact_id, ts FROM e WHERE c2),
e3 AS (SELECT tenant_id, contact_id, ts FROM e WHERE c3),
e4 AS (SELECT tenant_id, contact_id, ts FROM e WHERE c4),
j2 AS (SELECT s.tenant_id, s.contact_id, s.ts AS t1, n.ts AS t2
       FROM (SELECT tenant_id, contact_id, ts FROM e WHERE c1) s
       ASOF LEFT JOIN e2 n ON n.tenant_id = s.tenant_id AND n.contact_id = s.contact_id AND s.ts <= n.ts),
j3 AS (SELECT j.*, n.ts AS t3 FROM j2 j
       ASOF LEFT JOIN e3 n ON n.tenant_id = j.tenant_id AND n.contact_id = j.contact_id AND j.t2 <= n.ts),
j4 AS (SELECT j.*, n.ts AS t4 FROM j3 j
       ASOF LEFT JOIN e4 n ON n.tenant_id = j.tenant_id AND n.contact_id = j.contact_id AND j.t3 <= n.ts),
per AS (
    SELECT tenant_id, contact_id,
           max(CASE WHEN t4 <= t1 + INTERVAL 1 DAY THEN 4 WHEN t3 <= t1 + INTERVAL 1 DAY THEN 3
                    WHEN t2 <= t1 + INTERVAL 1 DAY THEN 2 ELSE 1 END) AS level
    FROM j4 GROUP BY tenant_id, contact_id),
contacts AS (SELECT DISTINCT tenant_id, contact_id FROM e)
SELECT coalesce(p.level, 0) AS level, count(*) AS contacts
FROM contacts c LEFT JOIN per p ON p.tenant_id = c.tenant_id AND p.contact_id = c.contact_id
GROUP BY 1"""


query(
    name="window_funnel",
    title="4-step window_funnel per contact over 90 days, 1-day window: contacts per level",
    chatlake=f"""
SELECT level, count(*) AS contacts
FROM (SELECT window_funnel(86400, '', ts, {', '.join(_FUNNEL_STEPS)}) AS level
      FROM messages WHERE dt >= DATE '2026-08-03'
      GROUP BY tenant_id, contact_id)
GROUP BY level""",
    duckdb=f"""
WITH e AS (
    SELECT tenant_id, contact_id, ts,
           {_FUNNEL_STEPS[0]} AS c1, {_FUNNEL_STEPS[1]} AS c2, ({_FUNNEL_STEPS[2]}) AS c3, ({_FUNNEL_STEPS[3]}) AS c4
    FROM {{messages}} WHERE dt >= DATE '2026-08-03'),
a AS (SELECT *, min(CASE WHEN c4 THEN ts END) OVER w AS n4 FROM e
      WINDOW w AS (PARTITION BY tenant_id, contact_id ORDER BY ts RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)),
b AS (SELECT *, min(CASE WHEN c3 THEN ts END) OVER w AS n3,
             first_value(CASE WHEN c3 THEN n4 END IGNORE NULLS) OVER w AS n3_4 FROM a
      WINDOW w AS (PARTITION BY tenant_id, contact_id ORDER BY ts RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)),
c AS (SELECT *, min(CASE WHEN c2 THEN ts END) OVER w AS t2,
             first_value(CASE WHEN c2 THEN n3 END IGNORE NULLS) OVER w AS t3,
             first_value(CASE WHEN c2 THEN n3_4 END IGNORE NULLS) OVER w AS t4 FROM b
      WINDOW w AS (PARTITION BY tenant_id, contact_id ORDER BY ts RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)),
per AS (
    SELECT max(CASE WHEN NOT c1 THEN 0
                    WHEN t4 <= ts + INTERVAL 1 DAY THEN 4 WHEN t3 <= ts + INTERVAL 1 DAY THEN 3
                    WHEN t2 <= ts + INTERVAL 1 DAY THEN 2 ELSE 1 END) AS level
    FROM c GROUP BY tenant_id, contact_id)
SELECT level, count(*) AS contacts FROM per GROUP BY level""",
    variants={"duckdb:asof": _FUNNEL_DUCKDB_ASOF},
    chdb=f"""
SELECT level, count() AS contacts
FROM (SELECT windowFunnel(86400000000)(toUInt64(toUnixTimestamp64Micro(ts)),
             {_FUNNEL_STEPS[0]}, {_FUNNEL_STEPS[1]}, {_FUNNEL_STEPS[2]}, {_FUNNEL_STEPS[3]}) AS level
      FROM {{messages}} WHERE dt >= toDate('2026-08-03')
      GROUP BY tenant_id, contact_id)
GROUP BY level""",
)

# --- 8. conversation windows per contact -------------------------------------------------------
# CBP v1 (`cbp_2022`, the rule set plain SQL can express): a conversation opens at a delivered
# business message sent while none is open, if it is a template or the customer-service window
# is open (an inbound message in the previous 24 h; an inbound at the same instant counts),
# as user_initiated inside the window and business_initiated outside; it lasts a fixed 24 h.
# Per (tenant, channel, contact); delivered = a delivered/read/played callback exists.
# DuckDB: a recursive CTE that follows "next candidate >= 24 h later" pointers from each
# contact's first candidate (one iteration per conversation, not per message); the window and
# the pointers come from window functions (RANGE frames). The variant `duckdb:asof` computes
# them with ASOF joins: the formulation of the old benches/peer_conversations.py, checked there
# against a brute-force Python model of the rules; both give the same answers here.
# chDB: one arrayFold per contact over its time-sorted messages.
_DELIVERED = ("SELECT DISTINCT tenant_id, message_id FROM {message_statuses} "
              "WHERE status IN ('delivered', 'read', 'played')")
# The fold's state: (open conversation expires at, last inbound at, business-initiated count,
# user-initiated count); x = (ts in µs, 0 inbound | 1 delivered template | 2 other delivered
# outbound). Branch-free: a tuple-valued if() evaluates both branches and was 2.5x slower.
_OPEN = "(x.2 != 0 AND x.1 >= acc.1 AND (x.2 = 1 OR x.1 < acc.2 + 86400000000))"
_CSW = "(x.1 < acc.2 + 86400000000)"

_CONV_DUCKDB_ASOF = f"""
WITH RECURSIVE
inb AS (SELECT tenant_id, channel_id, contact_id, ts FROM {{messages}} WHERE direction = 'inbound'),
outb AS (
    SELECT m.tenant_id, m.channel_id, m.contact_id, m.ts, m.is_template
    FROM {{messages}} m
    JOIN ({_DELIVERED}) d
      ON d.tenant_id = m.tenant_id AND d.message_id = m.message_id
    WHERE m.direction = 'outbound'),
windowed AS (
    SELECT o.tenant_id, o.channel_id, o.contact_id, o.ts, o.is_template,
           coalesce(o.ts < i.ts + INTERVAL 24 HOUR, false) AS in_csw
    FROM outb o ASOF LEFT JOIN inb i
      ON o.tenant_id = i.tenant_id AND o.channel_id = i.channel_id AND o.contact_id = i.contact_id
     AND o.ts >= i.ts),
cand AS (
    SELECT DISTINCT tenant_id, channel_id, contact_id, ts, in_csw, ts + INTERVAL 24 HOUR AS due
    FROM windowed WHERE is_template OR in_csw),
nxt AS (
    SELECT c.tenant_id, c.channel_id, c.contact_id, c.ts, c.in_csw, n.ts AS next_ts
    FROM cand c ASOF LEFT JOIN cand n
      ON c.tenant_id = n.tenant_id AND c.channel_id = n.channel_id AND c.contact_id = n.contact_id
     AND n.ts >= c.due),
chain(tenant_id, channel_id, contact_id, ts, in_csw, next_ts) AS (
    SELECT tenant_id, channel_id, contact_id, min(ts), arg_min(in_csw, ts), arg_min(next_ts, ts)
    FROM nxt GROUP BY tenant_id, channel_id, contact_id
    UNION ALL
    SELECT n.tenant_id, n.channel_id, n.contact_id, n.ts, n.in_csw, n.next_ts
    FROM chain c JOIN nxt n
      ON n.tenant_id = c.tenant_id AND n.channel_id = c.channel_id AND n.contact_id = c.contact_id
     AND n.ts = c.next_ts)
SELECT tenant_id,
       count(*) FILTER (WHERE NOT in_csw) AS business_initiated,
       count(*) FILTER (WHERE in_csw) AS user_initiated
FROM chain GROUP BY tenant_id"""


query(
    name="conversation_windows",
    title="conversation windows (cbp_2022) per contact, all messages: conversations per tenant and origin",
    chatlake=f"""
WITH d AS ({_DELIVERED.replace('{message_statuses}', 'message_statuses')})
SELECT tenant_id,
       count(*) FILTER (WHERE c['origin'] = 'business_initiated') AS business_initiated,
       count(*) FILTER (WHERE c['origin'] = 'user_initiated') AS user_initiated
FROM (SELECT m.tenant_id,
             unnest(wa_conversations('cbp_2022', m.ts, m.direction, d.message_id IS NOT NULL,
                                     m.is_template, m.template_category, false)) AS c
      FROM messages m
      LEFT JOIN d ON d.tenant_id = m.tenant_id AND d.message_id = m.message_id
      GROUP BY m.tenant_id, m.channel_id, m.contact_id)
GROUP BY tenant_id""",
    duckdb=f"""
WITH RECURSIVE
ev AS (
    SELECT m.tenant_id, m.channel_id, m.contact_id, m.ts, m.direction = 'inbound' AS inbound,
           m.is_template, d.message_id IS NOT NULL AS delivered
    FROM {{messages}} m
    LEFT JOIN ({_DELIVERED}) d
      ON d.tenant_id = m.tenant_id AND d.message_id = m.message_id),
windowed AS (
    SELECT tenant_id, channel_id, contact_id, ts, inbound, is_template, delivered,
           coalesce(ts < max(CASE WHEN inbound THEN ts END) OVER (
               PARTITION BY tenant_id, channel_id, contact_id ORDER BY ts
               RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) + INTERVAL 24 HOUR, false) AS in_csw
    FROM ev),
cand AS (
    SELECT DISTINCT tenant_id, channel_id, contact_id, ts, in_csw
    FROM windowed WHERE NOT inbound AND delivered AND (is_template OR in_csw)),
nxt AS (
    SELECT tenant_id, channel_id, contact_id, ts, in_csw,
           min(ts) OVER (PARTITION BY tenant_id, channel_id, contact_id ORDER BY ts
                         RANGE BETWEEN INTERVAL 24 HOUR FOLLOWING AND UNBOUNDED FOLLOWING) AS next_ts
    FROM cand),
chain(tenant_id, channel_id, contact_id, ts, in_csw, next_ts) AS (
    SELECT tenant_id, channel_id, contact_id, min(ts), arg_min(in_csw, ts), arg_min(next_ts, ts)
    FROM nxt GROUP BY tenant_id, channel_id, contact_id
    UNION ALL
    SELECT n.tenant_id, n.channel_id, n.contact_id, n.ts, n.in_csw, n.next_ts
    FROM chain c JOIN nxt n
      ON n.tenant_id = c.tenant_id AND n.channel_id = c.channel_id AND n.contact_id = c.contact_id
     AND n.ts = c.next_ts)
SELECT tenant_id,
       count(*) FILTER (WHERE NOT in_csw) AS business_initiated,
       count(*) FILTER (WHERE in_csw) AS user_initiated
FROM chain GROUP BY tenant_id""",
    variants={"duckdb:asof": _CONV_DUCKDB_ASOF},
    chdb=f"""
SELECT tenant_id, sum(tupleElement(r, 3)) AS business_initiated, sum(tupleElement(r, 4)) AS user_initiated
FROM (
    SELECT m.tenant_id AS tenant_id,
           arrayFold((acc, x) -> (if({_OPEN}, x.1 + 86400000000, acc.1),
                                  if(x.2 = 0, x.1, acc.2),
                                  acc.3 + ({_OPEN} AND NOT {_CSW}),
                                  acc.4 + ({_OPEN} AND {_CSW})),
               arraySort(groupArray((toUnixTimestamp64Micro(m.ts), multiIf(m.direction = 'inbound', 0, m.is_template, 1, 2)))),
               (toInt64(-4000000000000000000), toInt64(-4000000000000000000), toUInt64(0), toUInt64(0))) AS r
    FROM {{messages}} m
    LEFT JOIN (SELECT DISTINCT tenant_id, message_id, 1 AS dlv FROM {{message_statuses}}
               WHERE status IN ('delivered', 'read', 'played')) d
      ON d.tenant_id = m.tenant_id AND d.message_id = m.message_id
    WHERE m.direction = 'inbound' OR d.dlv = 1
    GROUP BY m.tenant_id, m.channel_id, m.contact_id)
GROUP BY tenant_id""",
)

# --- 9. retention by weekly cohort ---------------------------------------------------------------
# Cohort = the Monday-based week (UTC) of a contact's first inbound message in the lake;
# users = contacts of the cohort active (inbound) in week cohort + offset.
_RETENTION = """
WITH a AS (
    SELECT DISTINCT tenant_id, contact_id, {week} AS wk
    FROM {messages} WHERE direction = 'inbound'),
f AS (SELECT tenant_id, contact_id, min(wk) AS cohort FROM a GROUP BY tenant_id, contact_id)
SELECT f.cohort, {offset} AS week_offset, count(*) AS users
FROM a JOIN f ON a.tenant_id = f.tenant_id AND a.contact_id = f.contact_id
GROUP BY 1, 2"""


def _retention(week, offset, messages="{messages}"):
    return (_RETENTION.replace("{week}", week).replace("{offset}", offset)
            .replace("{messages}", messages))


query(
    name="retention_weekly",
    title="retention by weekly cohort (first inbound week), users per cohort and week offset",
    # chatlake: one aggregation per contact (its weeks as an array, the cohort its minimum), then
    # unnest; DataFusion computes a CTE once per reference, so the self-join form scans twice.
    chatlake="""
SELECT cohort, (wk - cohort) / 7 AS week_offset, count(*) AS users
FROM (SELECT unnest(wks) AS wk, array_min(wks) AS cohort
      FROM (SELECT array_agg(DISTINCT CAST(date_trunc('week', dt) AS DATE)) AS wks
            FROM messages WHERE direction = 'inbound'
            GROUP BY tenant_id, contact_id))
GROUP BY 1, 2""",
    duckdb=_retention("CAST(date_trunc('week', dt) AS DATE)", "(a.wk - f.cohort) // 7"),
    chdb=_retention("toMonday(dt)", "intDiv(a.wk - f.cohort, 7)"),
)

# --- 10. a selective query: one day of one tenant ---------------------------------------------
query(
    name="one_tenant_day",
    title="one day of one tenant (partition pruning): messages and contacts per channel, direction",
    chatlake="""
SELECT channel_id, direction, count(*) AS messages, count(DISTINCT contact_id) AS contacts
FROM messages
WHERE tenant_id = 'chai-point' AND dt = DATE '2026-10-15'
GROUP BY channel_id, direction""",
    duckdb="""
SELECT channel_id, direction, count(*) AS messages, count(DISTINCT contact_id) AS contacts
FROM {messages}
WHERE tenant_id = 'chai-point' AND dt = DATE '2026-10-15'
GROUP BY channel_id, direction""",
    chdb="""
SELECT channel_id, direction, count() AS messages, uniqExact(contact_id) AS contacts
FROM {messages}
WHERE tenant_id = 'chai-point' AND dt = toDate('2026-10-15')
GROUP BY channel_id, direction""",
)

BY_NAME = {q.name: q for q in QUERIES}
