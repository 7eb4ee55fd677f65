//! EnvoyProxy: which fields gatewayc reads; everything else is named as unsupported.

use super::Ctx;
use crate::diag::Code;
use crate::api::EnvoyProxy;
use std::collections::BTreeMap;

fn others(map: &BTreeMap<String, serde_json::Value>, at: &str, ctx: &mut Ctx) {
    for k in map.keys() {
        ctx.unsupported(format!("{at}/{}", crate::source::escape_pointer(k)), &format!("EnvoyProxy {}.{k}", at.trim_start_matches('/').replace('/', ".")));
    }
}

pub fn check(e: &EnvoyProxy, ctx: &mut Ctx) {
    let s = &e.spec;
    others(&s.other, "/spec", ctx);
    if let Some(t) = &s.telemetry {
        others(&t.other, "/spec/telemetry", ctx);
        if let Some(a) = &t.access_log {
            access_log(a, ctx);
        }
        if let Some(tr) = &t.tracing {
            tracing(tr, ctx);
        }
        if let Some(m) = &t.metrics {
            others(&m.other, "/spec/telemetry/metrics", ctx);
            if let Some(p) = &m.prometheus {
                others(&p.other, "/spec/telemetry/metrics/prometheus", ctx);
            }
        }
    }
    // The options gatewayc sets itself cannot be given again.
    for (i, a) in s.extra_args.iter().enumerate() {
        let flag = a.split('=').next().unwrap_or(a);
        if crate::emit::k8s::OWN_ARGS.contains(&flag) {
            ctx.error(Code::SchemaRule, format!("extraArgs cannot set {flag}: gatewayc sets it (logging, concurrency and the bootstrap have fields of their own)"), format!("/spec/extraArgs/{i}"));
        }
    }
    for (i, f) in s.filter_order.iter().enumerate() {
        let at = format!("/spec/filterOrder/{i}");
        match (&f.before, &f.after) {
            (None, None) => {
                ctx.error(Code::SchemaRule, "one of before or after must be specified", at.clone());
                ctx.error(Code::SchemaRule, "only one of before or after can be specified", at);
            }
            (Some(_), Some(_)) => ctx.error(Code::SchemaRule, "only one of before or after can be specified", at),
            _ => {}
        }
    }
    if let Some(b) = &s.bootstrap {
        bootstrap(b, ctx);
    }
    let Some(p) = &s.provider else { return };
    others(&p.other, "/spec/provider", ctx);
    if p.type_ != "Kubernetes" {
        ctx.unsupported("/spec/provider/type", "EnvoyProxy provider types other than Kubernetes");
    }
    let Some(k) = &p.kubernetes else { return };
    others(&k.other, "/spec/provider/kubernetes", ctx);
    if let Some(d) = &k.envoy_deployment {
        others(&d.other, "/spec/provider/kubernetes/envoyDeployment", ctx);
        if let Some(c) = &d.container {
            others(&c.other, "/spec/provider/kubernetes/envoyDeployment/container", ctx);
        }
        if let Some(p) = &d.pod {
            others(&p.other, "/spec/provider/kubernetes/envoyDeployment/pod", ctx);
        }
    }
    workload_rules(k, ctx);
    if let Some(svc) = &k.envoy_service {
        others(&svc.other, "/spec/provider/kubernetes/envoyService", ctx);
        if svc.allocate_load_balancer_node_ports.is_some() && svc.type_.as_deref().unwrap_or("LoadBalancer") != "LoadBalancer" {
            ctx.error(Code::SchemaRule, "allocateLoadBalancerNodePorts can only be set for LoadBalancer type", "/spec/provider/kubernetes/envoyService");
        }
        // The CRD's CEL rules on loadBalancerIP, with its messages.
        if let Some(ip) = &svc.load_balancer_ip {
            let at = "/spec/provider/kubernetes/envoyService/loadBalancerIP";
            // The CRD's pattern: four dot-separated numbers 0..255 of 1 to 3 digits.
            let octets: Vec<&str> = ip.split('.').collect();
            let ok = octets.len() == 4 && octets.iter().all(|o| (1..=3).contains(&o.len()) && o.bytes().all(|b| b.is_ascii_digit()) && o.parse::<u16>().is_ok_and(|n| n <= 255));
            if !ok {
                ctx.error(Code::SchemaRule, "loadBalancerIP must be a valid IPv4 address", at);
            }
            if svc.type_.as_deref().is_some_and(|t| t != "LoadBalancer") {
                ctx.error(Code::SchemaRule, "loadBalancerIP can only be set for LoadBalancer type", "/spec/provider/kubernetes/envoyService");
            }
        }
    }
}

/// `telemetry.accessLog`: the CRD's rules, and what gatewayc does not implement.
fn access_log(a: &crate::api::envoyproxy::AccessLog, ctx: &mut Ctx) {
    let at = "/spec/telemetry/accessLog";
    others(&a.other, at, ctx);
    for (i, s) in a.settings.iter().enumerate() {
        let sat = format!("{at}/settings/{i}");
        others(&s.other, &sat, ctx);
        if s.format.as_ref().is_some_and(|f| f.type_.as_deref() == Some("Text") && f.text.is_none()) {
            ctx.error(Code::SchemaRule, "If AccessLogFormat type is Text, text field needs to be set.", format!("{sat}/format"));
        }
        if !s.matches.is_empty() {
            ctx.unsupported(format!("{sat}/matches"), "EnvoyProxy telemetry.accessLog matches (CEL)");
        }
        if s.type_.is_some() {
            ctx.unsupported(format!("{sat}/type"), "EnvoyProxy telemetry.accessLog settings type");
        }
        for (j, k) in s.sinks.iter().enumerate() {
            let kat = format!("{sat}/sinks/{j}");
            if (k.type_ == "File") != k.file.is_some() {
                ctx.error(Code::SchemaRule, "If AccessLogSink type is File, file field needs to be set.", kat.clone());
            }
            if let Some(o) = &k.open_telemetry {
                let oat = format!("{kat}/openTelemetry");
                if o.host.is_none() && o.backend_refs.is_empty() {
                    ctx.error(Code::SchemaRule, "host or backendRefs needs to be set", oat.clone());
                }
                if o.backend_refs.iter().any(|r| r.kind != "Service" && r.kind != "Backend") {
                    ctx.error(Code::SchemaRule, "BackendRefs only support Service and Backend kind.", oat.clone());
                }
                if o.backend_refs.iter().any(|r| r.fallback.is_some()) {
                    ctx.unsupported(format!("{oat}/backendRefs"), "fallback in access log backendRefs");
                }
                others(&o.other, &oat, ctx);
            }
            if k.type_ == "ALS" {
                ctx.unsupported(format!("{kat}/type"), "EnvoyProxy access log sinks of type ALS");
            } else {
                others(&k.other, &kat, ctx);
            }
        }
    }
}

/// `telemetry.tracing`: the CRD's CEL rules, with its messages, and what gatewayc does not
/// implement.
fn tracing(t: &crate::api::envoyproxy::Tracing, ctx: &mut Ctx) {
    let at = "/spec/telemetry/tracing";
    if t.sampling_rate.is_some() && t.sampling_fraction.is_some() {
        ctx.error(Code::SchemaRule, "only one of SamplingRate or SamplingFraction can be specified", at);
    }
    for (name, f) in [("samplingFraction", &t.sampling_fraction), ("clientSamplingFraction", &t.client_sampling_fraction), ("overallSamplingFraction", &t.overall_sampling_fraction)] {
        if f.as_ref().is_some_and(|f| f.numerator > f.denominator) {
            ctx.error(Code::SchemaRule, "numerator must be less than or equal to denominator", format!("{at}/{name}"));
        }
    }
    for (k, tag) in &t.custom_tags {
        let kat = format!("{at}/customTags/{}", crate::source::escape_pointer(k));
        let ok = match tag.type_.as_str() {
            "Literal" => tag.literal.is_some(),
            "Environment" => tag.environment.is_some(),
            _ => tag.request_header.is_some(),
        };
        if !ok {
            ctx.error(Code::SchemaRule, format!("a custom tag of type {} needs its {} field", tag.type_, tag.type_.to_lowercase().replace("requestheader", "requestHeader")), kat);
        }
    }
    let p = &t.provider;
    let pat = format!("{at}/provider");
    if p.host.is_none() && p.backend_refs.is_empty() {
        ctx.error(Code::SchemaRule, "host or backendRefs needs to be set", pat.clone());
    }
    if p.other.contains_key("backendRef") {
        ctx.error(Code::SchemaRule, "BackendRefs must be used, backendRef is not supported.", pat.clone());
    }
    if p.service_name.as_deref() == Some("") {
        ctx.error(Code::SchemaRule, "serviceName cannot be empty if provided", format!("{pat}/serviceName"));
    }
    if p.backend_refs.iter().any(|r| r.kind != "Service" && r.kind != "Backend") {
        ctx.error(Code::SchemaRule, "BackendRefs only support Service and Backend kind.", pat.clone());
    }
    if p.backend_refs.iter().any(|r| r.fallback.is_some()) {
        ctx.unsupported(format!("{pat}/backendRefs"), "fallback in tracing backendRefs");
    }
    if let Some(s) = p.open_telemetry.as_ref().and_then(|o| o.sampler.as_ref()) {
        if s.sampling_percentage.as_ref().is_some_and(|f| f.numerator > f.denominator) {
            ctx.error(Code::SchemaRule, "numerator must be less than or equal to denominator", format!("{pat}/openTelemetry/sampler/samplingPercentage"));
        }
    }
    let others_of = p.other.iter().filter(|(k, _)| k.as_str() != "backendRef").map(|(k, v)| (k.clone(), v.clone())).collect();
    others(&others_of, &pat, ctx);
}

/// The CRD's CEL rules on envoyPDB and envoyHpa, with its messages.
fn workload_rules(k: &crate::api::envoyproxy::KubernetesProvider, ctx: &mut Ctx) {
    if let Some(p) = &k.envoy_pdb {
        let at = "/spec/provider/kubernetes/envoyPDB";
        others(&p.other, at, ctx);
        if p.min_available.is_some() == p.max_unavailable.is_some() {
            ctx.error(Code::SchemaRule, "only one of minAvailable or maxUnavailable can be specified", at);
        }
    }
    if let Some(h) = &k.envoy_hpa {
        let at = "/spec/provider/kubernetes/envoyHpa";
        others(&h.other, at, ctx);
        if h.max_replicas <= 0 {
            ctx.error(Code::SchemaRule, "maxReplicas must be greater than 0", format!("{at}/maxReplicas"));
        }
        if h.min_replicas.is_some_and(|m| m <= 0) {
            ctx.error(Code::SchemaRule, "minReplicas must be greater than 0", format!("{at}/minReplicas"));
        }
        if h.min_replicas.is_some_and(|m| h.max_replicas < m) {
            ctx.error(Code::SchemaRule, "maxReplicas cannot be less than minReplicas", at);
        }
    }
}

/// `bootstrap`: the CRD's rule, with its message; Replace refused (gatewayc's bootstrap is the
/// whole translation, where Envoy Gateway's only points Envoy at its xDS server); a Merge
/// value must be a YAML mapping.
fn bootstrap(b: &crate::api::envoyproxy::ProxyBootstrap, ctx: &mut Ctx) {
    let at = "/spec/bootstrap";
    let matches = if b.type_ == "JSONPatch" { !b.json_patches.is_empty() } else { b.value.is_some() };
    if !matches {
        ctx.error(Code::SchemaRule, "provided bootstrap patch doesn't match the configured patch type", at);
        return;
    }
    match b.type_.as_str() {
        "Replace" => ctx.unsupported(format!("{at}/type"), "EnvoyProxy bootstrap of type Replace (gatewayc's bootstrap carries the whole translation; use Merge or JSONPatch)"),
        "Merge" => {
            if crate::resolve::workload::bootstrap_value(b.value.as_deref().unwrap_or("")).is_none() {
                ctx.error(Code::SchemaRule, "bootstrap value is not a YAML mapping (an Envoy Bootstrap)", format!("{at}/value"));
            }
        }
        _ => {
            for (i, p) in b.json_patches.iter().enumerate() {
                if p.json_path.is_some() {
                    ctx.unsupported(format!("{at}/jsonPatches/{i}/jsonPath"), "EnvoyProxy bootstrap jsonPatches jsonPath");
                }
            }
        }
    }
}
