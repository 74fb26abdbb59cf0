//! Fault injection for the local prover: infrastructure errors, slow responses and failing
//! queries, set at runtime through `POST /_local/faults`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How many times a fault fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FaultCountJson", into = "FaultCountJson")]
pub enum FaultCount {
    /// For the next N matching events, then never.
    Times(u32),
    /// For every matching event until the plan changes.
    Always,
}

/// JSON form of [`FaultCount`]: a number, or the string `"always"`.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum FaultCountJson {
    Times(u32),
    Word(String),
}

impl TryFrom<FaultCountJson> for FaultCount {
    type Error = String;

    fn try_from(json: FaultCountJson) -> Result<Self, Self::Error> {
        match json {
            FaultCountJson::Times(times) => Ok(Self::Times(times)),
            FaultCountJson::Word(word) if word == "always" => Ok(Self::Always),
            FaultCountJson::Word(word) => Err(format!(
                "invalid fault count {word:?}; expected a number or \"always\""
            )),
        }
    }
}

impl From<FaultCount> for FaultCountJson {
    fn from(count: FaultCount) -> Self {
        match count {
            FaultCount::Times(times) => Self::Times(times),
            FaultCount::Always => Self::Word("always".to_owned()),
        }
    }
}

impl fmt::Display for FaultCount {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Times(times) => write!(formatter, "{times} times"),
            Self::Always => formatter.write_str("always"),
        }
    }
}

/// Faults to inject. Each POST to `/_local/faults` replaces the whole plan, and `{}` clears it.
///
/// Request faults apply to the Atlantic API and artifact routes, in this order: the delay,
/// then the HTML 404 page, then the 503.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultPlan {
    /// Respond to requests with an HTML 404 page, as a load balancer does for an unknown backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html_not_found: Option<FaultCount>,
    /// Respond to requests with 503 Service Unavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_unavailable: Option<FaultCount>,
    /// Wait this many milliseconds before handling each request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Let newly submitted queries end FAILED instead of DONE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_queries: Option<FaultCount>,
    /// `errorReason` of queries failed by `fail_queries`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

/// Reason used when the plan sets none.
pub const DEFAULT_FAILURE_REASON: &str = "failure injected by the local prover";

impl FaultPlan {
    /// Consumes one firing of the HTML 404 fault and returns whether it fires.
    pub(crate) fn take_html_not_found(&mut self) -> bool {
        take(&mut self.html_not_found)
    }

    /// Consumes one firing of the 503 fault and returns whether it fires.
    pub(crate) fn take_service_unavailable(&mut self) -> bool {
        take(&mut self.service_unavailable)
    }

    /// Consumes one firing of the query failure fault and returns the reason when it fires.
    pub(crate) fn take_query_failure(&mut self) -> Option<String> {
        take(&mut self.fail_queries).then(|| {
            self.failure_reason
                .clone()
                .unwrap_or_else(|| DEFAULT_FAILURE_REASON.to_owned())
        })
    }
}

fn take(count: &mut Option<FaultCount>) -> bool {
    match *count {
        Some(FaultCount::Always) => true,
        Some(FaultCount::Times(times)) if times > 0 => {
            *count = (times > 1).then(|| FaultCount::Times(times - 1));
            true
        }
        Some(FaultCount::Times(_)) => {
            *count = None;
            false
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_fault_fires_n_times() {
        let mut plan = FaultPlan {
            html_not_found: Some(FaultCount::Times(2)),
            ..FaultPlan::default()
        };
        assert!(plan.take_html_not_found());
        assert!(plan.take_html_not_found());
        assert!(!plan.take_html_not_found());
        assert_eq!(plan.html_not_found, None);
    }

    #[test]
    fn always_fault_keeps_firing() {
        let mut plan = FaultPlan {
            service_unavailable: Some(FaultCount::Always),
            ..FaultPlan::default()
        };
        for _ in 0..5 {
            assert!(plan.take_service_unavailable());
        }
    }

    #[test]
    fn plan_parses_numbers_and_always() {
        let plan: FaultPlan =
            serde_json::from_str(r#"{"htmlNotFound": 1, "failQueries": "always", "delayMs": 5}"#)
                .unwrap();
        assert_eq!(plan.html_not_found, Some(FaultCount::Times(1)));
        assert_eq!(plan.fail_queries, Some(FaultCount::Always));
        assert_eq!(plan.delay_ms, Some(5));
    }

    #[test]
    fn plan_rejects_unknown_fields_and_words() {
        assert!(serde_json::from_str::<FaultPlan>(r#"{"htmlNotFnd": 1}"#).is_err());
        assert!(serde_json::from_str::<FaultPlan>(r#"{"failQueries": "often"}"#).is_err());
    }

    #[test]
    fn query_failure_uses_default_reason() {
        let mut plan = FaultPlan {
            fail_queries: Some(FaultCount::Times(1)),
            ..FaultPlan::default()
        };
        assert_eq!(
            plan.take_query_failure().as_deref(),
            Some(DEFAULT_FAILURE_REASON)
        );
        assert_eq!(plan.take_query_failure(), None);
    }
}
