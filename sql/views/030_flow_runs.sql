-- flow_runs (SPEC 4): one row per flow run.
--
-- started_at = the `started` event (the first event when the start is outside the data);
-- ended_at / end_reason = the first completed/killed/expired/errored event; NULL = still active.
-- trigger and campaign_id come from the `started` row (the generator puts them only there).
CREATE VIEW flow_runs AS
SELECT
    tenant_id,
    flow_run_id,
    arg_min(flow_id, ts) AS flow_id,
    arg_min(channel_id, ts) AS channel_id,
    arg_min(contact_id, ts) AS contact_id,
    COALESCE(min(ts) FILTER (WHERE event_type = 'started'), min(ts)) AS started_at,
    min(ts) FILTER (WHERE event_type IN ('completed', 'killed', 'expired', 'errored')) AS ended_at,
    arg_min(event_type, ts)
        FILTER (WHERE event_type IN ('completed', 'killed', 'expired', 'errored')) AS end_reason,
    arg_min("trigger", ts) FILTER (WHERE event_type = 'started') AS "trigger",
    arg_min(campaign_id, ts) FILTER (WHERE event_type = 'started') AS campaign_id
FROM flow_events
GROUP BY tenant_id, flow_run_id
