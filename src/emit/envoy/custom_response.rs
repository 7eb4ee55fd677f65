//! Envoy structs for a BackendTrafficPolicy's responseOverride: a custom_response filter per
//! distinct set of rules, off in the HCM and on for the routes that carry it (with the same
//! configuration: Envoy refuses an empty per-route one), whose matcher list picks the first
//! rule whose predicate the reply satisfies.

use crate::resolve::traffic_http::{OverrideAction, OverrideRule, ReplySource, ResponseOverrides, ValueMatch};
use serde::Serialize;

const CUSTOM_RESPONSE: &str = "type.googleapis.com/envoy.extensions.filters.http.custom_response.v3.CustomResponse";
const LOCAL_RESPONSE: &str = "type.googleapis.com/envoy.extensions.http.custom_response.local_response_policy.v3.LocalResponsePolicy";
const REDIRECT: &str = "type.googleapis.com/envoy.extensions.http.custom_response.redirect_policy.v3.RedirectPolicy";
const STATUS_INPUT: &str = "type.googleapis.com/envoy.type.matcher.v3.HttpResponseStatusCodeMatchInput";
const HEADER_INPUT: &str = "type.googleapis.com/envoy.type.matcher.v3.HttpResponseHeaderMatchInput";
const LOCAL_REPLY_INPUT: &str = "type.googleapis.com/envoy.type.matcher.v3.HttpResponseLocalReplyMatchInput";

#[derive(Serialize)]
pub struct CustomResponseFilter {
    #[serde(rename = "@type")]
    type_: &'static str,
    custom_response_matcher: Matcher,
}

#[derive(Serialize)]
struct Matcher {
    matcher_list: MatcherList,
}

#[derive(Serialize)]
struct MatcherList {
    matchers: Vec<FieldMatcher>,
}

#[derive(Serialize)]
struct FieldMatcher {
    predicate: Predicate,
    on_match: OnMatch,
}

#[derive(Serialize)]
struct OnMatch {
    action: Extension<Action>,
}

#[derive(Serialize)]
struct Extension<T> {
    name: String,
    typed_config: T,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(clippy::enum_variant_names)] // Envoy's field names
enum Predicate {
    SinglePredicate { input: Extension<Input>, value_match: ValueMatcher },
    OrMatcher { predicate: Vec<Predicate> },
    AndMatcher { predicate: Vec<Predicate> },
}

#[derive(Serialize)]
struct Input {
    #[serde(rename = "@type")]
    type_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    header_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum ValueMatcher {
    Exact(String),
    Prefix(String),
    Suffix(String),
    /// The xds RegexMatcher names its engine.
    SafeRegex { google_re2: Re2, regex: String },
}

#[derive(Serialize)]
struct Re2 {}

#[derive(Serialize)]
#[serde(untagged)]
enum Action {
    Respond(LocalResponse),
    Redirect(RedirectPolicy),
}

#[derive(Serialize)]
struct LocalResponse {
    #[serde(rename = "@type")]
    type_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    body_format: Option<BodyFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_code: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    response_headers_to_add: Vec<HeaderValueOption>,
}

#[derive(Serialize)]
struct BodyFormat {
    text_format: String,
}

#[derive(Serialize)]
struct HeaderValueOption {
    header: HeaderValue,
    append_action: &'static str,
}

#[derive(Serialize)]
struct HeaderValue {
    key: String,
    value: String,
}

#[derive(Serialize)]
struct RedirectPolicy {
    #[serde(rename = "@type")]
    type_: &'static str,
    redirect_action: RedirectAction,
    status_code: u32,
}

#[derive(Serialize)]
struct RedirectAction {
    #[serde(skip_serializing_if = "Option::is_none")]
    scheme_redirect: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_redirect: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port_redirect: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path_redirect: Option<String>,
}

/// A regex matching the three-digit statuses `lo..=hi`, decade by decade.
fn status_regex(lo: u16, hi: u16) -> String {
    let decades: Vec<String> = (lo / 10..=hi / 10).map(|d| format!("{d}[{}-{}]", lo.max(d * 10) % 10, hi.min(d * 10 + 9) % 10)).collect();
    format!("^(?:{})$", decades.join("|"))
}

fn single(type_: &'static str, header_name: Option<String>, value_match: ValueMatcher) -> Predicate {
    Predicate::SinglePredicate { input: Extension { name: "input".into(), typed_config: Input { type_, header_name } }, value_match }
}

/// One predicate of `parts`, joined by `join` (Envoy's lists take two at least).
fn joined(mut parts: Vec<Predicate>, join: fn(Vec<Predicate>) -> Predicate) -> Option<Predicate> {
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(join(parts)),
    }
}

fn predicate(r: &OverrideRule) -> Predicate {
    let statuses = r
        .statuses
        .iter()
        .map(|(lo, hi)| single(STATUS_INPUT, None, if lo == hi { ValueMatcher::Exact(lo.to_string()) } else { ValueMatcher::SafeRegex { google_re2: Re2 {}, regex: status_regex(*lo, *hi) } }))
        .collect();
    let mut all: Vec<Predicate> = joined(statuses, |p| Predicate::OrMatcher { predicate: p }).into_iter().collect();
    for (name, m) in &r.headers {
        let v = match m {
            ValueMatch::Exact(v) => ValueMatcher::Exact(v.clone()),
            ValueMatch::Prefix(v) => ValueMatcher::Prefix(v.clone()),
            ValueMatch::Suffix(v) => ValueMatcher::Suffix(v.clone()),
            ValueMatch::Regex(v) => ValueMatcher::SafeRegex { google_re2: Re2 {}, regex: v.clone() },
        };
        all.push(single(HEADER_INPUT, Some(name.clone()), v));
    }
    match r.source {
        ReplySource::All => {}
        ReplySource::Local => all.push(single(LOCAL_REPLY_INPUT, None, ValueMatcher::Exact("true".into()))),
        ReplySource::Backend => all.push(single(LOCAL_REPLY_INPUT, None, ValueMatcher::Exact("false".into()))),
    }
    // A rule of headers alone still needs a predicate: any status.
    joined(all, |p| Predicate::AndMatcher { predicate: p }).unwrap_or_else(|| single(STATUS_INPUT, None, ValueMatcher::SafeRegex { google_re2: Re2 {}, regex: ".*".into() }))
}

fn action(a: &OverrideAction) -> Action {
    match a {
        OverrideAction::Respond { status, body, headers } => Action::Respond(LocalResponse {
            type_: LOCAL_RESPONSE,
            body_format: body.as_ref().filter(|b| !b.is_empty()).map(|b| BodyFormat { text_format: b.clone() }),
            status_code: *status,
            response_headers_to_add: headers
                .iter()
                .map(|(k, v, append)| HeaderValueOption {
                    header: HeaderValue { key: k.clone(), value: v.clone() },
                    append_action: if *append { "APPEND_IF_EXISTS_OR_ADD" } else { "OVERWRITE_IF_EXISTS_OR_ADD" },
                })
                .collect(),
        }),
        OverrideAction::Redirect { scheme, host, port, path, status } => Action::Redirect(RedirectPolicy {
            type_: REDIRECT,
            redirect_action: RedirectAction { scheme_redirect: scheme.clone(), host_redirect: host.clone(), port_redirect: *port, path_redirect: path.clone() },
            status_code: *status,
        }),
    }
}

pub fn filter(ro: &ResponseOverrides) -> CustomResponseFilter {
    let matchers = ro
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| FieldMatcher { predicate: predicate(r), on_match: OnMatch { action: Extension { name: format!("rule-{i}"), typed_config: action(&r.action) } } })
        .collect();
    CustomResponseFilter { type_: CUSTOM_RESPONSE, custom_response_matcher: Matcher { matcher_list: MatcherList { matchers } } }
}

#[cfg(test)]
mod tests {
    #[test]
    fn status_ranges_become_decade_regexes() {
        assert_eq!(super::status_regex(500, 599), "^(?:50[0-9]|51[0-9]|52[0-9]|53[0-9]|54[0-9]|55[0-9]|56[0-9]|57[0-9]|58[0-9]|59[0-9])$");
        assert_eq!(super::status_regex(403, 417), "^(?:40[3-9]|41[0-7])$");
        assert_eq!(super::status_regex(404, 405), "^(?:40[4-5])$");
    }
}
