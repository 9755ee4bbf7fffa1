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
//! | `groups` (private) | [`groups::OneGroup`]: every aggregate is written as a `GroupsAccumulator` only, served as the single-group `Accumulator` too | — |
//! | `events` (private) | shared buffering of `(ts, condition mask)` rows and its `List` partial state | — |
//! | `args` (private) | argument coercion, constants, timestamps and durations of the messaging functions | — |
//!
//! Every function is registered on every session by [`register_all`] and documented (description,
//! syntax, example), so `information_schema.routines` lists it. Every function is declared the
//! same way: its struct by the crate's `declare_udf!` (the struct holds its `Signature`), its
//! shared instance by `make_udf_function!` (`local_date_udf()`, `window_funnel_udaf()`, ...).

use std::sync::Arc;

use datafusion::logical_expr::{AggregateUDF, WindowUDF};
use datafusion::prelude::SessionContext;

/// Declares `pub fn $name() -> Arc<$wrapper>`, one lazily built instance of a function shared
/// by every session: the shape of `datafusion-functions`' `make_udf_function!`, for all three
/// kinds (`$wrapper` is `ScalarUDF`, `AggregateUDF` or `WindowUDF`). `$make` builds the
/// implementation, once.
macro_rules! make_udf_function {
    ($wrapper:ident, $name:ident, $sql:literal, $make:expr) => {
        #[doc = concat!("The `", $sql, "` function (one shared instance).")]
        pub fn $name() -> ::std::sync::Arc<::datafusion::logical_expr::$wrapper> {
            static INSTANCE: ::std::sync::LazyLock<
                ::std::sync::Arc<::datafusion::logical_expr::$wrapper>,
            > = ::std::sync::LazyLock::new(|| {
                ::std::sync::Arc::new(::datafusion::logical_expr::$wrapper::new_from_impl($make))
            });
            ::std::sync::Arc::clone(&INSTANCE)
        }
    };
}

/// Declares a function's struct, which holds its `Signature`: `$name { signature }`, with
/// `new()` building `$signature` and `Default`. Functions with parameters of their own
/// (`arg_min`/`arg_max`, `sequence_match`/`sequence_count`) write theirs by hand.
macro_rules! declare_udf {
    ($(#[$doc:meta])* $name:ident, $sql:literal, $signature:expr) => {
        $(#[$doc])*
        #[derive(Debug, PartialEq, Eq, Hash)]
        pub struct $name {
            signature: ::datafusion::logical_expr::Signature,
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl $name {
            #[doc = concat!("A new `", $sql, "`.")]
            pub fn new() -> Self {
                Self {
                    signature: $signature,
                }
            }
        }
    };
}

pub mod arg_extreme;
mod args;
mod events;
pub mod funnel;
mod groups;
pub mod implicit_replies;
pub mod local_time;
pub mod most_active_hour;
pub mod phone;
pub mod retention;
pub mod sequence;
pub mod session_id;
pub mod whatsapp;

make_udf_function!(
    AggregateUDF,
    window_funnel_udaf,
    "window_funnel",
    funnel::WindowFunnelFunc::new()
);
make_udf_function!(
    AggregateUDF,
    retention_udaf,
    "retention",
    retention::RetentionFunc::new()
);
make_udf_function!(
    AggregateUDF,
    sequence_match_udaf,
    "sequence_match",
    sequence::SequenceFunc::new(sequence::Sequence::Match)
);
make_udf_function!(
    AggregateUDF,
    sequence_count_udaf,
    "sequence_count",
    sequence::SequenceFunc::new(sequence::Sequence::Count)
);
make_udf_function!(
    AggregateUDF,
    implicit_replies_udaf,
    "implicit_replies",
    implicit_replies::ImplicitRepliesFunc::new()
);
make_udf_function!(
    AggregateUDF,
    most_active_hour_udaf,
    "most_active_hour",
    most_active_hour::MostActiveHourFunc::new()
);
make_udf_function!(
    AggregateUDF,
    arg_min_udaf,
    "arg_min",
    arg_extreme::ArgExtremeFunc::new(arg_extreme::Extreme::Min)
);
make_udf_function!(
    AggregateUDF,
    arg_max_udaf,
    "arg_max",
    arg_extreme::ArgExtremeFunc::new(arg_extreme::Extreme::Max)
);
make_udf_function!(
    WindowUDF,
    session_id_udwf,
    "session_id",
    session_id::SessionIdFunc::new()
);

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
