-- events_v (SPEC 4): every fact as one generic event row, for funnels and retention.
--
-- | source | event | detail |
-- |---|---|---|
-- | messages inbound | message_received | msg_type |
-- | messages outbound | message_sent | template name, else msg_type |
-- | message_statuses | message_<status> (delivered, read, failed, ...) | error_code for failures |
-- | flow_events | flow_<event_type> | flow_id |
-- | analytics_events | <category>:<action> | label |
-- | comments | comment | post_id |
-- | contact_events | contact_<event_type> (contact_opted_in, ...) | method |
-- | chat_events | chat_<event> | actor_type |
-- Statuses take the contact of their message; rows without a contact are left out.
CREATE VIEW events_v AS
SELECT tenant_id, channel_id, contact_id, ts,
       CASE WHEN direction = 'inbound' THEN 'message_received' ELSE 'message_sent' END AS event,
       CASE WHEN direction = 'inbound' THEN msg_type ELSE COALESCE(template_name, msg_type) END AS detail
FROM messages
UNION ALL
SELECT s.tenant_id, s.channel_id, m.contact_id, s.ts,
       'message_' || s.status AS event,
       CAST(s.error_code AS VARCHAR) AS detail
FROM message_statuses s
JOIN messages m
  ON m.tenant_id = s.tenant_id AND m.message_id = s.message_id
UNION ALL
SELECT tenant_id, channel_id, contact_id, ts, 'flow_' || event_type, flow_id
FROM flow_events
UNION ALL
SELECT tenant_id, channel_id, contact_id, ts, category || ':' || action, label
FROM analytics_events WHERE contact_id IS NOT NULL
UNION ALL
SELECT tenant_id, channel_id, contact_id, ts, 'comment', post_id
FROM comments WHERE contact_id IS NOT NULL
UNION ALL
SELECT tenant_id, channel_id, contact_id, ts, 'contact_' || event_type, method
FROM contact_events
UNION ALL
SELECT tenant_id, channel_id, contact_id, ts, 'chat_' || event, actor_type
FROM chat_events
