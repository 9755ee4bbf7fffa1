//! The files of a Glific export and their rows.
//!
//! | what            | how                                                                       |
//! |-----------------|---------------------------------------------------------------------------|
//! | which table     | the file name before its extensions, without a shard suffix `-000000000000` or `_000000000000` (`bq extract` with a `*` in the URI): `messages.json`, `messages-000000000001.json.gz`, `flow_results.parquet`; else the name of the directory holding it (`messages/000000000000.json`) |
//! | where           | each path given: a file, or a directory searched two levels deep          |
//! | format          | by extension, as for every import: `.json`/`.ndjson`/`.jsonl` NDJSON (as `bq extract --destination_format NEWLINE_DELIMITED_JSON` writes), `.parquet`; `.gz`/`.zst` decompressed |
//! | other tables    | files of tables the import does not read are listed, not read ([`Export::ignored`]) |
//! | rows            | NDJSON: each non-blank line, numbered from 1; Parquet: each row, numbered from 1, turned into the same JSON object (arrow's JSON writer) |

use std::io::BufRead;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use serde_json::Value;

use super::Table;
use crate::error::{Error, Result};
use crate::ingest::import::{Format, Input, open, parquet_batches, resolve_inputs};

/// One file of a table the import reads.
pub(crate) struct ExportFile {
    /// Its table.
    pub(crate) table: Table,
    /// The file.
    pub(crate) input: Input,
}

/// The files found.
pub(crate) struct Export {
    /// Files of tables the import reads, in reading order ([`Table::ALL`], then by name).
    pub(crate) files: Vec<ExportFile>,
    /// Files passed over, each with why.
    pub(crate) ignored: Vec<String>,
}

/// Finds the export files under `paths`; see the module docs.
pub(crate) fn find(paths: &[PathBuf]) -> Result<Export> {
    let mut candidates = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, 2, &mut candidates)?;
        } else if path.is_file() {
            candidates.push(path.clone());
        } else {
            return Err(Error::Config(format!(
                "{}: no such file or directory",
                path.display()
            )));
        }
    }
    candidates.sort();
    let mut files = Vec::new();
    let mut ignored = Vec::new();
    for path in candidates {
        let name = path.display().to_string();
        let Some(table) = table_of(&path) else {
            ignored.push(format!("{name}: not a table this import reads"));
            continue;
        };
        let input = match resolve_inputs(std::slice::from_ref(&path), None) {
            Ok(mut inputs) if inputs.len() == 1 => inputs.remove(0),
            Ok(_) => continue,
            Err(e) => {
                ignored.push(format!("{name}: {e}"));
                continue;
            }
        };
        if !matches!(input.format, Format::Ndjson | Format::Parquet) {
            ignored.push(format!(
                "{name}: Glific exports are read as NDJSON (.json) or Parquet"
            ));
            continue;
        }
        files.push(ExportFile { table, input });
    }
    files.sort_by_key(|f| (f.table as usize, f.input.name.clone()));
    Ok(Export { files, ignored })
}

/// Adds the files under `dir` to `out`, `depth` levels down.
fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        context: format!("listing {}", dir.display()),
        source,
    })?;
    for entry in entries {
        let path = entry
            .map_err(|source| Error::Io {
                context: format!("listing {}", dir.display()),
                source,
            })?
            .path();
        if path.is_dir() {
            if depth > 1 {
                walk(&path, depth - 1, out)?;
            }
        } else if !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// The table a file holds, from its name or its directory's.
fn table_of(path: &Path) -> Option<Table> {
    let file = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let stem = file.split('.').next().unwrap_or_default();
    let unsharded = stem
        .rsplit_once(['-', '_'])
        .filter(|(_, digits)| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .map_or(stem, |(head, _)| head);
    Table::named(unsharded).or_else(|| {
        let dir = path
            .parent()?
            .file_name()?
            .to_string_lossy()
            .to_ascii_lowercase();
        Table::named(&dir)
    })
}

/// Calls `each(line, raw text, parsed)` for every row of `input`; a line that is not JSON comes
/// with its parse error.
pub(crate) fn read_rows(
    input: &Input,
    bar: &indicatif::ProgressBar,
    mut each: impl FnMut(u64, &str, std::result::Result<Value, String>),
) -> Result<()> {
    match input.format {
        Format::Parquet => {
            let mut line = 0u64;
            for batch in parquet_batches(input, bar)? {
                for text in json_lines(&batch?, &input.name)? {
                    line += 1;
                    let parsed = serde_json::from_str(&text).map_err(|e| e.to_string());
                    each(line, &text, parsed);
                }
            }
            Ok(())
        }
        _ => {
            let mut reader = std::io::BufReader::with_capacity(1 << 20, open(input, bar)?);
            let mut bytes = Vec::with_capacity(4096);
            let mut line = 0u64;
            loop {
                bytes.clear();
                let read = reader
                    .read_until(b'\n', &mut bytes)
                    .map_err(|source| Error::Io {
                        context: format!("reading {}", input.name),
                        source,
                    })?;
                if read == 0 {
                    return Ok(());
                }
                line += 1;
                let text = String::from_utf8_lossy(&bytes);
                let text = text.trim_end_matches(['\n', '\r']);
                if text.trim().is_empty() {
                    continue;
                }
                let parsed = match std::str::from_utf8(&bytes) {
                    Ok(_) => serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}")),
                    Err(e) => Err(format!("not UTF-8 text: {e}")),
                };
                each(line, text, parsed);
            }
        }
    }
}

/// The rows of `batch` as JSON object texts.
fn json_lines(batch: &RecordBatch, name: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut writer = arrow::json::LineDelimitedWriter::new(&mut out);
    writer
        .write(batch)
        .and_then(|()| writer.finish())
        .map_err(|e| Error::Config(format!("{name}: reading a Parquet row as JSON: {e}")))?;
    let text = String::from_utf8(out)
        .map_err(|e| Error::Config(format!("{name}: a Parquet text is not UTF-8: {e}")))?;
    Ok(text.lines().map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_named_by_file_or_directory() {
        let of = |p: &str| table_of(Path::new(p));
        assert_eq!(of("x/messages.json"), Some(Table::Messages));
        assert_eq!(of("x/messages-000000000001.json.gz"), Some(Table::Messages));
        assert_eq!(
            of("x/flow_results_000000000000.parquet"),
            Some(Table::FlowResults)
        );
        assert_eq!(
            of("x/message_conversations.ndjson"),
            Some(Table::MessageConversations)
        );
        assert_eq!(of("x/contacts/000000000000.json"), Some(Table::Contacts));
        assert_eq!(of("x/wa_messages.json"), None);
        assert_eq!(of("x/flows.json"), Some(Table::Flows));
    }
}
