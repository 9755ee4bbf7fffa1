//! The wire decoder: any bytes, in any connection phase, decode to a message, to "need more
//! bytes" or to an error — never a panic or an absurd allocation.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use pgwire::messages::{DecodeContext, PgWireFrontendMessage};

fuzz_target!(|data: &[u8]| {
    let Some((phase, bytes)) = data.split_first() else {
        return;
    };
    let mut ctx = DecodeContext::default();
    // Phase: before SSL negotiation, before startup, or in the query loop.
    match phase % 3 {
        0 => {}
        1 => ctx.awaiting_frontend_ssl = false,
        _ => {
            ctx.awaiting_frontend_ssl = false;
            ctx.awaiting_frontend_startup = false;
        }
    }
    let mut buffer = BytesMut::from(bytes);
    // Decode messages until the input is used up or is bad.
    while let Ok(Some(_)) = PgWireFrontendMessage::decode(&mut buffer, &ctx) {}
});
