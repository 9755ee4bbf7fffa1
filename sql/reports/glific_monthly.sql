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
-- Flow runs started and completed per month, in one pass over flow_runs (two CTEs reading it
-- would aggregate every flow event twice): each run gives its start month and its completion
-- month, NULL where not in the range.
flows AS (
    SELECT month, count(*) FILTER (WHERE kind = 'started') AS started,
           count(*) FILTER (WHERE kind = 'completed') AS completed
    FROM (
        SELECT
            unnest([
                CASE WHEN started_at >= $range_start AND started_at < $range_end
                     THEN CAST(date_trunc('month', local_date(started_at, $tz)) AS DATE) END,
                CASE WHEN end_reason = 'completed' AND ended_at >= $range_start AND ended_at < $range_end
                     THEN CAST(date_trunc('month', local_date(ended_at, $tz)) AS DATE) END]) AS month,
            unnest(['started', 'completed']) AS kind
        FROM flow_runs
        WHERE ($channel_id IS NULL OR channel_id = $channel_id)
    ) x
    WHERE month IS NOT NULL
    GROUP BY month
)
SELECT
    m.month,
    COALESCE(c.n, 0) AS conversations,
    COALESCE(f.started, 0) AS flows_started,
    COALESCE(f.completed, 0) AS flows_completed
FROM months m
LEFT JOIN conv c ON c.month = m.month
LEFT JOIN flows f ON f.month = m.month
ORDER BY m.month
