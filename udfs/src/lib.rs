//! chatlake's SQL functions for DataFusion.
//!
//! | module | functions |
//! |---|---|
//! | [`local_time`] | `local_date`, `local_hour`, `local_dow`, `local_trunc`, `local_day_start` (SPEC 5.1) |
//! | [`funnel`] | aggregate `window_funnel` (SPEC 5.3, ClickHouse `windowFunnel`) |
//! | [`retention`] | aggregate `retention` (SPEC 5.4, ClickHouse `retention`) |
//! | [`sequence`] | aggregates `sequence_match`, `sequence_count` (SPEC 5.5, ClickHouse `sequenceMatch`/`sequenceCount`) |
//! | `events` (private) | shared buffering of `(ts, condition mask)` rows and its `List` partial state |
//!
//! Every function is registered on every session by [`register_all`]. The function library
//! (local time, phones, funnels, retention, sequences, sessions, WhatsApp conversations) is
//! added here, one file per function.

use std::sync::{Arc, LazyLock};

use datafusion::logical_expr::AggregateUDF;
use datafusion::prelude::SessionContext;

mod events;
pub mod funnel;
pub mod local_time;
pub mod retention;
pub mod sequence;

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

/// Every aggregate function of this crate.
pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    vec![
        window_funnel_udaf(),
        retention_udaf(),
        sequence_match_udaf(),
        sequence_count_udaf(),
    ]
}

/// Registers every chatlake SQL function on `ctx`.
pub fn register_all(ctx: &SessionContext) {
    for udf in local_time::functions() {
        ctx.register_udf(udf.as_ref().clone());
    }
    for udaf in aggregate_functions() {
        ctx.register_udaf(udaf.as_ref().clone());
    }
}
