-- Stella dashboard, WhatsApp messages: outbound messages of WhatsApp channels sent in the range,
-- by integration, contact country and business number. messages_sent / messages_delivered =
-- a sent / delivered callback arrived (any time after); of the sent ones, notification =
-- templates outside the customer-service window, customer support = sent inside it.
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
--
-- Whether a sent / delivered callback arrived is looked up per message in message_outcomes
-- (sent_at / delivered_at: the first sent-or-later / delivered-or-later callback), stored at
-- write time and kept current by ingest, instead of grouping every callback of the range
-- (2.8 M rows for a month of the demo lake; benches/RESULTS.md, issue 23). An outcome's dt is
-- its message's, so the range's partitions bound both sides.
WITH sent AS (
    SELECT
        m.tenant_id, m.channel_id, m.country_code, m.is_template, m.in_csw,
        o.sent_at IS NOT NULL AS sent,
        o.delivered_at IS NOT NULL AS delivered
    FROM messages m
    LEFT JOIN message_outcomes o
        ON o.tenant_id = m.tenant_id AND o.message_id = m.message_id
       AND o.dt BETWEEN $dt_from AND $dt_to
    WHERE m.direction = 'outbound'
      AND m.ts >= $range_start AND m.ts < $range_end
      AND m.dt BETWEEN $dt_from AND $dt_to
      AND ($channel_id IS NULL OR m.channel_id = $channel_id)
)
SELECT
    c.integration,
    d.country_code,
    c.display_phone,
    count(*) FILTER (WHERE d.sent) AS messages_sent,
    count(*) FILTER (WHERE d.delivered) AS messages_delivered,
    count(*) FILTER (WHERE d.sent AND d.is_template AND NOT COALESCE(d.in_csw, false))
        AS notification_messages,
    count(*) FILTER (WHERE d.sent AND COALESCE(d.in_csw, false))
        AS customer_support_messages
FROM sent d
JOIN channels c ON c.tenant_id = d.tenant_id AND c.channel_id = d.channel_id
WHERE c.channel_type = 'whatsapp'
GROUP BY c.integration, d.country_code, c.display_phone
ORDER BY messages_sent DESC, c.integration, d.country_code, c.display_phone
