//! WhatsApp error codes the generator produces, their titles, and the report bucket of each
//! (reference section 5.4). [`error_bucket`] is the single mapping; ingest can reuse it.
//!
//! | code | title | bucket |
//! |---|---|---|
//! | 131026 | Message undeliverable | `undeliverable` |
//! | 131047, 470 | Re-engagement message (470: its On-Premises API predecessor) | `outside_window` |
//! | 131049 | This message was not delivered to maintain healthy ecosystem engagement | `frequency_capping` |
//! | 130472 | User's number is part of an experiment | `experiment` |
//! | 131050 | Unable to deliver the message: the user has stopped marketing messages | `opted_out_marketing` |
//! | 131048, 131056, 130429 | spam / pair / throughput rate limits | `rate_limit` |
//! | 131051 | Unsupported message type | `programmatic` |
//! | 131052, 131053 | media download / upload error | `media` |
//! | 131008, 131009, 132000-132016 | missing or invalid parameters, template errors | `template` |
//! | 131042 | Business eligibility payment issue (not in the reference table: a billing problem of the business) | `payment` |
//! | 131000 and anything else | Something went wrong | `other` |

/// The report bucket of a WhatsApp error code.
pub fn error_bucket(code: i32) -> &'static str {
    match code {
        131026 => "undeliverable",
        131047 | 470 => "outside_window",
        131049 => "frequency_capping",
        130472 => "experiment",
        131050 => "opted_out_marketing",
        131048 | 131056 | 130429 => "rate_limit",
        131051 => "programmatic",
        131052 | 131053 => "media",
        131008 | 131009 | 132000..=132016 => "template",
        131042 => "payment",
        _ => "other",
    }
}

/// The title Meta sends with a code (the `errors[].title` of the webhook).
pub fn error_title(code: i32) -> &'static str {
    match code {
        131026 => "Message undeliverable",
        131047 => "Re-engagement message",
        470 => {
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number"
        }
        131049 => "This message was not delivered to maintain healthy ecosystem engagement.",
        130472 => "User's number is part of an experiment",
        131050 => {
            "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business."
        }
        131048 => "Spam rate limit hit",
        131056 => "(Business Account, Consumer Account) pair rate limit hit",
        130429 => "Rate limit hit",
        131051 => "Unsupported message type",
        131052 => "Media download error",
        131053 => "Media upload error",
        131008 => "Required parameter is missing",
        131009 => "Parameter value is not valid",
        132000 => "Number of parameters does not match the expected number of params",
        132001 => "Template does not exist",
        132015 => "Template is paused",
        131042 => "Business eligibility payment issue",
        131000 => "Something went wrong",
        _ => "Unknown error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_the_reference_table() {
        // Read off reference 5.4 by hand.
        assert_eq!(error_bucket(131026), "undeliverable");
        assert_eq!(error_bucket(131047), "outside_window");
        assert_eq!(error_bucket(131049), "frequency_capping");
        assert_eq!(error_bucket(130472), "experiment");
        assert_eq!(error_bucket(131050), "opted_out_marketing");
        assert_eq!(error_bucket(131056), "rate_limit");
        assert_eq!(error_bucket(130429), "rate_limit");
        assert_eq!(error_bucket(131053), "media");
        assert_eq!(error_bucket(132015), "template");
        assert_eq!(error_bucket(131000), "other");
        assert_eq!(error_bucket(999_999), "other");
    }
}
