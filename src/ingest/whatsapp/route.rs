//! Which tenant and channel a body is for: `metadata.phone_number_id` looked up in `channels`.
//!
//! | `channels` rows with the phone number id | route                                         |
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

/// Phone number id -> the `(tenant_id, channel_id)` of every channel having it.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    by_phone: HashMap<String, Vec<(String, String)>>,
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
            let entry = by_phone.entry(phone.into()).or_default();
            let pair = (tenant.into(), channel.into());
            if !entry.contains(&pair) {
                entry.push(pair);
            }
        }
        Routes { by_phone }
    }

    /// The routes of the `channels` table `ctx` has registered (its newest snapshot).
    pub async fn load(ctx: &SessionContext) -> Result<Routes> {
        let batches = ctx
            .sql(
                "SELECT phone_number_id, tenant_id, channel_id FROM channels \
                 WHERE phone_number_id IS NOT NULL",
            )
            .await?
            .collect()
            .await?;
        let mut triples = Vec::new();
        for batch in &batches {
            let (p, t, c) = (
                strings(batch, "phone_number_id")?,
                strings(batch, "tenant_id")?,
                strings(batch, "channel_id")?,
            );
            for ((p, t), c) in p.into_iter().zip(t).zip(c) {
                if let (Some(p), Some(t), Some(c)) = (p, t, c) {
                    triples.push((p, t, c));
                }
            }
        }
        Ok(Routes::from_channels(triples))
    }

    /// Where `phone_number_id` goes.
    pub fn route(&self, phone_number_id: &str) -> Route<'_> {
        match self.by_phone.get(phone_number_id).map(Vec::as_slice) {
            None | Some([]) => Route::Unknown,
            Some([(tenant_id, channel_id)]) => Route::Channel {
                tenant_id,
                channel_id,
            },
            Some(many) => Route::Ambiguous(many.len()),
        }
    }
}
