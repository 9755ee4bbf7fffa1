-- Glific analytics, "Daily Conversations": WhatsApp billing conversations (all_conversations)
-- opened per local day.
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH days AS (
    SELECT unnest(generate_series($from_date, $to_date, INTERVAL '1 day')) AS day
),
opened AS (
    SELECT local_date(opened_at, $tz) AS day, count(*) AS conversations
    FROM all_conversations
    WHERE opened_at >= $range_start AND opened_at < $range_end
      AND dt BETWEEN $dt_from AND $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
    GROUP BY 1
)
SELECT d.day, COALESCE(o.conversations, 0) AS conversations
FROM days d
LEFT JOIN opened o ON o.day = d.day
ORDER BY d.day
