//! EnvoyExtensionPolicy: the v1.9.0 CRD's CEL rules, with the CRD's messages, and
//! `unsupported` for every part gatewayc does not implement (an extension is never dropped).

use super::Ctx;
use crate::api::EnvoyExtensionPolicy;
use crate::api::eep::ExtProc;
use crate::diag::Code;

/// The target kinds the CRD allows, and the route kinds among them.
const TARGET_KINDS: &[&str] = &["Gateway", "ListenerSet", "HTTPRoute", "GRPCRoute", "UDPRoute", "TCPRoute", "TLSRoute"];
const ROUTE_KINDS: &[&str] = &["HTTPRoute", "GRPCRoute", "UDPRoute", "TCPRoute", "TLSRoute"];

pub fn check(p: &EnvoyExtensionPolicy, ctx: &mut Ctx) {
    let s = &p.spec;
    super::btp::check_targets(s.targets(), TARGET_KINDS, "Gateway/ListenerSet/HTTPRoute/GRPCRoute/TCPRoute/UDPRoute/TLSRoute", ctx);
    if s.merge_type.is_some() && !super::btp::targets_only(s.targets(), ROUTE_KINDS) {
        ctx.error(Code::SchemaRule, "mergeType can only be used with xRoute targets", "/spec");
    }
    // Envoy Gateway adds extensions to HTTP filter chains only; on a stream route it would
    // do nothing: refused rather than ignored.
    let t = s.targets();
    let kinds = t.target_ref.map(|r| ("/spec/targetRef".to_string(), r.kind.as_str()));
    let kinds = kinds.into_iter().chain(t.target_refs.iter().enumerate().map(|(i, r)| (format!("/spec/targetRefs/{i}"), r.kind.as_str())));
    let kinds = kinds.chain(t.target_selectors.iter().enumerate().map(|(i, r)| (format!("/spec/targetSelectors/{i}"), r.kind.as_str())));
    for (at, kind) in kinds.collect::<Vec<_>>() {
        if matches!(kind, "TCPRoute" | "UDPRoute" | "TLSRoute") {
            ctx.unsupported(at, &format!("EnvoyExtensionPolicy targeting a {kind}"));
        }
    }
    for (at, what) in s.unsupported_parts() {
        ctx.unsupported(at, &what);
    }
    for (i, e) in s.ext_proc.iter().enumerate() {
        ext_proc(e, &format!("/spec/extProc/{i}"), ctx);
    }
    for (i, l) in s.lua.iter().enumerate() {
        let at = format!("/spec/lua/{i}");
        let ok = match l.type_.as_str() {
            "Inline" => l.inline.is_some() && l.value_ref.is_none(),
            _ => l.inline.is_none() && l.value_ref.is_some(),
        };
        if !ok {
            ctx.error(Code::SchemaRule, "Exactly one of inline or valueRef must be set with correct type.", at.clone());
        }
        if let Some(r) = &l.value_ref
            && !(r.kind == "ConfigMap" && (r.group == "v1" || r.group.is_empty()))
        {
            ctx.error(Code::SchemaRule, "Only a reference to an object of kind ConfigMap belonging to default v1 API group is supported.", format!("{at}/valueRef"));
        }
    }
}

fn ext_proc(e: &ExtProc, at: &str, ctx: &mut Ctx) {
    if e.backend_ref.is_some() {
        ctx.error(Code::SchemaRule, "BackendRefs must be used, backendRef is not supported.", at);
    }
    if e.backend_refs.iter().any(|r| !matches!(r.kind.as_str(), "Service" | "ServiceImport" | "Backend")) {
        ctx.error(Code::SchemaRule, "BackendRefs only supports Service, ServiceImport, and Backend kind.", at);
    }
    if e.backend_refs.iter().any(|r| !matches!(r.group.as_str(), "" | "multicluster.x-k8s.io" | "gateway.envoyproxy.io")) {
        ctx.error(Code::SchemaRule, "BackendRefs only supports Core, multicluster.x-k8s.io, and gateway.envoyproxy.io groups.", at);
    }
    for (i, r) in e.backend_refs.iter().enumerate() {
        if r.group.is_empty() && r.kind == "Service" && r.port.is_none() {
            ctx.error(Code::SchemaRule, "Must have port for Service reference", format!("{at}/backendRefs/{i}"));
        }
    }
    let sides = || e.processing_mode.iter().flat_map(|m| [&m.request, &m.response]).flatten();
    if e.fail_open == Some(true) && sides().any(|s| s.body.as_deref() == Some("FullDuplexStreamed")) {
        ctx.error(Code::SchemaRule, "If FullDuplexStreamed body processing mode is used, FailOpen must be false.", at);
    }
    if e.shadow_mode == Some(true) && sides().any(|s| s.body.as_deref().is_some_and(|b| b != "Streamed")) {
        ctx.error(Code::SchemaRule, "If shadowMode is enabled, body processing mode must be Streamed or unset.", at);
    }
}
