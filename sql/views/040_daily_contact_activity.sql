-- daily_contact_activity (SPEC 4): messages per contact per UTC day (`dt` is the UTC date of ts).
CREATE VIEW daily_contact_activity AS
SELECT
    tenant_id,
    channel_id,
    contact_id,
    dt AS activity_date,
    count(*) FILTER (WHERE direction = 'inbound') AS inbound_count,
    count(*) FILTER (WHERE direction = 'outbound') AS outbound_count
FROM messages
GROUP BY tenant_id, channel_id, contact_id, dt
