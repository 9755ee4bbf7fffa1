-- Stella dashboard, "Analytics": custom events per local day and (category, action, label).
-- Every (category, action, label) seen in the range gets a row for every day (zeros included).
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH days AS (
    SELECT unnest(generate_series($from_date, $to_date, INTERVAL '1 day')) AS day
),
ev AS (
    SELECT local_date(ts, $tz) AS day, category, action, label, count(*) AS events
    FROM analytics_events
    WHERE ts >= $range_start AND ts < $range_end
      AND dt BETWEEN $dt_from AND $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
    GROUP BY 1, 2, 3, 4
),
keys AS (
    SELECT DISTINCT category, action, label FROM ev
)
SELECT
    d.day,
    k.category,
    k.action,
    k.label,
    COALESCE(e.events, 0) AS events
FROM days d
CROSS JOIN keys k
LEFT JOIN ev e
    ON e.day = d.day AND e.category = k.category AND e.action = k.action
   AND e.label IS NOT DISTINCT FROM k.label
ORDER BY d.day, k.category, k.action, k.label
