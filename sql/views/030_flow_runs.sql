-- flow_runs (SPEC 4): one row per flow run.
--
-- started_at = the `started` event (the first event when the start is outside the data);
-- ended_at / end_reason = the first completed/killed/expired/errored event; NULL = still active.
-- trigger and campaign_id come from the `started` row (the generator puts them only there).
CREATE VIEW flow_runs AS
SELECT
    tenant_id,
    flow_run_id,
    first_value(flow_id ORDER BY ts) AS flow_id,
    first_value(channel_id ORDER BY ts) AS channel_id,
    first_value(contact_id ORDER BY ts) AS contact_id,
    COALESCE(min(ts) FILTER (WHERE event_type = 'started'), min(ts)) AS started_at,
    min(ts) FILTER (WHERE event_type IN ('completed', 'killed', 'expired', 'errored')) AS ended_at,
    first_value(event_type ORDER BY ts)
        FILTER (WHERE event_type IN ('completed', 'killed', 'expired', 'errored')) AS end_reason,
    first_value("trigger" ORDER BY ts) FILTER (WHERE event_type = 'started') AS "trigger",
    first_value(campaign_id ORDER BY ts) FILTER (WHERE event_type = 'started') AS campaign_id
FROM flow_events
GROUP BY tenant_id, flow_run_id
