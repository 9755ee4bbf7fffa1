-- all_conversations (SPEC 4): billing conversations, one row each, with `source`.
--
-- webhook: what Meta reported (meta_cloud and 360dialog numbers), as the platform stored it;
--          for glific numbers, the BSP billing conversations of Glific's export.
-- derived: conversations rebuilt with wa_conversations for the WhatsApp numbers that have no
--          webhook conversation data (gupshup, twilio): the rows of derived_conversations,
--          which every write of messages stores in `conversations` with source = 'derived'.
-- billable: as reported; derived rows are billable unless free-entry-point or service from
--           2024-11-01 (all service conversations free).
CREATE VIEW all_conversations AS
SELECT
    tenant_id,
    channel_id,
    waba_id,
    conversation_id,
    contact_id,
    opened_at,
    expires_at,
    origin,
    pricing_model,
    billable,
    country_code,
    source,
    dt
FROM conversations
