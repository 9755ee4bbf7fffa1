-- Stella Push Panel: the outcome of a campaign's recipients (NULL campaign_id = every campaign,
-- one row each). Each recipient counts once, by its latest attempt within the campaign (an
-- automatic 130429 retry is attempt 2 of the same campaign; a retry audience is its own campaign).
--
-- success = accepted by the API and not failed without a later delivery;
-- read = a read callback (both looked up per message in message_outcomes); interacted = an inbound whose context_message_id is the message
--   (quoted reply or button click) or an analytics event (category 'campaign', label = the
--   campaign id) of the contact;
-- read_and_interacted + read_only + interacted_only + not_read_or_interacted = sent_success;
-- sent_success + sent_fail = recipients; pct_* = 100 * count / recipients.
--
-- Everything of a campaign happens after it was created: its recipients, their messages'
-- callbacks, replies and clicks. $since (the day before the earliest creation among the
-- campaigns asked for) prunes those tables' partitions to that time on.
-- param: campaign_id text
-- let: since date = SELECT COALESCE(CAST(min(created_at) AS DATE) - INTERVAL '1 day', DATE '1970-01-01') FROM campaigns WHERE $campaign_id IS NULL OR campaign_id = $campaign_id
WITH latest AS (
    SELECT * FROM latest_attempts
    WHERE ($campaign_id IS NULL OR campaign_id = $campaign_id)
),
-- Replies quoting any attempt's message: a superset of the latest attempts' that the join
-- below narrows, and naming campaign_recipients here instead of `latest` spares a second
-- computation of latest_attempts (a CTE is computed once per reference).
replies AS (
    SELECT DISTINCT tenant_id, context_message_id AS message_id
    FROM messages
    WHERE direction = 'inbound' AND dt >= $since
      AND context_message_id IN (
          SELECT message_id FROM campaign_recipients
          WHERE ($campaign_id IS NULL OR campaign_id = $campaign_id) AND message_id IS NOT NULL)
),
clicks AS (
    SELECT DISTINCT tenant_id, contact_id, label AS campaign_id
    FROM analytics_events
    WHERE category = 'campaign' AND dt >= $since AND ($campaign_id IS NULL OR label = $campaign_id)
),
outcome AS (
    SELECT
        l.tenant_id,
        l.campaign_id,
        -- message_outcomes' final_status is 'failed' when a failure came and no delivery.
        l.send_result = 'accepted' AND l.message_id IS NOT NULL
            AND (o.final_status IS DISTINCT FROM 'failed') AS success,
        o.read_at IS NOT NULL AS is_read,
        r.message_id IS NOT NULL OR k.contact_id IS NOT NULL AS interacted
    FROM latest l
    LEFT JOIN message_outcomes o
        ON o.tenant_id = l.tenant_id AND o.message_id = l.message_id AND o.dt >= $since
    LEFT JOIN replies r ON r.tenant_id = l.tenant_id AND r.message_id = l.message_id
    LEFT JOIN clicks k
        ON k.tenant_id = l.tenant_id AND k.contact_id = l.contact_id AND k.campaign_id = l.campaign_id
),
counts AS (
    SELECT
        tenant_id,
        campaign_id,
        count(*) AS recipients,
        count(*) FILTER (WHERE success AND is_read AND interacted) AS read_and_interacted,
        count(*) FILTER (WHERE success AND is_read AND NOT interacted) AS read_only,
        count(*) FILTER (WHERE success AND NOT is_read AND interacted) AS interacted_only,
        count(*) FILTER (WHERE success AND NOT is_read AND NOT interacted) AS not_read_or_interacted,
        count(*) FILTER (WHERE success) AS sent_success,
        count(*) FILTER (WHERE NOT success) AS sent_fail
    FROM outcome
    GROUP BY tenant_id, campaign_id
),
finish AS (
    SELECT tenant_id, campaign_id, max(processed_at) AS last_processed
    FROM campaign_recipients
    WHERE ($campaign_id IS NULL OR campaign_id = $campaign_id)
    GROUP BY tenant_id, campaign_id
)
SELECT
    n.campaign_id,
    c.started_at AS start_at,
    COALESCE(c.finished_at, f.last_processed) AS finish_at,
    n.recipients,
    n.read_and_interacted,
    n.read_only,
    n.interacted_only,
    n.not_read_or_interacted,
    n.sent_success,
    n.sent_fail,
    round(100.0 * n.read_and_interacted / n.recipients, 2) AS pct_read_and_interacted,
    round(100.0 * n.read_only / n.recipients, 2) AS pct_read_only,
    round(100.0 * n.interacted_only / n.recipients, 2) AS pct_interacted_only,
    round(100.0 * n.not_read_or_interacted / n.recipients, 2) AS pct_not_read_or_interacted,
    round(100.0 * n.sent_success / n.recipients, 2) AS pct_sent_success,
    round(100.0 * n.sent_fail / n.recipients, 2) AS pct_sent_fail
FROM counts n
LEFT JOIN campaigns c ON c.tenant_id = n.tenant_id AND c.campaign_id = n.campaign_id
LEFT JOIN finish f ON f.tenant_id = n.tenant_id AND f.campaign_id = n.campaign_id
ORDER BY start_at, n.campaign_id
