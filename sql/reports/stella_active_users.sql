-- Stella dashboard, "Active Users" bars: per local day, contacts with at least one inbound
-- message (not `system`), and contacts who commented on a post (comment-to-reply channels).
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
),
commenters AS (
    SELECT local_date(ts, $tz) AS day, count(DISTINCT contact_id) AS comment_active_users
    FROM comments
    WHERE ts >= $range_start AND ts < $range_end
      AND dt BETWEEN $dt_from AND $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
    GROUP BY 1
)
SELECT
    d.day,
    COALESCE(a.active_users, 0) AS active_users,
    COALESCE(c.comment_active_users, 0) AS comment_active_users
FROM days d
LEFT JOIN active a ON a.day = d.day
LEFT JOIN commenters c ON c.day = d.day
ORDER BY d.day
