//! chatlake's SQL functions for DataFusion.
//!
//! | module | functions |
//! |---|---|
//! | [`local_time`] | `local_date`, `local_hour`, `local_dow`, `local_trunc`, `local_day_start` (SPEC 5.1) |
//!
//! Every function is registered on every session by [`register_all`]. The function library
//! (local time, phones, funnels, retention, sequences, sessions, WhatsApp conversations) is
//! added here, one file per function.

use datafusion::prelude::SessionContext;

pub mod local_time;

/// Registers every chatlake SQL function on `ctx`.
pub fn register_all(ctx: &SessionContext) {
    for udf in local_time::functions() {
        ctx.register_udf(udf.as_ref().clone());
    }
}
