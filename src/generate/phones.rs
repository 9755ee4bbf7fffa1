//! Country number plans: valid mobile numbers for 33 countries.
//!
//! Each country has its ITU calling code and a list of national mobile number patterns taken
//! from the libphonenumber metadata (`PhoneNumberMetadata.xml`, the data the `phonenumber` crate
//! and `phone_country()` use). A pattern is a string of literal digits, `X` (any digit) and `N`
//! (2-9, the NANP exchange rule). Every pattern was chosen so that *every* number it produces is
//! a valid mobile number of its country and of no other region sharing the calling code:
//! `+1` numbers of Canada (416, 604, 613 ...), Jamaica (876), the Cayman Islands (345 with
//! mobile exchanges), Puerto Rico (787, 939) and Trinidad and Tobago (868) do not match the US
//! plan, and UK numbers avoid the Guernsey/Jersey/Isle of Man mobile ranges of `+44`.
//!
//! | quantity | rule |
//! |---|---|
//! | `wa_id` | calling code followed by the national number, digits only, no `+` |
//! | `display_phone` | `+` followed by the same digits (E.164) |
//! | `country_code` | the ISO 3166 alpha-2 code of the plan that produced the number |
//! | `calling_code` | the plan's calling code |

use super::names::NameGroup;
use super::rng::Rand;

/// A country: calling code, valid mobile patterns, and what its people are called and speak.
#[derive(Debug)]
pub(crate) struct Country {
    /// ISO 3166-1 alpha-2.
    pub iso: &'static str,
    /// ITU calling code.
    pub calling_code: u16,
    /// National mobile number patterns (digits, `X` = any digit, `N` = 2-9).
    pub patterns: &'static [&'static str],
    /// Names used for contacts from this country.
    pub names: NameGroup,
    /// Contact languages, most common first (the first gets most of the weight).
    pub languages: &'static [&'static str],
}

macro_rules! c {
    ($iso:literal, $cc:literal, $names:ident, [$($lang:literal),+], [$($p:literal),+ $(,)?]) => {
        Country { iso: $iso, calling_code: $cc, patterns: &[$($p),+], names: NameGroup::$names, languages: &[$($lang),+] }
    };
}

/// Every country a contact or a business number can come from.
pub(crate) static COUNTRIES: &[Country] = &[
    c!(
        "IN",
        91,
        Indian,
        ["hi", "en", "ta", "mr"],
        [
            "98XXXXXXXX",
            "99XXXXXXXX",
            "97XXXXXXXX",
            "96XXXXXXXX",
            "95XXXXXXXX",
            "94XXXXXXXX",
            "93XXXXXXXX",
            "91XXXXXXXX",
            "90XXXXXXXX",
            "85XXXXXXXX",
            "84XXXXXXXX",
            "70XXXXXXXX",
            "74XXXXXXXX",
            "72XXXXXXXX",
            "60XXXXXXXX",
            "69XXXXXXXX"
        ]
    ),
    c!(
        "NP",
        977,
        Nepali,
        ["ne", "en"],
        [
            "980XXXXXXX",
            "981XXXXXXX",
            "982XXXXXXX",
            "984XXXXXXX",
            "985XXXXXXX",
            "986XXXXXXX",
            "974XXXXXXX",
            "976XXXXXXX",
            "961XXXXXXX"
        ]
    ),
    c!(
        "BR",
        55,
        Lusophone,
        ["pt_BR"],
        [
            "119XXXXXXXX",
            "219XXXXXXXX",
            "319XXXXXXXX",
            "419XXXXXXXX",
            "519XXXXXXXX",
            "619XXXXXXXX",
            "719XXXXXXXX",
            "819XXXXXXXX",
            "859XXXXXXXX",
            "479XXXXXXXX"
        ]
    ),
    c!(
        "GB",
        44,
        Anglo,
        ["en_GB"],
        [
            "740XXXXXXX",
            "741XXXXXXX",
            "742XXXXXXX",
            "743XXXXXXX",
            "744XXXXXXX",
            "746XXXXXXX",
            "747XXXXXXX",
            "748XXXXXXX",
            "749XXXXXXX",
            "771XXXXXXX",
            "772XXXXXXX",
            "773XXXXXXX",
            "774XXXXXXX",
            "775XXXXXXX",
            "776XXXXXXX",
            "777XXXXXXX",
            "780XXXXXXX",
            "785XXXXXXX",
            "786XXXXXXX",
            "795XXXXXXX",
            "796XXXXXXX",
            "798XXXXXXX",
            "712XXXXXXX",
            "730XXXXXXX"
        ]
    ),
    c!(
        "US",
        1,
        Anglo,
        ["en_US", "es"],
        [
            "212NXXXXXX",
            "415NXXXXXX",
            "520NXXXXXX",
            "305NXXXXXX",
            "646NXXXXXX",
            "713NXXXXXX",
            "312NXXXXXX",
            "617NXXXXXX",
            "206NXXXXXX",
            "404NXXXXXX",
            "702NXXXXXX",
            "303NXXXXXX",
            "917NXXXXXX",
            "718NXXXXXX",
            "310NXXXXXX",
            "512NXXXXXX"
        ]
    ),
    c!(
        "CA",
        1,
        Anglo,
        ["en", "fr"],
        [
            "416NXXXXXX",
            "604NXXXXXX",
            "613NXXXXXX",
            "514NXXXXXX",
            "403NXXXXXX",
            "780NXXXXXX",
            "902NXXXXXX",
            "647NXXXXXX",
            "437NXXXXXX",
            "905NXXXXXX"
        ]
    ),
    c!(
        "JM",
        1,
        Anglo,
        ["en"],
        ["8763XXXXXX", "8764XXXXXX", "8768XXXXXX"]
    ),
    c!(
        "KY",
        1,
        Anglo,
        ["en"],
        [
            "34532NXXXX",
            "345516XXXX",
            "345517XXXX",
            "345649XXXX",
            "345926XXXX",
            "345938XXXX"
        ]
    ),
    c!(
        "PR",
        1,
        Hispanic,
        ["es", "en_US"],
        ["787NXXXXXX", "939NXXXXXX"]
    ),
    c!(
        "TT",
        1,
        Anglo,
        ["en"],
        ["86830XXXXX", "86847XXXXX", "86875XXXXX"]
    ),
    c!(
        "AU",
        61,
        Anglo,
        ["en_AU"],
        [
            "40XXXXXXX",
            "41XXXXXXX",
            "42XXXXXXX",
            "43XXXXXXX",
            "46XXXXXXX"
        ]
    ),
    c!(
        "NZ",
        64,
        Anglo,
        ["en"],
        ["21XXXXXXX", "22XXXXXXX", "27XXXXXXX", "20XXXXXXX"]
    ),
    c!(
        "NG",
        234,
        WestAfrican,
        ["en", "yo", "ha"],
        [
            "803XXXXXXX",
            "806XXXXXXX",
            "813XXXXXXX",
            "816XXXXXXX",
            "703XXXXXXX",
            "706XXXXXXX",
            "805XXXXXXX",
            "807XXXXXXX",
            "815XXXXXXX",
            "905XXXXXXX",
            "802XXXXXXX",
            "808XXXXXXX"
        ]
    ),
    c!(
        "KE",
        254,
        EastAfrican,
        ["en", "sw"],
        [
            "70XXXXXXX",
            "71XXXXXXX",
            "72XXXXXXX",
            "79XXXXXXX",
            "11XXXXXXX",
            "74XXXXXXX"
        ]
    ),
    c!(
        "ZA",
        27,
        SouthAfrican,
        ["en", "zu", "af"],
        [
            "60XXXXXXX",
            "71XXXXXXX",
            "72XXXXXXX",
            "73XXXXXXX",
            "76XXXXXXX",
            "78XXXXXXX",
            "79XXXXXXX",
            "82XXXXXXX",
            "83XXXXXXX",
            "84XXXXXXX"
        ]
    ),
    c!(
        "ID",
        62,
        Indonesian,
        ["id"],
        [
            "812XXXXXXXX",
            "813XXXXXXXX",
            "821XXXXXXXX",
            "822XXXXXXXX",
            "852XXXXXXXX",
            "856XXXXXXXX",
            "857XXXXXXXX",
            "878XXXXXXXX",
            "811XXXXXXX",
            "812XXXXXXXXX"
        ]
    ),
    c!(
        "MX",
        52,
        Hispanic,
        ["es_MX"],
        [
            "55XXXXXXXX",
            "33XXXXXXXX",
            "81XXXXXXXX",
            "222XXXXXXX",
            "442XXXXXXX",
            "664XXXXXXX",
            "998XXXXXXX"
        ]
    ),
    c!(
        "ES",
        34,
        Hispanic,
        ["es"],
        [
            "6XXXXXXXX",
            "71XXXXXXX",
            "72XXXXXXX",
            "73XXXXXXX",
            "74XXXXXXX"
        ]
    ),
    c!(
        "PT",
        351,
        Lusophone,
        ["pt_PT"],
        ["91XXXXXXX", "92XXXXXXX", "93XXXXXXX", "96XXXXXXX"]
    ),
    c!(
        "AR",
        54,
        Hispanic,
        ["es_AR"],
        ["9111XXXXXXX", "9115XXXXXXX", "9116XXXXXXX"]
    ),
    c!(
        "CO",
        57,
        Hispanic,
        ["es"],
        [
            "300XXXXXXX",
            "301XXXXXXX",
            "310XXXXXXX",
            "311XXXXXXX",
            "312XXXXXXX",
            "313XXXXXXX",
            "315XXXXXXX",
            "316XXXXXXX",
            "317XXXXXXX",
            "318XXXXXXX",
            "320XXXXXXX",
            "350XXXXXXX"
        ]
    ),
    c!(
        "AE",
        971,
        Arabic,
        ["ar", "en"],
        [
            "50XXXXXXX",
            "52XXXXXXX",
            "54XXXXXXX",
            "55XXXXXXX",
            "56XXXXXXX",
            "58XXXXXXX"
        ]
    ),
    c!(
        "SA",
        966,
        Arabic,
        ["ar"],
        [
            "50XXXXXXX",
            "53XXXXXXX",
            "54XXXXXXX",
            "55XXXXXXX",
            "56XXXXXXX",
            "59XXXXXXX"
        ]
    ),
    c!(
        "PK",
        92,
        Pakistani,
        ["ur", "en"],
        [
            "300XXXXXXX",
            "301XXXXXXX",
            "310XXXXXXX",
            "321XXXXXXX",
            "333XXXXXXX",
            "345XXXXXXX",
            "303XXXXXXX"
        ]
    ),
    c!(
        "BD",
        880,
        Bengali,
        ["bn"],
        [
            "171XXXXXXX",
            "191XXXXXXX",
            "151XXXXXXX",
            "131XXXXXXX",
            "161XXXXXXX",
            "175XXXXXXX"
        ]
    ),
    c!(
        "PH",
        63,
        Filipino,
        ["en", "fil"],
        [
            "905XXXXXXX",
            "917XXXXXXX",
            "918XXXXXXX",
            "927XXXXXXX",
            "939XXXXXXX",
            "945XXXXXXX",
            "956XXXXXXX",
            "961XXXXXXX",
            "966XXXXXXX"
        ]
    ),
    c!(
        "MY",
        60,
        Malay,
        ["ms", "en"],
        [
            "12XXXXXXX",
            "16XXXXXXX",
            "19XXXXXXX",
            "112XXXXXXX",
            "114XXXXXXX"
        ]
    ),
    c!(
        "SG",
        65,
        Malay,
        ["en", "zh"],
        [
            "81XXXXXX", "82XXXXXX", "87XXXXXX", "88XXXXXX", "90XXXXXX", "91XXXXXX", "93XXXXXX",
            "96XXXXXX", "97XXXXXX", "98XXXXXX"
        ]
    ),
    c!(
        "DE",
        49,
        German,
        ["de"],
        [
            "151XXXXXXXX",
            "152XXXXXXXX",
            "157XXXXXXXX",
            "160XXXXXXX",
            "162XXXXXXX",
            "170XXXXXXX",
            "171XXXXXXX",
            "172XXXXXXX",
            "176XXXXXXXX",
            "177XXXXXXXX",
            "179XXXXXXX"
        ]
    ),
    c!(
        "FR",
        33,
        French,
        ["fr"],
        [
            "60XXXXXXX",
            "61XXXXXXX",
            "62XXXXXXX",
            "64XXXXXXX",
            "66XXXXXXX",
            "67XXXXXXX",
            "68XXXXXXX",
            "75XXXXXXX",
            "76XXXXXXX",
            "77XXXXXXX",
            "78XXXXXXX"
        ]
    ),
    c!(
        "IE",
        353,
        Anglo,
        ["en"],
        [
            "83XXXXXXX",
            "85XXXXXXX",
            "86XXXXXXX",
            "87XXXXXXX",
            "89XXXXXXX"
        ]
    ),
    c!(
        "EG",
        20,
        Arabic,
        ["ar"],
        [
            "100XXXXXXX",
            "101XXXXXXX",
            "106XXXXXXX",
            "111XXXXXXX",
            "112XXXXXXX",
            "120XXXXXXX",
            "122XXXXXXX",
            "127XXXXXXX",
            "155XXXXXXX"
        ]
    ),
    c!(
        "TR",
        90,
        Turkish,
        ["tr"],
        [
            "530XXXXXXX",
            "532XXXXXXX",
            "533XXXXXXX",
            "535XXXXXXX",
            "536XXXXXXX",
            "541XXXXXXX",
            "542XXXXXXX",
            "543XXXXXXX",
            "544XXXXXXX",
            "505XXXXXXX",
            "555XXXXXXX",
            "501XXXXXXX"
        ]
    ),
    c!(
        "QA",
        974,
        Arabic,
        ["ar", "en"],
        ["3XXXXXXX", "5XXXXXXX", "6XXXXXXX", "7XXXXXXX"]
    ),
];

/// Index of a country in [`COUNTRIES`] by ISO code.
pub(crate) fn country_index(iso: &str) -> Option<u8> {
    COUNTRIES.iter().position(|c| c.iso == iso).map(|i| i as u8)
}

/// A random valid mobile number of `country`, as the integer of its E.164 digits
/// (calling code first; no number has a leading zero, so the integer keeps every digit).
pub(crate) fn mobile_number(rng: &mut Rand, country: &Country) -> u64 {
    let pattern = rng
        .pick_slice(country.patterns)
        .copied()
        .unwrap_or("XXXXXXXXX");
    let mut n = country.calling_code as u64;
    for ch in pattern.bytes() {
        let d = match ch {
            b'X' => rng.below(10),
            b'N' => 2 + rng.below(8),
            b'0'..=b'9' => (ch - b'0') as u64,
            _ => 0,
        };
        n = n * 10 + d;
    }
    n
}

/// Appends the decimal digits of `n` to `out` (the `wa_id` form of a number).
pub(crate) fn push_digits(out: &mut String, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for b in &buf[i..] {
        out.push(*b as char);
    }
}
