-- Turn.io Insights, tracked behaviours: per behaviour (analytics_events category 'behaviour',
-- label = name), events and distinct contacts in the range.
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
SELECT
    label AS behaviour,
    count(*) AS events,
    count(DISTINCT contact_id) AS users
FROM analytics_events
WHERE category = 'behaviour'
  AND ts >= $range_start AND ts < $range_end
  AND dt BETWEEN $dt_from AND $dt_to
  AND ($channel_id IS NULL OR channel_id = $channel_id)
GROUP BY label
ORDER BY events DESC, behaviour
