//! chatlake's SQL functions for DataFusion (SPEC section 5).
//!
//! | module | functions | kind |
//! |---|---|---|
//! | [`local_time`] | `local_date`, `local_hour`, `local_dow`, `local_trunc`, `local_day_start` (5.1) | scalar |
//! | [`phone`] | `phone_country`, `phone_calling_code` (5.2) | scalar |
//! | [`session_id`] | `session_id` (5.6) | window |
//! | [`whatsapp`] | `wa_conversations` (aggregate), `wa_pricing` (window) (5.7) | aggregate, window |
//! | [`most_active_hour`] | `most_active_hour` (5.8) | aggregate |
//! | `args` (private) | argument coercion, constants, timestamps and durations shared by the aggregates and window functions | — |
//!
//! Every function is registered on every session by [`register_all`] and documented (description,
//! syntax, example), so `information_schema.routines` lists it.

use std::sync::{Arc, LazyLock};

use datafusion::logical_expr::{AggregateUDF, WindowUDF};
use datafusion::prelude::SessionContext;

mod args;
pub mod local_time;
pub mod most_active_hour;
pub mod phone;
pub mod session_id;
pub mod whatsapp;

/// The `session_id` window function.
pub fn session_id_udwf() -> Arc<WindowUDF> {
    static UDWF: LazyLock<Arc<WindowUDF>> =
        LazyLock::new(|| Arc::new(WindowUDF::new_from_impl(session_id::SessionIdFunc::new())));
    Arc::clone(&UDWF)
}

/// The `most_active_hour` aggregate.
pub fn most_active_hour_udaf() -> Arc<AggregateUDF> {
    static UDAF: LazyLock<Arc<AggregateUDF>> = LazyLock::new(|| {
        Arc::new(AggregateUDF::new_from_impl(
            most_active_hour::MostActiveHourFunc::new(),
        ))
    });
    Arc::clone(&UDAF)
}

/// Registers every chatlake SQL function on `ctx`.
pub fn register_all(ctx: &SessionContext) {
    for udf in local_time::functions()
        .into_iter()
        .chain(phone::functions())
    {
        ctx.register_udf(udf.as_ref().clone());
    }
    for udaf in [most_active_hour_udaf(), whatsapp::wa_conversations_udaf()] {
        ctx.register_udaf(udaf.as_ref().clone());
    }
    for udwf in [session_id_udwf(), whatsapp::wa_pricing_udwf()] {
        ctx.register_udwf(udwf.as_ref().clone());
    }
}
