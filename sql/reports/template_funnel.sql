-- Botmaker template metrics, funnel of one campaign (NULL = every campaign) over its successful
-- sends (latest attempt per recipient; success as in push_results): sent = successful sends,
-- delivered = a delivered or read callback, read = a read callback, replied = a reply as
-- message_response defines it. Stages are not forced to nest: a reply without a read receipt
-- still counts.
--
-- Delivery and replies are looked up per send in message_outcomes, which stores
-- message_delivery's and message_response's definitions per outbound message at write time.
-- Everything of a campaign happens after it was created, so $since (the day before the earliest
-- creation among the campaigns asked for) prunes the outcomes to that time on.
-- param: campaign_id text
-- let: since date = SELECT COALESCE(CAST(min(created_at) AS DATE) - INTERVAL '1 day', DATE '1970-01-01') FROM campaigns WHERE $campaign_id IS NULL OR campaign_id = $campaign_id
WITH latest AS (
    SELECT * FROM latest_attempts
    WHERE ($campaign_id IS NULL OR campaign_id = $campaign_id)
      AND send_result = 'accepted' AND message_id IS NOT NULL
),
-- The successful sends with their outcome (a send whose message is in the lake and whose
-- final status is not failed).
ok AS (
    SELECT
        o.delivered_at IS NOT NULL AS delivered,
        o.read_at IS NOT NULL AS is_read,
        o.replied_at IS NOT NULL AS replied
    FROM latest l
    JOIN message_outcomes o
        ON o.tenant_id = l.tenant_id AND o.message_id = l.message_id AND o.dt >= $since
    WHERE o.final_status <> 'failed'
),
counts AS (
    -- One pass over `ok` (a CTE referenced four times would be computed four times).
    SELECT
        count(*) AS sent,
        count(*) FILTER (WHERE delivered) AS delivered,
        count(*) FILTER (WHERE is_read) AS "read",
        count(*) FILTER (WHERE replied) AS replied
    FROM ok
)
SELECT
    unnest(['sent', 'delivered', 'read', 'replied']) AS stage,
    unnest([sent, delivered, "read", replied]) AS recipients
FROM counts
