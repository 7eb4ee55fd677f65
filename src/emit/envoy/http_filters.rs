//! Envoy structs for the HTTP filters a BackendTrafficPolicy turns on per route: fault
//! injection, local rate limits, response compression, request buffering.

use super::policy::duration;
use super::types::*;
use crate::resolve::traffic as t;
use serde::Serialize;

pub const FAULT: &str = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault";
const LOCAL_RATE_LIMIT: &str = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";

#[derive(Serialize)]
pub struct Fraction {
    pub numerator: u32,
    pub denominator: &'static str,
}

fn millionths(n: u32) -> Fraction {
    Fraction { numerator: n, denominator: "MILLION" }
}

#[derive(Serialize)]
pub struct HttpFault {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<FaultDelay>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort: Option<FaultAbort>,
}

#[derive(Serialize)]
pub struct FaultDelay {
    pub fixed_delay: String,
    pub percentage: Fraction,
}

#[derive(Serialize)]
pub struct FaultAbort {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc_status: Option<u32>,
    pub percentage: Fraction,
}

pub fn fault(f: &t::Fault) -> HttpFault {
    HttpFault {
        type_: FAULT,
        delay: f.delay.map(|(ms, share)| FaultDelay { fixed_delay: duration(ms), percentage: millionths(share) }),
        abort: f.abort.as_ref().map(|(kind, share)| {
            let (http_status, grpc_status) = match kind {
                t::FaultAbort::Http(h) => (Some(*h), None),
                t::FaultAbort::Grpc(g) => (None, Some(*g)),
            };
            FaultAbort { http_status, grpc_status, percentage: millionths(*share) }
        }),
    }
}

#[derive(Serialize)]
pub struct TokenBucket {
    pub max_tokens: u32,
    pub tokens_per_fill: u32,
    pub fill_interval: String,
}

fn bucket(b: &t::Bucket) -> TokenBucket {
    TokenBucket { max_tokens: b.requests, tokens_per_fill: b.requests, fill_interval: format!("{}s", b.per_s) }
}

#[derive(Serialize)]
pub struct Enabled {
    pub default_value: Fraction,
}

#[derive(Serialize)]
pub struct DescriptorEntry {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Serialize)]
pub struct Descriptor {
    pub entries: Vec<DescriptorEntry>,
    pub token_bucket: TokenBucket,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shadow_mode: bool,
}

#[derive(Serialize, Default)]
pub struct RateLimitAction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generic_key: Option<super::global_rate_limit::GenericKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_value_match: Option<HeaderValueMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_headers: Option<RequestHeadersAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked_remote_address: Option<MaskedRemoteAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_address: Option<Empty>,
}

#[derive(Serialize)]
pub struct HeaderValueMatch {
    pub descriptor_key: String,
    pub descriptor_value: String,
    pub expect_match: bool,
    pub headers: Vec<HeaderMatcher>,
}

#[derive(Serialize)]
pub struct RequestHeadersAction {
    pub header_name: String,
    pub descriptor_key: String,
}

#[derive(Serialize)]
pub struct MaskedRemoteAddress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v4_prefix_mask_len: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v6_prefix_mask_len: Option<u32>,
}

#[derive(Serialize)]
pub struct RateLimits {
    pub actions: Vec<RateLimitAction>,
}

/// The filter in the HCM (empty; each route brings its buckets) or a route's configuration.
#[derive(Serialize)]
pub struct LocalRateLimitFilter {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub stat_prefix: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_bucket: Option<TokenBucket>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_enabled: Option<Enabled>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_enforced: Option<Enabled>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_x_ratelimit_headers: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub descriptors: Vec<Descriptor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub always_consume_default_token_bucket: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rate_limits: Vec<RateLimits>,
}

pub fn local_rate_limit_filter() -> LocalRateLimitFilter {
    LocalRateLimitFilter {
        type_: LOCAL_RATE_LIMIT,
        stat_prefix: "http_local_rate_limiter",
        token_bucket: None,
        filter_enabled: None,
        filter_enforced: None,
        enable_x_ratelimit_headers: None,
        descriptors: Vec::new(),
        always_consume_default_token_bucket: None,
        rate_limits: Vec::new(),
    }
}

/// The actions of one selector of rule `ri` and the descriptor entries they produce, as
/// Envoy Gateway writes them (a condition that does not hold produces no descriptor).
pub fn selector_actions(ri: usize, sel: &t::RateSelector) -> (Vec<RateLimitAction>, Vec<DescriptorEntry>) {
    let (mut actions, mut entries) = (Vec::new(), Vec::new());
    let mut matcher = |key: String, name: &str, m: &crate::resolve::http::StringMatch, invert: bool| {
        actions.push(RateLimitAction {
            header_value_match: Some(HeaderValueMatch { descriptor_key: key.clone(), descriptor_value: key.clone(), expect_match: !invert, headers: vec![HeaderMatcher { name: name.to_string(), string_match: StringMatcher::of(m) }] }),
            ..Default::default()
        });
        entries.push(DescriptorEntry { key: key.clone(), value: Some(key) });
    };
    let mut distinct = Vec::new();
    for (mi, (name, m, invert)) in sel.headers.iter().enumerate() {
        let key = format!("rule-{ri}-match-{mi}");
        match m {
            Some(m) => matcher(key, name, m, *invert),
            None => distinct.push((mi, RateLimitAction { request_headers: Some(RequestHeadersAction { header_name: name.clone(), descriptor_key: key.clone() }), ..Default::default() }, DescriptorEntry { key, value: None })),
        }
    }
    if let Some((method, invert)) = &sel.method {
        matcher(format!("rule-{ri}-method"), ":method", &crate::resolve::http::StringMatch::Exact(method.clone()), *invert);
    }
    if let Some((m, invert)) = &sel.path {
        matcher(format!("rule-{ri}-path"), ":path", m, *invert);
    }
    // Distinct headers keep their place among the headers.
    for (mi, action, entry) in distinct {
        let at = actions.len().min(mi);
        actions.insert(at, action);
        entries.insert(at, entry);
    }
    if let Some((net, len, v6, distinct)) = &sel.cidr {
        let mask = MaskedRemoteAddress { v4_prefix_mask_len: (!v6).then_some(*len), v6_prefix_mask_len: v6.then_some(*len) };
        actions.push(RateLimitAction { masked_remote_address: Some(mask), ..Default::default() });
        entries.push(DescriptorEntry { key: "masked_remote_address".into(), value: Some(net.clone()) });
        if *distinct {
            actions.push(RateLimitAction { remote_address: Some(Empty {}), ..Default::default() });
            entries.push(DescriptorEntry { key: "remote_address".into(), value: None });
        }
    }
    (actions, entries)
}

/// A route's buckets, as Envoy Gateway builds them: per rule (and per method it names) an
/// action list and a descriptor whose entries those actions produce; requests no rule
/// selects take from the default bucket.
pub fn local_rate_limit(l: &t::LocalRateLimit) -> LocalRateLimitFilter {
    let full = || Enabled { default_value: Fraction { numerator: 100, denominator: "HUNDRED" } };
    let (mut rate_limits, mut descriptors) = (Vec::new(), Vec::new());
    for (ri, rule) in l.rules.iter().enumerate() {
        // One action list per method the rule names; they produce the same entries, so the
        // rule has one descriptor (one bucket) for all of them.
        for (si, sel) in rule.selectors.iter().enumerate() {
            let (actions, entries) = selector_actions(ri, sel);
            rate_limits.push(RateLimits { actions });
            if si == 0 {
                descriptors.push(Descriptor { entries, token_bucket: bucket(&rule.bucket), shadow_mode: rule.shadow });
            }
        }
    }
    LocalRateLimitFilter {
        token_bucket: Some(bucket(&l.default)),
        filter_enabled: Some(full()),
        filter_enforced: Some(full()),
        enable_x_ratelimit_headers: Some("DRAFT_VERSION_03"),
        descriptors,
        always_consume_default_token_bucket: Some(false),
        rate_limits,
        ..local_rate_limit_filter()
    }
}

#[derive(Serialize)]
pub struct CompressorFilter {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub compressor_library: CompressorLibrary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_direction_config: Option<ResponseDirection>,
}

#[derive(Serialize)]
pub struct CompressorLibrary {
    pub name: &'static str,
    pub typed_config: TypedEmpty,
}

#[derive(Serialize)]
pub struct ResponseDirection {
    pub common_config: CommonDirection,
}

#[derive(Serialize)]
pub struct CommonDirection {
    pub min_content_length: u32,
}

pub fn compressor_name(c: t::Codec) -> &'static str {
    match c {
        t::Codec::Gzip => "envoy.filters.http.compressor.gzip",
        t::Codec::Brotli => "envoy.filters.http.compressor.brotli",
        t::Codec::Zstd => "envoy.filters.http.compressor.zstd",
    }
}

/// The codec's compressor with its library's defaults.
pub fn compressor(c: t::Codec, min_content_length: Option<u32>) -> CompressorFilter {
    let (name, type_) = match c {
        t::Codec::Gzip => ("envoy.compression.gzip.compressor", "type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip"),
        t::Codec::Brotli => ("envoy.compression.brotli.compressor", "type.googleapis.com/envoy.extensions.compression.brotli.compressor.v3.Brotli"),
        t::Codec::Zstd => ("envoy.compression.zstd.compressor", "type.googleapis.com/envoy.extensions.compression.zstd.compressor.v3.Zstd"),
    };
    CompressorFilter {
        type_: "type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor",
        compressor_library: CompressorLibrary { name, typed_config: TypedEmpty { type_ } },
        response_direction_config: min_content_length.map(|m| ResponseDirection { common_config: CommonDirection { min_content_length: m } }),
    }
}

#[derive(Serialize)]
pub struct CompressorPerRoute {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub overrides: CompressorOverrides,
}

#[derive(Serialize)]
pub struct CompressorOverrides {
    pub response_direction_config: Empty,
}

/// Turns the (disabled) compressor on for one route.
pub fn compressor_per_route() -> CompressorPerRoute {
    CompressorPerRoute { type_: "type.googleapis.com/envoy.extensions.filters.http.compressor.v3.CompressorPerRoute", overrides: CompressorOverrides { response_direction_config: Empty {} } }
}

/// The listener's health check (ClientTrafficPolicy healthCheck): Envoy answers `path` itself,
/// 200 while it is healthy, as Envoy Gateway configures it.
#[derive(Serialize)]
pub struct HealthCheckFilter {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub pass_through_mode: bool,
    pub headers: Vec<HeaderMatcher>,
}

pub fn health_check(path: &str) -> HealthCheckFilter {
    HealthCheckFilter {
        type_: "type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck",
        pass_through_mode: false,
        headers: vec![HeaderMatcher { name: ":path".into(), string_match: StringMatcher::exact(path) }],
    }
}

pub const BUFFER: &str = "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer";

#[derive(Serialize)]
pub struct BufferFilter {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub max_request_bytes: u32,
}

/// The buffer filter of the HCM (off; the routes that buffer turn it on with their limit).
pub fn buffer(max_request_bytes: u32) -> BufferFilter {
    BufferFilter { type_: BUFFER, max_request_bytes }
}

#[derive(Serialize)]
pub struct BufferPerRoute {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub buffer: Limit,
}

#[derive(Serialize)]
pub struct Limit {
    pub max_request_bytes: u32,
}

pub fn buffer_per_route(max_request_bytes: u32) -> BufferPerRoute {
    BufferPerRoute { type_: "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute", buffer: Limit { max_request_bytes } }
}

/// One upgrade a route allows or refuses, over the listener's (WebSocket).
#[derive(Serialize)]
pub struct RouteUpgrade {
    pub upgrade_type: String,
    pub enabled: bool,
}

/// The route's upgrades: those its policy lists (WebSocket refused when the list leaves it
/// out), or none but WebSocket refused when the route buffers requests; empty: the listener's.
pub fn route_upgrades(t: &t::RouteTraffic) -> Vec<RouteUpgrade> {
    let on = |u: &str| RouteUpgrade { upgrade_type: u.to_string(), enabled: true };
    let off_ws = RouteUpgrade { upgrade_type: "websocket".into(), enabled: false };
    match &t.upgrades {
        Some(list) => {
            let mut out: Vec<RouteUpgrade> = list.iter().map(|u| on(u)).collect();
            if !list.iter().any(|u| u == "websocket") {
                out.push(off_ws);
            }
            out
        }
        None if t.request_buffer.is_some() => vec![off_ws],
        None => Vec::new(),
    }
}

/// An EnvoyProxy's `filterOrder`, as Envoy Gateway applies it to its sorted chain: each rule
/// in turn moves every filter of its type (a filter's type is the start of its name) before
/// the first filter of the `before` type, or after the last one of the `after` type, keeping
/// their order; a rule whose filters or anchor are not in the chain does nothing.
pub fn reorder(filters: &mut Vec<HttpFilter>, order: &[crate::resolve::FilterPosition]) {
    for rule in order {
        let of = |f: &HttpFilter, t: &str| f.name.starts_with(t);
        let anchored = filters.iter().any(|f| of(f, &rule.anchor) && !of(f, &rule.name));
        if !anchored || !filters.iter().any(|f| of(f, &rule.name)) {
            continue;
        }
        let (moving, mut rest): (Vec<HttpFilter>, Vec<HttpFilter>) = std::mem::take(filters).into_iter().partition(|f| of(f, &rule.name));
        let at = if rule.before { rest.iter().position(|f| of(f, &rule.anchor)) } else { rest.iter().rposition(|f| of(f, &rule.anchor)).map(|i| i + 1) };
        let at = at.unwrap_or(rest.len());
        rest.splice(at..at, moving);
        *filters = rest;
    }
}
