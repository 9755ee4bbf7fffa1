-- Stella dashboard, "Comment Reply": per post, comments received in the range and how many
-- matched a reply rule.
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
SELECT
    post_id,
    count(*) AS comments,
    count(*) FILTER (WHERE matched) AS matched,
    count(*) FILTER (WHERE NOT matched) AS unmatched
FROM comments
WHERE ts >= $range_start AND ts < $range_end
  AND dt BETWEEN $dt_from AND $dt_to
  AND ($channel_id IS NULL OR channel_id = $channel_id)
GROUP BY post_id
ORDER BY comments DESC, post_id
