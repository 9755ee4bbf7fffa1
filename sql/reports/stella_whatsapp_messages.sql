-- Stella dashboard, WhatsApp messages: outbound messages of WhatsApp channels sent in the range,
-- by integration, contact country and business number. messages_sent / messages_delivered =
-- a sent / delivered callback arrived (any time after); of the sent ones, notification =
-- templates outside the customer-service window, customer support = sent inside it.
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH sent AS (
    -- The outbound messages of the range, with their callbacks (only callbacks from the range's
    -- first UTC day on: a callback never precedes its message) aggregated to two flags.
    SELECT
        m.tenant_id, m.channel_id, m.country_code, m.is_template, m.in_csw,
        s.message_id IS NOT NULL AND s.sent AS sent,
        s.message_id IS NOT NULL AND s.delivered AS delivered
    FROM messages m
    LEFT JOIN (
        SELECT
            tenant_id,
            message_id,
            bool_or(status IN ('sent', 'delivered', 'read', 'played')) AS sent,
            bool_or(status IN ('delivered', 'read', 'played')) AS delivered
        FROM message_statuses
        WHERE dt >= $dt_from AND ($channel_id IS NULL OR channel_id = $channel_id)
        GROUP BY tenant_id, message_id
    ) s ON s.tenant_id = m.tenant_id AND s.message_id = m.message_id
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
