-- Glific analytics, the summary cards, as one row (canonical definitions, domain 10.3):
--
-- inbound / outbound / hsm: messages in the range (hsm = outbound templates);
-- errors: outbound messages in the range whose final status is failed, plus campaign sends
--   rejected synchronously in the range (they have no message);
-- conversations: all_conversations opened in the range;
-- contacts_in_flows: flow runs started in the range and still active;
-- flows_started: runs started in the range; flows_completed: runs that ended `completed` in the
--   range (Glific also counts killed runs; we do not);
-- opted_in / opted_out / non_opted, valid_contacts / invalid_contacts: current state
--   (`optin_status`, `provider_status`) of the contacts that exist at the end of the range;
-- optins_in_range / optouts_in_range: distinct contacts with an opted_in / opted_out event in the range.
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH msg AS (
    SELECT
        count(*) FILTER (WHERE direction = 'inbound') AS inbound,
        count(*) FILTER (WHERE direction = 'outbound') AS outbound,
        count(*) FILTER (WHERE direction = 'outbound' AND is_template) AS hsm
    FROM messages
    WHERE ts >= $range_start AND ts < $range_end
      AND dt BETWEEN $dt_from AND $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
),
failed AS (
    -- message_delivery's final status, stored per outbound message in message_outcomes.
    SELECT count(*) AS n
    FROM message_outcomes
    WHERE final_status = 'failed'
      AND ts >= $range_start AND ts < $range_end
      AND dt BETWEEN $dt_from AND $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
),
rejected AS (
    SELECT count(*) AS n
    FROM campaign_recipients r
    JOIN campaigns c ON c.tenant_id = r.tenant_id AND c.campaign_id = r.campaign_id
    WHERE r.send_result = 'rejected'
      AND COALESCE(r.processed_at, r.queued_at) >= $range_start
      AND COALESCE(r.processed_at, r.queued_at) < $range_end
      AND ($channel_id IS NULL OR c.channel_id = $channel_id)
),
conv AS (
    SELECT count(*) AS n
    FROM all_conversations
    WHERE opened_at >= $range_start AND opened_at < $range_end
      AND dt BETWEEN $dt_from AND $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
),
runs AS (
    SELECT
        count(*) FILTER (WHERE started_at >= $range_start AND started_at < $range_end
                           AND ended_at IS NULL) AS contacts_in_flows,
        count(*) FILTER (WHERE started_at >= $range_start AND started_at < $range_end) AS flows_started,
        count(*) FILTER (WHERE ended_at >= $range_start AND ended_at < $range_end
                           AND end_reason = 'completed') AS flows_completed
    FROM flow_runs
    WHERE ($channel_id IS NULL OR channel_id = $channel_id)
),
people AS (
    SELECT
        count(*) FILTER (WHERE optin_status = 'opted_in') AS opted_in,
        count(*) FILTER (WHERE optin_status = 'opted_out') AS opted_out,
        count(*) FILTER (WHERE optin_status IS NULL OR optin_status = 'none') AS non_opted,
        count(*) FILTER (WHERE provider_status = 'valid') AS valid_contacts,
        count(*) FILTER (WHERE provider_status = 'invalid') AS invalid_contacts
    FROM contacts
    WHERE created_at < $range_end
      AND ($channel_id IS NULL OR channel_id = $channel_id)
),
optevents AS (
    SELECT
        count(DISTINCT CASE WHEN event_type = 'opted_in' THEN tenant_id || '/' || contact_id END) AS optins_in_range,
        count(DISTINCT CASE WHEN event_type = 'opted_out' THEN tenant_id || '/' || contact_id END) AS optouts_in_range
    FROM contact_events
    WHERE event_type IN ('opted_in', 'opted_out')
      AND ts >= $range_start AND ts < $range_end
      AND dt BETWEEN $dt_from AND $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id)
)
SELECT
    msg.inbound,
    msg.outbound,
    msg.hsm,
    failed.n + rejected.n AS errors,
    conv.n AS conversations,
    runs.contacts_in_flows,
    runs.flows_started,
    runs.flows_completed,
    people.opted_in,
    people.opted_out,
    people.non_opted,
    people.valid_contacts,
    people.invalid_contacts,
    optevents.optins_in_range,
    optevents.optouts_in_range
FROM msg, failed, rejected, conv, runs, people, optevents
