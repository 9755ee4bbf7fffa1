-- message_response (SPEC 4): per outbound message, the contact's reply to it.
--
-- explicit: the first inbound from the same contact after the message whose
--           context_message_id is the message's id (quoted replies and button clicks);
-- implicit: failing that, the first inbound from the contact after the message, within 24 h
--           and before the next outbound template to that contact (implicit_replies: messages
--           in (ts, direction, message_id) order; an inbound at the same instant as the
--           outbound does not count as its reply).
CREATE VIEW message_response AS
WITH explicit AS (
    SELECT tenant_id, channel_id, contact_id, context_message_id AS message_id, min(ts) AS replied_at
    FROM messages
    WHERE direction = 'inbound' AND context_message_id IS NOT NULL
    GROUP BY tenant_id, channel_id, contact_id, context_message_id
),
implicit AS (
    SELECT tenant_id, channel_id, contact_id,
           reply['message_id'] AS message_id, reply['replied_at'] AS replied_at
    FROM (
        SELECT tenant_id, channel_id, contact_id,
               unnest(implicit_replies(message_id, ts, direction, is_template)) AS reply
        FROM messages
        GROUP BY tenant_id, channel_id, contact_id)
)
SELECT
    m.tenant_id,
    m.channel_id,
    m.message_id,
    m.contact_id,
    m.ts,
    m.dt,
    COALESCE(e.replied_at, i.replied_at) AS replied_at,
    CASE
        WHEN e.replied_at IS NOT NULL THEN 'explicit'
        WHEN i.replied_at IS NOT NULL THEN 'implicit'
    END AS reply_kind
FROM messages m
LEFT JOIN explicit e
    ON e.tenant_id = m.tenant_id AND e.channel_id = m.channel_id
   AND e.contact_id = m.contact_id AND e.message_id = m.message_id AND e.replied_at > m.ts
LEFT JOIN implicit i
    ON i.tenant_id = m.tenant_id AND i.channel_id = m.channel_id
   AND i.contact_id = m.contact_id AND i.message_id = m.message_id
WHERE m.direction = 'outbound'
