//! A BackendTrafficPolicy's HTTP settings as resolve hands them on: HTTP/2 towards backends
//! (cluster-shaping, in [`super::traffic::ClusterPolicy`]), request buffering and protocol
//! upgrades (per route, in [`super::traffic::RouteTraffic`]). Envoy Gateway's messages for
//! values it cannot translate.

use super::traffic::quantity_bytes;
use crate::api::btp::{Http2Settings, ProtocolUpgrade, RequestBuffer};
use crate::api::httproute::duration_ms;

/// Envoy's bounds on HTTP/2 flow-control windows.
const MIN_WINDOW: u64 = 65_535;
const MAX_WINDOW: u64 = 2_147_483_647;

/// HTTP/2 options of the connections to a cluster's endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Http2Options {
    pub initial_stream_window: Option<u32>,
    pub initial_connection_window: Option<u32>,
    pub max_concurrent_streams: Option<u32>,
    /// Reset only the stream (true) or the whole connection (false) on a messaging error.
    pub reset_stream_on_error: Option<bool>,
    pub keepalive: Option<Http2Keepalive>,
}

/// HTTP/2 PING keepalive: durations in milliseconds, jitter in percent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Http2Keepalive {
    pub interval_ms: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub jitter_percent: Option<u32>,
    pub idle_interval_ms: Option<u64>,
}

/// Envoy Gateway's translation of `http2`, or its error message.
pub fn http2(h: &Http2Settings) -> Result<Http2Options, String> {
    let window = |q: &Option<serde_json::Value>, name: &str| -> Result<Option<u32>, String> {
        let Some(q) = q else { return Ok(None) };
        let text = q.as_str().map(str::to_string).unwrap_or_else(|| q.to_string());
        let n = quantity_bytes(q).ok_or_else(|| format!("HTTP2: invalid {name} value {text}"))?;
        if !(MIN_WINDOW..=MAX_WINDOW).contains(&n) {
            return Err(format!("HTTP2: {name} value {text} is out of range, must be between {MIN_WINDOW} and {MAX_WINDOW}"));
        }
        Ok(u32::try_from(n).ok())
    };
    let keepalive = h.connection_keepalive.as_ref().map(|k| Http2Keepalive {
        interval_ms: k.interval.as_deref().and_then(duration_ms),
        timeout_ms: k.timeout.as_deref().and_then(duration_ms),
        jitter_percent: k.interval_jitter,
        idle_interval_ms: k.idle_interval.as_deref().and_then(duration_ms),
    });
    Ok(Http2Options {
        initial_stream_window: window(&h.initial_stream_window_size, "InitialStreamWindowSize")?,
        initial_connection_window: window(&h.initial_connection_window_size, "InitialConnectionWindowSize")?,
        max_concurrent_streams: h.max_concurrent_streams,
        reset_stream_on_error: match h.on_invalid_message.as_deref() {
            Some("TerminateStream") => Some(true),
            Some("TerminateConnection") => Some(false),
            _ => None,
        },
        keepalive,
    })
}

/// The request buffer's limit in bytes (Envoy's is 32 bits), or the error message.
pub fn request_buffer(b: &RequestBuffer) -> Result<u32, String> {
    let n = quantity_bytes(&b.limit).ok_or("RequestBuffer: limit must be convertible to an int64")?;
    u32::try_from(n).map_err(|_| format!("RequestBuffer: limit value {n} is out of range, must be between 0 and {}", u32::MAX))
}

/// The upgrade types a route allows, lower-cased, each once, in the policy's order.
pub fn upgrades(list: &[ProtocolUpgrade]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for u in list {
        let t = u.type_.to_ascii_lowercase();
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}
