//! chatlake's SQL functions for DataFusion.
//!
//! Every function is registered on every session by [`register_all`]. The function library
//! (local time, phones, funnels, retention, sequences, sessions, WhatsApp conversations) is
//! added here, one file per function.

use datafusion::prelude::SessionContext;

/// Registers every chatlake SQL function on `ctx`.
pub fn register_all(ctx: &SessionContext) {
    let _ = ctx;
}
