-- Turn.io Insights, message authors: outbound messages in the range by author type, named as
-- Turn does: flow = Stack, agent = Coach, reminder = Reminders, api = API, automation =
-- Automation; other types (broadcast, system) keep their own name.
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
    count(*) AS messages
FROM messages
WHERE direction = 'outbound'
  AND ts >= $range_start AND ts < $range_end
  AND dt BETWEEN $dt_from AND $dt_to
  AND ($channel_id IS NULL OR channel_id = $channel_id)
GROUP BY 1
ORDER BY messages DESC, author_type
