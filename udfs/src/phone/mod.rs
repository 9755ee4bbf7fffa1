//! Phone-number functions (SPEC 5.2): the country and calling code of an E.164 number.
//!
//! | function | result | meaning |
//! |---|---|---|
//! | [`phone_country(phone)`](PhoneCountryFunc) | `TEXT` | ISO 3166 alpha-2 region, e.g. `IN`, `KY` |
//! | [`phone_calling_code(phone)`](PhoneCallingCodeFunc) | `INT` | ITU calling code, e.g. `91`, `1` |
//!
//! Semantics shared by both:
//!
//! | case | behaviour |
//! |---|---|
//! | input | digits with or without a leading `+` (a WhatsApp `wa_id` has none); spaces, dashes and parentheses are tolerated |
//! | shared calling codes (+1, +7, +44, ...) | resolved by the national-number patterns of libphonenumber's metadata (`phonenumber` crate), so `+1 345 ...` is `KY` and `+1 613 ...` is `CA` |
//! | a number that parses but matches no region's patterns | the calling code's main region (`+1` → `US`) |
//! | unparsable (`abc`, too short, unknown calling code) | NULL (both functions) |
//! | NULL | NULL |
//! | validity | not required: a number in a range the metadata does not list yet still gets its country |
//! | cost | parsing is regex-heavy, so each batch parses each distinct value once and a process-wide cache keeps recent answers |

use std::sync::Arc;

use datafusion::logical_expr::{DocSection, ScalarUDF};

mod lookup;
mod phone_calling_code;
mod phone_country;

pub use lookup::{PhoneInfo, lookup};
pub use phone_calling_code::PhoneCallingCodeFunc;
pub use phone_country::PhoneCountryFunc;

/// Documentation section of the phone functions.
pub(crate) const DOC_SECTION: DocSection = DocSection {
    include: true,
    label: "Phone Functions",
    description: Some("Country and calling code of E.164 phone numbers (libphonenumber metadata)."),
};

make_udf_function!(
    ScalarUDF,
    phone_country_udf,
    "phone_country",
    PhoneCountryFunc::new()
);
make_udf_function!(
    ScalarUDF,
    phone_calling_code_udf,
    "phone_calling_code",
    PhoneCallingCodeFunc::new()
);

/// Every phone UDF.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![phone_country_udf(), phone_calling_code_udf()]
}
