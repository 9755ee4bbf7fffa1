-- Turn.io Insights, open vs closed chats: per local day, the chats whose state at the end of the
-- day (the latest opened/reopened/closed event before the next local midnight; `assigned`
-- does not change state) is open, and closed. Chats with no state event yet are not counted.
--
-- Each state event starts a span that lasts until the chat's next state event. A span
-- (ts, next_ts) is the state at the end of local day d when ts < end(d) <= next_ts, i.e. on
-- the days local_date(ts) .. local_date(next_ts) - 1 (to the range's end when there is no
-- next event). The counts per day are a running sum of +1 where a span's days begin and -1
-- after they end: one row per span, where joining each span with every day it covers made
-- days x spans rows (4.7 M for a month of the demo lake, benches/RESULTS.md, issue 23).
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH days AS (
    SELECT day
    FROM (SELECT unnest(generate_series($from_date, $to_date, INTERVAL '1 day')) AS day) x
),
states AS (
    SELECT
        ts,
        event IN ('opened', 'reopened') AS is_open,
        lead(ts) OVER (PARTITION BY tenant_id, channel_id, chat_id ORDER BY ts, event) AS next_ts
    FROM chat_events
    WHERE event IN ('opened', 'reopened', 'closed')
      AND ts < $range_end AND dt <= $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
),
-- The range's days each span is the end-of-day state of: first_day .. last_day.
spans AS (
    SELECT
        is_open,
        greatest(local_date(ts, $tz), $from_date) AS first_day,
        CASE WHEN next_ts IS NULL THEN $to_date
             ELSE least(CAST(local_date(next_ts, $tz) - INTERVAL '1 day' AS DATE), $to_date)
        END AS last_day
    FROM states
    WHERE next_ts IS NULL OR next_ts >= $range_start
),
-- Both steps of a span from one row (a CTE named twice would be computed twice).
steps AS (
    SELECT
        unnest([first_day, CAST(last_day + INTERVAL '1 day' AS DATE)]) AS day,
        is_open,
        unnest([1, -1]) AS step
    FROM spans
    WHERE first_day <= last_day
),
changes AS (
    SELECT
        day,
        sum(step) FILTER (WHERE is_open) AS open_change,
        sum(step) FILTER (WHERE NOT is_open) AS closed_change
    FROM steps
    GROUP BY day
)
SELECT
    d.day,
    sum(COALESCE(c.open_change, 0)) OVER (ORDER BY d.day ROWS UNBOUNDED PRECEDING) AS open,
    sum(COALESCE(c.closed_change, 0)) OVER (ORDER BY d.day ROWS UNBOUNDED PRECEDING) AS closed
FROM days d
LEFT JOIN changes c ON c.day = d.day
ORDER BY d.day
