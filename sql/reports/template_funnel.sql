-- Botmaker template metrics, funnel of one campaign (NULL = every campaign) over its successful
-- sends (latest attempt per recipient; success as in push_results): sent = successful sends,
-- delivered = a delivered or read callback, read = a read callback, replied = a reply found by
-- message_response. Stages are not forced to nest: a reply without a read receipt still counts.
-- param: campaign_id text
WITH latest AS (
    SELECT * FROM (
        SELECT *, ROW_NUMBER() OVER (
            PARTITION BY tenant_id, campaign_id, contact_id ORDER BY attempt DESC) AS rn
        FROM campaign_recipients
        WHERE ($campaign_id IS NULL OR campaign_id = $campaign_id)
    ) x
    WHERE rn = 1
),
ok AS (
    SELECT d.delivered_at, d.read_at, r.replied_at
    FROM latest l
    JOIN message_delivery d ON d.tenant_id = l.tenant_id AND d.message_id = l.message_id
    LEFT JOIN message_response r
        ON r.tenant_id = d.tenant_id AND r.channel_id = d.channel_id AND r.message_id = d.message_id
    WHERE l.send_result = 'accepted' AND d.final_status <> 'failed'
),
stages AS (
    SELECT 1 AS ord, 'sent' AS stage, count(*) AS recipients FROM ok
    UNION ALL
    SELECT 2, 'delivered', count(*) FROM ok WHERE delivered_at IS NOT NULL
    UNION ALL
    SELECT 3, 'read', count(*) FROM ok WHERE read_at IS NOT NULL
    UNION ALL
    SELECT 4, 'replied', count(*) FROM ok WHERE replied_at IS NOT NULL
)
SELECT stage, recipients FROM stages ORDER BY ord
