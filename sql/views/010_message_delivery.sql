-- message_delivery (SPEC 4): one row per outbound message with its delivery timeline.
--
-- sent_at      = first sent/delivered/read/played callback (a later state implies "sent")
-- delivered_at = first delivered/read/played callback (a read receipt implies delivery)
-- read_at      = first read; failed_at = first failed
-- final_status = read > played > delivered > failed > sent > accepted: any delivery or read
--                overrides a failure. A message with no callback at all is 'accepted' (the
--                API took it; nothing came back yet).
-- Statuses belong to a message by (tenant_id, message_id), the key SPEC 3 gives callbacks (the
-- channel is the message's; fewer string join keys also make the join faster).
-- error_*      = the first failed callback's error; conversation_id and pricing_* = the first
--                callback carrying them (sent, or the first delivered/read).
CREATE VIEW message_delivery AS
WITH s AS (
    SELECT
        tenant_id,
        message_id,
        min(ts) FILTER (WHERE status IN ('sent', 'delivered', 'read', 'played')) AS sent_at,
        min(ts) FILTER (WHERE status IN ('delivered', 'read', 'played')) AS delivered_at,
        min(ts) FILTER (WHERE status = 'read') AS read_at,
        min(ts) FILTER (WHERE status = 'played') AS played_at,
        min(ts) FILTER (WHERE status = 'failed') AS failed_at,
        arg_min(error_code, ts) FILTER (WHERE status = 'failed') AS error_code,
        arg_min(error_title, ts) FILTER (WHERE status = 'failed') AS error_title,
        arg_min(error_bucket, ts) FILTER (WHERE status = 'failed') AS error_bucket,
        arg_min(conversation_id, ts) FILTER (WHERE conversation_id IS NOT NULL) AS conversation_id,
        arg_min(pricing_category, ts) FILTER (WHERE pricing_category IS NOT NULL) AS pricing_category,
        arg_min(pricing_type, ts) FILTER (WHERE pricing_type IS NOT NULL) AS pricing_type
    FROM message_statuses
    GROUP BY tenant_id, message_id
)
SELECT
    m.tenant_id,
    m.channel_id,
    m.message_id,
    m.contact_id,
    m.wa_id,
    m.ts,
    m.dt,
    m.is_template,
    m.template_name,
    m.template_category,
    m.author_type,
    m.campaign_id,
    m.in_csw,
    m.country_code,
    s.sent_at,
    s.delivered_at,
    s.read_at,
    s.failed_at,
    CASE
        WHEN s.read_at IS NOT NULL THEN 'read'
        WHEN s.played_at IS NOT NULL THEN 'played'
        WHEN s.delivered_at IS NOT NULL THEN 'delivered'
        WHEN s.failed_at IS NOT NULL THEN 'failed'
        WHEN s.sent_at IS NOT NULL THEN 'sent'
        ELSE 'accepted'
    END AS final_status,
    s.error_code,
    s.error_title,
    s.error_bucket,
    s.conversation_id,
    s.pricing_category,
    s.pricing_type
FROM messages m
LEFT JOIN s ON s.tenant_id = m.tenant_id AND s.message_id = m.message_id
WHERE m.direction = 'outbound'
