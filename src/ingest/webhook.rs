//! The three Meta webhook sources and what differs between them; everything else (body
//! storage, routing through `channels`, decoding, the WAL path, the signature check) is shared
//! and lives in [`crate::ingest::whatsapp`].
//!
//! | platform    | `object`                    | parser                          | routed by, through `channels`                 | `--format`          | endpoint              |
//! |-------------|-----------------------------|---------------------------------|-----------------------------------------------|---------------------|-----------------------|
//! | `whatsapp`  | `whatsapp_business_account` | [`crate::ingest::whatsapp::parse`] | `metadata.phone_number_id` = `phone_number_id` | `whatsapp-webhook`  | `/webhooks/whatsapp`  |
//! | `messenger` | `page`                      | [`crate::ingest::messenger::parse`] | `entry[].id` (the page) = `page_id` of a `channel_type = 'messenger'` row | `messenger-webhook` | `/webhooks/messenger` |
//! | `instagram` | `instagram`                 | [`crate::ingest::messenger::parse`] | `entry[].id` (the Instagram professional account) = `page_id` of a `channel_type = 'instagram'` row | `instagram-webhook` | `/webhooks/instagram` |
//!
//! The platform is the one of the endpoint or file format a body came through, not of its
//! `object`: a body whose `object` is another platform's is kept in `webhook_unrouted` with
//! that reason.

use crate::ingest::whatsapp::Parsed;
use crate::ingest::whatsapp::route::Routes;

/// A Meta webhook source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    /// WhatsApp Cloud API.
    Whatsapp,
    /// Facebook Messenger (a Facebook page).
    Messenger,
    /// Instagram messaging and comments (an Instagram professional account).
    Instagram,
}

impl Platform {
    /// Every platform.
    pub const ALL: [Platform; 3] = [Platform::Whatsapp, Platform::Messenger, Platform::Instagram];

    /// The `platform` column of `webhook_bodies`/`webhook_unrouted`, and the `channel_type` of
    /// the channels it routes to.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Whatsapp => "whatsapp",
            Platform::Messenger => "messenger",
            Platform::Instagram => "instagram",
        }
    }

    /// The platform of a `platform` column value.
    pub fn from_name(name: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The name shown in summaries (`WhatsApp`, `Messenger`, `Instagram`).
    pub fn display(self) -> &'static str {
        match self {
            Platform::Whatsapp => "WhatsApp",
            Platform::Messenger => "Messenger",
            Platform::Instagram => "Instagram",
        }
    }

    /// The `object` of this platform's bodies.
    pub fn object(self) -> &'static str {
        match self {
            Platform::Whatsapp => crate::ingest::whatsapp::OBJECT,
            Platform::Messenger => "page",
            Platform::Instagram => "instagram",
        }
    }

    /// The write-ahead log "table" of this platform's bodies (one raw body a record).
    pub fn wal_table(self) -> &'static str {
        match self {
            Platform::Whatsapp => "webhook:whatsapp",
            Platform::Messenger => "webhook:messenger",
            Platform::Instagram => "webhook:instagram",
        }
    }

    /// Parses one raw body of this platform received at `received_at` (µs), routing it with
    /// `routes`; fails only when `raw` is not a JSON object.
    pub fn parse(self, raw: &str, received_at: i64, routes: &Routes) -> Result<Parsed, String> {
        match self {
            Platform::Whatsapp => crate::ingest::whatsapp::parse(raw, received_at, routes),
            Platform::Messenger | Platform::Instagram => {
                crate::ingest::messenger::parse(self, raw, received_at, routes)
            }
        }
    }
}
