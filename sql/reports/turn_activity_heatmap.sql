-- Turn.io Insights, activity heatmap: inbound messages (not `system`) per local ISO day of
-- week (1 = Monday) and hour (0-23): 168 rows, zeros included.
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH cells AS (
    SELECT CAST(d AS INT) AS dow, CAST(h AS INT) AS hour
    FROM (SELECT unnest(generate_series(1, 7)) AS d) x
    CROSS JOIN (SELECT unnest(generate_series(0, 23)) AS h) y
),
counts AS (
    SELECT local_dow(ts, $tz) AS dow, local_hour(ts, $tz) AS hour, count(*) AS messages
    FROM messages
    WHERE direction = 'inbound' AND msg_type <> 'system'
      AND ts >= $range_start AND ts < $range_end
      AND dt BETWEEN $dt_from AND $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
    GROUP BY 1, 2
)
SELECT c.dow, c.hour, COALESCE(n.messages, 0) AS messages
FROM cells c
LEFT JOIN counts n ON n.dow = c.dow AND n.hour = c.hour
ORDER BY c.dow, c.hour
