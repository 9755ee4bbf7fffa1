-- Turn.io Insights, audience headline: unique contacts who sent a message (inbound, not
-- `system`) in the range, and avg_messages_per_user_per_day = inbound messages / the sum over
-- local days of that day's active users (messages per active user-day; NULL when no activity).
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH daily AS (
    SELECT local_date(ts, $tz) AS day, contact_id, count(*) AS messages
    FROM messages
    WHERE direction = 'inbound' AND msg_type <> 'system'
      AND ts >= $range_start AND ts < $range_end
      AND dt BETWEEN $dt_from AND $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
    GROUP BY 1, 2
)
SELECT
    count(DISTINCT contact_id) AS unique_users,
    CASE WHEN count(*) = 0 THEN NULL
         ELSE round(CAST(sum(messages) AS DOUBLE) / count(*), 4)
    END AS avg_messages_per_user_per_day
FROM daily
