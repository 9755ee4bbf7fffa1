//! One `contact_id` per WhatsApp user over all bodies, for users with a business-scoped user
//! id (BSUID, reference 5.5).
//!
//! Since 2026 Meta names every user of a body by a BSUID (`from_user_id`, `contacts[].user_id`,
//! `recipient_user_id`), and by the phone number (`from`, `wa_id`, `recipient_id`) only while
//! the user has not turned WhatsApp usernames on. One body alone names the user by the phone
//! number when it has one, else by `bsuid:` + the BSUID ([`super::rows::contact_id`]): a user
//! who turns usernames on, or whose phone number shows up after a username-only start, would be
//! two contacts. This module gives every row of a BSUID the contact id of the BSUID's **first
//! sighting**:
//!
//! | the BSUID (per tenant and channel)                         | `contact_id` of its rows                        | written |
//! |------------------------------------------------------------|-------------------------------------------------|---------|
//! | linked in the lake, or earlier in this run ([`Links`])      | the linked one                                  | nothing |
//! | new, and some row of it in these bodies has the phone number | the phone number (the `wa_id`), as every other source of chatlake names contacts | a link |
//! | new, and no row of it has a phone number (username only)   | `bsuid:` + the BSUID, kept when the phone number shows up later | a link |
//!
//! So a user first seen with a phone number keeps it as the contact id when later messages
//! carry only the BSUID, and a username-only user keeps `bsuid:…` when a later body adds the
//! `wa_id`: either way the user's messages are one contact in the reports, whatever order the
//! bodies arrive in. Each row keeps the `wa_id` its body gave (a row without one whose contact
//! id is a phone number gets that number), so that `country_code` is derived whenever a number
//! is known.
//!
//! A link is a `contact_events` row: `event_type = 'field_updated'`, `method = 'webhook'`,
//! `key = 'bsuid'`, `value` = the BSUID, `contact_id` = the contact, `ts` = the BSUID's first
//! time in the bodies. It is SPEC's row for a change of a contact's fields, so no table or
//! column beyond the spec is needed; a redelivered body finds the link and writes none.
//! A user whose rows the lake held before it held links (ingested before this version) gets a
//! link at its next body with a BSUID; `chatlake ingest --reparse` re-derives older days.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch, StringArray};
use arrow::datatypes::TimestampMicrosecondType;
use datafusion::prelude::SessionContext;

use super::expand::Collected;
use super::rows::{BSUID_PREFIX, ContactEventRow};
use crate::error::Result;
use crate::ingest::dedup::strings;

/// `(tenant_id, channel_id, BSUID)`.
type Key = (String, String, String);

/// The contact id of each BSUID met so far in one run (the links the lake holds, and those of
/// bodies not yet committed, such as the earlier chunks of one file import).
#[derive(Debug, Clone, Default)]
pub struct Links(HashMap<Key, String>);

impl Links {
    /// The contact id linked to `bsuid` in `tenant_id`/`channel_id`, if known.
    pub fn get(&self, tenant_id: &str, channel_id: &str, bsuid: &str) -> Option<&str> {
        self.0
            .get(&(tenant_id.into(), channel_id.into(), bsuid.into()))
            .map(String::as_str)
    }
}

/// What the rows of one BSUID in these bodies say.
#[derive(Debug, Clone, Default)]
struct Sighting {
    /// The earliest time of any of its rows.
    first: Option<i64>,
    /// The phone number of its earliest row that has one, with that row's time.
    phone: Option<(i64, String)>,
}

impl Sighting {
    fn saw(&mut self, ts: i64, phone: Option<&str>) {
        self.first = Some(self.first.map_or(ts, |f| f.min(ts)));
        if let Some(p) = phone
            && self.phone.as_ref().is_none_or(|(t, _)| ts < *t)
        {
            self.phone = Some((ts, p.to_string()));
        }
    }
}

/// Gives every row of `parts` that has a BSUID the contact id of the BSUID's first sighting
/// (stored links read through `ctx`, then `links`, else these rows), and adds the links of
/// new BSUIDs to the first part's `contact_events` and to `links`; see the module docs.
pub async fn resolve(
    ctx: &SessionContext,
    parts: &mut [Collected],
    links: &mut Links,
) -> Result<()> {
    let mut seen: BTreeMap<Key, Sighting> = BTreeMap::new();
    for part in parts.iter() {
        for m in &part.messages {
            if let Some(b) = &m.bsuid {
                let phone = m.wa_id.as_deref();
                sighting(&mut seen, &m.tenant_id, &m.channel_id, b).saw(m.ts, phone);
            }
        }
        for c in &part.contacts {
            if let Some(b) = &c.bsuid {
                let phone = c.wa_id.as_deref();
                sighting(&mut seen, &c.tenant_id, &c.channel_id, b).saw(c.created_at, phone);
            }
        }
        for c in &part.conversations {
            if let Some(b) = &c.bsuid {
                let phone = Some(c.contact_id.as_str()).filter(|id| !id.starts_with(BSUID_PREFIX));
                sighting(&mut seen, &c.tenant_id, &c.channel_id, b).saw(c.opened_at, phone);
            }
        }
    }
    if seen.is_empty() {
        // No row has a BSUID (bodies from before 2026, Messenger): nothing to do.
        return Ok(());
    }
    seen.retain(|key, _| !links.0.contains_key(key));
    if !seen.is_empty() {
        for (key, contact) in stored(ctx, seen.keys()).await? {
            seen.remove(&key);
            links.0.insert(key, contact);
        }
    }
    let mut new_links = Vec::with_capacity(seen.len());
    for (key, sighting) in seen {
        let contact = match sighting.phone {
            Some((_, phone)) => phone,
            None => format!("{BSUID_PREFIX}{}", key.2),
        };
        new_links.push(ContactEventRow {
            tenant_id: key.0.clone(),
            channel_id: key.1.clone(),
            contact_id: contact.clone(),
            ts: sighting.first.unwrap_or_default(),
            event_type: "field_updated",
            method: Some("webhook".into()),
            key: Some("bsuid".into()),
            value: Some(key.2.clone()),
        });
        links.0.insert(key, contact);
    }
    for part in parts.iter_mut() {
        for m in &mut part.messages {
            if let Some(b) = &m.bsuid
                && let Some(contact) = links.get(&m.tenant_id, &m.channel_id, b)
            {
                m.contact_id = contact.to_string();
                m.wa_id = m.wa_id.take().or_else(|| phone_of(contact));
            }
        }
        for c in &mut part.contacts {
            if let Some(b) = &c.bsuid
                && let Some(contact) = links.get(&c.tenant_id, &c.channel_id, b)
            {
                c.contact_id = contact.to_string();
                c.wa_id = c.wa_id.take().or_else(|| phone_of(contact));
            }
        }
        for c in &mut part.conversations {
            if let Some(b) = &c.bsuid
                && let Some(contact) = links.get(&c.tenant_id, &c.channel_id, b)
            {
                c.contact_id = contact.to_string();
            }
        }
    }
    if let Some(first) = parts.first_mut() {
        first.contact_events.extend(new_links);
    }
    Ok(())
}

/// The sighting of `bsuid` in `tenant_id`/`channel_id`.
fn sighting<'a>(
    seen: &'a mut BTreeMap<Key, Sighting>,
    tenant_id: &str,
    channel_id: &str,
    bsuid: &str,
) -> &'a mut Sighting {
    seen.entry((tenant_id.into(), channel_id.into(), bsuid.into()))
        .or_default()
}

/// `contact` as a `wa_id` when it is a phone number (not a `bsuid:` id).
fn phone_of(contact: &str) -> Option<String> {
    (!contact.starts_with(BSUID_PREFIX)).then(|| contact.to_string())
}

/// The links the lake `ctx` reads holds for `keys`: the earliest one of each.
async fn stored<'a>(
    ctx: &SessionContext,
    keys: impl Iterator<Item = &'a Key>,
) -> Result<Vec<(Key, String)>> {
    let keys: Vec<&Key> = keys.collect();
    let column = |pick: fn(&Key) -> &str| {
        Arc::new(StringArray::from_iter_values(keys.iter().map(|k| pick(k)))) as _
    };
    let wanted = RecordBatch::try_from_iter([
        ("tenant_id", column(|k| &k.0)),
        ("channel_id", column(|k| &k.1)),
        ("bsuid", column(|k| &k.2)),
    ])?;
    let local = SessionContext::new();
    local.register_batch("wanted", wanted)?;
    local.register_table(
        "contact_events",
        ctx.table_provider("contact_events").await?,
    )?;
    let batches = local
        .sql(
            "SELECT e.tenant_id, e.channel_id, e.value AS bsuid, e.contact_id, e.ts \
             FROM contact_events e JOIN wanted w ON e.tenant_id = w.tenant_id \
             AND e.channel_id = w.channel_id AND e.value = w.bsuid \
             WHERE e.event_type = 'field_updated' AND e.key = 'bsuid' AND e.method = 'webhook'",
        )
        .await?
        .collect()
        .await?;
    let mut earliest: BTreeMap<Key, (i64, String)> = BTreeMap::new();
    for batch in &batches {
        let (t, c) = (strings(batch, "tenant_id")?, strings(batch, "channel_id")?);
        let (b, contact) = (strings(batch, "bsuid")?, strings(batch, "contact_id")?);
        let ts = batch.column(4).as_primitive::<TimestampMicrosecondType>();
        for row in 0..batch.num_rows() {
            let (Some(t), Some(c), Some(b), Some(contact)) = (
                t[row].clone(),
                c[row].clone(),
                b[row].clone(),
                contact[row].clone(),
            ) else {
                continue;
            };
            let at = ts.value(row);
            let entry = earliest.entry((t, c, b)).or_insert((at, contact.clone()));
            if at < entry.0 {
                *entry = (at, contact);
            }
        }
    }
    Ok(earliest
        .into_iter()
        .map(|(key, (_, contact))| (key, contact))
        .collect())
}
