-- Stella Push Panel, "Sent Fail" reasons: failed recipients (latest attempt) of a campaign
-- (NULL = every campaign) by error: the synchronous reject code/reason, else the failed
-- callback's code/title.
--
-- Everything of a campaign happens after it was created: its recipients, their messages'
-- callbacks, replies and clicks. $since (the day before the earliest creation among the
-- campaigns asked for) prunes those tables' partitions to that time on.
-- param: campaign_id text
-- let: since date = SELECT COALESCE(CAST(min(created_at) AS DATE) - INTERVAL '1 day', DATE '1970-01-01') FROM campaigns WHERE $campaign_id IS NULL OR campaign_id = $campaign_id
WITH latest AS (
    SELECT * FROM latest_attempts
    WHERE ($campaign_id IS NULL OR campaign_id = $campaign_id)
),
-- The outcome of the recipients' messages only (statuses semi-joined on them before
-- aggregating): failed = message_delivery's final status `failed`, and the first failed
-- callback's error.
delivery AS (
    SELECT
        tenant_id,
        message_id,
        bool_or(status = 'failed') AND NOT bool_or(status IN ('delivered', 'read', 'played')) AS failed,
        arg_min(error_code, ts) FILTER (WHERE status = 'failed') AS error_code,
        arg_min(error_title, ts) FILTER (WHERE status = 'failed') AS error_title
    FROM message_statuses
    WHERE dt >= $since
      AND message_id IN (SELECT message_id FROM latest)
    GROUP BY tenant_id, message_id
)
SELECT
    COALESCE(l.reject_code, d.error_code) AS error_code,
    COALESCE(l.reject_reason, d.error_title) AS error_title,
    count(*) AS recipients
FROM latest l
LEFT JOIN delivery d ON d.tenant_id = l.tenant_id AND d.message_id = l.message_id
WHERE NOT (l.send_result = 'accepted' AND l.message_id IS NOT NULL
           AND NOT COALESCE(d.failed, false))
GROUP BY 1, 2
ORDER BY recipients DESC, error_code
