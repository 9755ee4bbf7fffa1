//! Parsing a phone number once: the per-batch de-duplication and the process-wide cache.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;

/// What a phone number resolves to; both fields are `None` when it does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhoneInfo {
    /// The ITU calling code, e.g. 1, 44, 91.
    pub calling_code: Option<u16>,
    /// The ISO 3166 alpha-2 region as two ASCII bytes, e.g. `*b"KY"`.
    pub country: Option<[u8; 2]>,
}

impl PhoneInfo {
    /// The region as text.
    pub fn country_str(&self) -> Option<&str> {
        self.country
            .as_ref()
            .and_then(|c| std::str::from_utf8(c).ok())
    }
}

/// Entries kept by the process-wide cache before it is emptied and refilled.
const CACHE_CAPACITY: usize = 200_000;

static CACHE: LazyLock<Mutex<HashMap<String, PhoneInfo>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Resolves one phone number (digits with or without `+`).
pub fn lookup(phone: &str) -> PhoneInfo {
    let trimmed = phone.trim();
    if trimmed.is_empty() {
        return PhoneInfo::default();
    }
    let e164 = if trimmed.starts_with('+') {
        trimmed.to_string()
    } else {
        format!("+{trimmed}")
    };
    let Ok(number) = phonenumber::parse(None, &e164) else {
        return PhoneInfo::default();
    };
    let country = number.country();
    let region = country.id().and_then(|id| {
        let text: &str = id.as_ref();
        let bytes = text.as_bytes();
        (bytes.len() == 2).then(|| [bytes[0], bytes[1]])
    });
    PhoneInfo {
        calling_code: Some(country.code()),
        country: region,
    }
}

/// Resolves every row of a string argument: each distinct value is parsed at most once per
/// batch, and values seen in earlier batches come from the process-wide cache.
pub(crate) fn lookup_column(arg: &ColumnarValue, rows: usize) -> Result<Vec<Option<PhoneInfo>>> {
    let array: ArrayRef = arg.to_array(rows)?;
    let utf8 = cast(&array, &DataType::Utf8)?;
    let phones = utf8.as_string::<i32>();
    let mut batch: HashMap<&str, PhoneInfo> = HashMap::new();
    let mut missing: Vec<&str> = Vec::new();
    {
        let cache = CACHE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for phone in phones.iter().flatten() {
            if batch.contains_key(phone) {
                continue;
            }
            match cache.get(phone) {
                Some(info) => {
                    batch.insert(phone, *info);
                }
                None => {
                    batch.insert(phone, PhoneInfo::default());
                    missing.push(phone);
                }
            }
        }
    }
    if !missing.is_empty() {
        let resolved: Vec<(&str, PhoneInfo)> = missing.iter().map(|p| (*p, lookup(p))).collect();
        let mut cache = CACHE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.len() + resolved.len() > CACHE_CAPACITY {
            cache.clear();
        }
        for (phone, info) in resolved {
            batch.insert(phone, info);
            cache.insert(phone.to_string(), info);
        }
    }
    Ok((0..phones.len())
        .map(|row| {
            phones
                .is_valid(row)
                .then(|| batch.get(phones.value(row)).copied())
                .flatten()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn country(phone: &str) -> Option<String> {
        lookup(phone).country_str().map(str::to_string)
    }

    // Expected values: SPEC 5.2 / reference 11.2, and the numbering plans of the countries.
    #[test]
    fn spec_examples() {
        assert_eq!(lookup("919876543210").calling_code, Some(91));
        assert_eq!(country("919876543210").as_deref(), Some("IN"));
        assert_eq!(country("+13459492311").as_deref(), Some("KY"));
        assert_eq!(country("16137827274").as_deref(), Some("CA"));
        assert_eq!(country("15208782491").as_deref(), Some("US"));
        assert_eq!(lookup("447400123456").calling_code, Some(44));
        assert_eq!(country("447400123456").as_deref(), Some("GB"));
        assert_eq!(lookup("abc"), PhoneInfo::default());
    }

    #[test]
    fn shared_code_seven_splits_russia_and_kazakhstan() {
        // +7 7xx is Kazakhstan's range, +7 9xx a Russian mobile.
        assert_eq!(country("77011234567").as_deref(), Some("KZ"));
        assert_eq!(country("79161234567").as_deref(), Some("RU"));
    }

    #[test]
    fn blank_and_short_inputs_are_unparsable() {
        assert_eq!(lookup(""), PhoneInfo::default());
        assert_eq!(lookup("   "), PhoneInfo::default());
        assert_eq!(lookup("+"), PhoneInfo::default());
    }
}
