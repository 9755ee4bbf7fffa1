//! `chatlake generate --as-webhooks DIR`: the generated world as Meta would have posted it, plus
//! the rows no webhook carries, so that the whole ingest path (receiver, parser, WAL, flusher,
//! derivation) can be checked against the lake `generate` writes directly.
//!
//! The world is the one of the same [`GenerateConfig`] with
//! [`whole_seconds`](GenerateConfig::whole_seconds) forced on (Meta's `timestamp` is in whole
//! seconds): `generate --whole-seconds` with the same flags writes the lake these files describe.
//!
//! | file | what |
//! |------|------|
//! | `DIR/whatsapp/bodies.ndjson` | one WhatsApp Cloud API body per line, as Meta posts them (`entry[].changes[].value` with `metadata.phone_number_id`), one event per body, in generation order |
//! | `DIR/messenger/bodies.ndjson`, `DIR/instagram/bodies.ndjson` | Messenger (`object = "page"`) and Instagram bodies (`entry[].messaging[]` with the page or account id), the same way |
//! | `DIR/rows/<table>.ndjson` | the rows of every table the bodies do not feed, and the rows of the tables they feed that they cannot carry, in the lake's columns (for `POST /v1/ingest/{table}` or `chatlake ingest --table`) |
//!
//! What goes where, decided per column against what the parser ([`crate::ingest::whatsapp`])
//! makes of a body:
//!
//! | rows | as | because |
//! |------|----|---------|
//! | inbound `messages` of a WhatsApp channel with a `phone_number_id` | a body with `messages[]` and the sender's `contacts[]` profile | the parser recreates every column: `wa_id` (`from`), the contact (`contact_id` = `wa_id`, as the generator names WhatsApp contacts), `msg_type`, `body_text` (text body; media caption; location `name`; the shared card's `formatted_name`; a button reply's `title`; `button.text`; the reaction's emoji; `order.text`; `system.body`), `interaction_id` (button reply `id`, `button.payload`), `context_message_id` (`context.id`; a reaction's `message_id`), `referral_source_type`/`_id`; `is_template`, `author_type`, `country_code`, `calling_code` are derived on ingest. An `unsupported` message is sent without `errors` (the generator gives it no text; with Meta's error the parser would store its title as `body_text`) |
//! | inbound `messages` of a Messenger or Instagram channel with a `page_id`, from a user without a phone number, of a kind a `message` event gives back | a body with one `messaging[]` `message`: `sender.id` = the contact id (the page-scoped id), `text`, `quick_reply.payload` (interactive), one attachment (`image`, `audio`, `video`, `file`, `location`; a sticker is an image with a `sticker_id`), `is_unsupported`, `reply_to.mid`, a click-to-Messenger ad `referral` | the parser gives every column back |
//! | the other inbound Messenger/Instagram messages: a user with a phone number (the parser writes no `wa_id`), `button`, `contacts`, `reaction`, `order`, `system`, a `post` referral | rows | a postback carries no reply context, the other kinds have no `message` form the parser reads back as the same row |
//! | outbound `messages` (every channel), inbound ones of web chat and Telegram | rows | WhatsApp webhooks report the business's own messages as statuses only, without author, template, flow, campaign or text; echoes of Messenger/Instagram messages carry no author type, template, flow or campaign either |
//! | `message_statuses` `sent`, `delivered`, `read`, `played`, `failed`, `deleted` of a WhatsApp channel | a body with `statuses[]`: `recipient_id` (the message's `wa_id`), `conversation` (`id`, `origin.type`, `expiration_timestamp` as the row has them), `pricing` (`pricing_model`, `billable`, `category`, `type`), `errors[0]` (`code`, `title`) | every column; `error_bucket` is derived on ingest |
//! | `message_statuses` `accepted` (the BSP's pre-state), and the callbacks of other channels | rows | not a Meta status value; Messenger receipts name a time up to which everything was read (a watermark), not each message's own time |
//! | `conversations` (`source = 'webhook'`) | nothing, when a status body carries the conversation's id, origin and expiry: the parser writes the row from it (`opened_at` = expiry - 24 h, 72 h for `referral_conversion`, as the generator opens them) | |
//! | the other `conversations` (the carrying `sent` callback never came, or fell after the range) | rows | no body names the expiry |
//! | `contacts` | rows (every column); the bodies' profiles repeat `name` and `wa_id` | webhooks carry no language, provider or opt-in state, nor the contact's creation |
//! | `tenants`, `channels`, `campaigns`, `campaign_recipients`, `contact_events`, `flow_events`, `analytics_events`, `chat_events`, `comments` | rows | no WhatsApp webhook carries them; a comment's reply-rule columns (`matched`, `reply_kind`, `replied_at`) are chatlake's own, not Meta's |
//!
//! The profile names and each outbound message's recipient are needed before the day that uses
//! them is written (the contacts snapshot comes last; a status batch may be handed out before
//! its message's), so the generator runs twice: once to index them, once to write. The index
//! holds one entry per contact and per outbound WhatsApp message: this is for test-sized worlds.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch, StringArray};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, Int32Type, TimestampMicrosecondType};
use indicatif::ProgressBar;
use serde_json::{Map, Value, json};

use super::{GenerateConfig, progress_bar, run};
use crate::error::{Error, Result};

/// The platforms bodies are written for, each in `DIR/<platform>/bodies.ndjson`.
const PLATFORMS: [&str; 3] = ["whatsapp", "messenger", "instagram"];

/// The status values a WhatsApp status webhook carries (the parser's).
const WEBHOOK_STATUSES: &[&str] = &["sent", "delivered", "read", "played", "failed", "deleted"];

/// What [`generate_webhooks`] wrote.
#[derive(Debug, Clone)]
pub struct WebhooksSummary {
    /// Bodies written per platform (`whatsapp`, `messenger`, `instagram`).
    pub bodies: Vec<(&'static str, u64)>,
    /// Rows written per table (tables without rows left out), in the lake's table order.
    pub rows_per_table: Vec<(&'static str, u64)>,
    /// Wall-clock time of both generator runs and the writing.
    pub elapsed: Duration,
}

/// Writes the world of `cfg` (in whole seconds) under `dir` as webhook bodies and rows; see the
/// module docs. Shows a progress bar over the days of the writing run on a terminal.
pub async fn generate_webhooks(cfg: &GenerateConfig, dir: &Path) -> Result<WebhooksSummary> {
    let cfg = GenerateConfig {
        whole_seconds: true,
        ..cfg.clone()
    };
    cfg.validate()?;
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let index = Index::build(&cfg)?;
        let mut out = Output::create(&dir, index)?;
        let bar = progress_bar(cfg.days);
        run(&cfg, &mut |table, batch| out.take(table, &batch), &bar)?;
        bar.finish_and_clear();
        out.finish(started.elapsed())
    })
    .await
    .map_err(|e| Error::Io {
        context: "generate --as-webhooks: the generator thread failed".into(),
        source: std::io::Error::other(e.to_string()),
    })?
}

/// A WhatsApp channel bodies can be routed to.
#[derive(Debug, Clone)]
struct Number {
    /// `channels.phone_number_id`.
    phone_number_id: String,
    /// `channels.waba_id` (the body's `entry[].id`).
    waba_id: Option<String>,
    /// `channels.display_phone` without its `+`.
    display: Option<String>,
}

/// A Messenger or Instagram channel bodies can be routed to.
#[derive(Debug, Clone)]
struct Page {
    /// `messenger` or `instagram`: the platform, its bodies' file and endpoint.
    platform: &'static str,
    /// `channels.page_id` (the body's `entry[].id`).
    page_id: String,
}

/// What the writing run needs ahead of time: from a first run of the generator.
#[derive(Debug, Default)]
struct Index {
    /// WhatsApp channels with a phone number id, by `channel_id`.
    numbers: HashMap<String, Number>,
    /// Messenger and Instagram channels with a page (account) id, by `channel_id`.
    pages: HashMap<String, Page>,
    /// Profile name by (`channel_id`, `contact_id`).
    names: HashMap<(String, String), String>,
    /// The `wa_id` of each outbound WhatsApp message, by `message_id`.
    recipients: HashMap<String, String>,
    /// Conversations a status body will carry with their id, origin and expiry.
    carried: HashSet<String>,
}

impl Index {
    /// Runs the generator once (no progress shown) and indexes what [`Output`] needs.
    fn build(cfg: &GenerateConfig) -> Result<Index> {
        let mut index = Index::default();
        // Statuses are indexed after the run: a status batch may come before its messages'.
        let mut statuses: Vec<RecordBatch> = Vec::new();
        run(
            cfg,
            &mut |table, batch| {
                match table {
                    "channels" => index.add_channels(&batch)?,
                    "contacts" => {
                        let (channel, contact, name) = (
                            text(&batch, "channel_id")?,
                            text(&batch, "contact_id")?,
                            text(&batch, "name")?,
                        );
                        for i in 0..batch.num_rows() {
                            if name.is_valid(i) && index.numbers.contains_key(channel.value(i)) {
                                index.names.insert(
                                    (channel.value(i).into(), contact.value(i).into()),
                                    name.value(i).into(),
                                );
                            }
                        }
                    }
                    "messages" => {
                        let (channel, id, direction, wa) = (
                            text(&batch, "channel_id")?,
                            text(&batch, "message_id")?,
                            text(&batch, "direction")?,
                            text(&batch, "wa_id")?,
                        );
                        for i in 0..batch.num_rows() {
                            if direction.value(i) == "outbound"
                                && wa.is_valid(i)
                                && index.numbers.contains_key(channel.value(i))
                            {
                                index
                                    .recipients
                                    .insert(id.value(i).into(), wa.value(i).into());
                            }
                        }
                    }
                    "message_statuses" => statuses.push(batch),
                    _ => {}
                }
                Ok(())
            },
            &ProgressBar::hidden(),
        )?;
        for batch in &statuses {
            let mask = index.status_bodies(batch)?;
            let (conversation, origin) = (
                text(batch, "conversation_id")?,
                text(batch, "conversation_origin")?,
            );
            let expires = micros(batch, "conversation_expires_at")?;
            for i in 0..batch.num_rows() {
                if mask.value(i)
                    && conversation.is_valid(i)
                    && origin.is_valid(i)
                    && expires.is_valid(i)
                {
                    index.carried.insert(conversation.value(i).into());
                }
            }
        }
        Ok(index)
    }

    /// Notes the WhatsApp channels of `batch` that have a phone number id.
    fn add_channels(&mut self, batch: &RecordBatch) -> Result<()> {
        let (id, kind, phone, waba, display) = (
            text(batch, "channel_id")?,
            text(batch, "channel_type")?,
            text(batch, "phone_number_id")?,
            text(batch, "waba_id")?,
            text(batch, "display_phone")?,
        );
        let page = text(batch, "page_id")?;
        for i in 0..batch.num_rows() {
            let platform = match kind.value(i) {
                "messenger" => Some("messenger"),
                "instagram" => Some("instagram"),
                _ => None,
            };
            if let Some(platform) = platform.filter(|_| page.is_valid(i)) {
                self.pages.insert(
                    id.value(i).into(),
                    Page {
                        platform,
                        page_id: page.value(i).into(),
                    },
                );
            }
            if kind.value(i) == "whatsapp" && phone.is_valid(i) {
                self.numbers.insert(
                    id.value(i).into(),
                    Number {
                        phone_number_id: phone.value(i).into(),
                        waba_id: waba.is_valid(i).then(|| waba.value(i).into()),
                        display: display
                            .is_valid(i)
                            .then(|| display.value(i).trim_start_matches('+').into()),
                    },
                );
            }
        }
        Ok(())
    }

    /// Which inbound messages of `batch` become bodies: every one on a WhatsApp number; on a
    /// page, those [`page_carries`] accepts.
    fn message_bodies(&self, batch: &RecordBatch) -> Result<BooleanArray> {
        let col = |name| text(batch, name);
        let (channel, direction, wa, kind) = (
            col("channel_id")?,
            col("direction")?,
            col("wa_id")?,
            col("msg_type")?,
        );
        let (body, interaction, referral) = (
            col("body_text")?,
            col("interaction_id")?,
            col("referral_source_type")?,
        );
        Ok((0..batch.num_rows())
            .map(|i| {
                let inbound = direction.value(i) == "inbound";
                let on_page = self.pages.contains_key(channel.value(i))
                    && wa.is_null(i)
                    && (referral.is_null(i) || referral.value(i) == "ad")
                    && page_carries(kind.value(i), body.is_valid(i), interaction.is_valid(i));
                Some(inbound && (self.numbers.contains_key(channel.value(i)) || on_page))
            })
            .collect())
    }

    /// Which callbacks of `batch` become bodies: Meta status values on a WhatsApp channel, for
    /// a message whose recipient is known.
    fn status_bodies(&self, batch: &RecordBatch) -> Result<BooleanArray> {
        let (channel, id, status) = (
            text(batch, "channel_id")?,
            text(batch, "message_id")?,
            text(batch, "status")?,
        );
        Ok((0..batch.num_rows())
            .map(|i| {
                Some(
                    WEBHOOK_STATUSES.contains(&status.value(i))
                        && self.numbers.contains_key(channel.value(i))
                        && self.recipients.contains_key(id.value(i)),
                )
            })
            .collect())
    }
}

/// The files being written and their counts.
struct Output {
    dir: PathBuf,
    index: Index,
    /// Bodies file and count per platform.
    bodies: HashMap<&'static str, (BufWriter<File>, u64)>,
    rows: HashMap<&'static str, (BufWriter<File>, u64)>,
}

impl Output {
    /// Creates `dir/whatsapp` and `dir/rows` (emptied of earlier output files).
    fn create(dir: &Path, index: Index) -> Result<Output> {
        for sub in PLATFORMS.iter().chain(&["rows"]) {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(|e| io(&path, e))?;
            for entry in std::fs::read_dir(&path).map_err(|e| io(&path, e))? {
                let file = entry.map_err(|e| io(&path, e))?.path();
                if file.extension().is_some_and(|x| x == "ndjson") {
                    std::fs::remove_file(&file).map_err(|e| io(&file, e))?;
                }
            }
        }
        let mut bodies = HashMap::new();
        for platform in PLATFORMS {
            let path = dir.join(platform).join("bodies.ndjson");
            let file = BufWriter::new(File::create(&path).map_err(|e| io(&path, e))?);
            bodies.insert(platform, (file, 0));
        }
        Ok(Output {
            dir: dir.to_path_buf(),
            index,
            bodies,
            rows: HashMap::new(),
        })
    }

    /// Writes one generated batch of `table` as bodies and rows.
    fn take(&mut self, table: &'static str, batch: &RecordBatch) -> Result<()> {
        match table {
            "messages" => {
                let mask = self.index.message_bodies(batch)?;
                let inbound = filter_record_batch(batch, &mask)?;
                self.message_bodies(&inbound)?;
                self.write_rows(table, &filter_record_batch(batch, &not(&mask))?)
            }
            "message_statuses" => {
                let mask = self.index.status_bodies(batch)?;
                self.status_bodies(&filter_record_batch(batch, &mask)?)?;
                self.write_rows(table, &filter_record_batch(batch, &not(&mask))?)
            }
            "conversations" => {
                let id = text(batch, "conversation_id")?;
                let uncarried: BooleanArray = (0..batch.num_rows())
                    .map(|i| Some(!self.index.carried.contains(id.value(i))))
                    .collect();
                self.write_rows(table, &filter_record_batch(batch, &uncarried)?)
            }
            _ => self.write_rows(table, batch),
        }
    }

    /// Appends the rows of `batch` to `rows/<table>.ndjson`.
    fn write_rows(&mut self, table: &'static str, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let (file, count) = match self.rows.entry(table) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let path = self.dir.join("rows").join(format!("{table}.ndjson"));
                let file = File::create(&path).map_err(|e| io(&path, e))?;
                e.insert((BufWriter::new(file), 0))
            }
        };
        let mut writer = arrow::json::WriterBuilder::new()
            .with_timestamp_tz_format(crate::export::format::TIMESTAMP_TZ_FORMAT.into())
            .build::<_, arrow::json::writer::LineDelimited>(file);
        writer.write(batch)?;
        writer.finish()?;
        *count += batch.num_rows() as u64;
        Ok(())
    }

    /// One body per inbound message of `batch` (all on numbers of the index).
    fn message_bodies(&mut self, batch: &RecordBatch) -> Result<()> {
        let col = |name| text(batch, name);
        let (channel, id, contact, wa) = (
            col("channel_id")?,
            col("message_id")?,
            col("contact_id")?,
            col("wa_id")?,
        );
        let (kind, body, interaction, context) = (
            col("msg_type")?,
            col("body_text")?,
            col("interaction_id")?,
            col("context_message_id")?,
        );
        let (referral_type, referral_id) =
            (col("referral_source_type")?, col("referral_source_id")?);
        let ts = micros(batch, "ts")?;
        for i in 0..batch.num_rows() {
            fn get(a: &StringArray, i: usize) -> Option<&str> {
                a.is_valid(i).then(|| a.value(i))
            }
            let message = InboundMessage {
                id: id.value(i),
                ts: ts.value(i),
                wa_id: get(&wa, i),
                kind: kind.value(i),
                body: get(&body, i),
                interaction: get(&interaction, i),
                context: get(&context, i),
                referral: get(&referral_type, i).zip(get(&referral_id, i)),
            };
            if let Some(page) = self.index.pages.get(channel.value(i)) {
                let body = page_body(page, contact.value(i), &message);
                self.write_body(page.platform, &body)?;
                continue;
            }
            let Some(number) = self.index.numbers.get(channel.value(i)) else {
                continue;
            };
            let name = self
                .index
                .names
                .get(&(channel.value(i).to_string(), contact.value(i).to_string()));
            let value = message_value(number, &message, name.map(String::as_str));
            self.write_body("whatsapp", &envelope(number, value))?;
        }
        Ok(())
    }

    /// One body per callback of `batch` (all of messages the index knows).
    fn status_bodies(&mut self, batch: &RecordBatch) -> Result<()> {
        let col = |name| text(batch, name);
        let (channel, id, status) = (col("channel_id")?, col("message_id")?, col("status")?);
        let (conversation, origin) = (col("conversation_id")?, col("conversation_origin")?);
        let (model, category, kind) = (
            col("pricing_model")?,
            col("pricing_category")?,
            col("pricing_type")?,
        );
        let error_title = col("error_title")?;
        let billable = batch
            .column_by_name("pricing_billable")
            .ok_or_else(|| missing("pricing_billable"))?
            .as_boolean_opt()
            .ok_or_else(|| missing("pricing_billable"))?;
        let error_code = cast(
            batch
                .column_by_name("error_code")
                .ok_or_else(|| missing("error_code"))?,
            &DataType::Int32,
        )?;
        let error_code = error_code.as_primitive::<Int32Type>();
        let (ts, expires) = (
            micros(batch, "ts")?,
            micros(batch, "conversation_expires_at")?,
        );
        for i in 0..batch.num_rows() {
            let get = |a: &StringArray| a.is_valid(i).then(|| a.value(i).to_string());
            let (Some(number), Some(recipient)) = (
                self.index.numbers.get(channel.value(i)),
                self.index.recipients.get(id.value(i)),
            ) else {
                continue;
            };
            let mut s = Map::new();
            s.insert("id".into(), id.value(i).into());
            s.insert("status".into(), status.value(i).into());
            s.insert("timestamp".into(), seconds(ts.value(i)).into());
            s.insert("recipient_id".into(), recipient.as_str().into());
            if let Some(conversation) = get(&conversation) {
                let mut c = Map::new();
                c.insert("id".into(), conversation.into());
                if expires.is_valid(i) {
                    c.insert(
                        "expiration_timestamp".into(),
                        seconds(expires.value(i)).into(),
                    );
                }
                if let Some(origin) = get(&origin) {
                    c.insert("origin".into(), json!({ "type": origin }));
                }
                s.insert("conversation".into(), c.into());
            }
            let mut p = Map::new();
            if billable.is_valid(i) {
                p.insert("billable".into(), billable.value(i).into());
            }
            for (key, column) in [
                ("pricing_model", &model),
                ("category", &category),
                ("type", &kind),
            ] {
                if let Some(v) = get(column) {
                    p.insert(key.into(), v.into());
                }
            }
            if !p.is_empty() {
                s.insert("pricing".into(), p.into());
            }
            if error_code.is_valid(i) {
                let title = get(&error_title).unwrap_or_default();
                s.insert(
                    "errors".into(),
                    json!([{
                        "code": error_code.value(i),
                        "title": title,
                        "message": title,
                        "error_data": { "details": title },
                    }]),
                );
            }
            let value = json!({
                "messaging_product": "whatsapp",
                "metadata": metadata(number),
                "statuses": [s],
            });
            self.write_body("whatsapp", &envelope(number, value))?;
        }
        Ok(())
    }

    /// Appends one body of `platform` as a line.
    fn write_body(&mut self, platform: &'static str, body: &Value) -> Result<()> {
        let path = self.dir.join(platform).join("bodies.ndjson");
        let (file, count) = self
            .bodies
            .get_mut(platform)
            .ok_or_else(|| missing(platform))?;
        serde_json::to_writer(&mut *file, body).map_err(|e| Error::Io {
            context: "generate --as-webhooks: writing a body".into(),
            source: e.into(),
        })?;
        file.write_all(b"\n").map_err(|e| io(&path, e))?;
        *count += 1;
        Ok(())
    }

    /// Flushes every file; the summary.
    fn finish(mut self, elapsed: Duration) -> Result<WebhooksSummary> {
        let mut bodies = Vec::new();
        for platform in PLATFORMS {
            if let Some((mut file, count)) = self.bodies.remove(platform) {
                file.flush()
                    .map_err(|e| io(&self.dir.join(platform).join("bodies.ndjson"), e))?;
                bodies.push((platform, count));
            }
        }
        let mut rows_per_table = Vec::new();
        for def in crate::lake::schema::tables() {
            if let Some((mut file, count)) = self.rows.remove(def.name) {
                file.flush().map_err(|e| io(&self.dir.join("rows"), e))?;
                rows_per_table.push((def.name, count));
            }
        }
        Ok(WebhooksSummary {
            bodies,
            rows_per_table,
            elapsed,
        })
    }
}

/// One generated inbound message, as a body needs it.
struct InboundMessage<'a> {
    id: &'a str,
    ts: i64,
    wa_id: Option<&'a str>,
    kind: &'a str,
    body: Option<&'a str>,
    interaction: Option<&'a str>,
    context: Option<&'a str>,
    referral: Option<(&'a str, &'a str)>,
}

/// The `value` of a messages change carrying `m` from the contact named `name`: the message
/// shaped so that the parser gives back the generated row (see the module docs).
fn message_value(number: &Number, m: &InboundMessage<'_>, name: Option<&str>) -> Value {
    let mut message = Map::new();
    if let Some(wa) = m.wa_id {
        message.insert("from".into(), wa.into());
    }
    message.insert("id".into(), m.id.into());
    message.insert("timestamp".into(), seconds(m.ts).into());
    let body = m.body;
    let (kind, content): (&str, Value) = match m.kind {
        "text" => ("text", json!({ "body": body.unwrap_or_default() })),
        media @ ("image" | "audio" | "video" | "document" | "sticker") => {
            let mut media_object = json!({
                "id": format!("media-{}", m.id),
                "mime_type": mime_type(media),
            });
            if let Some(caption) = body {
                media_object["caption"] = caption.into();
            }
            (media, media_object)
        }
        "location" => {
            let mut place = json!({ "latitude": 0.0, "longitude": 0.0 });
            if let Some(name) = body {
                place["name"] = name.into();
            }
            ("location", place)
        }
        "contacts" => (
            "contacts",
            match body {
                Some(name) => json!([{ "name": { "formatted_name": name } }]),
                None => json!([{ "phones": [] }]),
            },
        ),
        "interactive" => {
            let mut reply = Map::new();
            if let Some(id) = m.interaction {
                reply.insert("id".into(), id.into());
            }
            if let Some(title) = body {
                reply.insert("title".into(), title.into());
            }
            (
                "interactive",
                json!({ "type": "button_reply", "button_reply": reply }),
            )
        }
        "button" => ("button", json!({ "payload": m.interaction, "text": body })),
        "reaction" => {
            let mut reaction = Map::new();
            if let Some(about) = m.context {
                reaction.insert("message_id".into(), about.into());
            }
            if let Some(emoji) = body {
                reaction.insert("emoji".into(), emoji.into());
            }
            ("reaction", reaction.into())
        }
        "order" => (
            "order",
            json!({ "catalog_id": "catalog", "text": body, "product_items": [] }),
        ),
        "system" => (
            "system",
            json!({ "body": body, "type": "user_changed_number" }),
        ),
        // The generator gives an unsupported message no text; Meta's `errors` would become one.
        other => (other, Value::Null),
    };
    message.insert("type".into(), kind.into());
    if !content.is_null() {
        message.insert(kind.into(), content);
    }
    if let Some(context) = m.context.filter(|_| m.kind != "reaction") {
        message.insert(
            "context".into(),
            json!({ "from": number.display, "id": context }),
        );
    }
    if let Some((source_type, source_id)) = m.referral {
        message.insert(
            "referral".into(),
            json!({
                "source_url": format!("https://fb.me/{source_id}"),
                "source_id": source_id,
                "source_type": source_type,
                "headline": "Chat with us",
            }),
        );
    }
    let mut profile = Map::new();
    if let Some(name) = name {
        profile.insert("name".into(), name.into());
    }
    let mut contact = json!({ "profile": profile });
    if let Some(wa) = m.wa_id {
        contact["wa_id"] = wa.into();
    }
    json!({
        "messaging_product": "whatsapp",
        "metadata": metadata(number),
        "contacts": [contact],
        "messages": [message],
    })
}

/// Whether a Messenger/Instagram `message` gives back an inbound row of `kind`, with text or
/// not, with an interaction id or not (see `classify` of [`crate::ingest::messenger::messaging`]).
fn page_carries(kind: &str, has_body: bool, has_interaction: bool) -> bool {
    match kind {
        "text" => has_body,
        "interactive" => has_interaction,
        "image" | "audio" | "video" | "document" | "sticker" | "location" => true,
        "unsupported" => !has_body,
        _ => false,
    }
}

/// A Messenger or Instagram body carrying the inbound message `m` (one [`page_carries`]
/// accepts) of the user `contact` (the page-scoped id: the generator's contact id) to `page`.
fn page_body(page: &Page, contact: &str, m: &InboundMessage<'_>) -> Value {
    let millis = m.ts.div_euclid(1_000);
    let mut message = Map::new();
    message.insert("mid".into(), m.id.into());
    if let Some(said) = m.body {
        message.insert("text".into(), said.into());
    }
    let url = format!("https://cdn.example/{}", m.id);
    let attachment = match m.kind {
        "interactive" => {
            message.insert("quick_reply".into(), json!({ "payload": m.interaction }));
            None
        }
        "unsupported" => {
            message.insert("is_unsupported".into(), true.into());
            None
        }
        "text" => None,
        "document" => Some(json!({ "type": "file", "payload": { "url": url } })),
        "sticker" => Some(json!({
            "type": "image",
            "payload": { "url": url, "sticker_id": 369_239_263_222_822_u64 },
        })),
        "location" => Some(json!({
            "type": "location",
            "payload": { "coordinates": { "lat": 0.0, "long": 0.0 } },
        })),
        media => Some(json!({ "type": media, "payload": { "url": url } })),
    };
    if let Some(attachment) = attachment {
        message.insert("attachments".into(), json!([attachment]));
    }
    if let Some(context) = m.context {
        message.insert("reply_to".into(), json!({ "mid": context }));
    }
    if let Some((_, ad)) = m.referral {
        message.insert(
            "referral".into(),
            json!({ "source": "ADS", "type": "OPEN_THREAD", "ad_id": ad }),
        );
    }
    json!({
        "object": if page.platform == "instagram" { "instagram" } else { "page" },
        "entry": [{
            "id": page.page_id,
            "time": millis,
            "messaging": [{
                "sender": { "id": contact },
                "recipient": { "id": page.page_id },
                "timestamp": millis,
                "message": message,
            }],
        }],
    })
}

/// A media type's MIME type, as Meta names it.
fn mime_type(media: &str) -> &'static str {
    match media {
        "image" => "image/jpeg",
        "audio" => "audio/ogg; codecs=opus",
        "video" => "video/mp4",
        "sticker" => "image/webp",
        _ => "application/pdf",
    }
}

/// `value.metadata` of a change on `number`.
fn metadata(number: &Number) -> Value {
    json!({
        "display_phone_number": number.display,
        "phone_number_id": number.phone_number_id,
    })
}

/// A whole body around one change `value` of `number`.
fn envelope(number: &Number, value: Value) -> Value {
    json!({
        "object": crate::ingest::whatsapp::OBJECT,
        "entry": [{
            "id": number.waba_id,
            "changes": [{ "field": "messages", "value": value }],
        }],
    })
}

/// µs since the epoch as Meta's `timestamp`: whole seconds, as a string.
fn seconds(micros: i64) -> String {
    micros.div_euclid(1_000_000).to_string()
}

/// The text column `name` of `batch` (cast to `Utf8`).
fn text(batch: &RecordBatch, name: &str) -> Result<StringArray> {
    let column = batch.column_by_name(name).ok_or_else(|| missing(name))?;
    Ok(cast(column, &DataType::Utf8)?.as_string::<i32>().clone())
}

/// The timestamp column `name` of `batch`.
fn micros(
    batch: &RecordBatch,
    name: &str,
) -> Result<arrow::array::PrimitiveArray<TimestampMicrosecondType>> {
    let column = batch.column_by_name(name).ok_or_else(|| missing(name))?;
    column
        .as_primitive_opt::<TimestampMicrosecondType>()
        .cloned()
        .ok_or_else(|| missing(name))
}

/// The error of a generated batch without the column `name`.
fn missing(name: &str) -> Error {
    Error::Config(format!(
        "generate --as-webhooks: internal: no column {name} of the expected type"
    ))
}

/// The negation of a mask without NULLs.
fn not(mask: &BooleanArray) -> BooleanArray {
    mask.iter().map(|v| Some(!v.unwrap_or(false))).collect()
}

/// An I/O error on `path`.
fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        context: format!("generate --as-webhooks: {}", path.display()),
        source: e,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::ingest::whatsapp::message::message_row;

    fn number() -> Number {
        Number {
            phone_number_id: "106540352242922".into(),
            waba_id: Some("102290129340398".into()),
            display: Some("15550783881".into()),
        }
    }

    /// The parser's `(msg_type, interaction_id, body_text, context_message_id)` of the body
    /// built for an inbound message of `kind` with `body`, `interaction` and `context`.
    fn round_trip(
        kind: &str,
        body: Option<&str>,
        interaction: Option<&str>,
        context: Option<&str>,
    ) -> (String, Option<String>, Option<String>, Option<String>) {
        let m = InboundMessage {
            id: "wamid.X",
            ts: 1_790_000_000_000_000,
            wa_id: Some("919876543210"),
            kind,
            body,
            interaction,
            context,
            referral: None,
        };
        let value = message_value(&number(), &m, Some("Asha Rao"));
        let message = &value["messages"][0];
        let row = message_row(message, "t", "c", &HashMap::new()).unwrap();
        assert_eq!(row.ts, 1_790_000_000_000_000);
        assert_eq!(row.contact_id, "919876543210");
        assert_eq!(value["contacts"][0]["profile"]["name"], "Asha Rao");
        (
            row.msg_type.to_string(),
            row.interaction_id,
            row.body_text,
            row.context_message_id,
        )
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn every_generated_inbound_kind_parses_back_to_its_columns() {
        assert_eq!(
            round_trip("text", Some("Hola"), None, Some("wamid.A")),
            ("text".into(), None, some("Hola"), some("wamid.A"))
        );
        for media in ["image", "audio", "video", "document"] {
            assert_eq!(
                round_trip(media, Some("see photo"), None, None),
                (media.into(), None, some("see photo"), None)
            );
            assert_eq!(
                round_trip(media, None, None, None),
                (media.into(), None, None, None)
            );
        }
        assert_eq!(
            round_trip("sticker", None, None, None),
            ("sticker".into(), None, None, None)
        );
        assert_eq!(
            round_trip("location", None, None, None),
            ("location".into(), None, None, None)
        );
        assert_eq!(
            round_trip("location", Some("Home"), None, None),
            ("location".into(), None, some("Home"), None)
        );
        assert_eq!(
            round_trip("contacts", None, None, None),
            ("contacts".into(), None, None, None)
        );
        assert_eq!(
            round_trip("contacts", Some("Ravi K"), None, None),
            ("contacts".into(), None, some("Ravi K"), None)
        );
        assert_eq!(
            round_trip("interactive", Some("Yes"), Some("opt_1"), Some("wamid.Q")),
            (
                "interactive".into(),
                some("opt_1"),
                some("Yes"),
                some("wamid.Q")
            )
        );
        assert_eq!(
            round_trip("button", Some("Continue chat"), Some("CONTINUE"), None),
            (
                "button".into(),
                some("CONTINUE"),
                some("Continue chat"),
                None
            )
        );
        assert_eq!(
            round_trip("reaction", Some("👍"), None, Some("wamid.O")),
            ("reaction".into(), None, some("👍"), some("wamid.O"))
        );
        assert_eq!(
            round_trip("order", Some("1 item from the catalogue"), None, None),
            (
                "order".into(),
                None,
                some("1 item from the catalogue"),
                None
            )
        );
        assert_eq!(
            round_trip("system", Some("User changed number"), None, None),
            ("system".into(), None, some("User changed number"), None)
        );
        assert_eq!(
            round_trip("unsupported", None, None, None),
            ("unsupported".into(), None, None, None)
        );
    }

    #[test]
    fn a_referral_and_the_envelope_route_like_meta_sends_them() {
        let m = InboundMessage {
            id: "wamid.R",
            ts: 1_790_000_000_000_000,
            wa_id: Some("5511987654321"),
            kind: "text",
            body: Some("Oi"),
            interaction: None,
            context: None,
            referral: Some(("ad", "120208")),
        };
        let body = envelope(&number(), message_value(&number(), &m, None));
        assert_eq!(body["object"], "whatsapp_business_account");
        assert_eq!(body["entry"][0]["id"], "102290129340398");
        let value = &body["entry"][0]["changes"][0]["value"];
        assert_eq!(value["metadata"]["phone_number_id"], "106540352242922");
        assert_eq!(value["messages"][0]["timestamp"], "1790000000");
        let row = message_row(&value["messages"][0], "t", "c", &HashMap::new()).unwrap();
        assert_eq!(row.referral_source_type.as_deref(), Some("ad"));
        assert_eq!(row.referral_source_id.as_deref(), Some("120208"));
        // Without a profile name the body names no one (the stored name stays).
        assert!(value["contacts"][0]["profile"].get("name").is_none());
    }

    /// The parser's `(msg_type, interaction_id, body_text, context_message_id, contact_id)` of
    /// the Messenger body built for an inbound message.
    fn page_round_trip(
        kind: &str,
        body: Option<&str>,
        interaction: Option<&str>,
        context: Option<&str>,
    ) -> (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    ) {
        use crate::ingest::messenger::messaging::{Event, event_rows};
        assert!(page_carries(kind, body.is_some(), interaction.is_some()));
        let page = Page {
            platform: "messenger",
            page_id: "104123456789".into(),
        };
        let m = InboundMessage {
            id: "m_1",
            ts: 1_790_000_000_000_000,
            wa_id: None,
            kind,
            body,
            interaction,
            context,
            referral: None,
        };
        let value = page_body(&page, "e46c82b9b9b34820", &m);
        assert_eq!(value["object"], "page");
        assert_eq!(value["entry"][0]["id"], "104123456789");
        let Event::Message(row) = event_rows(&value["entry"][0]["messaging"][0], "t", "c").unwrap()
        else {
            panic!("not a message: {value}");
        };
        assert_eq!((row.ts, row.direction), (1_790_000_000_000_000, "inbound"));
        (
            row.msg_type.to_string(),
            row.interaction_id,
            row.body_text,
            row.context_message_id,
            row.contact_id,
        )
    }

    #[test]
    fn page_messages_parse_back_to_their_columns() {
        let user = "e46c82b9b9b34820".to_string();
        assert_eq!(
            page_round_trip("text", Some("Namaste"), None, Some("m_0")),
            (
                "text".into(),
                None,
                some("Namaste"),
                some("m_0"),
                user.clone()
            )
        );
        assert_eq!(
            page_round_trip("interactive", Some("Yes"), Some("opt_1"), None),
            (
                "interactive".into(),
                some("opt_1"),
                some("Yes"),
                None,
                user.clone()
            )
        );
        for media in ["image", "audio", "video", "document", "sticker", "location"] {
            assert_eq!(
                page_round_trip(media, None, None, None),
                (media.into(), None, None, None, user.clone())
            );
        }
        assert_eq!(
            page_round_trip("image", Some("see photo"), None, None),
            ("image".into(), None, some("see photo"), None, user.clone())
        );
        assert_eq!(
            page_round_trip("unsupported", None, None, None),
            ("unsupported".into(), None, None, None, user)
        );
        // Kinds a page message cannot give back go as rows.
        for kind in ["button", "contacts", "reaction", "order", "system"] {
            assert!(!page_carries(kind, true, true), "{kind}");
        }
        assert!(!page_carries("text", false, false));
    }

    #[test]
    fn instants_become_whole_seconds_rounded_down() {
        assert_eq!(seconds(1_790_000_000_999_999), "1790000000");
        assert_eq!(seconds(-1), "-1");
    }
}
