//! BackendTrafficPolicy: the v1.9.0 CRD's CEL rules on what gatewayc implements, with the
//! CRD's messages, and `unsupported` for every field it does not implement yet.

use super::Ctx;
use crate::api::BackendTrafficPolicy;
use crate::api::btp::{ConsistentHashType, LoadBalancerType};
use crate::diag::Code;

/// The target kinds the CRD allows, and the route kinds among them.
pub const TARGET_KINDS: &[&str] = &["Gateway", "ListenerSet", "HTTPRoute", "GRPCRoute", "UDPRoute", "TCPRoute", "TLSRoute"];
const ROUTE_KINDS: &[&str] = &["HTTPRoute", "GRPCRoute", "UDPRoute", "TCPRoute", "TLSRoute"];

/// The CEL rules every Envoy Gateway policy kind carries on its targets (the message names
/// the kinds as the CRD does), and `unsupported` for selectors of other namespaces.
pub fn check_targets(t: crate::api::policy::PolicyTargets, kinds: &[&str], kinds_message: &str, ctx: &mut Ctx) {
    let has_selectors = !t.target_selectors.is_empty();
    if t.target_ref.is_some() != t.target_refs.is_empty() && !has_selectors {
        ctx.error(Code::SchemaRule, "either targetRef or targetRefs must be used", "/spec");
    }
    let group = crate::api::GATEWAY_GROUP;
    if t.target_ref.is_some_and(|r| r.group != group) {
        ctx.error(Code::SchemaRule, format!("this policy can only have a targetRef.group of {group}"), "/spec");
    }
    if t.target_ref.is_some_and(|r| !kinds.contains(&r.kind.as_str())) {
        ctx.error(Code::SchemaRule, format!("this policy can only have a targetRef.kind of {kinds_message}"), "/spec");
    }
    if t.target_refs.iter().any(|r| r.group != group) {
        ctx.error(Code::SchemaRule, format!("this policy can only have a targetRefs[*].group of {group}"), "/spec");
    }
    if t.target_refs.iter().any(|r| !kinds.contains(&r.kind.as_str())) {
        ctx.error(Code::SchemaRule, format!("this policy can only have a targetRefs[*].kind of {kinds_message}"), "/spec");
    }
    for (i, s) in t.target_selectors.iter().enumerate() {
        let at = format!("/spec/targetSelectors/{i}");
        if s.group.as_deref().is_some_and(|g| g != group) {
            ctx.error(Code::SchemaRule, format!("group must be {group}"), at.clone());
        }
        if let Some(ns) = &s.namespaces {
            let from = ns.get("from").and_then(|f| f.as_str()).unwrap_or("Same");
            if from == "Selector" && ns.get("selector").is_none() {
                ctx.error(Code::SchemaRule, "selector must be specified when from is Selector", format!("{at}/namespaces"));
            }
            if from != "Same" {
                ctx.unsupported(format!("{at}/namespaces"), "Selecting targets in other namespaces");
            }
        }
    }
}

/// Whether every target (reference or selector) is of one of `kinds` (`mergeType`'s rule).
pub fn targets_only(t: crate::api::policy::PolicyTargets, kinds: &[&str]) -> bool {
    let of = |k: &str| kinds.contains(&k);
    t.target_ref.is_none_or(|r| of(&r.kind)) && t.target_refs.iter().all(|r| of(&r.kind)) && t.target_selectors.iter().all(|r| of(&r.kind))
}

pub fn check(p: &BackendTrafficPolicy, ctx: &mut Ctx) {
    let s = &p.spec;
    check_targets(s.targets(), TARGET_KINDS, "Gateway/ListenerSet/HTTPRoute/GRPCRoute/TCPRoute/UDPRoute/TLSRoute", ctx);
    if s.merge_type.is_some() && !targets_only(s.targets(), ROUTE_KINDS) {
        ctx.error(Code::SchemaRule, "mergeType can only be used with xRoute targets", "/spec");
    }
    if s.compression.is_some() && s.compressor.is_some() {
        ctx.error(Code::SchemaRule, "either compression or compressor can be set, not both", "/spec");
    }
    for (field, set) in s.unimplemented() {
        if set {
            ctx.unsupported(format!("/spec/{field}"), &format!("BackendTrafficPolicy {field}"));
        }
    }
    if let Some(lb) = &s.load_balancer {
        load_balancer(lb, ctx);
    }
    if let Some(hc) = s.health_check.as_ref().and_then(|h| h.active.as_ref()) {
        active_health_check(hc, ctx);
    }
    if let Some(f) = &s.fault_injection {
        if f.delay.is_none() && f.abort.is_none() {
            ctx.error(Code::SchemaRule, "Delay and abort faults are set at least one.", "/spec/faultInjection");
        }
        if let Some(a) = &f.abort {
            if a.http_status.is_some() && a.grpc_status.is_some() {
                ctx.error(Code::SchemaRule, "httpStatus and grpcStatus cannot be simultaneously defined.", "/spec/faultInjection/abort");
            }
            if a.http_status.is_none() && a.grpc_status.is_none() {
                ctx.error(Code::SchemaRule, "httpStatus and grpcStatus are set at least one.", "/spec/faultInjection/abort");
            }
        }
    }
    for (field, list) in [("compression", &s.compression), ("compressor", &s.compressor)] {
        for (i, c) in list.iter().flatten().enumerate() {
            if c.min_content_length.as_ref().is_some_and(|q| crate::resolve::traffic::quantity_bytes(q).is_none()) {
                ctx.error(Code::SchemaPattern, "minContentLength must be a whole number of bytes, optionally with a unit", format!("/spec/{field}/{i}/minContentLength"));
            }
            for (name, set) in [("gzip", &c.gzip), ("brotli", &c.brotli), ("zstd", &c.zstd)] {
                if set.as_ref().is_some_and(|m| !m.is_empty()) {
                    ctx.unsupported(format!("/spec/{field}/{i}/{name}"), &format!("BackendTrafficPolicy {field}[].{name} settings"));
                }
            }
        }
    }
    if let Some(rl) = &s.rate_limit {
        rate_limit(rl, ctx);
    }
    if let Some(c) = &s.connection {
        if c.socket_buffer_limit.is_some() {
            ctx.unsupported("/spec/connection/socketBufferLimit", "BackendTrafficPolicy connection.socketBufferLimit");
        }
        let rr_or_random = s.load_balancer.as_ref().is_some_and(|l| matches!(l.type_, LoadBalancerType::Random | LoadBalancerType::RoundRobin));
        if c.preconnect.as_ref().is_some_and(|p| p.predictive_percent.is_some()) && !rr_or_random {
            ctx.error(Code::SchemaRule, "predictivePercent in preconnect policy only works with RoundRobin or Random load balancers", "/spec");
        }
        quantity(c.buffer_limit.as_ref(), "bufferLimit", "/spec/connection/bufferLimit", ctx);
    }
    http_settings(s, ctx);
    response_override(s.response_override.as_deref().unwrap_or_default(), ctx);
    if let Some(p) = s.circuit_breaker.as_ref().and_then(|c| c.retry_budget.as_ref()).map(|b| &b.percent)
        && p.numerator > p.denominator.unwrap_or(100)
    {
        ctx.error(Code::SchemaRule, "numerator must be less than or equal to denominator", "/spec/circuitBreaker/retryBudget/percent");
    }
}

/// A quantity of bytes as the CRD's pattern takes it (digits, an optional unit).
pub(super) fn quantity(q: Option<&serde_json::Value>, field: &str, at: &str, ctx: &mut Ctx) {
    if q.is_some_and(|q| crate::resolve::traffic::quantity_bytes(q).is_none()) {
        ctx.error(Code::SchemaPattern, format!("{field} must be a whole number of bytes, optionally with a unit (Ki, Mi, Gi, k, M, G)"), at);
    }
}

/// http2, requestBuffer and httpUpgrade: the CRD's patterns and CEL rules; CONNECT upgrades
/// are not implemented.
fn http_settings(s: &crate::api::btp::BackendTrafficPolicySpec, ctx: &mut Ctx) {
    if let Some(h) = &s.http2 {
        http2(h, ctx);
    }
    if let Some(b) = &s.request_buffer {
        quantity(Some(&b.limit), "limit", "/spec/requestBuffer/limit", ctx);
        if s.http_upgrade.as_ref().is_some_and(|u| !u.is_empty()) {
            ctx.error(Code::SchemaRule, "requestBuffer cannot be used together with httpUpgrade", "/spec");
        }
    }
    for (i, u) in s.http_upgrade.iter().flatten().enumerate() {
        let at = format!("/spec/httpUpgrade/{i}");
        let connect = u.type_.eq_ignore_ascii_case("CONNECT");
        if u.connect.is_some() && u.type_ != "CONNECT" {
            ctx.error(Code::SchemaRule, "The connect configuration is only allowed when the type is CONNECT.", at.clone());
        }
        if connect {
            ctx.unsupported(format!("{at}/type"), "BackendTrafficPolicy httpUpgrade of type CONNECT");
        }
    }
}

/// `http2` (the same type in BackendTrafficPolicy and ClientTrafficPolicy): quantities and
/// the keepalive's CEL rule.
pub(super) fn http2(h: &crate::api::btp::Http2Settings, ctx: &mut Ctx) {
    quantity(h.initial_stream_window_size.as_ref(), "initialStreamWindowSize", "/spec/http2/initialStreamWindowSize", ctx);
    quantity(h.initial_connection_window_size.as_ref(), "initialConnectionWindowSize", "/spec/http2/initialConnectionWindowSize", ctx);
    if let Some(k) = &h.connection_keepalive {
        let ms = |d: &Option<String>| d.as_deref().and_then(crate::api::httproute::duration_ms);
        if let (Some(t), Some(i)) = (ms(&k.timeout), ms(&k.interval))
            && t >= i
        {
            ctx.error(Code::SchemaRule, "timeout must be less than interval", "/spec/http2/connectionKeepalive");
        }
    }
}

/// responseOverride: the CRD's CEL rules, with its messages.
fn response_override(list: &[crate::api::btp::ResponseOverride], ctx: &mut Ctx) {
    for (i, o) in list.iter().enumerate() {
        let at = format!("/spec/responseOverride/{i}");
        if o.response.is_some() == o.redirect.is_some() {
            ctx.error(Code::SchemaRule, "exactly one of response or redirect must be specified", at.clone());
        }
        if o.match_.status_codes.is_none() && o.match_.response_headers.is_none() {
            ctx.error(Code::SchemaRule, "at least one of statusCodes or responseHeaders must be specified", format!("{at}/match"));
        }
        for (j, c) in o.match_.status_codes.iter().flatten().enumerate() {
            let cat = format!("{at}/match/statusCodes/{j}");
            let range = c.type_.as_deref() == Some("Range");
            if !range && c.value.is_none() {
                ctx.error(Code::SchemaRule, "value must be set for type Value", cat.clone());
            }
            if range && c.range.is_none() {
                ctx.error(Code::SchemaRule, "range must be set for type Range", cat.clone());
            }
            if c.range.as_ref().is_some_and(|r| r.end <= r.start) {
                ctx.error(Code::SchemaRule, "end must be greater than start", format!("{cat}/range"));
            }
        }
        if let Some(r) = &o.response {
            if let Some(b) = &r.body {
                let value_ref = b.type_.as_deref() == Some("ValueRef");
                if !value_ref && b.inline.is_none() {
                    ctx.error(Code::SchemaRule, "inline must be set for type Inline", format!("{at}/response/body"));
                }
                if value_ref && b.value_ref.is_none() {
                    ctx.error(Code::SchemaRule, "valueRef must be set for type ValueRef", format!("{at}/response/body"));
                }
                if b.value_ref.as_ref().is_some_and(|v| v.kind != "ConfigMap") {
                    ctx.error(Code::SchemaRule, "only ConfigMap is supported for ValueRef", format!("{at}/response/body"));
                }
            }
            if r.header.as_ref().is_some_and(|h| !h.remove.is_empty()) {
                ctx.error(Code::SchemaRule, "Remove is not supported for header in CustomResponse", format!("{at}/response/header"));
            }
        }
        if let Some(p) = o.redirect.as_ref().and_then(|r| r.path.as_ref()) {
            let pat = format!("{at}/redirect/path");
            let full = p.type_ == "ReplaceFullPath";
            let rules = [
                (!full, "only ReplaceFullPath is supported for path.type"),
                (full && p.replace_full_path.is_none(), "replaceFullPath must be specified when type is set to 'ReplaceFullPath'"),
                (p.replace_full_path.is_some() && !full, "type must be 'ReplaceFullPath' when replaceFullPath is set"),
                (p.type_ == "ReplacePrefixMatch" && p.replace_prefix_match.is_none(), "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'"),
                (p.replace_prefix_match.is_some() && p.type_ != "ReplacePrefixMatch", "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set"),
            ];
            for (broken, message) in rules {
                if broken {
                    ctx.error(Code::SchemaRule, message, pat.clone());
                }
            }
        }
    }
}

fn load_balancer(lb: &crate::api::btp::LoadBalancer, ctx: &mut Ctx) {
    let at = "/spec/loadBalancer";
    let ty = lb.type_;
    let rules = [
        ((ty == LoadBalancerType::ConsistentHash) != lb.consistent_hash.is_some(), "If LoadBalancer type is consistentHash, consistentHash field needs to be set."),
        ((ty == LoadBalancerType::BackendUtilization) != lb.backend_utilization.is_some(), "If LoadBalancer type is BackendUtilization, backendUtilization field needs to be set."),
        ((ty == LoadBalancerType::DynamicModule) != lb.dynamic_module.is_some(), "If LoadBalancer type is DynamicModule, dynamicModule field needs to be set."),
        (
            matches!(ty, LoadBalancerType::Random | LoadBalancerType::ConsistentHash | LoadBalancerType::DynamicModule) && lb.slow_start.is_some(),
            "Currently SlowStart is only supported for RoundRobin, LeastRequest, and BackendUtilization load balancers.",
        ),
    ];
    for (bad, msg) in rules {
        if bad {
            ctx.error(Code::SchemaRule, msg, at);
        }
    }
    if matches!(ty, LoadBalancerType::BackendUtilization | LoadBalancerType::DynamicModule) {
        ctx.unsupported(format!("{at}/type"), &format!("BackendTrafficPolicy loadBalancer type {ty:?}"));
    }
    for (field, set) in [("endpointOverride", lb.endpoint_override.is_some()), ("zoneAware", lb.zone_aware.is_some())] {
        if set {
            ctx.unsupported(format!("{at}/{field}"), &format!("BackendTrafficPolicy loadBalancer.{field}"));
        }
    }
    if let Some(ch) = &lb.consistent_hash {
        let at = format!("{at}/consistentHash");
        let ct = ch.type_;
        let rules = [
            ((ct == ConsistentHashType::Header) != ch.header.is_some(), "If consistent hash type is header, the header field must be set."),
            ((ct == ConsistentHashType::Headers) != ch.headers.is_some(), "If consistent hash type is headers, the headers field must be set."),
            ((ct == ConsistentHashType::Cookie) != ch.cookie.is_some(), "If consistent hash type is cookie, the cookie field must be set."),
            ((ct == ConsistentHashType::QueryParams) != ch.query_params.is_some(), "If consistent hash type is queryParams, the queryParams field must be set."),
        ];
        for (bad, msg) in rules {
            if bad {
                ctx.error(Code::SchemaRule, msg, at.clone());
            }
        }
    }
}

/// The CRD's rules on a payload: Text carries `text`, Binary carries `binary`.
fn payload(p: &crate::api::btp::Payload, at: &str, ctx: &mut Ctx) {
    let text = p.type_ == "Text";
    let binary = p.type_ == "Binary";
    if text != p.text.is_some() {
        ctx.error(Code::SchemaRule, "If payload type is Text, text field needs to be set.", at);
    }
    if binary != p.binary.is_some() {
        ctx.error(Code::SchemaRule, "If payload type is Binary, binary field needs to be set.", at);
    }
}

fn active_health_check(hc: &crate::api::btp::ActiveHealthCheck, ctx: &mut Ctx) {
    use crate::api::btp::ActiveHealthCheckType as T;
    let at = "/spec/healthCheck/active";
    if (hc.type_ == T::HTTP) != hc.http.is_some() {
        ctx.error(Code::SchemaRule, "If Health Checker type is HTTP, http field needs to be set.", at);
    }
    if (hc.type_ == T::TCP) != hc.tcp.is_some() {
        ctx.error(Code::SchemaRule, "If Health Checker type is TCP, tcp field needs to be set.", at);
    }
    if hc.grpc.is_some() && hc.type_ != T::GRPC {
        ctx.error(Code::SchemaRule, "The grpc field can only be set if the Health Checker type is GRPC.", at);
    }
    for (field, set) in [("overrides", hc.overrides.is_some()), ("healthCheckLog", hc.health_check_log.is_some())] {
        if set {
            ctx.unsupported(format!("{at}/{field}"), &format!("BackendTrafficPolicy healthCheck.active.{field}"));
        }
    }
    if let Some(h) = &hc.http {
        if let Some(p) = &h.request_body {
            if !h.method.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("POST") || m.eq_ignore_ascii_case("PUT")) {
                ctx.error(Code::SchemaRule, "The requestBody field can only be set when method is POST or PUT.", format!("{at}/http"));
            }
            payload(p, &format!("{at}/http/requestBody"), ctx);
        }
        if let Some(p) = &h.expected_response {
            payload(p, &format!("{at}/http/expectedResponse"), ctx);
        }
    }
    if let Some(t) = &hc.tcp {
        for (name, p) in [("send", &t.send), ("receive", &t.receive)] {
            if let Some(p) = p {
                payload(p, &format!("{at}/tcp/{name}"), ctx);
            }
        }
    }
}

fn rate_limit(rl: &crate::api::btp::RateLimit, ctx: &mut Ctx) {
    let at = "/spec/rateLimit";
    if let Some(local) = &rl.local {
        if local.rules.iter().filter(|r| r.client_selectors.is_empty()).count() > 1 {
            ctx.error(Code::SchemaRule, "local rateLimit can not have more than one rule without clientSelectors", format!("{at}/local/rules"));
        }
        for (i, r) in local.rules.iter().enumerate() {
            if r.limit.from_metadata.is_some() {
                ctx.error(Code::SchemaRule, "limit fromMetadata is not supported for Local Rate Limits", format!("{at}/local/rules/{i}/limit/fromMetadata"));
            }
        }
        rate_limit_rules(&local.rules, &format!("{at}/local"), ctx);
    }
    if let Some(global) = &rl.global {
        for (i, r) in global.rules.iter().enumerate() {
            if r.limit.from_metadata.is_some() {
                ctx.unsupported(format!("{at}/global/rules/{i}/limit/fromMetadata"), "BackendTrafficPolicy rateLimit.global limit fromMetadata");
            }
        }
        rate_limit_rules(&global.rules, &format!("{at}/global"), ctx);
    }
}

/// The rules of a local or global rate limit: the CRD's rules, and `unsupported` for what
/// gatewayc does not implement yet.
fn rate_limit_rules(rules: &[crate::api::btp::RateLimitRule], at: &str, ctx: &mut Ctx) {
    for (i, r) in rules.iter().enumerate() {
        let at = format!("{at}/rules/{i}");
        for (field, set) in [("cost", r.cost.is_some()), ("shared", r.shared.is_some())] {
            if set {
                ctx.unsupported(format!("{at}/{field}"), &format!("BackendTrafficPolicy rateLimit rules[].{field}"));
            }
        }
        if r.x_rate_limit_headers.as_deref() == Some("Off") {
            ctx.unsupported(format!("{at}/xRateLimitHeaders"), "BackendTrafficPolicy rateLimit xRateLimitHeaders: Off");
        }
        for (j, c) in r.client_selectors.iter().enumerate() {
            let at = format!("{at}/clientSelectors/{j}");
            if c.headers.is_empty() && c.methods.is_empty() && c.path.is_none() && c.source_cidr.is_none() && c.query_params.is_none() {
                ctx.error(Code::SchemaRule, "at least one of headers, methods, path, sourceCIDR or queryParams must be specified", at.clone());
            }
            if c.query_params.is_some() {
                ctx.unsupported(format!("{at}/queryParams"), "BackendTrafficPolicy rateLimit clientSelectors[].queryParams");
            }
            if c.source_cidr.as_ref().is_some_and(|s| s.invert == Some(true)) {
                ctx.unsupported(format!("{at}/sourceCIDR/invert"), "BackendTrafficPolicy rateLimit sourceCIDR.invert");
            }
            if let Some(sc) = &c.source_cidr
                && crate::resolve::traffic::parse_cidr(&sc.value).is_none()
            {
                ctx.error(Code::SchemaRule, format!("unable to translate rateLimit: invalid CIDR address: {}", sc.value), format!("{at}/sourceCIDR/value"));
            }
            for (k, h) in c.headers.iter().enumerate() {
                let distinct = h.type_.as_deref() == Some("Distinct");
                if distinct == h.value.is_some() || (distinct && h.invert == Some(true)) {
                    ctx.error(Code::SchemaRule, "unable to translate rateLimit. Either the header.Type is not valid or the header is missing a value", format!("{at}/headers/{k}"));
                }
            }
        }
    }
}
