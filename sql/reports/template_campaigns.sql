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
-- Delivery, reply and "returning" are looked up per send in message_outcomes, which stores
-- message_delivery's and message_response's definitions per outbound message at write time.
-- Everything of a campaign happens after it was created, so $since (the day before the earliest
-- creation among them) prunes recipients and outcomes to that time on.
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
per AS (
    SELECT
        l.campaign_id,
        l.template_name,
        l.send_result = 'accepted' AS accepted,
        -- message_delivery's final_status is 'failed' when a failure came and no delivery.
        l.send_result = 'accepted' AND l.message_id IS NOT NULL
            AND (o.final_status IS DISTINCT FROM 'failed') AS success,
        o.sent_at,
        o.delivered_at,
        o.read_at,
        o.replied_at,
        o.contact_wrote_before AS returning
    FROM latest l
    LEFT JOIN message_outcomes o
        ON o.tenant_id = l.tenant_id AND o.message_id = l.message_id AND o.dt >= $since
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
