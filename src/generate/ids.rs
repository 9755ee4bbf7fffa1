//! Identifier formatting.
//!
//! Every identifier is built from a unique 64-bit key of its domain (a counter laid out as
//! `tenant | day | sequence`, or a contact's key) passed through the bijective [`mix64`], so ids
//! look opaque, are unique by construction, and cost no allocation: they are written into a
//! reusable buffer.
//!
//! | id | shape |
//! |---|---|
//! | WhatsApp message | `wamid.HBgM` + 32 upper-case hex |
//! | Messenger message | `m_` + 32 hex |
//! | Instagram message | `aWdfZAG1` + 24 hex |
//! | web chat / Telegram message | `wc-` / `tg-` + 16 hex |
//! | contact | a WhatsApp user: the number's digits (the `wa_id`); others: 16 hex |
//! | conversation (Meta) | 32 hex |
//! | flow run | UUID layout (8-4-4-4-12 hex) |
//! | campaign | `cmp_` + 16 hex |
//! | chat | `chat_` + the contact id |

use super::rng::mix64;
use super::world::ChannelType;

const HEX_LO: &[u8; 16] = b"0123456789abcdef";
const HEX_UP: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `digits` hex digits of `v` (most significant first).
pub(crate) fn push_hex(out: &mut String, v: u64, digits: u32, upper: bool) {
    let table = if upper { HEX_UP } else { HEX_LO };
    for i in (0..digits.min(16)).rev() {
        out.push(table[((v >> (i * 4)) & 0xF) as usize] as char);
    }
}

/// The key of a message: unique per `(tenant, day, seq)` for `tenant < 2^16`, `day < 2^14`,
/// `seq < 2^34`.
pub(crate) fn message_key(tenant: usize, day: u32, seq: u64) -> u64 {
    ((tenant as u64 & 0xFFFF) << 48) | ((day as u64 & 0x3FFF) << 34) | (seq & 0x3_FFFF_FFFF)
}

/// Writes the platform message id of `key` on a channel of type `ct` into `out` (cleared first).
pub(crate) fn message_id(out: &mut String, ct: ChannelType, key: u64) {
    out.clear();
    let a = mix64(key ^ 0x4D45_5353_4147_4531);
    let b = mix64(a ^ key);
    match ct {
        ChannelType::WhatsApp => {
            out.push_str("wamid.HBgM");
            push_hex(out, a, 16, true);
            push_hex(out, b, 16, true);
        }
        ChannelType::Messenger => {
            out.push_str("m_");
            push_hex(out, a, 16, false);
            push_hex(out, b, 16, false);
        }
        ChannelType::Instagram => {
            out.push_str("aWdfZAG1");
            push_hex(out, a, 16, false);
            push_hex(out, b, 8, false);
        }
        ChannelType::WebChat => {
            out.push_str("wc-");
            push_hex(out, a, 16, false);
        }
        ChannelType::Telegram => {
            out.push_str("tg-");
            push_hex(out, a, 16, false);
        }
    }
}

/// Writes a contact id into `out` (cleared first): a WhatsApp user's number (`wa_number`, not
/// 0) in digits, as every ingest path names a WhatsApp contact (`contact_id` from `wa_id`, the
/// webhook parser's too), so the generated world can also arrive as webhooks; else 16 hex of the
/// contact's key.
pub(crate) fn contact_id(out: &mut String, key: u64, wa_number: u64) {
    out.clear();
    if wa_number != 0 {
        super::phones::push_digits(out, wa_number);
    } else {
        push_hex(out, key, 16, false);
    }
}

/// Writes a Meta-style conversation id (32 hex) into `out` (cleared first).
pub(crate) fn conversation_id(out: &mut String, key: u64) {
    out.clear();
    let a = mix64(key ^ 0x434F_4E56_4552_5341);
    push_hex(out, a, 16, false);
    push_hex(out, mix64(a ^ key), 16, false);
}

/// Writes a flow run id in UUID layout into `out` (cleared first).
pub(crate) fn run_id(out: &mut String, key: u64) {
    out.clear();
    let a = mix64(key ^ 0x464C_4F57_5255_4E31);
    let b = mix64(a ^ key);
    push_hex(out, a >> 32, 8, false);
    out.push('-');
    push_hex(out, a >> 16, 4, false);
    out.push('-');
    // Version 4 and variant bits, for the look.
    push_hex(out, 0x4000 | (a & 0x0FFF), 4, false);
    out.push('-');
    push_hex(out, 0x8000 | ((b >> 48) & 0x3FFF), 4, false);
    out.push('-');
    push_hex(out, b, 12, false);
}

/// Writes a campaign id into `out` (cleared first).
pub(crate) fn campaign_id(out: &mut String, key: u64) {
    out.clear();
    out.push_str("cmp_");
    push_hex(out, mix64(key ^ 0x4341_4D50_4149_474E), 16, false);
}

/// Writes a chat id for a contact into `out` (cleared first).
pub(crate) fn chat_id(out: &mut String, contact_key: u64) {
    out.clear();
    out.push_str("chat_");
    push_hex(out, contact_key, 16, false);
}

/// Writes a comment id (`<post>_<16 digits>`) into `out` (cleared first).
pub(crate) fn comment_id(out: &mut String, post_id: &str, key: u64) {
    out.clear();
    out.push_str(post_id);
    out.push('_');
    let v = mix64(key ^ 0x434F_4D4D_454E_5421) % 10_000_000_000_000_000;
    let s = format!("{v:016}");
    out.push_str(&s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_have_platform_shapes() {
        let mut s = String::new();
        message_id(&mut s, ChannelType::WhatsApp, message_key(3, 200, 17));
        assert!(s.starts_with("wamid.HBgM") && s.len() == 10 + 32, "{s}");
        run_id(&mut s, 42);
        let parts: Vec<usize> = s.split('-').map(str::len).collect();
        assert_eq!(parts, vec![8, 4, 4, 4, 12], "{s}");
    }
}
