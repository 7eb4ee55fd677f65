//! A BackendTrafficPolicy's HTTP settings as resolve hands them on: HTTP/2 towards backends
//! (cluster-shaping, in [`super::traffic::ClusterPolicy`]), request buffering and protocol
//! upgrades (per route, in [`super::traffic::RouteTraffic`]). Envoy Gateway's messages for
//! values it cannot translate.

use super::traffic::quantity_bytes;
use crate::api::btp::{Http2Settings, ProtocolUpgrade, RequestBuffer, ResponseOverride};
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

/// Envoy Gateway's StringMatch (Exact by default), its regular expression judged as RE2
/// judges it; Err: Envoy Gateway's message.
pub fn value_match(m: &crate::api::btp::HeaderValueMatch) -> Result<ValueMatch, String> {
    let v = m.value.clone();
    Ok(match m.type_.as_deref() {
        Some("Prefix") => ValueMatch::Prefix(v),
        Some("Suffix") => ValueMatch::Suffix(v),
        Some("RegularExpression") => {
            crate::validate::regex::check_re2(&v).map_err(|e| format!("invalid regex {v}: {e}"))?;
            ValueMatch::Regex(v)
        }
        _ => ValueMatch::Exact(v),
    })
}

/// Which replies an override rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplySource {
    All,
    /// Envoy's own replies (no backend answered).
    Local,
    Backend,
}

/// How a string (a header value, a header name) must look to match (Envoy Gateway's
/// StringMatch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueMatch {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Regex(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum OverrideAction {
    /// A reply of gatewayc's: the status (None: the original's), body and headers
    /// (name, value, append).
    Respond { status: Option<u32>, body: Option<String>, headers: Vec<(String, String, bool)> },
    Redirect { scheme: Option<String>, host: Option<String>, port: Option<u32>, path: Option<String>, status: u32 },
}

/// One rule: the reply matches when its status is in one of `statuses` (inclusive ranges;
/// none: any status) and every header matches.
#[derive(Debug, Clone, PartialEq)]
pub struct OverrideRule {
    pub statuses: Vec<(u16, u16)>,
    pub headers: Vec<(String, ValueMatch)>,
    pub source: ReplySource,
    pub action: OverrideAction,
}

/// A policy's response overrides; the first rule that matches wins.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseOverrides {
    pub rules: Vec<OverrideRule>,
}

/// Envoy Gateway's translation of `responseOverride` (bodies from the ConfigMaps that
/// `config_map` finds in the policy's namespace), or its error message.
pub fn response_overrides<'c>(list: &[ResponseOverride], config_map: &dyn Fn(&str) -> Option<&'c crate::api::ConfigMap>) -> Result<ResponseOverrides, String> {
    let mut rules = Vec::new();
    for o in list {
        // HTTP statuses are three digits: a range is clipped to 100..=599.
        let clip = |v: i64| u16::try_from(v.clamp(100, 599)).unwrap_or(599);
        let statuses = o
            .match_
            .status_codes
            .iter()
            .flatten()
            .filter_map(|c| match (&c.range, c.value) {
                (Some(r), _) if c.type_.as_deref() == Some("Range") => (r.end >= 100 && r.start <= 599).then(|| (clip(r.start), clip(r.end))),
                (_, Some(v)) => (100..=599).contains(&v).then(|| (clip(v), clip(v))),
                _ => None,
            })
            .collect::<Vec<_>>();
        let mut headers = Vec::new();
        for h in o.match_.response_headers.iter().flatten() {
            let m = value_match(&h.value).map_err(|e| format!("ResponseOverride: {e}"))?;
            headers.push((h.name.to_ascii_lowercase(), m));
        }
        // Codes that no HTTP reply has: the rule can never apply.
        if o.match_.status_codes.as_ref().is_some_and(|c| !c.is_empty()) && statuses.is_empty() {
            continue;
        }
        let action = match (&o.response, &o.redirect) {
            (_, Some(r)) => OverrideAction::Redirect {
                scheme: r.scheme.clone(),
                host: r.hostname.clone(),
                port: r.port,
                path: r.path.as_ref().and_then(|p| p.replace_full_path.clone()),
                status: r.status_code.unwrap_or(302),
            },
            (Some(r), None) => {
                let mut headers: Vec<(String, String, bool)> = Vec::new();
                if let Some(ct) = r.content_type.as_ref().filter(|c| !c.is_empty()) {
                    headers.push(("Content-Type".into(), ct.clone(), false));
                }
                if let Some(h) = &r.header {
                    headers.extend(h.add.iter().map(|a| (a.name.clone(), a.value.clone(), true)));
                    headers.extend(h.set.iter().map(|a| (a.name.clone(), a.value.clone(), false)));
                }
                let body = match &r.body {
                    Some(b) if b.type_.as_deref() == Some("ValueRef") => Some(body_of(b.value_ref.as_ref().map(|v| v.name.as_str()).unwrap_or_default(), config_map)?),
                    Some(b) => b.inline.clone(),
                    None => None,
                };
                OverrideAction::Respond { status: r.status_code, body, headers }
            }
            (None, None) => continue,
        };
        let source = match o.source.as_deref() {
            Some("Local") => ReplySource::Local,
            Some("Backend") => ReplySource::Backend,
            _ => ReplySource::All,
        };
        rules.push(OverrideRule { statuses, headers, source, action });
    }
    Ok(ResponseOverrides { rules })
}

/// A custom body from a ConfigMap, as Envoy Gateway reads it: the key `response.body`, else
/// the first key of `data` (in key order), else the first of `binaryData`.
fn body_of<'c>(name: &str, config_map: &dyn Fn(&str) -> Option<&'c crate::api::ConfigMap>) -> Result<String, String> {
    use base64::Engine;
    let cm = config_map(name).ok_or_else(|| format!("ResponseOverride: can't find the referenced configmap {name}"))?;
    if let Some(b) = cm.data.get("response.body").or_else(|| cm.data.values().next()) {
        return Ok(b.clone());
    }
    match cm.binary_data.values().next() {
        Some(b) => {
            let bytes = base64::engine::general_purpose::STANDARD.decode(b).map_err(|_| format!("ResponseOverride: binaryData of configmap {name} is not base64"))?;
            String::from_utf8(bytes).map_err(|_| format!("ResponseOverride: the body in configmap {name} is not UTF-8 text"))
        }
        None => Err(format!("ResponseOverride: can't find the key response.body in the referenced configmap {name}")),
    }
}
