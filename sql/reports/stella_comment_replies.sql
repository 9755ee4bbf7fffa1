-- Stella dashboard, "Comment Reply": per post, comments received in the range and how many
-- matched a reply rule. A comment is matched when its row says so (a bot's own record) or the
-- page replied to it (a `comment_replies` row, whenever it came: a reply's webhook can arrive
-- before or after the comment's, and the answer is the same).
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH answered AS (
    SELECT DISTINCT tenant_id, channel_id, comment_id FROM comment_replies
)
SELECT
    c.post_id,
    count(*) AS comments,
    count(*) FILTER (WHERE c.matched OR a.comment_id IS NOT NULL) AS matched,
    count(*) FILTER (WHERE NOT c.matched AND a.comment_id IS NULL) AS unmatched
FROM comments c
LEFT JOIN answered a
    ON a.tenant_id = c.tenant_id AND a.channel_id = c.channel_id AND a.comment_id = c.comment_id
WHERE c.ts >= $range_start AND c.ts < $range_end
  AND c.dt BETWEEN $dt_from AND $dt_to
  AND ($channel_id IS NULL OR c.channel_id = $channel_id)
GROUP BY c.post_id
ORDER BY comments DESC, c.post_id
