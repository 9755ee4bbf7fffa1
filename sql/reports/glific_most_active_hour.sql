-- Glific analytics, "Most Active Hour": inbound and outbound messages per local hour of day
-- over the range (24 rows, zeros included). Glific itself buckets UTC hours: pass tz 'UTC'.
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH hours AS (
    SELECT CAST(unnest(generate_series(0, 23)) AS INT) AS hour
),
counts AS (
    SELECT
        local_hour(ts, $tz) AS hour,
        count(*) FILTER (WHERE direction = 'inbound') AS inbound,
        count(*) FILTER (WHERE direction = 'outbound') AS outbound
    FROM messages
    WHERE ts >= $range_start AND ts < $range_end
      AND dt BETWEEN $dt_from AND $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
    GROUP BY 1
)
SELECT h.hour, COALESCE(c.inbound, 0) AS inbound, COALESCE(c.outbound, 0) AS outbound
FROM hours h
LEFT JOIN counts c ON c.hour = h.hour
ORDER BY h.hour
