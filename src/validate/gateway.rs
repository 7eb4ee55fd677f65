//! The Gateway CRD's CEL rules, with the CRD's messages, and fields not implemented yet.

use crate::diag::Code;
use super::Ctx;
use crate::api::Gateway;
use crate::api::gateway::TlsMode;
use std::collections::HashSet;

pub fn check(g: &Gateway, ctx: &mut Ctx) {
    check_listeners(&g.spec.listeners, ctx);
    check_rest(g, ctx);
}

/// A ListenerSet: its listeners follow the Gateway listener's rules.
pub fn check_listener_set(s: &crate::api::ListenerSet, ctx: &mut Ctx) {
    check_listeners(&s.spec.listeners, ctx);
}

/// The listener rules Gateways and ListenerSets share (`/spec/listeners`).
fn check_listeners(listeners: &[crate::api::gateway::Listener], ctx: &mut Ctx) {
    let mut names = HashSet::new();
    let mut combos = HashSet::new();
    for (i, l) in listeners.iter().enumerate() {
        let p = format!("/spec/listeners/{i}");
        if !names.insert(l.name.as_str()) {
            ctx.error(Code::SchemaRule, "Listener name must be unique within the Gateway", format!("{p}/name"));
        }
        if !combos.insert((l.port, l.protocol.as_str(), l.hostname.as_deref())) {
            ctx.error(Code::SchemaRule, "Combination of port, protocol and hostname must be unique for each listener", p.clone());
        }
        let proto = l.protocol.as_str();
        if matches!(proto, "HTTP" | "TCP" | "UDP") && l.tls.is_some() {
            ctx.error(Code::SchemaRule, "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']", format!("{p}/tls"));
        }
        if proto == "HTTPS" && l.tls.as_ref().is_some_and(|t| t.mode != TlsMode::Terminate) {
            ctx.error(Code::SchemaRule, "tls mode must be Terminate for protocol HTTPS", format!("{p}/tls/mode"));
        }
        // Gateway API v1.6: "This field is required if the Protocol field is HTTPS or TLS".
        if proto == "HTTPS" && l.tls.is_none() {
            ctx.error(Code::SchemaRule, "tls must be specified for protocol HTTPS", p.clone());
        }
        if proto == "TLS" && l.tls.is_none() {
            ctx.error(Code::SchemaRule, "tls mode must be set for protocol TLS", p.clone());
        }
        if matches!(proto, "TCP" | "UDP") && l.hostname.as_deref().is_some_and(|h| !h.is_empty()) {
            ctx.error(Code::SchemaRule, "hostname must not be specified for protocols ['TCP', 'UDP']", format!("{p}/hostname"));
        }
        if let Some(tls) = &l.tls {
            if tls.mode == TlsMode::Terminate && tls.certificate_refs.is_empty() && tls.options.is_empty() {
                ctx.error(Code::SchemaRule, "certificateRefs or options must be specified when mode is Terminate", format!("{p}/tls"));
            }
            if !tls.options.is_empty() {
                ctx.unsupported(format!("{p}/tls/options"), "listener tls.options");
            }
        }
    }
}

fn check_rest(g: &Gateway, ctx: &mut Ctx) {
    let mut ips = HashSet::new();
    let mut hosts = HashSet::new();
    for (i, a) in g.spec.addresses.iter().enumerate() {
        let p = format!("/spec/addresses/{i}");
        if let Some(v) = &a.value {
            if a.type_ == "IPAddress" && !ips.insert(v) {
                ctx.error(Code::SchemaRule, "IPAddress values must be unique", p.clone());
            }
            if a.type_ == "Hostname" && !hosts.insert(v) {
                ctx.error(Code::SchemaRule, "Hostname values must be unique", p.clone());
            }
            if a.type_ == "Hostname" && !super::metadata::is_hostname(v) {
                ctx.error(
                    Code::SchemaRule,
                    r"Hostname value must be empty or contain only valid characters (matching ^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)",
                    format!("{p}/value"),
                );
            }
        }
        if a.type_ != "IPAddress" {
            ctx.unsupported(p, &format!("spec.addresses of type {}", a.type_));
        }
    }
    if let Some(i) = &g.spec.infrastructure {
        // The CRD's CEL rules on infrastructure label and annotation keys, with its messages.
        for (map, field, what) in [(&i.labels, "labels", "Label"), (&i.annotations, "annotations", "Annotation")] {
            let at = format!("/spec/infrastructure/{field}");
            if map.keys().any(|k| !super::metadata::key_form(k)) {
                ctx.error(Code::SchemaRule, format!("{what} keys must be in the form of an optional DNS subdomain prefix followed by a required name segment of up to 63 characters."), at.clone());
            }
            if map.keys().any(|k| k.split('/').next().is_some_and(|p| p.len() >= 253)) {
                ctx.error(Code::SchemaRule, format!("If specified, the {} key's prefix must be a DNS subdomain not longer than 253 characters in total.", what.to_lowercase()), at);
            }
        }
    }
    if let Some(f) = g.spec.tls.as_ref().and_then(|t| t.frontend.as_ref()) {
        let ports: Vec<u32> = f.per_port.iter().map(|p| p.port).collect();
        if ports.iter().any(|p| ports.iter().filter(|q| *q == p).count() != 1) {
            ctx.error(Code::SchemaRule, "Port for TLS configuration must be unique within the Gateway", "/spec/tls/frontend/perPort");
        }
    }
}
