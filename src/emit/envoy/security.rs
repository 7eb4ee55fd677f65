//! A SecurityPolicy's checks in Envoy's terms, as Envoy Gateway writes them: the CSRF,
//! API-key, basic-auth and RBAC filters are in a route table's chain once (off, or doing
//! nothing, by default) and each route that a policy covers carries its own configuration.
//! Authorization rules become an RBAC matcher tree over the client address (the one
//! clientIPDetection found), headers, method and path.

use super::types::*;
use crate::ir;
use crate::resolve::security as s;
use serde::Serialize;

const CSRF: &str = "type.googleapis.com/envoy.extensions.filters.http.csrf.v3.CsrfPolicy";
const BASIC_AUTH: &str = "type.googleapis.com/envoy.extensions.filters.http.basic_auth.v3.BasicAuth";
const BASIC_AUTH_ROUTE: &str = "type.googleapis.com/envoy.extensions.filters.http.basic_auth.v3.BasicAuthPerRoute";
const API_KEY_AUTH: &str = "type.googleapis.com/envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuth";
const API_KEY_AUTH_ROUTE: &str = "type.googleapis.com/envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuthPerRoute";
pub const RBAC: &str = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC";
const RBAC_ROUTE: &str = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute";
const RBAC_ACTION: &str = "type.googleapis.com/envoy.config.rbac.v3.Action";
const IP_MATCHER: &str = "type.googleapis.com/envoy.extensions.matching.input_matchers.ip.v3.Ip";
const SOURCE_IP: &str = "type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.SourceIPInput";
const HEADER_INPUT: &str = "type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput";

pub const CSRF_FILTER: &str = "envoy.filters.http.csrf";
pub const API_KEY_FILTER: &str = "envoy.filters.http.api_key_auth";
pub const RBAC_FILTER: &str = "envoy.filters.http.rbac";

#[derive(Serialize)]
pub struct Percent {
    pub default_value: super::http_filters::Fraction,
}

fn per_million(n: u32) -> Percent {
    Percent { default_value: super::http_filters::Fraction { numerator: n, denominator: "MILLION" } }
}

#[derive(Serialize)]
pub struct CsrfPolicy {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub filter_enabled: Percent,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow_enabled: Option<Percent>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub additional_origins: Vec<StringMatcher>,
}

/// In the chain: checks nothing unless a route says.
pub fn csrf_filter() -> CsrfPolicy {
    CsrfPolicy { type_: CSRF, filter_enabled: per_million(0), shadow_enabled: None, additional_origins: Vec::new() }
}

pub fn csrf_route(c: &s::Csrf) -> CsrfPolicy {
    CsrfPolicy {
        type_: CSRF,
        filter_enabled: per_million(c.enforced_per_million),
        shadow_enabled: c.shadow.then(|| per_million(1_000_000)),
        additional_origins: c.additional_origins.iter().map(StringMatcher::of).collect(),
    }
}

#[derive(Serialize)]
pub struct BasicAuthFilter {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub users: DataSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_username_header: Option<String>,
}

#[derive(Serialize)]
pub struct BasicAuthPerRoute {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub users: DataSource,
}

/// The htpasswd lines where Envoy reads them: inline, or the Secret's file under the secrets
/// directory (`--tls-secrets files`, and always with `render`).
fn users(b: &s::BasicAuth, secrets: Option<&std::path::Path>) -> DataSource {
    match secrets {
        None => DataSource { inline_string: Some(b.htpasswd.clone()), filename: None },
        Some(dir) => DataSource { inline_string: None, filename: Some(crate::names::htpasswd_file(dir, &b.secret).display().to_string()) },
    }
}

/// The basic_auth filter of the routes that forward the user name in `header` (None: do not):
/// Envoy sets that header for the whole filter, so each header has a filter of its own.
pub fn basic_auth_filter_name(header: Option<&str>) -> String {
    match header {
        None => "envoy.filters.http.basic_auth".into(),
        Some(h) => format!("envoy.filters.http.basic_auth/{h}"),
    }
}

pub fn basic_auth_filter(first: &s::BasicAuth, secrets: Option<&std::path::Path>) -> BasicAuthFilter {
    BasicAuthFilter { type_: BASIC_AUTH, users: users(first, secrets), forward_username_header: first.forward_username_header.clone() }
}

pub fn basic_auth_route(b: &s::BasicAuth, secrets: Option<&std::path::Path>) -> BasicAuthPerRoute {
    BasicAuthPerRoute { type_: BASIC_AUTH_ROUTE, users: users(b, secrets) }
}

#[derive(Serialize)]
pub struct ApiKeyAuth {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub credentials: Vec<Credential>,
    pub key_sources: Vec<KeySource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forwarding: Option<Forwarding>,
}

#[derive(Serialize)]
pub struct Credential {
    pub key: String,
    pub client: String,
}

#[derive(Serialize, Default)]
pub struct KeySource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookie: Option<String>,
}

#[derive(Serialize)]
pub struct Forwarding {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hide_credentials: bool,
}

fn api_key_config(k: &s::ApiKeys, type_: &'static str) -> ApiKeyAuth {
    ApiKeyAuth {
        type_,
        credentials: k.credentials.iter().map(|(client, key)| Credential { key: key.clone(), client: client.clone() }).collect(),
        key_sources: k
            .sources
            .iter()
            .map(|src| match src {
                s::KeySource::Header(h) => KeySource { header: Some(h.clone()), ..Default::default() },
                s::KeySource::Query(q) => KeySource { query: Some(q.clone()), ..Default::default() },
                s::KeySource::Cookie(c) => KeySource { cookie: Some(c.clone()), ..Default::default() },
            })
            .collect(),
        forwarding: (k.forward_client_id_header.is_some() || k.sanitize).then(|| Forwarding { header: k.forward_client_id_header.clone(), hide_credentials: k.sanitize }),
    }
}

/// In the chain, off: the first route's configuration, as Envoy Gateway writes it.
pub fn api_key_filter(first: &s::ApiKeys) -> ApiKeyAuth {
    api_key_config(first, API_KEY_AUTH)
}

pub fn api_key_route(k: &s::ApiKeys) -> ApiKeyAuth {
    api_key_config(k, API_KEY_AUTH_ROUTE)
}

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
    pub value_match: Option<StringMatcher>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_match: Option<Extension<IpMatcher>>,
}

#[derive(Serialize)]
pub struct Input {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_name: Option<String>,
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

fn header(name: &str, m: StringMatcher) -> Predicate {
    Predicate::Single(Box::new(SinglePredicate {
        input: Extension { name: "http_header".into(), typed_config: Input { type_: HEADER_INPUT, header_name: Some(name.to_string()) } },
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
        input: Extension { name: "client_ip".into(), typed_config: Input { type_: SOURCE_IP, header_name: None } },
        value_match: None,
        custom_match: Some(Extension {
            name: "ip_matcher".into(),
            typed_config: IpMatcher { type_: IP_MATCHER, cidr_ranges: cidrs.iter().map(|(a, l)| CidrRange { address_prefix: a.clone(), prefix_len: *l }).collect(), stat_prefix: "client_ip" },
        }),
    }))
}

fn rule_predicate(r: &s::AuthorizationRule) -> Predicate {
    let mut ps = Vec::new();
    ps.extend(any(r.methods.iter().map(|m| header(":method", StringMatcher::exact(m))).collect()));
    if let Some(p) = &r.path {
        let m = match &p.regex {
            Some(re) => StringMatcher { safe_regex: Some(RegexMatcher { regex: re.clone() }), ..Default::default() },
            None => StringMatcher { prefix: Some("/".into()), ..Default::default() },
        };
        let p = if p.invert { Predicate::Not(Box::new(header(":path", m))) } else { header(":path", m) };
        ps.push(p);
    }
    if !r.cidrs.is_empty() {
        ps.push(client_ip(&r.cidrs));
    }
    for (name, values) in &r.headers {
        ps.extend(any(values.iter().map(|v| header(name, StringMatcher::exact(v))).collect()));
    }
    // A rule with nothing to match (validation refuses it) matches nobody: fail closed.
    all(ps).unwrap_or_else(|| Predicate::Not(Box::new(header(":path", StringMatcher { prefix: Some(String::new()), ..Default::default() }))))
}

pub fn rbac_route(a: &s::Authorization) -> RbacPerRoute {
    let matchers: Vec<FieldMatcher> = a.rules.iter().map(|r| FieldMatcher { predicate: rule_predicate(r), on_match: action(r.name.clone(), r.allow) }).collect();
    RbacPerRoute {
        type_: RBAC_ROUTE,
        rbac: Rbac { matcher: Matcher { matcher_list: (!matchers.is_empty()).then_some(MatcherList { matchers }), on_no_match: action("default".into(), a.default_allow) } },
    }
}

/// Which of the security filters some route of a table uses, with the first route's
/// configuration where the chain needs one.
pub struct Uses<'a> {
    pub csrf: bool,
    pub api_keys: Option<&'a s::ApiKeys>,
    /// The first route of each forwarded-username header.
    pub basic_auth: Vec<&'a s::BasicAuth>,
    pub rbac: bool,
}

pub fn uses(vhosts: &[ir::VirtualHostIr]) -> Uses<'_> {
    let mut u = Uses { csrf: false, api_keys: None, basic_auth: Vec::new(), rbac: false };
    for sec in vhosts.iter().flat_map(|v| &v.routes).filter_map(|r| r.security.as_deref()) {
        u.csrf |= sec.csrf.is_some();
        u.rbac |= sec.authorization.is_some();
        if u.api_keys.is_none() {
            u.api_keys = sec.api_keys.as_ref();
        }
        if let Some(b) = &sec.basic_auth
            && !u.basic_auth.iter().any(|x| x.forward_username_header == b.forward_username_header)
        {
            u.basic_auth.push(b);
        }
    }
    u
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
/// judged there. A rule that also asks for HTTP facts (method, path, headers) fails closed:
/// as Allow it never matches, as Deny it matches every client of its addresses (all clients
/// when it names none).
pub fn network_rbac(stat_prefix: &str, a: &s::Authorization) -> NetworkRbac {
    let everyone = [("0.0.0.0".to_string(), 0), ("::".to_string(), 0)];
    let matchers: Vec<FieldMatcher> = a
        .rules
        .iter()
        .filter(|r| !r.allow || (r.methods.is_empty() && r.path.is_none() && r.headers.is_empty()))
        .map(|r| FieldMatcher { predicate: client_ip(if r.cidrs.is_empty() { &everyone } else { &r.cidrs }), on_match: action(r.name.clone(), r.allow) })
        .collect();
    NetworkRbac {
        type_: NETWORK_RBAC,
        stat_prefix: stat_prefix.to_string(),
        matcher: Matcher { matcher_list: (!matchers.is_empty()).then_some(MatcherList { matchers }), on_no_match: action("default".into(), a.default_allow) },
    }
}
