-- Stella dashboard, "User Messages" and "New Users": per local day, inbound messages (not
-- `system`) and contacts whose first-ever inbound message (not `system`: a system notice is
-- not the user interacting, so a new user is always an active user of that day) falls on that day.
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH days AS (
    SELECT unnest(generate_series($from_date, $to_date, INTERVAL '1 day')) AS day
),
msgs AS (
    SELECT local_date(ts, $tz) AS day, count(*) AS user_messages
    FROM messages
    WHERE direction = 'inbound' AND msg_type <> 'system'
      AND ts >= $range_start AND ts < $range_end
      AND dt BETWEEN $dt_from AND $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
    GROUP BY 1
),
firsts AS (
    SELECT min(ts) AS first_ts
    FROM messages
    WHERE direction = 'inbound' AND msg_type <> 'system'
      AND dt <= $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
    GROUP BY tenant_id, channel_id, contact_id
),
news AS (
    SELECT local_date(first_ts, $tz) AS day, count(*) AS new_users
    FROM firsts
    WHERE first_ts >= $range_start AND first_ts < $range_end
    GROUP BY 1
)
SELECT
    d.day,
    COALESCE(m.user_messages, 0) AS user_messages,
    COALESCE(n.new_users, 0) AS new_users
FROM days d
LEFT JOIN msgs m ON m.day = d.day
LEFT JOIN news n ON n.day = d.day
ORDER BY d.day
