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

pub const CSRF_FILTER: &str = "envoy.filters.http.csrf";
pub const API_KEY_FILTER: &str = "envoy.filters.http.api_key_auth";

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

/// The chain's filters for who the client is, in Envoy Gateway's order: CSRF, external
/// authorization (one per policy), API keys, basic auth (one per forwarded-username header),
/// OIDC (one per policy), JWT; each off or doing nothing unless a route turns it on.
pub fn filters(vhosts: &[ir::VirtualHostIr], secrets: Option<&std::path::Path>) -> Vec<HttpFilter> {
    let sec = uses(vhosts);
    let mut out = Vec::new();
    if sec.csrf {
        out.push(HttpFilter { name: CSRF_FILTER.into(), typed_config: FilterConfig::Csrf(csrf_filter()), disabled: false });
    }
    for e in super::ext_auth::filters(vhosts) {
        out.push(HttpFilter { name: e.filter.clone().into(), typed_config: FilterConfig::ExtAuthz(Box::new(super::ext_auth::filter(e))), disabled: true });
    }
    if let Some(k) = sec.api_keys {
        out.push(HttpFilter { name: API_KEY_FILTER.into(), typed_config: FilterConfig::ApiKeyAuth(api_key_filter(k)), disabled: true });
    }
    for b in &sec.basic_auth {
        let name = basic_auth_filter_name(b.forward_username_header.as_deref());
        out.push(HttpFilter { name: name.into(), typed_config: FilterConfig::BasicAuth(basic_auth_filter(b, secrets)), disabled: true });
    }
    for o in super::oauth2::filters(vhosts) {
        out.push(HttpFilter { name: o.filter.clone().into(), typed_config: FilterConfig::OAuth2(Box::new(super::oauth2::filter(o))), disabled: true });
    }
    if let Some(j) = super::jwt::filter(vhosts) {
        out.push(HttpFilter { name: super::jwt::JWT_FILTER.into(), typed_config: FilterConfig::Jwt(Box::new(j)), disabled: false });
    }
    out
}
