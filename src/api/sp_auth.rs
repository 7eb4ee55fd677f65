//! SecurityPolicy's delegated checks (gateway.envoyproxy.io/v1alpha1): external
//! authorization and OpenID Connect, with the v1.9.0 CRD's constraints; fields gatewayc does
//! not implement are kept as data and refused by name.

use super::meta::SecretObjectReference;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

type Other = Option<serde_json::Value>;

/// External authorization: each request is first asked of an HTTP or gRPC service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExtAuth {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc: Option<ExtAuthService>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<ExtAuthService>,
    /// Request headers sent to the service (HTTP services always get Host, Method, Path,
    /// Content-Length and Authorization; gRPC services get all when unset).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers_to_ext_auth: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_to_ext_auth: Option<BodyToExtAuth>,
    /// Let requests through when the service cannot be asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_open: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]{1,5}(h|m|s|ms)){1,4}$"))]
    pub timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recompute_route: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = [400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 423, 424, 426, 428, 429, 431, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511]))]
    pub status_on_error: Option<u16>,
    /// Not implemented (`unsupported::field`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_extensions: Other,
    /// Not implemented (`unsupported::field`) when true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_route_metadata: Option<bool>,
}

/// The HTTP or gRPC service; `path` and `headersToBackend` are HTTP's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExtAuthService {
    /// Deprecated single form of `backendRefs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_ref: Option<ExtBackendRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub backend_refs: Vec<ExtBackendRef>,
    /// Not implemented (`unsupported::field`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_settings: Other,
    /// Prefix of the path of the check request (HTTP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Not implemented (`unsupported::field`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_override: Other,
    /// Headers of the service's answer that go on to the backend (HTTP).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers_to_backend: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExtBackendRef {
    #[serde(default)]
    #[schemars(pattern(super::meta::GROUP), length(max = 253))]
    pub group: String,
    #[serde(default = "service_kind")]
    #[schemars(pattern(super::meta::KIND), length(min = 1, max = 63))]
    pub kind: String,
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(super::meta::DNS_LABEL), length(min = 1, max = 63))]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000000))]
    pub weight: Option<u32>,
    /// Not implemented (`unsupported::field`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<bool>,
}

fn service_kind() -> String {
    "Service".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BodyToExtAuth {
    #[schemars(range(min = 1))]
    pub max_request_bytes: u32,
}

/// OpenID Connect: a browser without a session is sent to the provider to log in; Envoy
/// exchanges the code for tokens and keeps them in cookies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Oidc {
    pub provider: OidcProvider,
    #[serde(rename = "clientID", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub client_id: Option<String>,
    /// A Secret with `client-id`.
    #[serde(rename = "clientIDRef", default, skip_serializing_if = "Option::is_none")]
    pub client_id_ref: Option<SecretObjectReference>,
    /// A Secret with `client-secret`.
    pub client_secret: SecretObjectReference,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(rename = "redirectURL", default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_access_token: Option<bool>,
    /// Not implemented (`unsupported::field`).
    #[serde(rename = "forwardIDToken", default, skip_serializing_if = "Option::is_none")]
    pub forward_id_token: Other,
    /// True when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<bool>,
    #[serde(rename = "defaultTokenTTL", default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]{1,5}(h|m|s|ms)){1,4}$"))]
    pub default_token_ttl: Option<String>,
    #[serde(rename = "defaultRefreshTokenTTL", default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]{1,5}(h|m|s|ms)){1,4}$"))]
    pub default_refresh_token_ttl: Option<String>,
    #[serde(rename = "csrfTokenTTL", default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]{1,5}(h|m|s|ms)){1,4}$"))]
    pub csrf_token_ttl: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_names: Option<OidcCookieNames>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"))]
    pub cookie_domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_config: Option<OidcCookieConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_token_encryption: Option<bool>,
    /// A request with `Authorization: Bearer` passes to the JWT check instead of logging in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_through_auth_header: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny_redirect: Option<OidcDenyRedirect>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OidcProvider {
    #[schemars(length(min = 1))]
    pub issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
    /// The CRD refuses it (`backendRefs` instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_ref: Other,
    /// Where the token endpoint is reached (Services or Backends); without them, its host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub backend_refs: Vec<ExtBackendRef>,
    /// Not implemented (`unsupported::field`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_settings: Other,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OidcCookieNames {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OidcCookieConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Lax", "Strict", "None"]))]
    pub same_site: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OidcDenyRedirect {
    #[schemars(length(min = 1, max = 16))]
    pub headers: Vec<OidcHeaderMatch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OidcHeaderMatch {
    #[schemars(length(min = 1))]
    pub name: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Exact", "Prefix", "Suffix", "RegularExpression"]))]
    pub type_: Option<String>,
    #[schemars(length(min = 1, max = 1024))]
    pub value: String,
}
