//! BackendTrafficPolicy's HTTP settings: HTTP/2 towards backends (`http2`), request buffering
//! (`requestBuffer`), protocol upgrades (`httpUpgrade`) and custom responses
//! (`responseOverride`), typed with the v1.9.0 CRD's constraints.

use super::meta::DURATION;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// HTTP/2 towards the backends (for clusters that speak it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Http2Settings {
    /// A quantity of bytes (default 64Ki).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_stream_window_size: Option<serde_json::Value>,
    /// A quantity of bytes (default 1Mi).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_connection_window_size: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 2147483647))]
    pub max_concurrent_streams: Option<u32>,
    /// TerminateConnection (the default) or TerminateStream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_invalid_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_keepalive: Option<Http2Keepalive>,
}

/// HTTP/2 PING keepalive of the connections to backends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Http2Keepalive {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION))]
    pub idle_interval: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION))]
    pub interval: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub interval_jitter: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION))]
    pub timeout: Option<String>,
}

/// Buffer each request whole before it goes upstream; larger ones get 413.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RequestBuffer {
    /// A quantity of bytes.
    pub limit: serde_json::Value,
}

/// One protocol upgrade the routes allow (`websocket`, `spdy/3.1`, `CONNECT`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProtocolUpgrade {
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<ConnectConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminate: Option<bool>,
}

/// A response the policy replaces (by status code or response header) with its own, or with
/// a redirect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResponseOverride {
    #[serde(rename = "match")]
    pub match_: ResponseMatch,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<CustomResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<CustomRedirect>,
    /// All (the default), Local (Envoy's own replies) or Backend (the backends').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["All", "Local", "Backend"]))]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResponseMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 50))]
    pub status_codes: Option<Vec<StatusCodeMatch>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 16))]
    pub response_headers: Option<Vec<ResponseHeaderMatch>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StatusCodeMatch {
    /// Value (the CRD's default) or Range.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Value", "Range"]))]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<StatusCodeRange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StatusCodeRange {
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResponseHeaderMatch {
    #[schemars(pattern(super::meta::HEADER_NAME), length(min = 1, max = 256))]
    pub name: String,
    pub value: HeaderValueMatch,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HeaderValueMatch {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Exact", "Prefix", "Suffix", "RegularExpression"]))]
    pub type_: Option<String>,
    #[schemars(length(min = 1, max = 1024))]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<CustomResponseBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<ResponseHeaderModifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u32>,
}

/// A response body: inline, or a ConfigMap's.
pub type CustomResponseBody = super::policy::InlineOrRef;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResponseHeaderModifier {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub add: Vec<NameValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub set: Vec<NameValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub remove: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NameValue {
    #[schemars(pattern(super::meta::HEADER_NAME), length(min = 1, max = 256))]
    pub name: String,
    #[schemars(length(min = 1, max = 4096))]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomRedirect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["http", "https"]))]
    pub scheme: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(super::meta::DNS_SUBDOMAIN), length(min = 1, max = 253))]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<RedirectPath>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
    /// 301 or 302 (the CRD's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = [301, 302]))]
    pub status_code: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RedirectPath {
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["ReplaceFullPath", "ReplacePrefixMatch"]))]
    pub type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub replace_full_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub replace_prefix_match: Option<String>,
}
