//! A SecurityPolicy's external authorization in Envoy's terms, as Envoy Gateway writes it:
//! an ext_authz filter per policy, off in the chain, turned on by the routes the policy
//! covers; the service is an HTTP or gRPC cluster of its own.

use super::types::*;
use crate::ir;
use crate::resolve::security as s;
use serde::Serialize;

const EXT_AUTHZ: &str = "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz";
const PER_ROUTE: &str = "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute";

#[derive(Serialize)]
pub struct ExtAuthz {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub transport_api_version: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub failure_mode_allow: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_headers: Option<ListStringMatcher>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with_request_body: Option<WithRequestBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_on_error: Option<HttpStatus>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub clear_route_cache: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_service: Option<HttpService>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc_service: Option<GrpcService>,
}

#[derive(Serialize)]
pub struct ListStringMatcher {
    pub patterns: Vec<StringMatcher>,
}

fn exact_list(names: &[String]) -> Option<ListStringMatcher> {
    (!names.is_empty()).then(|| ListStringMatcher { patterns: names.iter().map(|n| StringMatcher { exact: Some(n.clone()), ignore_case: true, ..Default::default() }).collect() })
}

/// Envoy refuses a larger body with 413 before asking the service.
#[derive(Serialize)]
pub struct WithRequestBody {
    pub max_request_bytes: u32,
}

#[derive(Serialize)]
pub struct HttpStatus {
    pub code: u16,
}

#[derive(Serialize)]
pub struct HttpService {
    pub server_uri: ServerUri,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path_prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_response: Option<AuthorizationResponse>,
}

#[derive(Serialize)]
pub struct ServerUri {
    pub uri: String,
    pub cluster: String,
    pub timeout: String,
}

#[derive(Serialize)]
pub struct AuthorizationResponse {
    pub allowed_upstream_headers: ListStringMatcher,
}

#[derive(Serialize)]
pub struct GrpcService {
    pub envoy_grpc: EnvoyGrpc,
    pub timeout: String,
}

#[derive(Serialize)]
pub struct EnvoyGrpc {
    pub cluster_name: String,
    pub authority: String,
}

/// Turns the policy's filter (off in the chain) on for a route, with the chain's settings.
#[derive(Serialize)]
pub struct Enable {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub check_settings: Empty,
}

pub fn enable() -> Enable {
    Enable { type_: PER_ROUTE, check_settings: Empty {} }
}

pub fn filter(e: &s::ExtAuth) -> ExtAuthz {
    let timeout = super::policy::duration(e.timeout_ms);
    let (http_service, grpc_service) = if e.grpc {
        (None, Some(GrpcService { envoy_grpc: EnvoyGrpc { cluster_name: e.cluster.clone(), authority: e.authority.clone() }, timeout }))
    } else {
        let http = HttpService {
            // Envoy sends to the cluster; the URI's host is the check request's Host.
            server_uri: ServerUri { uri: format!("http://{}{}", e.authority, e.path), cluster: e.cluster.clone(), timeout },
            path_prefix: e.path.clone(),
            authorization_response: exact_list(&e.headers_to_backend).map(|allowed_upstream_headers| AuthorizationResponse { allowed_upstream_headers }),
        };
        (Some(http), None)
    };
    ExtAuthz {
        type_: EXT_AUTHZ,
        transport_api_version: "V3",
        failure_mode_allow: e.fail_open,
        allowed_headers: exact_list(&e.headers_to_ext_auth),
        with_request_body: e.body_max_bytes.map(|max_request_bytes| WithRequestBody { max_request_bytes }),
        status_on_error: e.status_on_error.map(|code| HttpStatus { code }),
        clear_route_cache: e.recompute_route,
        http_service,
        grpc_service,
    }
}

/// The ext_authz filters of a route table: one per policy some route uses, in name order.
pub fn filters(vhosts: &[ir::VirtualHostIr]) -> Vec<&s::ExtAuth> {
    let mut out: Vec<&s::ExtAuth> = vhosts.iter().flat_map(|v| &v.routes).filter_map(|r| r.security.as_ref().and_then(|s| s.ext_auth.as_ref())).collect();
    out.sort_by(|a, b| a.filter.cmp(&b.filter));
    out.dedup_by(|a, b| a.filter == b.filter);
    out
}
