-- Stella dashboard, WhatsApp messages: outbound messages of WhatsApp channels sent in the range,
-- by integration, contact country and business number. messages_sent / messages_delivered =
-- a sent / delivered callback arrived (any time after); of the sent ones, notification =
-- templates outside the customer-service window, customer support = sent inside it.
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
SELECT
    c.integration,
    d.country_code,
    c.display_phone,
    count(*) FILTER (WHERE d.sent_at IS NOT NULL) AS messages_sent,
    count(*) FILTER (WHERE d.delivered_at IS NOT NULL) AS messages_delivered,
    count(*) FILTER (WHERE d.sent_at IS NOT NULL AND d.is_template AND NOT COALESCE(d.in_csw, false))
        AS notification_messages,
    count(*) FILTER (WHERE d.sent_at IS NOT NULL AND COALESCE(d.in_csw, false))
        AS customer_support_messages
FROM message_delivery d
JOIN channels c ON c.tenant_id = d.tenant_id AND c.channel_id = d.channel_id
WHERE c.channel_type = 'whatsapp'
  AND d.ts >= $range_start AND d.ts < $range_end
  AND d.dt BETWEEN $dt_from AND $dt_to
  AND ($channel_id IS NULL OR d.channel_id = $channel_id)
GROUP BY c.integration, d.country_code, c.display_phone
ORDER BY messages_sent DESC, c.integration, d.country_code, c.display_phone
