-- Stella dashboard, "Active Users" headline: distinct contacts with at least one inbound
-- message (not `system`) over the whole range (not the sum of the daily bars).
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
SELECT count(DISTINCT contact_id) AS active_users
FROM messages
WHERE direction = 'inbound' AND msg_type <> 'system'
  AND ts >= $range_start AND ts < $range_end
  AND dt BETWEEN $dt_from AND $dt_to
  AND ($channel_id IS NULL OR channel_id = $channel_id)
