-- Botmaker template metrics, funnel of one campaign (NULL = every campaign) over its successful
-- sends (latest attempt per recipient; success as in push_results): sent = successful sends,
-- delivered = a delivered or read callback, read = a read callback, replied = a reply as
-- message_response defines it. Stages are not forced to nest: a reply without a read receipt
-- still counts.
--
-- Delivery and replies are computed for the campaign's messages only (statuses semi-joined on
-- the sends, implicit_replies over the recipients' own messages), not read from the
-- message_delivery / message_response views over the whole lake; the definitions are the views'.
--
-- Everything of a campaign happens after it was created: its recipients, their messages'
-- callbacks, replies and clicks. $since (the day before the earliest creation among the
-- campaigns asked for) prunes those tables' partitions to that time on.
-- param: campaign_id text
-- let: since date = SELECT COALESCE(CAST(min(created_at) AS DATE) - INTERVAL '1 day', DATE '1970-01-01') FROM campaigns WHERE $campaign_id IS NULL OR campaign_id = $campaign_id
WITH latest AS (
    SELECT * FROM latest_attempts
    WHERE ($campaign_id IS NULL OR campaign_id = $campaign_id)
      AND send_result = 'accepted' AND message_id IS NOT NULL
),
-- The delivery of the sends (statuses semi-joined on them before aggregating).
delivery AS (
    SELECT
        tenant_id,
        message_id,
        bool_or(status IN ('delivered', 'read', 'played')) AS delivered,
        bool_or(status = 'read') AS is_read,
        bool_or(status = 'failed') AS failed
    FROM message_statuses
    WHERE dt >= $since
      AND message_id IN (SELECT message_id FROM latest)
    GROUP BY tenant_id, message_id
),
-- The sends as messages (message_response has a row per outbound message).
sends AS (
    SELECT tenant_id, channel_id, contact_id, message_id, ts
    FROM messages
    WHERE dt >= $since AND direction = 'outbound'
      AND message_id IN (SELECT message_id FROM latest)
),
-- Implicit replies, over the recipients' own messages from $since on (a send looks only
-- forward, so the earlier messages change nothing).
implicit AS (
    SELECT tenant_id, channel_id, contact_id,
           reply['message_id'] AS message_id, reply['replied_at'] AS replied_at
    FROM (
        SELECT tenant_id, channel_id, contact_id,
               unnest(implicit_replies(message_id, ts, direction, is_template)) AS reply
        FROM messages m
        WHERE m.dt >= $since
          AND EXISTS (
            SELECT 1 FROM latest l WHERE l.tenant_id = m.tenant_id AND l.contact_id = m.contact_id)
        GROUP BY tenant_id, channel_id, contact_id)
),
-- Explicit replies: inbound messages quoting a send.
explicit AS (
    SELECT tenant_id, channel_id, contact_id, context_message_id AS message_id, min(ts) AS replied_at
    FROM messages
    WHERE direction = 'inbound' AND dt >= $since
      AND context_message_id IN (SELECT message_id FROM latest)
    GROUP BY tenant_id, channel_id, contact_id, context_message_id
),
ok AS (
    SELECT
        COALESCE(d.delivered, false) AS delivered,
        COALESCE(d.is_read, false) AS is_read,
        e.replied_at IS NOT NULL OR i.replied_at IS NOT NULL AS replied
    FROM latest l
    JOIN sends x ON x.tenant_id = l.tenant_id AND x.message_id = l.message_id
    LEFT JOIN delivery d ON d.tenant_id = l.tenant_id AND d.message_id = l.message_id
    LEFT JOIN explicit e
        ON e.tenant_id = x.tenant_id AND e.channel_id = x.channel_id
       AND e.contact_id = x.contact_id AND e.message_id = x.message_id AND e.replied_at > x.ts
    LEFT JOIN implicit i
        ON i.tenant_id = x.tenant_id AND i.channel_id = x.channel_id
       AND i.contact_id = x.contact_id AND i.message_id = x.message_id
    WHERE NOT COALESCE(d.failed AND NOT d.delivered, false)
),
counts AS (
    -- One pass over `ok` (a CTE referenced four times would be computed four times).
    SELECT
        count(*) AS sent,
        count(*) FILTER (WHERE delivered) AS delivered,
        count(*) FILTER (WHERE is_read) AS "read",
        count(*) FILTER (WHERE replied) AS replied
    FROM ok
)
SELECT
    unnest(['sent', 'delivered', 'read', 'replied']) AS stage,
    unnest([sent, delivered, "read", replied]) AS recipients
FROM counts
