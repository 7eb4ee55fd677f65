//! A SecurityPolicy's authorization in Envoy's terms, as Envoy Gateway writes it: rules in
//! order as an RBAC matcher tree over the client address (the one clientIPDetection found),
//! headers, method, path and the claims of a verified JWT; on HTTP routes (per route, the RBAC
//! filter in the chain doing nothing by default) and on TCP proxies (by address alone).

use super::types::*;
use crate::resolve::security as s;
use serde::Serialize;

pub const RBAC: &str = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC";
const RBAC_ROUTE: &str = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute";
const RBAC_ACTION: &str = "type.googleapis.com/envoy.config.rbac.v3.Action";
const IP_MATCHER: &str = "type.googleapis.com/envoy.extensions.matching.input_matchers.ip.v3.Ip";
const SOURCE_IP: &str = "type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.SourceIPInput";
const HEADER_INPUT: &str = "type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput";
const METADATA_INPUT: &str = "type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DynamicMetadataInput";
const METADATA_MATCHER: &str = "type.googleapis.com/envoy.extensions.matching.input_matchers.metadata.v3.Metadata";
pub const RBAC_FILTER: &str = "envoy.filters.http.rbac";

#[derive(Serialize)]
pub struct RbacPerRoute {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub rbac: Rbac,
}

#[derive(Serialize)]
pub struct Rbac {
    pub matcher: Matcher,
}

#[derive(Serialize)]
pub struct Matcher {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matcher_list: Option<MatcherList>,
    pub on_no_match: OnMatch,
}

#[derive(Serialize)]
pub struct MatcherList {
    pub matchers: Vec<FieldMatcher>,
}

#[derive(Serialize)]
pub struct FieldMatcher {
    pub predicate: Predicate,
    pub on_match: OnMatch,
}

#[derive(Serialize)]
pub struct OnMatch {
    pub action: Extension<RbacAction>,
}

/// A typed extension: a name and its configuration (matcher inputs and actions, injected
/// credentials).
#[derive(Serialize)]
pub struct Extension<T> {
    pub name: String,
    pub typed_config: T,
}

#[derive(Serialize)]
pub struct RbacAction {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub name: &'static str,
    /// ALLOW is the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<&'static str>,
}

#[derive(Serialize)]
pub enum Predicate {
    #[serde(rename = "single_predicate")]
    Single(Box<SinglePredicate>),
    #[serde(rename = "or_matcher")]
    Or(PredicateList),
    #[serde(rename = "and_matcher")]
    And(PredicateList),
    #[serde(rename = "not_matcher")]
    Not(Box<Predicate>),
}

#[derive(Serialize)]
pub struct PredicateList {
    pub predicate: Vec<Predicate>,
}

#[derive(Serialize)]
pub struct SinglePredicate {
    pub input: Extension<Input>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_match: Option<XdsStringMatcher>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_match: Option<Extension<CustomMatch>>,
}

/// The matching API's string matcher (xds.type.matcher.v3): its regexes name their engine.
#[derive(Serialize, Default)]
pub struct XdsStringMatcher {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe_regex: Option<XdsRegex>,
}

#[derive(Serialize)]
pub struct XdsRegex {
    pub google_re2: Empty,
    pub regex: String,
}

impl XdsStringMatcher {
    fn exact(v: &str) -> Self {
        XdsStringMatcher { exact: Some(v.to_string()), ..Default::default() }
    }
}

/// A header, the client address, or a path into a filter's dynamic metadata.
#[derive(Serialize)]
pub struct Input {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<PathSegment>,
}

#[derive(Serialize)]
pub struct PathSegment {
    pub key: String,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum CustomMatch {
    Ip(IpMatcher),
    Metadata(MetadataMatcher),
}

/// A dynamic-metadata value: a string, or a list holding one.
#[derive(Serialize)]
pub struct MetadataMatcher {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub value: ValueMatcher,
}

#[derive(Serialize)]
pub struct ValueMatcher {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string_match: Option<StringMatcher>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_match: Option<Box<ListMatcher>>,
}

#[derive(Serialize)]
pub struct ListMatcher {
    pub one_of: ValueMatcher,
}

#[derive(Serialize)]
pub struct IpMatcher {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub cidr_ranges: Vec<CidrRange>,
    pub stat_prefix: &'static str,
}

fn action(name: String, allow: bool) -> OnMatch {
    let typed_config = if allow {
        RbacAction { type_: RBAC_ACTION, name: "ALLOW", action: None }
    } else {
        RbacAction { type_: RBAC_ACTION, name: "DENY", action: Some("DENY") }
    };
    OnMatch { action: Extension { name, typed_config } }
}

fn header(name: &str, m: XdsStringMatcher) -> Predicate {
    Predicate::Single(Box::new(SinglePredicate {
        input: Extension { name: "http_header".into(), typed_config: Input { type_: HEADER_INPUT, header_name: Some(name.to_string()), filter: None, path: Vec::new() } },
        value_match: Some(m),
        custom_match: None,
    }))
}

/// One predicate of several: none is "always" (an empty AND is not allowed), one is itself.
fn all(mut ps: Vec<Predicate>) -> Option<Predicate> {
    match ps.len() {
        0 => None,
        1 => ps.pop(),
        _ => Some(Predicate::And(PredicateList { predicate: ps })),
    }
}

fn any(mut ps: Vec<Predicate>) -> Option<Predicate> {
    match ps.len() {
        0 => None,
        1 => ps.pop(),
        _ => Some(Predicate::Or(PredicateList { predicate: ps })),
    }
}

fn client_ip(cidrs: &[(String, u32)]) -> Predicate {
    Predicate::Single(Box::new(SinglePredicate {
        input: Extension { name: "client_ip".into(), typed_config: Input { type_: SOURCE_IP, header_name: None, filter: None, path: Vec::new() } },
        value_match: None,
        custom_match: Some(Extension {
            name: "ip_matcher".into(),
            typed_config: CustomMatch::Ip(IpMatcher { type_: IP_MATCHER, cidr_ranges: cidrs.iter().map(|(a, l)| CidrRange { address_prefix: a.clone(), prefix_len: *l }).collect(), stat_prefix: "client_ip" }),
        }),
    }))
}

/// A value at `path` of the payload the JWT filter stored for a provider (its name) is, or
/// holds (`list`), `value`.
fn jwt_value(name: &str, path: Vec<String>, list: bool, value: &str) -> Predicate {
    let exact = ValueMatcher { string_match: Some(StringMatcher::exact(value)), list_match: None };
    let value = if list { ValueMatcher { string_match: None, list_match: Some(Box::new(ListMatcher { one_of: exact })) } } else { exact };
    Predicate::Single(Box::new(SinglePredicate {
        input: Extension { name: name.into(), typed_config: Input { type_: METADATA_INPUT, header_name: None, filter: Some(super::jwt::JWT_FILTER), path: path.into_iter().map(|key| PathSegment { key }).collect() } },
        value_match: None,
        custom_match: Some(Extension { name: format!("{name}_matcher"), typed_config: CustomMatch::Metadata(MetadataMatcher { type_: METADATA_MATCHER, value }) }),
    }))
}

/// Every claim (one of its values) and every scope (in `scope` or `scp`, which the JWT filter
/// turns into lists) of the token the provider verified.
fn jwt_predicates(j: &s::JwtCheck) -> Vec<Predicate> {
    let mut out = Vec::new();
    for (path, list, values) in &j.claims {
        let full = |p: &Vec<String>| std::iter::once(j.provider.clone()).chain(p.iter().cloned()).collect::<Vec<_>>();
        out.extend(any(values.iter().map(|v| jwt_value("claim", full(path), *list, v)).collect()));
    }
    for scope in &j.scopes {
        out.extend(any(["scope", "scp"].iter().map(|k| jwt_value("scope", vec![j.provider.clone(), k.to_string()], true, scope)).collect()));
    }
    out
}

fn rule_predicate(r: &s::AuthorizationRule) -> Predicate {
    let mut ps = Vec::new();
    ps.extend(any(r.methods.iter().map(|m| header(":method", XdsStringMatcher::exact(m))).collect()));
    if let Some(p) = &r.path {
        let m = match &p.regex {
            Some(re) => XdsStringMatcher { safe_regex: Some(XdsRegex { google_re2: Empty {}, regex: re.clone() }), ..Default::default() },
            None => XdsStringMatcher { prefix: Some("/".into()), ..Default::default() },
        };
        let p = if p.invert { Predicate::Not(Box::new(header(":path", m))) } else { header(":path", m) };
        ps.push(p);
    }
    if !r.cidrs.is_empty() {
        ps.push(client_ip(&r.cidrs));
    }
    for (name, values) in &r.headers {
        ps.extend(any(values.iter().map(|v| header(name, XdsStringMatcher::exact(v))).collect()));
    }
    if let Some(j) = &r.jwt {
        ps.extend(jwt_predicates(j));
    }
    // A rule with nothing to match (validation refuses it) matches nobody: fail closed.
    all(ps).unwrap_or_else(|| Predicate::Not(Box::new(header(":path", XdsStringMatcher { safe_regex: Some(XdsRegex { google_re2: Empty {}, regex: ".*".into() }), ..Default::default() }))))
}

pub fn rbac_route(a: &s::Authorization) -> RbacPerRoute {
    let matchers: Vec<FieldMatcher> = a.rules.iter().map(|r| FieldMatcher { predicate: rule_predicate(r), on_match: action(r.name.clone(), r.allow) }).collect();
    RbacPerRoute {
        type_: RBAC_ROUTE,
        rbac: Rbac { matcher: Matcher { matcher_list: (!matchers.is_empty()).then_some(MatcherList { matchers }), on_no_match: action("default".into(), a.default_allow) } },
    }
}

const NETWORK_RBAC: &str = "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC";

#[derive(Serialize)]
pub struct NetworkRbac {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub stat_prefix: String,
    pub matcher: Matcher,
}

/// A Gateway's or listener's authorization on a TCP proxy: only the client address can be
/// judged there. A rule that also asks for HTTP facts (method, path, headers, JWT claims) fails closed:
/// as Allow it never matches, as Deny it matches every client of its addresses (all clients
/// when it names none).
pub fn network_rbac(stat_prefix: &str, a: &s::Authorization) -> NetworkRbac {
    let everyone = [("0.0.0.0".to_string(), 0), ("::".to_string(), 0)];
    let matchers: Vec<FieldMatcher> = a
        .rules
        .iter()
        .filter(|r| !r.allow || (r.methods.is_empty() && r.path.is_none() && r.headers.is_empty() && r.jwt.is_none()))
        .map(|r| FieldMatcher { predicate: client_ip(if r.cidrs.is_empty() { &everyone } else { &r.cidrs }), on_match: action(r.name.clone(), r.allow) })
        .collect();
    NetworkRbac {
        type_: NETWORK_RBAC,
        stat_prefix: stat_prefix.to_string(),
        matcher: Matcher { matcher_list: (!matchers.is_empty()).then_some(MatcherList { matchers }), on_no_match: action("default".into(), a.default_allow) },
    }
}
