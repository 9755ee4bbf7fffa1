-- Botmaker template metrics, per template campaign started in the range (any campaign with a
-- template; start = started_at, else scheduled_at, else created_at). Each recipient counts once,
-- by its latest attempt in the campaign:
--
-- sends = recipients; accepted = accepted by the API; sent / delivered / read = a sent /
-- delivered / read callback arrived; failed = not a success (rejected, or failed with no later
-- delivery), so accepted + rejected = sends; replied = message_response found a reply
-- (explicit or implicit); new_users / returning_users split the replied recipients by whether
-- the contact had sent any inbound message before the template was sent.
--
-- Delivery and replies are computed for these campaigns' messages only (their sends'
-- callbacks, the recipients' own messages), not read from the message_delivery /
-- message_response views over the whole lake; the definitions are the views'. Everything of a
-- campaign happens after it was created, so $since (the day before the earliest creation among
-- them) prunes callbacks and messages to that time on; "returning" looks at the whole history.
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
-- let: since date = SELECT COALESCE(CAST(min(created_at) AS DATE) - INTERVAL '1 day', DATE '1970-01-01') FROM campaigns WHERE template_name IS NOT NULL AND COALESCE(started_at, scheduled_at, created_at) >= $range_start AND COALESCE(started_at, scheduled_at, created_at) < $range_end AND dt <= $dt_to AND ($channel_id IS NULL OR channel_id = $channel_id)
WITH camps AS (
    SELECT tenant_id, campaign_id, template_name
    FROM campaigns
    WHERE template_name IS NOT NULL
      AND COALESCE(started_at, scheduled_at, created_at) >= $range_start
      AND COALESCE(started_at, scheduled_at, created_at) < $range_end
      AND dt <= $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
),
latest AS (
    -- Each recipient's latest attempt ((tenant, campaign, contact, attempt) is a row's key):
    -- one aggregation with arg_max, not a ROW_NUMBER window over a million small partitions.
    SELECT
        r.tenant_id,
        r.campaign_id,
        r.contact_id,
        c.template_name,
        arg_max(r.message_id, r.attempt) AS message_id,
        arg_max(r.send_result, r.attempt) AS send_result
    FROM campaign_recipients r
    JOIN camps c ON c.tenant_id = r.tenant_id AND c.campaign_id = r.campaign_id
    WHERE r.dt >= $since
    GROUP BY r.tenant_id, r.campaign_id, r.contact_id, c.template_name
),
-- The sends as messages (message_delivery and message_response have a row per outbound message).
sends AS (
    SELECT tenant_id, channel_id, contact_id, message_id, ts
    FROM messages
    WHERE dt >= $since AND direction = 'outbound'
      AND message_id IN (SELECT message_id FROM latest WHERE message_id IS NOT NULL)
),
delivery AS (
    SELECT
        tenant_id,
        message_id,
        min(ts) FILTER (WHERE status IN ('sent', 'delivered', 'read', 'played')) AS sent_at,
        min(ts) FILTER (WHERE status IN ('delivered', 'read', 'played')) AS delivered_at,
        min(ts) FILTER (WHERE status = 'read') AS read_at,
        bool_or(status = 'failed') AS failed
    FROM message_statuses
    WHERE dt >= $since
      AND message_id IN (SELECT message_id FROM latest WHERE message_id IS NOT NULL)
    GROUP BY tenant_id, message_id
),
explicit AS (
    SELECT tenant_id, channel_id, contact_id, context_message_id AS message_id, min(ts) AS replied_at
    FROM messages
    WHERE direction = 'inbound' AND dt >= $since
      AND context_message_id IN (SELECT message_id FROM latest WHERE message_id IS NOT NULL)
    GROUP BY tenant_id, channel_id, contact_id, context_message_id
),
-- Over the recipients' own messages from $since on (a send looks only forward).
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
firsts AS (
    SELECT tenant_id, channel_id, contact_id, min(ts) AS first_inbound
    FROM messages m
    WHERE direction = 'inbound'
      AND EXISTS (
        SELECT 1 FROM latest l WHERE l.tenant_id = m.tenant_id AND l.contact_id = m.contact_id)
    GROUP BY 1, 2, 3
),
per AS (
    SELECT
        l.campaign_id,
        l.template_name,
        l.send_result = 'accepted' AS accepted,
        -- message_delivery's final_status is 'failed' when a failure came and no delivery.
        l.send_result = 'accepted' AND l.message_id IS NOT NULL
            AND NOT COALESCE(d.failed AND d.delivered_at IS NULL, false) AS success,
        d.sent_at,
        d.delivered_at,
        d.read_at,
        COALESCE(e.replied_at, i.replied_at) AS replied_at,
        f.first_inbound IS NOT NULL AND f.first_inbound < x.ts AS returning
    FROM latest l
    LEFT JOIN sends x ON x.tenant_id = l.tenant_id AND x.message_id = l.message_id
    LEFT JOIN delivery d ON d.tenant_id = x.tenant_id AND d.message_id = x.message_id
    LEFT JOIN explicit e
        ON e.tenant_id = x.tenant_id AND e.channel_id = x.channel_id
       AND e.contact_id = x.contact_id AND e.message_id = x.message_id AND e.replied_at > x.ts
    LEFT JOIN implicit i
        ON i.tenant_id = x.tenant_id AND i.channel_id = x.channel_id
       AND i.contact_id = x.contact_id AND i.message_id = x.message_id
    LEFT JOIN firsts f
        ON f.tenant_id = x.tenant_id AND f.channel_id = x.channel_id AND f.contact_id = x.contact_id
)
SELECT
    campaign_id,
    template_name,
    count(*) AS sends,
    count(*) FILTER (WHERE accepted) AS accepted,
    count(*) FILTER (WHERE sent_at IS NOT NULL) AS sent,
    count(*) FILTER (WHERE delivered_at IS NOT NULL) AS delivered,
    count(*) FILTER (WHERE read_at IS NOT NULL) AS "read",
    count(*) FILTER (WHERE NOT success) AS failed,
    count(*) FILTER (WHERE replied_at IS NOT NULL) AS replied,
    count(*) FILTER (WHERE replied_at IS NOT NULL AND NOT returning) AS new_users,
    count(*) FILTER (WHERE replied_at IS NOT NULL AND returning) AS returning_users
FROM per
GROUP BY campaign_id, template_name
ORDER BY campaign_id
