//! SecurityPolicy: the v1.9.0 CRD's CEL rules, with the CRD's messages, and `unsupported`
//! for every field gatewayc does not implement yet (a security setting is never dropped).

use super::Ctx;
use crate::api::SecurityPolicy;
use crate::api::sp::{Authorization, Csrf};
use crate::diag::Code;

/// The target kinds the CRD allows, and the route kinds among them.
pub const TARGET_KINDS: &[&str] = &["Gateway", "ListenerSet", "HTTPRoute", "GRPCRoute", "TCPRoute"];
const ROUTE_KINDS: &[&str] = &["HTTPRoute", "GRPCRoute", "TCPRoute"];

pub fn check(p: &SecurityPolicy, ctx: &mut Ctx) {
    let s = &p.spec;
    super::btp::check_targets(s.targets(), TARGET_KINDS, "Gateway/ListenerSet/HTTPRoute/GRPCRoute/TCPRoute", ctx);
    let t = s.targets();
    let only_routes = t.target_ref.is_none_or(|r| ROUTE_KINDS.contains(&r.kind.as_str()))
        && t.target_refs.iter().all(|r| ROUTE_KINDS.contains(&r.kind.as_str()))
        && t.target_selectors.iter().all(|r| ROUTE_KINDS.contains(&r.kind.as_str()));
    if s.merge_type.is_some() && !only_routes {
        ctx.error(Code::SchemaRule, "mergeType can only be used with xRoute targets", "/spec");
    }
    let jwt_principal = s.authorization.as_ref().is_some_and(|a| a.rules.iter().any(|r| r.principal.as_ref().is_some_and(|p| p.jwt.is_some())));
    if jwt_principal && s.jwt.is_none() {
        ctx.error(Code::SchemaRule, "if authorization.rules.principal.jwt is used, jwt must be defined", "/spec");
    }
    // TCPRoutes take authorization by client address alone; gatewayc does not translate it
    // for TCP yet.
    let refs = t.target_ref.map(|r| ("/spec/targetRef".to_string(), r)).into_iter().chain(t.target_refs.iter().enumerate().map(|(i, r)| (format!("/spec/targetRefs/{i}"), r)));
    for (at, r) in refs {
        if r.kind == "TCPRoute" {
            ctx.unsupported(format!("{at}/kind"), "A SecurityPolicy on a TCPRoute");
        }
    }
    for (i, sel) in t.target_selectors.iter().enumerate() {
        if sel.kind == "TCPRoute" {
            ctx.unsupported(format!("/spec/targetSelectors/{i}/kind"), "A SecurityPolicy on a TCPRoute");
        }
    }
    for (field, set) in s.unimplemented() {
        if set {
            ctx.unsupported(format!("/spec/{field}"), &format!("SecurityPolicy {field}"));
        }
    }
    if let Some(k) = &s.api_key_auth {
        for (i, e) in k.extract_from.iter().enumerate() {
            if [e.headers.is_some(), e.params.is_some(), e.cookies.is_some()].iter().filter(|b| **b).count() != 1 {
                ctx.error(Code::SchemaRule, "exactly one of headers, params, or cookies must be specified", format!("/spec/apiKeyAuth/extractFrom/{i}"));
            }
        }
    }
    if let Some(c) = &s.csrf {
        csrf(c, ctx);
    }
    if let Some(a) = &s.authorization {
        authorization(a, ctx);
    }
}

fn csrf(c: &Csrf, ctx: &mut Ctx) {
    if let Some(f) = c.shadow_fraction
        && f.numerator > f.denominator.unwrap_or(100)
    {
        ctx.error(Code::SchemaRule, "numerator must be less than or equal to denominator", "/spec/csrf/shadowFraction");
    }
}

fn authorization(a: &Authorization, ctx: &mut Ctx) {
    for (i, r) in a.rules.iter().enumerate() {
        let at = format!("/spec/authorization/rules/{i}");
        if r.principal.is_none() && r.cel.is_none() {
            ctx.error(Code::SchemaRule, "at least one of principal or cel must be specified", at.clone());
        }
        if r.cel.is_some() {
            ctx.unsupported(format!("{at}/cel"), "SecurityPolicy authorization.rules.cel");
        }
        if let Some(o) = &r.operation
            && o.methods.is_empty()
            && o.path.is_none()
        {
            ctx.error(Code::SchemaRule, "at least one of methods or path must be specified", format!("{at}/operation"));
        }
        let Some(p) = &r.principal else { continue };
        if p.client_cidrs.is_none() && p.jwt.is_none() && p.headers.is_none() && p.client_ip_geo_locations.is_none() {
            ctx.error(Code::SchemaRule, "at least one of clientCIDRs, jwt, headers, or clientIPGeoLocations must be specified", format!("{at}/principal"));
        }
        if p.jwt.is_some() {
            ctx.unsupported(format!("{at}/principal/jwt"), "SecurityPolicy authorization.rules.principal.jwt");
        }
        if p.client_ip_geo_locations.is_some() {
            ctx.unsupported(format!("{at}/principal/clientIPGeoLocations"), "SecurityPolicy authorization.rules.principal.clientIPGeoLocations");
        }
    }
}
