-- all_conversations (SPEC 4): billing conversations, one row each, with `source`.
--
-- webhook: the `conversations` table (what Meta reported; meta_cloud and 360dialog numbers).
-- derived: conversations rebuilt with wa_conversations (SPEC 5.7) for WhatsApp channels that
--          have no webhook conversation data at all (gupshup, twilio numbers).
--          NOT YET HERE: wa_conversations is being written on another branch; until it lands
--          this view returns the webhook conversations only (see the TODO below).
-- billable: as reported; derived rows are billable unless free-entry-point or service from
--           2024-11-01 (all service conversations free).
CREATE VIEW all_conversations AS
SELECT
    c.tenant_id,
    c.channel_id,
    c.waba_id,
    c.conversation_id,
    c.contact_id,
    c.opened_at,
    c.expires_at,
    c.origin,
    c.pricing_model,
    c.billable,
    c.country_code,
    c.source,
    c.dt
FROM conversations c
-- TODO(lead, wa_conversations): UNION ALL the derived conversations of WhatsApp channels with
-- no webhook conversations, e.g.
--   SELECT ch.tenant_id, ch.channel_id, ch.waba_id,
--          ch.channel_id || ':' || x.contact_id || ':' || CAST(conv.opened_at AS VARCHAR),
--          x.contact_id, conv.opened_at, conv.expires_at, conv.origin, NULL,
--          NOT (conv.origin = 'referral_conversion'
--               OR (conv.origin = 'service' AND conv.opened_at >= TIMESTAMP '2024-11-01T00:00:00Z')),
--          x.country_code, 'derived', CAST(conv.opened_at AS DATE)
--   FROM (SELECT m.tenant_id, m.channel_id, m.contact_id, max(m.country_code) AS country_code,
--                wa_conversations('auto', m.ts, m.direction, d.delivered_at IS NOT NULL,
--                                 m.is_template, m.template_category,
--                                 m.referral_source_type IS NOT NULL) AS convs
--         FROM messages m LEFT JOIN message_delivery d ON ... GROUP BY 1, 2, 3) x
--   CROSS JOIN unnest(x.convs) AS conv ... JOIN channels ch ...
--   WHERE ch.integration NOT IN ('meta_cloud', '360dialog')
