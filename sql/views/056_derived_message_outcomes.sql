-- derived_message_outcomes: per outbound message, message_delivery's timeline and final status,
-- message_response's reply, and whether the contact had written before it, computed in one pass
-- over the whole lake.
--
-- Every writer of messages and callbacks stores this view's rows as the table
-- `message_outcomes` (chatlake::engine::derived::refresh, run at the end of `generate`, or
-- `chatlake refresh`), so campaign and failure reports look a message's outcome up by its id
-- instead of grouping every callback and reply of the lake. Querying this view derives them live.
--
-- message_delivery gives the timeline, final status and first error; the reply is
-- message_response's: the explicit reply (first inbound quoting the message after it) else the
-- implicit one, here with implicit_replies (first inbound within 24 h and before the next
-- outbound template; the view message_response uses a window). contact_wrote_before = the
-- contact (tenant, channel, contact) had sent an inbound message before this message's time.
--
-- The joins keep each aggregate on the left (the hash join's build side) and the messages on
-- the right: a build side that is itself a join's output carries Utf8View columns whose data
-- buffers every later join copies references to, and a chain of such joins blows up in memory
-- (apache/datafusion#16206; this view aborted at 14 GB written the other way round).
CREATE VIEW derived_message_outcomes AS
WITH explicit AS (
    SELECT tenant_id, channel_id, contact_id, context_message_id AS message_id, min(ts) AS replied_at
    FROM messages
    WHERE direction = 'inbound' AND context_message_id IS NOT NULL
    GROUP BY tenant_id, channel_id, contact_id, context_message_id
),
implicit AS (
    SELECT tenant_id, channel_id, contact_id,
           reply['message_id'] AS message_id, reply['replied_at'] AS replied_at
    FROM (
        SELECT tenant_id, channel_id, contact_id,
               unnest(implicit_replies(message_id, ts, direction, is_template)) AS reply
        FROM messages
        GROUP BY tenant_id, channel_id, contact_id)
),
firsts AS (
    SELECT tenant_id, channel_id, contact_id, min(ts) AS first_inbound
    FROM messages
    WHERE direction = 'inbound'
    GROUP BY tenant_id, channel_id, contact_id
),
with_status AS (
    SELECT tenant_id, channel_id, message_id, contact_id, ts, dt,
           is_template, template_name, campaign_id,
           sent_at, delivered_at, read_at, failed_at, final_status, error_code, error_title
    FROM message_delivery
),
with_explicit AS (
    SELECT w.*, e.replied_at AS explicit_at
    FROM explicit e
    RIGHT JOIN with_status w
        ON e.tenant_id = w.tenant_id AND e.channel_id = w.channel_id
       AND e.contact_id = w.contact_id AND e.message_id = w.message_id AND e.replied_at > w.ts
),
with_implicit AS (
    SELECT w.*, i.replied_at AS implicit_at
    FROM implicit i
    RIGHT JOIN with_explicit w
        ON i.tenant_id = w.tenant_id AND i.channel_id = w.channel_id
       AND i.contact_id = w.contact_id AND i.message_id = w.message_id
)
SELECT
    w.tenant_id, w.channel_id, w.message_id, w.contact_id, w.ts, w.dt,
    w.is_template, w.template_name, w.campaign_id,
    w.sent_at, w.delivered_at, w.read_at, w.failed_at,
    w.final_status,
    w.error_code,
    w.error_title,
    COALESCE(w.explicit_at, w.implicit_at) AS replied_at,
    CASE WHEN w.explicit_at IS NOT NULL THEN 'explicit'
         WHEN w.implicit_at IS NOT NULL THEN 'implicit' END AS reply_kind,
    COALESCE(f.first_inbound < w.ts, false) AS contact_wrote_before
FROM firsts f
RIGHT JOIN with_implicit w
    ON f.tenant_id = w.tenant_id AND f.channel_id = w.channel_id AND f.contact_id = w.contact_id
