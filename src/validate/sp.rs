//! SecurityPolicy: the v1.9.0 CRD's CEL rules, with the CRD's messages, and `unsupported`
//! for every field gatewayc does not implement yet (a security setting is never dropped).

use super::Ctx;
use crate::api::SecurityPolicy;
use crate::api::sp::{Authorization, Csrf, ExtAuth, Jwt};
use crate::diag::Code;

/// The target kinds the CRD allows, and the route kinds among them.
pub const TARGET_KINDS: &[&str] = &["Gateway", "ListenerSet", "HTTPRoute", "GRPCRoute", "TCPRoute"];
const ROUTE_KINDS: &[&str] = &["HTTPRoute", "GRPCRoute", "TCPRoute"];

pub fn check(p: &SecurityPolicy, ctx: &mut Ctx) {
    let s = &p.spec;
    super::btp::check_targets(s.targets(), TARGET_KINDS, "Gateway/ListenerSet/HTTPRoute/GRPCRoute/TCPRoute", ctx);
    let t = s.targets();
    if s.merge_type.is_some() && !super::btp::targets_only(t, ROUTE_KINDS) {
        ctx.error(Code::SchemaRule, "mergeType can only be used with xRoute targets", "/spec");
    }
    let jwt_principal = s.authorization.as_ref().is_some_and(|a| a.rules.iter().any(|r| r.principal.as_ref().is_some_and(|p| p.jwt.is_some())));
    if jwt_principal && s.jwt.is_none() {
        ctx.error(Code::SchemaRule, "if authorization.rules.principal.jwt is used, jwt must be defined", "/spec");
    }
    for (at, what) in s.unsupported_parts() {
        ctx.unsupported(at, &what);
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
    if let Some(j) = &s.jwt {
        jwt(j, ctx);
    }
    if let Some(e) = &s.ext_auth {
        ext_auth(e, ctx);
    }
    if let Some(o) = &s.oidc {
        if o.client_id.is_some() == o.client_id_ref.is_some() {
            ctx.error(Code::SchemaRule, "only one of clientID or clientIDRef must be set", "/spec/oidc");
        }
        if o.provider.backend_ref.is_some() {
            ctx.error(Code::SchemaRule, "BackendRefs must be used, backendRef is not supported.", "/spec/oidc/provider");
        }
        {
            refs_need_ports(&o.provider.backend_refs, "/spec/oidc/provider/backendRefs", ctx);
        }
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
        if let Some(j) = &p.jwt
            && j.claims.is_empty()
            && j.scopes.is_empty()
        {
            ctx.error(Code::SchemaRule, "at least one of claims or scopes must be specified", format!("{at}/principal/jwt"));
        }
    }
}

fn jwt(j: &Jwt, ctx: &mut Ctx) {
    if j.optional.is_some() && j.fail_open.is_some() {
        ctx.error(Code::SchemaRule, "optional and failOpen cannot both be set; failOpen already tolerates a missing JWT", "/spec/jwt");
    }
    for (i, p) in j.providers.iter().enumerate() {
        let at = format!("/spec/jwt/providers/{i}");
        if p.recompute_route == Some(true) && p.claim_to_headers.is_empty() {
            ctx.error(Code::SchemaRule, "claimToHeaders must be specified if recomputeRoute is enabled.", at.clone());
        }
        match (&p.remote_jwks, &p.local_jwks) {
            (None, None) => ctx.error(Code::SchemaRule, "either remoteJWKS or localJWKS must be specified.", at.clone()),
            (Some(_), Some(_)) => ctx.error(Code::SchemaRule, "remoteJWKS and localJWKS cannot both be specified.", at.clone()),
            _ => {}
        }
        if let Some(l) = &p.local_jwks {
            let inline = l.type_.as_deref().unwrap_or("Inline") == "Inline";
            if !((inline && l.inline.is_some() && l.value_ref.is_none()) || (!inline && l.inline.is_none() && l.value_ref.is_some())) {
                ctx.error(Code::SchemaRule, "Exactly one of inline or valueRef must be set with correct type.", format!("{at}/localJWKS"));
            }
        }
        if let Some(r) = &p.remote_jwks {
            refs_need_ports(&r.backend_refs, &format!("{at}/remoteJWKS/backendRefs"), ctx);
        }
        if p.remote_jwks.as_ref().is_some_and(|r| r.backend_ref.is_some()) {
            ctx.error(Code::SchemaRule, "BackendRefs must be used, backendRef is not supported.", format!("{at}/remoteJWKS"));
        }
    }
}

fn ext_auth(e: &ExtAuth, ctx: &mut Ctx) {
    let at = "/spec/extAuth";
    match (&e.grpc, &e.http) {
        (None, None) => ctx.error(Code::SchemaRule, "one of grpc or http must be specified", at),
        (Some(_), Some(_)) => ctx.error(Code::SchemaRule, "only one of grpc or http can be specified", at),
        _ => {}
    }
    for (kind, svc) in [("grpc", &e.grpc), ("http", &e.http)] {
        let Some(svc) = svc else { continue };
        let at = format!("{at}/{kind}");
        if svc.backend_ref.is_none() && svc.backend_refs.is_empty() {
            ctx.error(Code::SchemaRule, "backendRef or backendRefs needs to be set", at.clone());
        }
        if svc.backend_refs.iter().any(|r| !matches!(r.kind.as_str(), "Service" | "ServiceImport" | "Backend")) {
            ctx.error(Code::SchemaRule, "BackendRefs only supports Service, ServiceImport, and Backend kind.", at.clone());
        }
        if svc.backend_refs.iter().any(|r| !matches!(r.group.as_str(), "" | "multicluster.x-k8s.io" | "gateway.envoyproxy.io")) {
            ctx.error(Code::SchemaRule, "BackendRefs only supports Core, multicluster.x-k8s.io, and gateway.envoyproxy.io groups.", at.clone());
        }
        let refs = svc.backend_ref.iter().map(|r| (format!("{at}/backendRef"), r)).chain(svc.backend_refs.iter().enumerate().map(|(i, r)| (format!("{at}/backendRefs/{i}"), r)));
        for (rat, r) in refs {
            if r.group.is_empty() && r.kind == "Service" && r.port.is_none() {
                ctx.error(Code::SchemaRule, "Must have port for Service reference", rat.clone());
            }
        }
        if kind == "grpc" && (svc.path.is_some() || !svc.headers_to_backend.is_empty()) {
            ctx.error(Code::SchemaRule, "path and headersToBackend are fields of an http service", at.clone());
        }
    }
}

/// The CRD's rule on a policy's backendRefs: a Service needs its port.
fn refs_need_ports(refs: &[crate::api::sp_auth::ExtBackendRef], at: &str, ctx: &mut Ctx) {
    for (i, r) in refs.iter().enumerate() {
        if r.group.is_empty() && r.kind == "Service" && r.port.is_none() {
            ctx.error(Code::SchemaRule, "Must have port for Service reference", format!("{at}/{i}"));
        }
    }
}
