-- Stella dashboard, comment details of one post: its comments in the range, newest first.
-- param: post_id text required
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
SELECT comment_id, contact_id, ts, text, matched
FROM comments
WHERE post_id = $post_id
  AND ts >= $range_start AND ts < $range_end
  AND dt BETWEEN $dt_from AND $dt_to
  AND ($channel_id IS NULL OR channel_id = $channel_id)
ORDER BY ts DESC, comment_id
