-- latest_attempts: each campaign recipient once, by its latest attempt (an automatic 130429
-- retry is attempt 2 of the same campaign). (tenant_id, campaign_id, contact_id, attempt) is a
-- campaign_recipients row's key, so every column comes from that one row. One aggregation with
-- arg_max: a ROW_NUMBER window over a partition per recipient cost about 1 s per million
-- recipients. A filter on campaign_id reaches the campaign_recipients scan.
CREATE VIEW latest_attempts AS
SELECT
    tenant_id,
    campaign_id,
    contact_id,
    max(attempt) AS attempt,
    arg_max(message_id, attempt) AS message_id,
    arg_max(queued_at, attempt) AS queued_at,
    arg_max(processed_at, attempt) AS processed_at,
    arg_max(send_result, attempt) AS send_result,
    arg_max(reject_code, attempt) AS reject_code,
    arg_max(reject_reason, attempt) AS reject_reason
FROM campaign_recipients
GROUP BY tenant_id, campaign_id, contact_id
