-- Turn.io Insights, goals: per goal (analytics_events category 'goal', label = goal name),
-- distinct contacts who started and who completed it in the range; completion_rate =
-- completed / started (NULL when nobody started).
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
SELECT
    label AS goal,
    count(DISTINCT contact_id) FILTER (WHERE action = 'started') AS started,
    count(DISTINCT contact_id) FILTER (WHERE action = 'completed') AS completed,
    CASE WHEN count(DISTINCT contact_id) FILTER (WHERE action = 'started') = 0 THEN NULL
         ELSE round(CAST(count(DISTINCT contact_id) FILTER (WHERE action = 'completed') AS DOUBLE)
                    / count(DISTINCT contact_id) FILTER (WHERE action = 'started'), 4)
    END AS completion_rate
FROM analytics_events
WHERE category = 'goal' AND action IN ('started', 'completed')
  AND ts >= $range_start AND ts < $range_end
  AND dt BETWEEN $dt_from AND $dt_to
  AND ($channel_id IS NULL OR channel_id = $channel_id)
GROUP BY label
ORDER BY started DESC, goal
