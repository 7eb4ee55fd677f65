//! A SecurityPolicy's JWT authentication in Envoy's terms, as Envoy Gateway writes it: one
//! jwt_authn filter per route table holding every route's providers (`<route>/<provider>`)
//! and a requirement per route (any of its providers; a missing token allowed when optional,
//! a missing or failed one when failOpen); each route names its requirement. The verified
//! payload is kept in dynamic metadata under the provider's name, where authorization rules
//! read claims and scopes.

use super::types::*;
use crate::ir;
use crate::resolve::security as s;
use serde::Serialize;
use std::collections::BTreeMap;

pub const JWT_FILTER: &str = "envoy.filters.http.jwt_authn";
const JWT_AUTHN: &str = "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication";
const PER_ROUTE: &str = "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig";

#[derive(Serialize)]
pub struct JwtAuthentication {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub providers: BTreeMap<String, Provider>,
    pub requirement_map: BTreeMap<String, Requirement>,
}

#[derive(Serialize)]
pub struct Provider {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_jwks: Option<DataSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_jwks: Option<RemoteJwks>,
    /// The token goes on to the backend.
    pub forward: bool,
    pub payload_in_metadata: String,
    pub normalize_payload_in_metadata: Normalize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub claim_to_headers: Vec<ClaimToHeader>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub clear_route_cache: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub from_headers: Vec<FromHeader>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub from_cookies: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub from_params: Vec<String>,
}

/// Space-separated scope claims become lists in the metadata.
#[derive(Serialize)]
pub struct Normalize {
    pub space_delimited_claims: [&'static str; 2],
}

#[derive(Serialize)]
pub struct RemoteJwks {
    pub http_uri: HttpUri,
    pub cache_duration: String,
    /// Fetched when Envoy starts (the listener waits for it), refreshed in the background.
    pub async_fetch: AsyncFetch,
    pub retry_policy: Empty,
}

#[derive(Serialize)]
pub struct HttpUri {
    pub uri: String,
    pub cluster: String,
    pub timeout: &'static str,
}

#[derive(Serialize)]
pub struct AsyncFetch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_refetch_duration: Option<String>,
}

#[derive(Serialize)]
pub struct ClaimToHeader {
    pub header_name: String,
    pub claim_name: String,
}

#[derive(Serialize)]
pub struct FromHeader {
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value_prefix: String,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    ProviderName(String),
    RequiresAny(RequirementList),
    AllowMissing(Empty),
    AllowMissingOrFailed(Empty),
}

#[derive(Serialize)]
pub struct RequirementList {
    pub requirements: Vec<Requirement>,
}

#[derive(Serialize)]
pub struct PerRouteConfig {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub requirement_name: String,
}

fn provider(p: &s::JwtProvider) -> Provider {
    let (local_jwks, remote_jwks) = match &p.jwks {
        s::Jwks::Local(keys) => (Some(DataSource { inline_string: Some(keys.clone()), filename: None }), None),
        s::Jwks::Remote(r) => (
            None,
            Some(RemoteJwks {
                http_uri: HttpUri { uri: r.endpoint.uri.clone(), cluster: r.endpoint.cluster.clone(), timeout: "10s" },
                cache_duration: super::policy::duration(r.cache_ms),
                async_fetch: AsyncFetch { failed_refetch_duration: r.failed_refetch_ms.map(super::policy::duration) },
                retry_policy: Empty {},
            }),
        ),
    };
    Provider {
        issuer: p.issuer.clone(),
        audiences: p.audiences.clone(),
        local_jwks,
        remote_jwks,
        forward: true,
        payload_in_metadata: p.name.clone(),
        normalize_payload_in_metadata: Normalize { space_delimited_claims: ["scope", "scp"] },
        claim_to_headers: p.claim_to_headers.iter().map(|(h, c)| ClaimToHeader { header_name: h.clone(), claim_name: c.clone() }).collect(),
        clear_route_cache: p.recompute_route,
        from_headers: p.from_headers.iter().map(|(n, v)| FromHeader { name: n.clone(), value_prefix: v.clone() }).collect(),
        from_cookies: p.from_cookies.clone(),
        from_params: p.from_params.clone(),
    }
}

fn requirement(route: &str, j: &s::Jwt) -> Requirement {
    let mut reqs: Vec<Requirement> = j.providers.iter().map(|p| Requirement::ProviderName(format!("{route}/{}", p.name))).collect();
    if j.fail_open {
        reqs.push(Requirement::AllowMissingOrFailed(Empty {}));
    } else if j.allow_missing {
        reqs.push(Requirement::AllowMissing(Empty {}));
    }
    match reqs.len() {
        1 => reqs.pop().unwrap_or(Requirement::AllowMissing(Empty {})),
        _ => Requirement::RequiresAny(RequirementList { requirements: reqs }),
    }
}

/// The route table's jwt_authn filter, when a route of it has JWT authentication.
pub fn filter(vhosts: &[ir::VirtualHostIr]) -> Option<JwtAuthentication> {
    let mut out = JwtAuthentication { type_: JWT_AUTHN, providers: BTreeMap::new(), requirement_map: BTreeMap::new() };
    for r in vhosts.iter().flat_map(|v| &v.routes) {
        let Some(j) = r.security.as_ref().and_then(|s| s.jwt.as_ref()) else { continue };
        for p in &j.providers {
            out.providers.insert(format!("{}/{}", r.name, p.name), provider(p));
        }
        out.requirement_map.insert(r.name.clone(), requirement(&r.name, j));
    }
    (!out.requirement_map.is_empty()).then_some(out)
}

pub fn per_route(route: &str) -> PerRouteConfig {
    PerRouteConfig { type_: PER_ROUTE, requirement_name: route.to_string() }
}
