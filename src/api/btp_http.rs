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
