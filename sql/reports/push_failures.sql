-- Stella Push Panel, "Sent Fail" reasons: failed recipients (latest attempt) of a campaign
-- (NULL = every campaign) by error: the synchronous reject code/reason, else the failed
-- callback's code/title.
--
-- Everything of a campaign happens after it was created: its recipients, their messages'
-- callbacks, replies and clicks. $since (the day before the earliest creation among the
-- campaigns asked for) prunes those tables' partitions to that time on.
-- param: campaign_id text
-- let: since date = SELECT COALESCE(CAST(min(created_at) AS DATE) - INTERVAL '1 day', DATE '1970-01-01') FROM campaigns WHERE $campaign_id IS NULL OR campaign_id = $campaign_id
-- The outcome of a recipient's message (final status, first failed callback's error) is looked
-- up in message_outcomes; failed = rejected at send time, never given a message, or a final
-- status of `failed` (no delivery or read callback after the failure).
WITH latest AS (
    SELECT * FROM latest_attempts
    WHERE ($campaign_id IS NULL OR campaign_id = $campaign_id)
)
SELECT
    COALESCE(l.reject_code, o.error_code) AS error_code,
    COALESCE(l.reject_reason, o.error_title) AS error_title,
    count(*) AS recipients
FROM latest l
LEFT JOIN message_outcomes o
    ON o.tenant_id = l.tenant_id AND o.message_id = l.message_id AND o.dt >= $since
WHERE NOT (l.send_result = 'accepted' AND l.message_id IS NOT NULL
           AND o.final_status IS DISTINCT FROM 'failed')
GROUP BY 1, 2
ORDER BY recipients DESC, error_code
