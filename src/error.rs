//! One error type for the process. Its SQLSTATEs, like every other error's a client sees, come
//! from the one mapping at the Postgres edge: the table in [`crate::pg::error`]
//! ([`crate::pg::error::sqlstate`] for DataFusion errors, which looks through to an [`Error`]
//! wrapped in them, and [`crate::pg::error::error_sqlstate`] for an [`Error`] itself).

use datafusion::error::DataFusionError;

/// Everything that can go wrong outside of query execution (opening a lake, writing, serving).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The lake URL is malformed or uses an unsupported scheme.
    #[error("invalid lake URL '{url}': {reason}")]
    LakeUrl {
        /// The URL as given.
        url: String,
        /// Why it is not usable.
        reason: String,
    },
    /// The lake could not be reached or read.
    #[error("cannot read lake at {location}: {source}")]
    LakeUnreachable {
        /// The lake root or table URL.
        location: String,
        /// The underlying store error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A table the engine expects is not in the lake.
    #[error(
        "table '{table}' is missing from the lake at {location} (run `chatlake generate` or ingest data first)"
    )]
    MissingTable {
        /// Table name.
        table: String,
        /// Lake root.
        location: String,
    },
    /// A derived table ([`crate::lake::schema::TableDef::derived`]) is not in the lake: it was
    /// written before the table existed, or by a writer that does not refresh.
    #[error(
        "table '{table}' is missing from the lake at {location}: it is derived from the other tables; build it with `chatlake refresh --lake {location}`"
    )]
    MissingDerivedTable {
        /// Table name.
        table: String,
        /// Lake root.
        location: String,
    },
    /// A Delta Lake operation failed.
    #[error("delta table '{table}': {source}")]
    Delta {
        /// Table name.
        table: String,
        /// The delta-rs error.
        #[source]
        source: deltalake::DeltaTableError,
    },
    /// A DataFusion error outside a client query.
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
    /// An Arrow error.
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    /// An I/O error, with what we were doing.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Invalid configuration or arguments.
    #[error("{0}")]
    Config(String),
    /// Code we call panicked (a library bug); the task it ran in carries on.
    #[error("{task} stopped on an internal error (a panic: {message})")]
    Panicked {
        /// What was being done.
        task: &'static str,
        /// The panic's message.
        message: String,
    },
}

/// The message of a caught panic's payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One line for a person: the error and its causes, without repeating a cause the message
/// already contains.
pub fn report(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}
