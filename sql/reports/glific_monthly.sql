-- Glific analytics, monthly cards as a series: per local calendar month touched by the range
-- (month = its first day), conversations opened, flow runs started and runs completed, counted
-- inside the range only (a partial first or last month counts its part of the range).
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH months AS (
    SELECT DISTINCT CAST(date_trunc('month', d) AS DATE) AS month
    FROM (SELECT unnest(generate_series($from_date, $to_date, INTERVAL '1 day')) AS d) x
),
conv AS (
    SELECT CAST(date_trunc('month', local_date(opened_at, $tz)) AS DATE) AS month, count(*) AS n
    FROM all_conversations
    WHERE opened_at >= $range_start AND opened_at < $range_end
      AND dt BETWEEN $dt_from AND $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
    GROUP BY 1
),
started AS (
    SELECT CAST(date_trunc('month', local_date(started_at, $tz)) AS DATE) AS month, count(*) AS n
    FROM flow_runs
    WHERE started_at >= $range_start AND started_at < $range_end
      AND ($channel_id IS NULL OR channel_id = $channel_id)
    GROUP BY 1
),
completed AS (
    SELECT CAST(date_trunc('month', local_date(ended_at, $tz)) AS DATE) AS month, count(*) AS n
    FROM flow_runs
    WHERE end_reason = 'completed' AND ended_at >= $range_start AND ended_at < $range_end
      AND ($channel_id IS NULL OR channel_id = $channel_id)
    GROUP BY 1
)
SELECT
    m.month,
    COALESCE(c.n, 0) AS conversations,
    COALESCE(s.n, 0) AS flows_started,
    COALESCE(f.n, 0) AS flows_completed
FROM months m
LEFT JOIN conv c ON c.month = m.month
LEFT JOIN started s ON s.month = m.month
LEFT JOIN completed f ON f.month = m.month
ORDER BY m.month
