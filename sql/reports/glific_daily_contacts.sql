-- Glific analytics, "Daily Contacts": contacts created per local day (tz 'UTC' reproduces Glific).
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH days AS (
    SELECT unnest(generate_series($from_date, $to_date, INTERVAL '1 day')) AS day
),
created AS (
    SELECT local_date(created_at, $tz) AS day, count(*) AS contacts
    FROM contacts
    WHERE created_at >= $range_start AND created_at < $range_end
      AND ($channel_id IS NULL OR channel_id = $channel_id)
    GROUP BY 1
)
SELECT d.day, COALESCE(c.contacts, 0) AS contacts
FROM days d
LEFT JOIN created c ON c.day = d.day
ORDER BY d.day
