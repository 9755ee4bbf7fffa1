-- Stella dashboard, WhatsApp conversations: conversations opened per local day (all_conversations:
-- webhook-reported, else derived), by direction and price class.
--
-- business_initiated: origin business_initiated, marketing, utility, authentication;
-- user_initiated: user_initiated, service, referral_conversion (free entry point counts as user-initiated);
-- free_entry_point: referral_conversion;
-- free_tier: the first 1000 eligible conversations per WABA per calendar month (UTC month), in
--   opening order, over all the numbers of the WABA (a channel filter picks rows after the
--   ranking); eligible = every non-FEP conversation before 2023-06-01 (CBP v1), only
--   service conversations from 2023-06-01 to 2024-10-31 (CBP v2), none from 2024-11-01
--   (service is free for all then, and that is not "free tier");
-- paid: neither free entry point nor free tier, and billable (NULL billable counts as billable).
-- param: from_date date
-- param: to_date date
-- param: channel_id text
-- param: tz text
WITH days AS (
    SELECT unnest(generate_series($from_date, $to_date, INTERVAL '1 day')) AS day
),
wabas AS (
    -- The WABAs whose conversations are ranked: every one, or the given channel's.
    SELECT DISTINCT waba_id FROM channels
    WHERE waba_id IS NOT NULL AND ($channel_id IS NULL OR channel_id = $channel_id)
),
month_convs AS (
    -- From the start of the first range month (UTC), so the free-tier rank counts from month
    -- start; every channel of the WABAs, so the rank is the WABA's.
    SELECT
        channel_id, waba_id, opened_at, origin, billable,
        CASE
            WHEN opened_at < TIMESTAMP '2023-06-01T00:00:00Z' THEN origin <> 'referral_conversion'
            WHEN opened_at < TIMESTAMP '2024-11-01T00:00:00Z' THEN origin = 'service'
            ELSE false
        END AS eligible
    FROM all_conversations
    WHERE opened_at >= date_trunc('month', $range_start - INTERVAL '1 day')
      AND opened_at < $range_end
      AND dt BETWEEN date_trunc('month', $dt_from) AND $dt_to
      AND ($channel_id IS NULL OR channel_id = $channel_id
           OR waba_id IN (SELECT waba_id FROM wabas))
),
ranked AS (
    SELECT
        *,
        ROW_NUMBER() OVER (
            PARTITION BY waba_id, date_trunc('month', opened_at), eligible
            ORDER BY opened_at) AS rn
    FROM month_convs
),
classified AS (
    SELECT
        local_date(opened_at, $tz) AS day,
        origin,
        origin = 'referral_conversion' AS fep,
        eligible AND rn <= 1000 AS free_tier,
        COALESCE(billable, true) AS billable
    FROM ranked
    WHERE opened_at >= $range_start
      AND ($channel_id IS NULL OR channel_id = $channel_id)
),
counts AS (
    SELECT
        day,
        count(*) FILTER (WHERE origin IN ('business_initiated', 'marketing', 'utility', 'authentication'))
            AS business_initiated,
        count(*) FILTER (WHERE origin IN ('user_initiated', 'service', 'referral_conversion'))
            AS user_initiated,
        count(*) FILTER (WHERE free_tier) AS free_tier,
        count(*) FILTER (WHERE fep) AS free_entry_point,
        count(*) FILTER (WHERE NOT fep AND NOT free_tier AND billable) AS paid
    FROM classified
    GROUP BY day
)
SELECT
    d.day,
    COALESCE(c.business_initiated, 0) AS business_initiated,
    COALESCE(c.user_initiated, 0) AS user_initiated,
    COALESCE(c.free_tier, 0) AS free_tier,
    COALESCE(c.free_entry_point, 0) AS free_entry_point,
    COALESCE(c.paid, 0) AS paid
FROM days d
LEFT JOIN counts c ON c.day = d.day
ORDER BY d.day
