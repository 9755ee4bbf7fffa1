-- Stella Push Panel, "Sent Fail" reasons: failed recipients (latest attempt) of a campaign
-- (NULL = every campaign) by error: the synchronous reject code/reason, else the failed
-- callback's code/title.
-- param: campaign_id text
WITH latest AS (
    SELECT * FROM (
        SELECT *, ROW_NUMBER() OVER (
            PARTITION BY tenant_id, campaign_id, contact_id ORDER BY attempt DESC) AS rn
        FROM campaign_recipients
        WHERE ($campaign_id IS NULL OR campaign_id = $campaign_id)
    ) r
    WHERE rn = 1
)
SELECT
    COALESCE(l.reject_code, d.error_code) AS error_code,
    COALESCE(l.reject_reason, d.error_title) AS error_title,
    count(*) AS recipients
FROM latest l
LEFT JOIN message_delivery d ON d.tenant_id = l.tenant_id AND d.message_id = l.message_id
WHERE NOT (l.send_result = 'accepted' AND l.message_id IS NOT NULL
           AND COALESCE(d.final_status, 'accepted') <> 'failed')
GROUP BY 1, 2
ORDER BY recipients DESC, error_code
