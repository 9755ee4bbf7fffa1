-- Stella dashboard, comment details of one post: its comments in the range, newest first.
-- `matched`: the comment's row says a reply rule matched, or the page replied to it (see
-- stella_comment_replies).
-- param: post_id text required
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH answered AS (
    SELECT DISTINCT tenant_id, channel_id, comment_id FROM comment_replies
)
SELECT
    c.comment_id,
    c.contact_id,
    c.ts,
    c.text,
    c.matched OR a.comment_id IS NOT NULL AS matched
FROM comments c
LEFT JOIN answered a
    ON a.tenant_id = c.tenant_id AND a.channel_id = c.channel_id AND a.comment_id = c.comment_id
WHERE c.post_id = $post_id
  AND c.ts >= $range_start AND c.ts < $range_end
  AND c.dt BETWEEN $dt_from AND $dt_to
  AND ($channel_id IS NULL OR c.channel_id = $channel_id)
ORDER BY c.ts DESC, c.comment_id
