-- Turn.io Insights, messages sent vs received per local day (received = inbound, every type;
-- sent = outbound).
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH days AS (
    SELECT unnest(generate_series($from_date, $to_date, INTERVAL '1 day')) AS day
),
counts AS (
    SELECT
        local_date(ts, $tz) AS day,
        count(*) FILTER (WHERE direction = 'inbound') AS received,
        count(*) FILTER (WHERE direction = 'outbound') AS sent
    FROM messages
    WHERE ts >= $range_start AND ts < $range_end
      AND dt BETWEEN $dt_from AND $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
    GROUP BY 1
)
SELECT d.day, COALESCE(c.received, 0) AS received, COALESCE(c.sent, 0) AS sent
FROM days d
LEFT JOIN counts c ON c.day = d.day
ORDER BY d.day
