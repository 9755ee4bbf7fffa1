//! Which tenant and channel a body is for: a WhatsApp body's `metadata.phone_number_id`
//! looked up in `channels.phone_number_id`; a Messenger or Instagram body's `entry[].id` (the
//! page, the Instagram account) in `channels.page_id` of the rows whose `channel_type` is that
//! platform ([`Routes::route_page`]).
//!
//! | `channels` rows with the id              | route                                         |
//! |------------------------------------------|-----------------------------------------------|
//! | one                                      | its `(tenant_id, channel_id)`                 |
//! | none                                     | [`Route::Unknown`]: kept in `webhook_unrouted` |
//! | more than one                            | [`Route::Ambiguous`]: kept in `webhook_unrouted` (guessing a tenant could show one tenant's data to another) |
//!
//! The table is read once per batch of bodies ([`Routes::load`]): a channel row added later
//! routes the bodies that arrive after it.

use std::collections::HashMap;

use datafusion::prelude::SessionContext;

use crate::error::Result;
use crate::ingest::dedup::strings;

/// Where one phone number id goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// The one channel with this phone number id.
    Channel {
        /// Its tenant.
        tenant_id: &'a str,
        /// The channel.
        channel_id: &'a str,
    },
    /// No channel has it.
    Unknown,
    /// This many channels have it.
    Ambiguous(usize),
}

/// Phone number id (and `(channel_type, page_id)`) -> the `(tenant_id, channel_id)` of every
/// channel having it.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    by_phone: HashMap<String, Vec<(String, String)>>,
    by_page: HashMap<(String, String), Vec<(String, String)>>,
}

/// Adds `(tenant, channel)` to the channels of `key`, once.
fn add_channel<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, Vec<(String, String)>>,
    key: K,
    pair: (String, String),
) {
    let entry = map.entry(key).or_default();
    if !entry.contains(&pair) {
        entry.push(pair);
    }
}

/// The route of the channels `found` (none, one or several).
fn route_of(found: Option<&Vec<(String, String)>>) -> Route<'_> {
    match found.map(Vec::as_slice) {
        None | Some([]) => Route::Unknown,
        Some([(tenant_id, channel_id)]) => Route::Channel {
            tenant_id,
            channel_id,
        },
        Some(many) => Route::Ambiguous(many.len()),
    }
}

impl Routes {
    /// Routes from `(phone_number_id, tenant_id, channel_id)` triples.
    pub fn from_channels<I, S>(channels: I) -> Routes
    where
        I: IntoIterator<Item = (S, S, S)>,
        S: Into<String>,
    {
        let mut by_phone: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for (phone, tenant, channel) in channels {
            add_channel(&mut by_phone, phone.into(), (tenant.into(), channel.into()));
        }
        Routes {
            by_phone,
            by_page: HashMap::new(),
        }
    }

    /// These routes plus pages from `(channel_type, page_id, tenant_id, channel_id)`.
    pub fn with_pages<I, S>(mut self, pages: I) -> Routes
    where
        I: IntoIterator<Item = (S, S, S, S)>,
        S: Into<String>,
    {
        for (kind, page, tenant, channel) in pages {
            add_channel(
                &mut self.by_page,
                (kind.into(), page.into()),
                (tenant.into(), channel.into()),
            );
        }
        self
    }

    /// The routes of the `channels` table `ctx` has registered (its newest snapshot).
    pub async fn load(ctx: &SessionContext) -> Result<Routes> {
        let batches = ctx
            .sql(
                "SELECT phone_number_id, page_id, channel_type, tenant_id, channel_id \
                 FROM channels WHERE phone_number_id IS NOT NULL OR page_id IS NOT NULL",
            )
            .await?
            .collect()
            .await?;
        let mut triples = Vec::new();
        let mut pages = Vec::new();
        for batch in &batches {
            let (p, g, k, t, c) = (
                strings(batch, "phone_number_id")?,
                strings(batch, "page_id")?,
                strings(batch, "channel_type")?,
                strings(batch, "tenant_id")?,
                strings(batch, "channel_id")?,
            );
            for ((((p, g), k), t), c) in p.into_iter().zip(g).zip(k).zip(t).zip(c) {
                let (Some(t), Some(c)) = (t, c) else { continue };
                if let Some(p) = p {
                    triples.push((p, t.clone(), c.clone()));
                }
                if let (Some(g), Some(k)) = (g, k) {
                    pages.push((k, g, t, c));
                }
            }
        }
        Ok(Routes::from_channels(triples).with_pages(pages))
    }

    /// Where `phone_number_id` goes.
    pub fn route(&self, phone_number_id: &str) -> Route<'_> {
        route_of(self.by_phone.get(phone_number_id))
    }

    /// Where a body of `channel_type` (`messenger`, `instagram`) for `page_id` goes.
    pub fn route_page(&self, channel_type: &str, page_id: &str) -> Route<'_> {
        route_of(
            self.by_page
                .get(&(channel_type.to_string(), page_id.to_string())),
        )
    }
}
