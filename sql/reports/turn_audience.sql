-- Turn.io Insights, audience bars: per local day, contacts who sent at least one message
-- (inbound, not `system`). The bars do not add up to turn_audience_total's unique_users.
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH days AS (
    SELECT unnest(generate_series($from_date, $to_date, INTERVAL '1 day')) AS day
),
active AS (
    SELECT local_date(ts, $tz) AS day, count(DISTINCT contact_id) AS active_users
    FROM messages
    WHERE direction = 'inbound' AND msg_type <> 'system'
      AND ts >= $range_start AND ts < $range_end
      AND dt BETWEEN $dt_from AND $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
    GROUP BY 1
)
SELECT d.day, COALESCE(a.active_users, 0) AS active_users
FROM days d
LEFT JOIN active a ON a.day = d.day
ORDER BY d.day
