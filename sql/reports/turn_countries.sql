-- Turn.io Insights, most active countries: the 10 countries (from the contact's phone number,
-- derived at ingest) with the most distinct contacts sending messages in the range. Contacts
-- without a phone (username-only) fall under NULL.
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
SELECT country_code, count(DISTINCT contact_id) AS users
FROM messages
WHERE direction = 'inbound' AND msg_type <> 'system'
  AND ts >= $range_start AND ts < $range_end
  AND dt BETWEEN $dt_from AND $dt_to
  AND ($channel_id IS NULL OR channel_id = $channel_id)
GROUP BY country_code
ORDER BY users DESC, country_code
LIMIT 10
