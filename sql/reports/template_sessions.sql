-- Botmaker template metrics, the session list of one campaign (NULL = every campaign): one row
-- per recipient (latest attempt), newest send first. sent_at = the sent callback (NULL when
-- rejected or never sent); is_new = the contact had sent no inbound message before the
-- template; error = the reject code/reason, else the failed callback's. Stream it as TSV with
-- COPY (SELECT * FROM template_sessions('c1')) TO STDOUT (FORMAT csv, DELIMITER E'\t', HEADER).
--
-- Two formulations of the same definitions (message_delivery, message_response), chosen by the
-- argument (the optimiser drops the branch whose filter is a constant false):
-- * one campaign: delivery and replies computed for its messages only: the statuses of its
--   sends and the recipients' own messages from the campaign's creation on ($since: everything
--   of a campaign happens after it was created). 0.7 s instead of 8 s on the demo lake.
-- * every campaign (NULL): through the views. The restricted form, at the scale of every
--   recipient, makes DataFusion 55's hash joins concatenate Utf8View batches that share large
--   buffers, copying them once per batch (tens of GB; measured 2026-12-04).
-- param: campaign_id text
-- let: since date = SELECT COALESCE(CAST(min(created_at) AS DATE) - INTERVAL '1 day', DATE '1970-01-01') FROM campaigns WHERE $campaign_id IS NULL OR campaign_id = $campaign_id
WITH latest AS (
    SELECT * FROM latest_attempts WHERE campaign_id = $campaign_id
),
delivery AS (
    SELECT
        tenant_id,
        message_id,
        min(ts) FILTER (WHERE status IN ('sent', 'delivered', 'read', 'played')) AS sent_at,
        min(ts) FILTER (WHERE status IN ('delivered', 'read', 'played')) AS delivered_at,
        min(ts) FILTER (WHERE status = 'read') AS read_at,
        arg_min(error_code, ts) FILTER (WHERE status = 'failed') AS error_code,
        arg_min(error_title, ts) FILTER (WHERE status = 'failed') AS error_title
    FROM message_statuses
    WHERE dt >= $since
      AND message_id IN (SELECT message_id FROM latest WHERE message_id IS NOT NULL)
    GROUP BY tenant_id, message_id
),
-- The sends as messages (message_response has a row per outbound message).
sends AS (
    SELECT tenant_id, channel_id, contact_id, message_id, ts
    FROM messages
    WHERE dt >= $since AND direction = 'outbound'
      AND message_id IN (SELECT message_id FROM latest WHERE message_id IS NOT NULL)
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
explicit AS (
    SELECT tenant_id, channel_id, contact_id, context_message_id AS message_id, min(ts) AS replied_at
    FROM messages
    WHERE direction = 'inbound' AND dt >= $since
      AND context_message_id IN (SELECT message_id FROM latest WHERE message_id IS NOT NULL)
    GROUP BY tenant_id, channel_id, contact_id, context_message_id
),
firsts AS (
    SELECT tenant_id, channel_id, contact_id, min(ts) AS first_inbound
    FROM messages m
    WHERE direction = 'inbound'
      AND EXISTS (
        SELECT 1 FROM latest l WHERE l.tenant_id = m.tenant_id AND l.contact_id = m.contact_id)
    GROUP BY 1, 2, 3
),
-- Every campaign: the same through the views.
latest_all AS (
    SELECT * FROM latest_attempts WHERE $campaign_id IS NULL
),
firsts_all AS (
    SELECT tenant_id, channel_id, contact_id, min(ts) AS first_inbound
    FROM messages
    WHERE direction = 'inbound'
    GROUP BY 1, 2, 3
),
rows AS (
SELECT
    k.wa_id,
    l.contact_id,
    d.sent_at,
    c.channel_id,
    NOT (f.first_inbound IS NOT NULL AND f.first_inbound < COALESCE(x.ts, l.processed_at)) AS is_new,
    d.delivered_at,
    d.read_at,
    COALESCE(e.replied_at, i.replied_at) AS replied_at,
    COALESCE(l.reject_code, d.error_code) AS error_code,
    COALESCE(l.reject_reason, d.error_title) AS error_title
FROM latest l
JOIN campaigns c ON c.tenant_id = l.tenant_id AND c.campaign_id = l.campaign_id
LEFT JOIN sends x ON x.tenant_id = l.tenant_id AND x.message_id = l.message_id
LEFT JOIN delivery d ON d.tenant_id = l.tenant_id AND d.message_id = l.message_id
LEFT JOIN explicit e
    ON e.tenant_id = x.tenant_id AND e.channel_id = x.channel_id
   AND e.contact_id = x.contact_id AND e.message_id = x.message_id AND e.replied_at > x.ts
LEFT JOIN implicit i
    ON i.tenant_id = x.tenant_id AND i.channel_id = x.channel_id
   AND i.contact_id = x.contact_id AND i.message_id = x.message_id
LEFT JOIN contacts k
    ON k.tenant_id = l.tenant_id AND k.channel_id = c.channel_id AND k.contact_id = l.contact_id
LEFT JOIN firsts f
    ON f.tenant_id = l.tenant_id AND f.channel_id = c.channel_id AND f.contact_id = l.contact_id
UNION ALL
SELECT
    k.wa_id,
    l.contact_id,
    d.sent_at,
    c.channel_id,
    NOT (f.first_inbound IS NOT NULL AND f.first_inbound < COALESCE(d.ts, l.processed_at)) AS is_new,
    d.delivered_at,
    d.read_at,
    r.replied_at,
    COALESCE(l.reject_code, d.error_code) AS error_code,
    COALESCE(l.reject_reason, d.error_title) AS error_title
FROM latest_all l
JOIN campaigns c ON c.tenant_id = l.tenant_id AND c.campaign_id = l.campaign_id
LEFT JOIN message_delivery d ON d.tenant_id = l.tenant_id AND d.message_id = l.message_id
LEFT JOIN message_response r
    ON r.tenant_id = d.tenant_id AND r.channel_id = d.channel_id AND r.message_id = d.message_id
LEFT JOIN contacts k
    ON k.tenant_id = l.tenant_id AND k.channel_id = c.channel_id AND k.contact_id = l.contact_id
LEFT JOIN firsts_all f
    ON f.tenant_id = l.tenant_id AND f.channel_id = c.channel_id AND f.contact_id = l.contact_id
)
SELECT * FROM rows
ORDER BY sent_at DESC NULLS LAST, contact_id
