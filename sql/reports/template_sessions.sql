-- Botmaker template metrics, the session list of one campaign (NULL = every campaign): one row
-- per recipient (latest attempt), newest send first. sent_at = the sent callback (NULL when
-- rejected or never sent); is_new = the contact had sent no inbound message before the
-- template; error = the reject code/reason, else the failed callback's. Stream it as TSV with
-- COPY (SELECT * FROM template_sessions('c1')) TO STDOUT (FORMAT csv, DELIMITER E'\t', HEADER).
-- param: campaign_id text
WITH latest AS (
    SELECT * FROM latest_attempts
    WHERE ($campaign_id IS NULL OR campaign_id = $campaign_id)
),
firsts AS (
    SELECT tenant_id, channel_id, contact_id, min(ts) AS first_inbound
    FROM messages
    WHERE direction = 'inbound'
    GROUP BY 1, 2, 3
)
SELECT
    k.wa_id,
    l.contact_id,
    d.sent_at,
    c.channel_id,
    NOT (f.first_inbound IS NOT NULL AND f.first_inbound < COALESCE(d.ts, l.processed_at)) AS is_new,
    d.delivered_at,
    d.read_at,
    r.replied_at,
    COALESCE(l.reject_code, d.error_code) AS error_code,
    COALESCE(l.reject_reason, d.error_title) AS error_title
FROM latest l
JOIN campaigns c ON c.tenant_id = l.tenant_id AND c.campaign_id = l.campaign_id
LEFT JOIN message_delivery d ON d.tenant_id = l.tenant_id AND d.message_id = l.message_id
LEFT JOIN message_response r
    ON r.tenant_id = d.tenant_id AND r.channel_id = d.channel_id AND r.message_id = d.message_id
LEFT JOIN contacts k
    ON k.tenant_id = l.tenant_id AND k.channel_id = c.channel_id AND k.contact_id = l.contact_id
LEFT JOIN firsts f
    ON f.tenant_id = l.tenant_id AND f.channel_id = c.channel_id AND f.contact_id = l.contact_id
ORDER BY d.sent_at DESC NULLS LAST, l.contact_id
