-- Turn.io Insights, top authors: the 20 (author type, author id) pairs with the most outbound
-- messages in the range; author types named as in turn_authors.
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
SELECT
    CASE author_type
        WHEN 'flow' THEN 'Stack'
        WHEN 'agent' THEN 'Coach'
        WHEN 'reminder' THEN 'Reminders'
        WHEN 'api' THEN 'API'
        WHEN 'automation' THEN 'Automation'
        ELSE author_type
    END AS author_type,
    author_id,
    count(*) AS messages
FROM messages
WHERE direction = 'outbound'
  AND ts >= $range_start AND ts < $range_end
  AND dt BETWEEN $dt_from AND $dt_to
  AND ($channel_id IS NULL OR channel_id = $channel_id)
GROUP BY 1, 2
ORDER BY messages DESC, author_type, author_id
LIMIT 20
