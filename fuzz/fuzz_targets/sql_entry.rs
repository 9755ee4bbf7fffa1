//! The SQL entry point: any text a client sends as a query is split, rewritten and classified
//! (session command, COPY, cursor or query) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sql) = std::str::from_utf8(data) {
        let _ = chatlake::pg::parse_statements(sql);
    }
});
