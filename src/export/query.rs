//! `chatlake export --query`: one query (a report call, a view, any SELECT) streamed into one
//! file, local or on S3, in the tenant scope asked for.
//!
//! | property | behaviour |
//! |---|---|
//! | format | `--format`, else from the file's extension (`.parquet`, `.json`/`.ndjson`, `.csv`, with `.gz`/`.zst`), else Parquet |
//! | tenants | `--tenant` scopes every table the query reads, as for a tenant's SQL session |
//! | the file | visible only when complete; an error leaves no file (an earlier one stays) |
//! | no rows | a file all the same (a CSV file has its header line) |

use std::time::{Duration, Instant};

use futures::StreamExt;

use super::destination::Destination;
use super::format::{Compression, Encoding, FileFormat, FileWriter, conform, plain_schema};
use super::sink::Written;
use crate::engine::Engine;
use crate::engine::tenant::TenantScope;
use crate::error::Result;
use crate::lake::StoreOptions;

/// What a query export wrote.
#[derive(Debug, Clone)]
pub struct QuerySummary {
    /// URL of the file.
    pub url: String,
    /// Rows.
    pub rows: u64,
    /// Size and checksum.
    pub written: Written,
    /// Wall time.
    pub elapsed: Duration,
}

/// The format and compression a file named `name` suggests, for what was not given.
pub fn encoding_for(
    name: &str,
    format: Option<FileFormat>,
    compression: Option<Compression>,
) -> Result<Encoding> {
    let lower = name.to_ascii_lowercase();
    let (stem, suffix_compression) = if let Some(stem) = lower.strip_suffix(".gz") {
        (stem, Some(Compression::Gzip))
    } else if let Some(stem) = lower.strip_suffix(".zst") {
        (stem, Some(Compression::Zstd))
    } else {
        (lower.as_str(), None)
    };
    let from_name = if stem.ends_with(".csv") {
        Some(FileFormat::Csv)
    } else if stem.ends_with(".json") || stem.ends_with(".ndjson") || stem.ends_with(".jsonl") {
        Some(FileFormat::Ndjson)
    } else if stem.ends_with(".parquet") {
        Some(FileFormat::Parquet)
    } else {
        None
    };
    let format = format.or(from_name).unwrap_or(FileFormat::Parquet);
    let compression = compression.or(match format {
        FileFormat::Parquet => None,
        // A text file named without a compression suffix is written plain.
        _ => Some(suffix_compression.unwrap_or(Compression::None)),
    });
    Encoding::new(format, compression)
}

/// Runs `sql` on `engine` as `scope` and writes its rows to the file at `location`.
pub async fn export_query(
    engine: &Engine,
    sql: &str,
    location: &str,
    store: &StoreOptions,
    format: Option<FileFormat>,
    compression: Option<Compression>,
    scope: TenantScope,
) -> Result<QuerySummary> {
    let started = Instant::now();
    let (dest, name) = Destination::open_file(location, store)?;
    let encoding = encoding_for(&name, format, compression)?;
    let ctx = engine.new_scoped_session(scope);
    let frame = ctx.sql(sql).await?;
    let schema = plain_schema(frame.schema().as_arrow());
    let mut stream = frame.execute_stream().await?;
    let mut writer = FileWriter::new(encoding, schema.clone(), dest.upload(&name))?;
    let outcome: Result<()> = async {
        while let Some(batch) = stream.next().await {
            let batch = conform(&batch?, &schema)?;
            if batch.num_rows() > 0 {
                writer.write(&batch).await?;
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        writer.abort().await;
        return Err(e);
    }
    let rows = writer.rows();
    let written = writer.finish().await?;
    Ok(QuerySummary {
        url: dest.url(&name),
        rows,
        written,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_suggests_format_and_compression() {
        let e = encoding_for("out.csv.gz", None, None).expect("csv.gz");
        assert_eq!(
            (e.format, e.compression),
            (FileFormat::Csv, Compression::Gzip)
        );
        let e = encoding_for("OUT.NDJSON", None, None).expect("ndjson");
        assert_eq!(
            (e.format, e.compression),
            (FileFormat::Ndjson, Compression::None)
        );
        let e = encoding_for("x.parquet", None, None).expect("parquet");
        assert_eq!(
            (e.format, e.compression),
            (FileFormat::Parquet, Compression::Zstd)
        );
        let e = encoding_for("x", Some(FileFormat::Csv), Some(Compression::Zstd)).expect("given");
        assert_eq!(
            (e.format, e.compression),
            (FileFormat::Csv, Compression::Zstd)
        );
        assert!(encoding_for("x.parquet", None, Some(Compression::Gzip)).is_err());
    }
}
