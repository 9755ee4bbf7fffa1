-- derived_conversations: billing conversations rebuilt with wa_conversations (SPEC 5.7), over the
-- whole history, for the WhatsApp numbers whose provider reports none (every integration but
-- meta_cloud, 360dialog and glific, whose export carries its BSP's billing conversations:
-- gupshup, twilio).
--
-- Every writer of messages stores this view's rows in the `conversations` table with
-- source = 'derived' (chatlake::engine::derived::refresh_conversations, run at the end of
-- `generate`), so all_conversations reads them instead of re-deriving the whole history per
-- query. Querying this view re-derives them live.
--
-- The message time stands for the delivery time (delivery follows within seconds); a message
-- counts as delivered when any delivered/read/played callback exists. Derived rows are billable
-- unless free-entry-point, or service from 2024-11-01 (all service conversations free).
CREATE VIEW derived_conversations AS
WITH derived_channels AS (
    SELECT tenant_id, channel_id FROM channels
    WHERE channel_type = 'whatsapp' AND integration NOT IN ('meta_cloud', '360dialog', 'glific')
)
SELECT
    ch.tenant_id,
    ch.channel_id,
    ch.waba_id,
    ch.channel_id || ':' || x.contact_id || ':' || CAST(x.conv['opened_at'] AS VARCHAR) AS conversation_id,
    x.contact_id,
    x.conv['opened_at'] AS opened_at,
    x.conv['expires_at'] AS expires_at,
    x.conv['origin'] AS origin,
    CAST(NULL AS VARCHAR) AS pricing_model,
    NOT (x.conv['origin'] = 'referral_conversion'
         OR (x.conv['origin'] = 'service' AND x.conv['opened_at'] >= TIMESTAMP '2024-11-01T00:00:00Z')) AS billable,
    x.country_code,
    'derived' AS source
FROM (
    SELECT tenant_id, channel_id, contact_id, country_code, unnest(convs) AS conv
    FROM (
        SELECT m.tenant_id, m.channel_id, m.contact_id, max(m.country_code) AS country_code,
               wa_conversations('auto', m.ts, m.direction, d.message_id IS NOT NULL,
                                m.is_template, m.template_category,
                                m.referral_source_type IS NOT NULL) AS convs
        FROM messages m
        JOIN derived_channels c ON c.tenant_id = m.tenant_id AND c.channel_id = m.channel_id
        LEFT JOIN (
            SELECT DISTINCT s.tenant_id, s.message_id
            FROM message_statuses s
            JOIN derived_channels c ON c.tenant_id = s.tenant_id AND c.channel_id = s.channel_id
            WHERE s.status IN ('delivered', 'read', 'played')
        ) d ON d.tenant_id = m.tenant_id AND d.message_id = m.message_id
        GROUP BY m.tenant_id, m.channel_id, m.contact_id)
) x
JOIN channels ch ON ch.tenant_id = x.tenant_id AND ch.channel_id = x.channel_id
