-- Botmaker template metrics, the session list of one campaign (NULL = every campaign): one row
-- per recipient (latest attempt), newest send first. sent_at = the sent callback (NULL when
-- rejected or never sent); is_new = the contact had sent no inbound message before the
-- template (before the send was processed, for a send with no message); error = the reject
-- code/reason, else the first failed callback's. Stream it as TSV with
-- COPY (SELECT * FROM template_sessions('c1')) TO STDOUT (FORMAT csv, DELIMITER E'\t', HEADER).
--
-- Delivery, reply and "wrote before" are looked up per send in message_outcomes, which stores
-- message_delivery's and message_response's definitions per outbound message at write time.
-- Everything of a campaign happens after it was created, so $since (the day before the earliest
-- creation among the campaigns asked for) prunes the outcomes to that time on.
-- param: campaign_id text
-- let: since date = SELECT COALESCE(CAST(min(created_at) AS DATE) - INTERVAL '1 day', DATE '1970-01-01') FROM campaigns WHERE $campaign_id IS NULL OR campaign_id = $campaign_id
WITH latest AS (
    SELECT * FROM latest_attempts WHERE $campaign_id IS NULL OR campaign_id = $campaign_id
),
sends AS (
    SELECT
        l.tenant_id,
        l.campaign_id,
        l.contact_id,
        l.processed_at,
        l.reject_code,
        l.reject_reason,
        o.message_id IS NOT NULL AS has_message,
        o.sent_at,
        o.delivered_at,
        o.read_at,
        o.replied_at,
        o.contact_wrote_before,
        o.error_code,
        o.error_title
    FROM latest l
    LEFT JOIN message_outcomes o
        ON o.tenant_id = l.tenant_id AND o.message_id = l.message_id AND o.dt >= $since
),
-- The first inbound message of the recipients whose send has no message (rejected): "new" is
-- then judged at the time the send was processed.
firsts AS (
    SELECT tenant_id, channel_id, contact_id, min(ts) AS first_inbound
    FROM messages m
    WHERE direction = 'inbound'
      AND EXISTS (
        SELECT 1 FROM sends s
        WHERE NOT s.has_message AND s.tenant_id = m.tenant_id AND s.contact_id = m.contact_id)
    GROUP BY 1, 2, 3
)
-- The string columns are copied into compact arrays before the sort (arrow_cast to Utf8 and
-- back): as they leave the joins, each batch's Utf8View arrays reference every data buffer of
-- the join's build side (apache/datafusion#16206), and sorting 500k such rows (every campaign)
-- spent most of its time walking those buffer lists (benches/RESULTS.md, issue 23).
SELECT
    arrow_cast(arrow_cast(k.wa_id, 'Utf8'), 'Utf8View') AS wa_id,
    arrow_cast(arrow_cast(s.contact_id, 'Utf8'), 'Utf8View') AS contact_id,
    s.sent_at,
    arrow_cast(arrow_cast(c.channel_id, 'Utf8'), 'Utf8View') AS channel_id,
    CASE WHEN s.has_message THEN NOT s.contact_wrote_before
         ELSE NOT COALESCE(f.first_inbound < s.processed_at, false) END AS is_new,
    s.delivered_at,
    s.read_at,
    s.replied_at,
    COALESCE(s.reject_code, s.error_code) AS error_code,
    arrow_cast(arrow_cast(COALESCE(s.reject_reason, s.error_title), 'Utf8'), 'Utf8View') AS error_title
FROM sends s
JOIN campaigns c ON c.tenant_id = s.tenant_id AND c.campaign_id = s.campaign_id
LEFT JOIN contacts k
    ON k.tenant_id = s.tenant_id AND k.channel_id = c.channel_id AND k.contact_id = s.contact_id
LEFT JOIN firsts f
    ON f.tenant_id = s.tenant_id AND f.channel_id = c.channel_id AND f.contact_id = s.contact_id
ORDER BY sent_at DESC NULLS LAST, contact_id
