-- message_response (SPEC 4): per outbound message, the contact's reply to it.
--
-- explicit: the first inbound from the same contact after the message whose
--           context_message_id is the message's id (quoted replies and button clicks);
-- implicit: failing that, the first inbound from the contact after the message, within 24 h
--           and before the next outbound template to that contact.
-- Ties: an inbound at the same instant as the outbound does not count as its reply.
CREATE VIEW message_response AS
WITH explicit AS (
    SELECT tenant_id, channel_id, contact_id, context_message_id AS message_id, min(ts) AS replied_at
    FROM messages
    WHERE direction = 'inbound' AND context_message_id IS NOT NULL
    GROUP BY tenant_id, channel_id, contact_id, context_message_id
),
timeline AS (
    SELECT
        tenant_id, channel_id, contact_id, message_id, direction, ts, dt,
        min(CASE WHEN direction = 'inbound' THEN ts END) OVER (
            PARTITION BY tenant_id, channel_id, contact_id
            ORDER BY ts, direction, message_id
            ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_inbound,
        min(CASE WHEN direction = 'outbound' AND is_template THEN ts END) OVER (
            PARTITION BY tenant_id, channel_id, contact_id
            ORDER BY ts, direction, message_id
            ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_template
    FROM messages
)
SELECT
    t.tenant_id,
    t.channel_id,
    t.message_id,
    t.contact_id,
    t.ts,
    t.dt,
    COALESCE(e.replied_at,
        CASE WHEN t.next_inbound > t.ts
              AND t.next_inbound <= t.ts + INTERVAL '24 hours'
              AND (t.next_template IS NULL OR t.next_inbound < t.next_template)
             THEN t.next_inbound END) AS replied_at,
    CASE
        WHEN e.replied_at IS NOT NULL THEN 'explicit'
        WHEN t.next_inbound > t.ts
             AND t.next_inbound <= t.ts + INTERVAL '24 hours'
             AND (t.next_template IS NULL OR t.next_inbound < t.next_template) THEN 'implicit'
    END AS reply_kind
FROM timeline t
LEFT JOIN explicit e
    ON e.tenant_id = t.tenant_id AND e.channel_id = t.channel_id
   AND e.contact_id = t.contact_id AND e.message_id = t.message_id AND e.replied_at > t.ts
WHERE t.direction = 'outbound'
