//! The GRPCRoute CRD's CEL rules, with the CRD's messages, and `unsupported` for fields not
//! implemented yet. Rules GRPCRoute shares with HTTPRoute come from `httproute`.

use super::Ctx;
use super::httproute::{check_filter_fields, check_mirror, check_modifiers, check_parent_refs, check_rules_list, check_session};
use crate::api::GRPCRoute;
use crate::api::grpcroute::*;
use crate::api::httproute::StringMatchType;
use crate::diag::Code;
use std::collections::HashSet;

pub fn check(r: &GRPCRoute, ctx: &mut Ctx) {
    check_parent_refs(&r.spec.parent_refs, true, ctx);
    check_rules_list(r.spec.rules.iter().map(|x| (x.matches.len(), x.name.as_deref())), ctx);
    if r.spec.use_default_gateways.is_some() {
        ctx.unsupported("/spec/useDefaultGateways", "useDefaultGateways");
    }
    for (i, rule) in r.spec.rules.iter().enumerate() {
        let p = format!("/spec/rules/{i}");
        for (j, m) in rule.matches.iter().enumerate() {
            check_match(m, &format!("{p}/matches/{j}"), ctx);
        }
        check_filters(&rule.filters, &format!("{p}/filters"), ctx);
        for (j, b) in rule.backend_refs.iter().enumerate() {
            let bp = format!("{p}/backendRefs/{j}");
            if b.group.is_empty() && b.kind == "Service" && b.port.is_none() {
                ctx.error(Code::SchemaRule, "Must have port for Service reference", bp.clone());
            }
            check_filters(&b.filters, &format!("{bp}/filters"), ctx);
        }
        if let Some(sp) = &rule.session_persistence {
            check_session(sp, &format!("{p}/sessionPersistence"), ctx);
        }
    }
}

/// `^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$`
pub fn valid_service(s: &str) -> bool {
    let s = s.strip_prefix('.').unwrap_or(s);
    !s.is_empty() && s.split('.').all(valid_method)
}

/// `^[A-Za-z_][A-Za-z_0-9]*$`
pub fn valid_method(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_match(m: &GRPCRouteMatch, p: &str, ctx: &mut Ctx) {
    if let Some(method) = &m.method {
        let mp = format!("{p}/method");
        if method.service.is_none() && method.method.is_none() {
            ctx.error(Code::SchemaRule, "One or both of 'service' or 'method' must be specified", mp.clone());
        }
        if method.type_ == StringMatchType::Exact {
            if method.service.as_deref().is_some_and(|s| !valid_service(s)) {
                ctx.error(
                    Code::SchemaRule,
                    r"service must only contain valid characters (matching ^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$)",
                    format!("{mp}/service"),
                );
            }
            if method.method.as_deref().is_some_and(|s| !valid_method(s)) {
                ctx.error(Code::SchemaRule, "method must only contain valid characters (matching ^[A-Za-z_][A-Za-z_0-9]*$)", format!("{mp}/method"));
            }
        }
        // Regular expressions are judged in resolve (Accepted=False UnsupportedValue), as
        // for HTTPRoute.
    }
    let mut names = HashSet::new();
    for (j, h) in m.headers.iter().enumerate() {
        if !names.insert(h.name.to_ascii_lowercase()) {
            ctx.error(Code::SchemaRule, format!("header match `{}` is listed twice (headers are a map keyed by name)", h.name), format!("{p}/headers/{j}"));
        }
    }
}

fn check_filters(filters: &[GRPCRouteFilter], p: &str, ctx: &mut Ctx) {
    use GRPCRouteFilterType as T;
    let count = |t: T| filters.iter().filter(|f| f.type_ == t).count();
    for (t, msg) in [
        (T::RequestHeaderModifier, "RequestHeaderModifier filter cannot be repeated"),
        (T::ResponseHeaderModifier, "ResponseHeaderModifier filter cannot be repeated"),
    ] {
        if count(t) > 1 {
            ctx.error(Code::SchemaRule, msg, p.to_string());
        }
    }
    for (i, f) in filters.iter().enumerate() {
        let fp = format!("{p}/{i}");
        let present = [
            (T::RequestHeaderModifier, f.request_header_modifier.is_some(), "requestHeaderModifier", "RequestHeaderModifier"),
            (T::ResponseHeaderModifier, f.response_header_modifier.is_some(), "responseHeaderModifier", "ResponseHeaderModifier"),
            (T::RequestMirror, f.request_mirror.is_some(), "requestMirror", "RequestMirror"),
            (T::ExtensionRef, f.extension_ref.is_some(), "extensionRef", "ExtensionRef"),
        ];
        check_filter_fields(present.map(|(t, has, field, name)| (f.type_ == t, has, field, name)), &fp, ctx);
        check_modifiers(&f.request_header_modifier, &f.response_header_modifier, &fp, ctx);
        if let Some(m) = &f.request_mirror {
            check_mirror(m, &format!("{fp}/requestMirror"), ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{valid_method, valid_service};
    #[test]
    fn names() {
        assert!(valid_service("grpc.examples.echo.Echo"));
        assert!(valid_service(".Echo_v1"));
        assert!(valid_service("A.b"));
        assert!(!valid_service(""));
        assert!(!valid_service("."));
        assert!(!valid_service("a..b"));
        assert!(!valid_service("a.1b"));
        assert!(!valid_service("a/b"));
        assert!(valid_method("UnaryEcho"));
        assert!(valid_method("_x1"));
        assert!(!valid_method("1x"));
        assert!(!valid_method("a.b"));
        assert!(!valid_method(""));
    }
}
