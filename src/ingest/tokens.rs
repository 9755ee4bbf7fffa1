//! Who may post rows to the ingest listener, and of which tenants.
//!
//! | Token | Where it comes from | Rows it may write |
//! |---|---|---|
//! | the shared token | `CHATLAKE_INGEST_TOKEN` (or `--ingest-token`) | every tenant's |
//! | an ingest token | `chatlake user token add NAME --tenant T...` in the auth file (`--auth-file`), stored as its SHA-256, re-read when the file changes | rows whose `tenant_id` is one of the token's tenants; any other row is rejected with its line and reason, the rest of the body is accepted |
//!
//! Both are sent as `Authorization: Bearer <token>`; a missing or unknown token gets `401`.
//! Comparisons are constant-time (the shared token byte by byte, file tokens by digest).

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::record_batch::RecordBatch;
use axum::http::{HeaderMap, header};

use crate::auth::file::constant_time_eq;
use crate::auth::{AuthStore, TenantGrant};
use crate::ingest::decode::Reject;

/// The tokens the listener accepts.
#[derive(Debug, Clone, Default)]
pub struct IngestAuth {
    /// The shared all-tenants token (`CHATLAKE_INGEST_TOKEN`).
    pub shared: Option<Vec<u8>>,
    /// The auth file with per-tenant tokens.
    pub file: Option<Arc<AuthStore>>,
}

impl IngestAuth {
    /// Whether no request could ever be authorized.
    pub fn is_empty(&self) -> bool {
        self.shared.as_ref().is_none_or(Vec::is_empty) && self.file.is_none()
    }

    /// The tenants the request's bearer token may write, `None` for no or an unknown token.
    pub fn grant(&self, headers: &HeaderMap) -> Option<TenantGrant> {
        let presented = bearer(headers)?;
        if presented.is_empty() {
            return None;
        }
        if let Some(shared) = &self.shared
            && !shared.is_empty()
            && constant_time_eq(presented, shared)
        {
            return Some(TenantGrant::All);
        }
        let file = self.file.as_ref()?.current();
        file.token(presented).map(|token| token.tenants.clone())
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    let value = headers.get(header::AUTHORIZATION)?.as_bytes();
    let scheme = b"bearer ";
    if value.len() < scheme.len() || !value[..scheme.len()].eq_ignore_ascii_case(scheme) {
        return None;
    }
    Some(value[scheme.len()..].trim_ascii())
}

/// The rows of `batch` whose `tenant_id` `grant` does not allow, as rejects of their lines.
///
/// `batch` holds the good rows of `body` in order: the non-blank lines of `body` that are not
/// in `rejected`, numbered from 1. A table without `tenant_id` has nothing to check.
pub fn foreign_rows(
    grant: &TenantGrant,
    batch: &RecordBatch,
    body: &[u8],
    rejected: &HashSet<u64>,
) -> Vec<Reject> {
    let TenantGrant::Only(allowed) = grant else {
        return Vec::new();
    };
    let Some(tenants) = batch.column_by_name("tenant_id") else {
        return Vec::new();
    };
    let Some(tenants) = tenants.as_string_opt::<i32>() else {
        return Vec::new();
    };
    let mut foreign = Vec::new();
    let mut row = 0;
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        let number = i as u64 + 1;
        if line.trim_ascii().is_empty() || rejected.contains(&number) {
            continue;
        }
        if row >= tenants.len() {
            break;
        }
        let tenant = tenants.value(row);
        if !grant.allows(tenant) {
            foreign.push(Reject {
                line: number,
                column: Some("tenant_id".into()),
                reason: format!(
                    "tenant '{tenant}' is not granted to this ingest token (it may write rows of {})",
                    allowed.join(", ")
                ),
                raw: String::from_utf8_lossy(line).into_owned(),
            });
        }
        row += 1;
    }
    foreign
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::auth::{AuthFile, IngestToken};
    use arrow::array::{ArrayRef, StringArray};
    use axum::http::HeaderValue;

    fn headers(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn bearer_tokens_must_match_exactly() {
        let auth = IngestAuth {
            shared: Some(b"s3cret".to_vec()),
            file: None,
        };
        assert_eq!(auth.grant(&HeaderMap::new()), None);
        assert_eq!(
            auth.grant(&headers("Bearer s3cret")),
            Some(TenantGrant::All)
        );
        assert_eq!(
            auth.grant(&headers("bearer  s3cret ")),
            Some(TenantGrant::All)
        );
        for wrong in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "Basic s3cret",
            "s3cret",
            "Bearer ",
        ] {
            assert_eq!(auth.grant(&headers(wrong)), None, "{wrong}");
        }
        assert!(IngestAuth::default().is_empty());
        assert_eq!(IngestAuth::default().grant(&headers("Bearer ")), None);
    }

    #[test]
    fn a_file_token_grants_its_tenants_and_is_seen_when_added() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.toml");
        AuthFile::default().save(&path).unwrap();
        let auth = IngestAuth {
            shared: None,
            file: Some(Arc::new(AuthStore::open(&path).unwrap())),
        };
        let mut file = AuthFile::load(&path).unwrap();
        let (secret, token) = IngestToken::generate("feed", TenantGrant::Only(vec!["acme".into()]));
        // Not in the file yet.
        let mut request = HeaderMap::new();
        request.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {secret}")).unwrap(),
        );
        assert_eq!(auth.grant(&request), None);
        file.upsert_token(token);
        // A different size makes the change visible even within the file system's time stamp
        // granularity.
        file.save(&path).unwrap();
        assert_eq!(
            auth.grant(&request),
            Some(TenantGrant::Only(vec!["acme".into()]))
        );
    }

    #[test]
    fn rows_of_other_tenants_are_named_by_their_lines() {
        let batch = RecordBatch::try_from_iter([(
            "tenant_id",
            Arc::new(StringArray::from(vec!["acme", "globex", "acme"])) as ArrayRef,
        )])
        .unwrap();
        // Line 2 was rejected by the decoder, line 4 is blank: rows are lines 1, 3, 5.
        let body = b"{\"a\":1}\nbad\n{\"b\":2}\n\n{\"c\":3}";
        let rejected: HashSet<u64> = [2].into();
        let grant = TenantGrant::Only(vec!["acme".into()]);
        let foreign = foreign_rows(&grant, &batch, body, &rejected);
        assert_eq!(foreign.len(), 1);
        assert_eq!(foreign[0].line, 3);
        assert_eq!(foreign[0].column.as_deref(), Some("tenant_id"));
        assert_eq!(foreign[0].raw, "{\"b\":2}");
        assert!(foreign[0].reason.contains("tenant 'globex' is not granted"));
        assert!(foreign_rows(&TenantGrant::All, &batch, body, &rejected).is_empty());
    }
}
