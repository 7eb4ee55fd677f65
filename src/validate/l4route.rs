//! TCPRoute, UDPRoute and TLSRoute: the CRDs' CEL rules with their messages, and the bounds
//! of the v1 (and TLSRoute v1alpha3) schema that the older served versions do not have.

use super::Ctx;
use super::httproute::check_parent_refs;
use crate::api::l4route::L4Rule;
use crate::api::{TCPRoute, TLSRoute, UDPRoute};
use crate::diag::Code;

pub fn check_tcp(r: &TCPRoute, ctx: &mut Ctx) {
    check_common(&r.api_version, &r.spec.parent_refs, &r.spec.rules, ctx);
}

pub fn check_udp(r: &UDPRoute, ctx: &mut Ctx) {
    check_common(&r.api_version, &r.spec.parent_refs, &r.spec.rules, ctx);
}

pub fn check_tls(r: &TLSRoute, ctx: &mut Ctx) {
    check_common(&r.api_version, &r.spec.parent_refs, &r.spec.rules, ctx);
    if r.api_version.ends_with("/v1alpha2") {
        return;
    }
    let hosts = &r.spec.hostnames;
    if hosts.is_empty() {
        ctx.error(Code::SchemaRule, "spec.hostnames: Required value", "/spec");
    }
    let rfc1123 = |h: &str| super::metadata::is_hostname(h) && !h.contains('*');
    if hosts.iter().any(|h| h.parse::<std::net::IpAddr>().is_ok()) {
        ctx.error(
            Code::SchemaRule,
            "Hostnames cannot contain an IP",
            "/spec/hostnames",
        );
    }
    if hosts.iter().any(|h| !h.contains('*') && !rfc1123(h)) {
        ctx.error(
            Code::SchemaRule,
            "Hostnames must be valid based on RFC-1123",
            "/spec/hostnames",
        );
    }
    if hosts
        .iter()
        .any(|h| h.contains('*') && !h.strip_prefix("*.").is_some_and(rfc1123))
    {
        ctx.error(
            Code::SchemaRule,
            "Wildcards on hostnames must be the first label, and the rest of hostname must be valid based on RFC-1123",
            "/spec/hostnames",
        );
    }
}

fn check_common(
    api_version: &str,
    parents: &[crate::api::httproute::ParentReference],
    rules: &[L4Rule],
    ctx: &mut Ctx,
) {
    check_parent_refs(parents, false, ctx);
    let v1alpha2 = api_version.ends_with("/v1alpha2");
    if !v1alpha2 && rules.len() > 1 {
        ctx.error(
            Code::SchemaRule,
            format!(
                "spec.rules: Too many: {}: must have at most 1 items",
                rules.len()
            ),
            "/spec/rules",
        );
    }
    if v1alpha2 {
        let names: Vec<&str> = rules.iter().filter_map(|r| r.name.as_deref()).collect();
        if names
            .iter()
            .enumerate()
            .any(|(i, n)| names[..i].contains(n))
        {
            ctx.error(
                Code::SchemaRule,
                "Rule name must be unique within the route",
                "/spec/rules",
            );
        }
    }
    for (ri, rule) in rules.iter().enumerate() {
        for (bi, b) in rule.backend_refs.iter().enumerate() {
            if b.group.is_empty() && b.kind == "Service" && b.port.is_none() {
                ctx.error(
                    Code::SchemaRule,
                    "Must have port for Service reference",
                    format!("/spec/rules/{ri}/backendRefs/{bi}"),
                );
            }
        }
    }
}
