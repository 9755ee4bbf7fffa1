-- Turn.io Insights, open vs closed chats: per local day, the chats whose state at the end of the
-- day (the latest opened/reopened/closed event before the next local midnight; `assigned`
-- does not change state) is open, and closed. Chats with no state event yet are not counted.
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH days AS (
    SELECT day, local_day_start(CAST(day + INTERVAL '1 day' AS DATE), $tz) AS day_end
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
spans AS (
    SELECT * FROM states WHERE next_ts IS NULL OR next_ts >= $range_start
),
counts AS (
    SELECT
        d.day,
        count(*) FILTER (WHERE s.is_open) AS open,
        count(*) FILTER (WHERE NOT s.is_open) AS closed
    FROM days d
    JOIN spans s ON s.ts < d.day_end AND (s.next_ts IS NULL OR s.next_ts >= d.day_end)
    GROUP BY d.day
)
SELECT d.day, COALESCE(c.open, 0) AS open, COALESCE(c.closed, 0) AS closed
FROM days d
LEFT JOIN counts c ON c.day = d.day
ORDER BY d.day
