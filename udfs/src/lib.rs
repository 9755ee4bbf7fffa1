//! chatlake's SQL functions for DataFusion (SPEC section 5).
//!
//! | module | functions | kind |
//! |---|---|---|
//! | [`local_time`] | `local_date`, `local_hour`, `local_dow`, `local_trunc`, `local_day_start` (5.1) | scalar |
//! | [`phone`] | `phone_country`, `phone_calling_code` (5.2) | scalar |
//! | [`funnel`] | `window_funnel` (5.3, ClickHouse `windowFunnel`) | aggregate |
//! | [`retention`] | `retention` (5.4, ClickHouse `retention`) | aggregate |
//! | [`sequence`] | `sequence_match`, `sequence_count` (5.5, ClickHouse `sequenceMatch`/`sequenceCount`) | aggregate |
//! | [`session_id`] | `session_id` (5.6) | window |
//! | [`whatsapp`] | `wa_conversations` (aggregate), `wa_pricing` (window) (5.7) | aggregate, window |
//! | [`most_active_hour`] | `most_active_hour` (5.8) | aggregate |
//! | [`implicit_replies`] | `implicit_replies` (the implicit reply of `message_response`, SPEC 4; beyond section 5) | aggregate |
//! | [`arg_extreme`] | `arg_min`, `arg_max` (DuckDB `arg_min`, ClickHouse `argMin`; beyond the SPEC) | aggregate |
//! | `events` (private) | shared buffering of `(ts, condition mask)` rows and its `List` partial state | — |
//! | `args` (private) | argument coercion, constants, timestamps and durations of the messaging functions | — |
//!
//! Every function is registered on every session by [`register_all`] and documented (description,
//! syntax, example), so `information_schema.routines` lists it.

use std::sync::{Arc, LazyLock};

use datafusion::logical_expr::{AggregateUDF, WindowUDF};
use datafusion::prelude::SessionContext;

pub mod arg_extreme;
mod args;
mod events;
pub mod funnel;
pub mod implicit_replies;
pub mod local_time;
pub mod most_active_hour;
pub mod phone;
pub mod retention;
pub mod sequence;
pub mod session_id;
pub mod whatsapp;

macro_rules! udaf_singleton {
    ($fn_name:ident, $ty:ty, $doc:literal) => {
        #[doc = $doc]
        pub fn $fn_name() -> Arc<AggregateUDF> {
            static UDAF: LazyLock<Arc<AggregateUDF>> =
                LazyLock::new(|| Arc::new(AggregateUDF::new_from_impl(<$ty>::new())));
            Arc::clone(&UDAF)
        }
    };
}

udaf_singleton!(
    window_funnel_udaf,
    funnel::WindowFunnelFunc,
    "The `window_funnel` UDAF."
);
udaf_singleton!(
    retention_udaf,
    retention::RetentionFunc,
    "The `retention` UDAF."
);
udaf_singleton!(
    sequence_match_udaf,
    sequence::SequenceMatchFunc,
    "The `sequence_match` UDAF."
);
udaf_singleton!(
    sequence_count_udaf,
    sequence::SequenceCountFunc,
    "The `sequence_count` UDAF."
);
udaf_singleton!(
    implicit_replies_udaf,
    implicit_replies::ImplicitRepliesFunc,
    "The `implicit_replies` UDAF."
);
udaf_singleton!(
    most_active_hour_udaf,
    most_active_hour::MostActiveHourFunc,
    "The `most_active_hour` UDAF."
);

/// The `arg_min` UDAF.
pub fn arg_min_udaf() -> Arc<AggregateUDF> {
    static UDAF: LazyLock<Arc<AggregateUDF>> = LazyLock::new(|| {
        Arc::new(AggregateUDF::new_from_impl(
            arg_extreme::ArgExtremeFunc::new(arg_extreme::Extreme::Min),
        ))
    });
    Arc::clone(&UDAF)
}

/// The `arg_max` UDAF.
pub fn arg_max_udaf() -> Arc<AggregateUDF> {
    static UDAF: LazyLock<Arc<AggregateUDF>> = LazyLock::new(|| {
        Arc::new(AggregateUDF::new_from_impl(
            arg_extreme::ArgExtremeFunc::new(arg_extreme::Extreme::Max),
        ))
    });
    Arc::clone(&UDAF)
}

/// The `session_id` window function.
pub fn session_id_udwf() -> Arc<WindowUDF> {
    static UDWF: LazyLock<Arc<WindowUDF>> =
        LazyLock::new(|| Arc::new(WindowUDF::new_from_impl(session_id::SessionIdFunc::new())));
    Arc::clone(&UDWF)
}

/// Every aggregate function of this crate.
pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    vec![
        window_funnel_udaf(),
        retention_udaf(),
        sequence_match_udaf(),
        sequence_count_udaf(),
        most_active_hour_udaf(),
        whatsapp::wa_conversations_udaf(),
        implicit_replies_udaf(),
        arg_min_udaf(),
        arg_max_udaf(),
    ]
}

/// Every window function of this crate.
pub fn window_functions() -> Vec<Arc<WindowUDF>> {
    vec![session_id_udwf(), whatsapp::wa_pricing_udwf()]
}

/// Registers every chatlake SQL function on `ctx`.
pub fn register_all(ctx: &SessionContext) {
    for udf in local_time::functions()
        .into_iter()
        .chain(phone::functions())
    {
        ctx.register_udf(udf.as_ref().clone());
    }
    for udaf in aggregate_functions() {
        ctx.register_udaf(udaf.as_ref().clone());
    }
    for udwf in window_functions() {
        ctx.register_udwf(udwf.as_ref().clone());
    }
}
