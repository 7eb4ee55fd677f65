//! The HTTPRoute CRD's CEL rules, with the CRD's messages
//! and `unsupported` warnings for fields not implemented yet.

use crate::diag::Code;
use super::Ctx;
use crate::api::HTTPRoute;
use crate::api::httproute::*;
use std::collections::HashSet;

pub fn check(r: &HTTPRoute, ctx: &mut Ctx) {
    check_parent_refs(&r.spec.parent_refs, true, ctx);
    check_rules_list(r.spec.rules.iter().map(|x| (x.matches.len(), x.name.as_deref())), ctx);
    for (i, rule) in r.spec.rules.iter().enumerate() {
        let p = format!("/spec/rules/{i}");
        if !rule.backend_refs.is_empty() && rule.filters.iter().any(|f| f.request_redirect.is_some()) {
            ctx.error(Code::SchemaRule, "RequestRedirect filter must not be used together with backendRefs", p.clone());
        }
        let one_prefix = rule.matches.len() == 1 && rule.matches[0].path.type_ == PathMatchType::PathPrefix;
        let uses_prefix = |filters: &[HTTPRouteFilter], redirect: bool| {
            filters.iter().any(|f| {
                let m = if redirect { f.request_redirect.as_ref().and_then(|x| x.path.as_ref()) } else { f.url_rewrite.as_ref().and_then(|x| x.path.as_ref()) };
                m.is_some_and(|m| m.type_ == PathModifierType::ReplacePrefixMatch && m.replace_prefix_match.is_some())
            })
        };
        if !one_prefix {
            if uses_prefix(&rule.filters, true) {
                ctx.error(Code::SchemaRule, "When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified", p.clone());
            }
            if uses_prefix(&rule.filters, false) {
                ctx.error(Code::SchemaRule, "When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified", p.clone());
            }
            if rule.backend_refs.iter().any(|b| uses_prefix(&b.filters, true)) {
                ctx.error(Code::SchemaRule, "Within backendRefs, when using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified", p.clone());
            }
            if rule.backend_refs.iter().any(|b| uses_prefix(&b.filters, false)) {
                ctx.error(Code::SchemaRule, "Within backendRefs, When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified", p.clone());
            }
        }
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
        if let Some(t) = &rule.timeouts
            && let (Some(req), Some(be)) = (t.request.as_deref().and_then(duration_ms), t.backend_request.as_deref().and_then(duration_ms))
            && req != 0
            && be > req
        {
            ctx.error(Code::SchemaRule, "backendRequest timeout cannot be longer than request timeout", format!("{p}/timeouts"));
        }
        if let Some(sp) = &rule.session_persistence {
            check_session(sp, &format!("{p}/sessionPersistence"), ctx);
        }
    }
}

/// The CRD's rules on the rules list (HTTPRoute's and GRPCRoute's are the same): at most 128
/// matches in all, rule names unique. Takes (number of matches, name) per rule.
pub(super) fn check_rules_list<'a>(rules: impl Iterator<Item = (usize, Option<&'a str>)>, ctx: &mut Ctx) {
    let (counts, names): (Vec<usize>, Vec<Option<&str>>) = rules.unzip();
    if counts.iter().sum::<usize>() > 128 {
        ctx.error(Code::SchemaRule,
            "While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128",
            "/spec/rules",
        );
    }
    let names: Vec<&str> = names.into_iter().flatten().collect();
    if names.iter().any(|n| names.iter().filter(|m| *m == n).count() != 1) {
        ctx.error(Code::SchemaRule, "Rule name must be unique within the route", "/spec/rules");
    }
}

pub(super) fn check_session(sp: &SessionPersistence, pp: &str, ctx: &mut Ctx) {
    if sp.cookie_config.as_ref().is_some_and(|c| c.lifetime_type == CookieLifetimeType::Permanent) && sp.absolute_timeout.is_none() {
        ctx.error(Code::SchemaRule, "AbsoluteTimeout must be specified when cookie lifetimeType is Permanent", pp);
    }
    if sp.cookie_config.is_some() && sp.type_ != SessionPersistenceType::Cookie {
        ctx.error(Code::SchemaRule, "cookieConfig can only be set with type Cookie", pp);
    }
    // absoluteTimeout is the cookie's lifetime for Permanent cookies; elsewhere Envoy has
    // nothing that ends a session at a fixed time: refused, not dropped.
    let permanent = sp.type_ == SessionPersistenceType::Cookie && sp.cookie_config.as_ref().is_some_and(|c| c.lifetime_type == CookieLifetimeType::Permanent);
    if sp.absolute_timeout.is_some() && !permanent {
        ctx.unsupported(format!("{pp}/absoluteTimeout"), "sessionPersistence.absoluteTimeout without a Permanent cookie");
    }
}

/// The CRD's two CEL rules on parentRefs, as written: references to the same parent (group,
/// kind, name, and namespace both unset or both equal) must all set sectionName or all not (and
/// port likewise, for kinds whose rule names it); and no two may name the same (sectionName,
/// port).
pub(super) fn check_parent_refs(refs: &[ParentReference], with_port: bool, ctx: &mut Ctx) {
    fn ns(p: &ParentReference) -> Option<&str> {
        p.namespace.as_deref().filter(|n| !n.is_empty())
    }
    fn section(p: &ParentReference) -> Option<&str> {
        p.section_name.as_deref().filter(|s| !s.is_empty())
    }
    let same_parent = |a: &ParentReference, b: &ParentReference| {
        a.group == b.group && a.kind == b.kind && a.name == b.name && ns(a) == ns(b)
    };
    let port = |p: &ParentReference| {
        if with_port {
            p.port.filter(|p| *p != 0)
        } else {
            None
        }
    };
    let what = if with_port {
        "sectionName or port"
    } else {
        "sectionName"
    };
    let mixed = refs.iter().any(|a| {
        refs.iter().any(|b| {
            same_parent(a, b)
                && (section(a).is_none() != section(b).is_none()
                    || port(a).is_none() != port(b).is_none())
        })
    });
    if mixed {
        ctx.error(Code::SchemaRule, format!("{what} must be specified when parentRefs includes 2 or more references to the same parent"), "/spec/parentRefs");
    }
    let repeated = refs.iter().any(|a| refs.iter().filter(|b| same_parent(a, b) && section(a) == section(b) && port(a) == port(b)).count() != 1);
    if repeated {
        ctx.error(Code::SchemaRule, format!("{what} must be unique when parentRefs includes 2 or more references to the same parent"), "/spec/parentRefs");
    }
}

fn check_match(m: &HTTPRouteMatch, p: &str, ctx: &mut Ctx) {
    let v = &m.path.value;
    let pp = format!("{p}/path");
    match m.path.type_ {
        PathMatchType::Exact | PathMatchType::PathPrefix => {
            let rules: [(bool, &str); 9] = [
                (!v.starts_with('/'), "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"),
                (v.contains("//"), "must not contain '//' when type one of ['Exact', 'PathPrefix']"),
                (v.contains("/./"), "must not contain '/./' when type one of ['Exact', 'PathPrefix']"),
                (v.contains("/../"), "must not contain '/../' when type one of ['Exact', 'PathPrefix']"),
                (v.contains("%2f"), "must not contain '%2f' when type one of ['Exact', 'PathPrefix']"),
                (v.contains("%2F"), "must not contain '%2F' when type one of ['Exact', 'PathPrefix']"),
                (v.contains('#'), "must not contain '#' when type one of ['Exact', 'PathPrefix']"),
                (v.ends_with("/.."), "must not end with '/..' when type one of ['Exact', 'PathPrefix']"),
                (v.ends_with("/."), "must not end with '/.' when type one of ['Exact', 'PathPrefix']"),
            ];
            for (bad, msg) in rules {
                if bad {
                    ctx.error(Code::SchemaRule, msg, pp.clone());
                }
            }
            if !valid_path_chars(v) {
                ctx.error(Code::SchemaRule,
                    "must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']",
                    pp.clone(),
                );
            }
        }
        // Regular expressions are judged in resolve: an invalid one makes the route
        // Accepted=False (UnsupportedValue), as Envoy Gateway reports it, not a refused object.
        PathMatchType::RegularExpression => {}
    }
    let mut names = HashSet::new();
    for (j, h) in m.headers.iter().enumerate() {
        if !names.insert(h.name.to_ascii_lowercase()) {
            ctx.error(Code::SchemaRule, format!("header match `{}` is listed twice (headers are a map keyed by name)", h.name), format!("{p}/headers/{j}"));
        }
    }
    let mut names = HashSet::new();
    for (j, q) in m.query_params.iter().enumerate() {
        if !names.insert(q.name.as_str()) {
            ctx.error(Code::SchemaRule, format!("query parameter match `{}` is listed twice (queryParams are a map keyed by name)", q.name), format!("{p}/queryParams/{j}"));
        }
    }
}

fn valid_path_chars(v: &str) -> bool {
    let b = v.as_bytes();
    let mut i = 0;
    if b.is_empty() {
        return false;
    }
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            if i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit() {
                i += 3;
                continue;
            }
            return false;
        }
        if !(c.is_ascii_alphanumeric() || b"-/._~!$&'()*+,;=:@".contains(&c)) {
            return false;
        }
        i += 1;
    }
    true
}

fn check_filters(filters: &[HTTPRouteFilter], p: &str, ctx: &mut Ctx) {
    use HTTPRouteFilterType as T;
    let count = |t: T| filters.iter().filter(|f| f.type_ == t).count();
    if count(T::RequestRedirect) > 0 && count(T::URLRewrite) > 0 {
        ctx.error(Code::SchemaRule, "May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both", p.to_string());
    }
    for (t, msg) in [
        (T::CORS, "CORS filter cannot be repeated"),
        (T::RequestHeaderModifier, "RequestHeaderModifier filter cannot be repeated"),
        (T::ResponseHeaderModifier, "ResponseHeaderModifier filter cannot be repeated"),
        (T::RequestRedirect, "RequestRedirect filter cannot be repeated"),
        (T::URLRewrite, "URLRewrite filter cannot be repeated"),
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
            (T::RequestRedirect, f.request_redirect.is_some(), "requestRedirect", "RequestRedirect"),
            (T::URLRewrite, f.url_rewrite.is_some(), "urlRewrite", "URLRewrite"),
            (T::ExtensionRef, f.extension_ref.is_some(), "extensionRef", "ExtensionRef"),
            (T::RequestMirror, f.request_mirror.is_some(), "requestMirror", "RequestMirror"),
            (T::CORS, f.cors.is_some(), "cors", "CORS"),
        ];
        check_filter_fields(present.map(|(t, has, field, name)| (f.type_ == t, has, field, name)), &fp, ctx);
        check_modifiers(&f.request_header_modifier, &f.response_header_modifier, &fp, ctx);
        let path_mods = [
            (f.request_redirect.as_ref().and_then(|r| r.path.as_ref()), "requestRedirect"),
            (f.url_rewrite.as_ref().and_then(|r| r.path.as_ref()), "urlRewrite"),
        ];
        for (pm, field) in path_mods {
            let Some(pm) = pm else { continue };
            let pp = format!("{fp}/{field}/path");
            let full = pm.type_ == PathModifierType::ReplaceFullPath;
            if full && pm.replace_full_path.is_none() {
                ctx.error(Code::SchemaRule, "replaceFullPath must be specified when type is set to 'ReplaceFullPath'", pp.clone());
            }
            if pm.replace_full_path.is_some() && !full {
                ctx.error(Code::SchemaRule, "type must be 'ReplaceFullPath' when replaceFullPath is set", pp.clone());
            }
            if !full && pm.replace_prefix_match.is_none() {
                ctx.error(Code::SchemaRule, "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'", pp.clone());
            }
            if pm.replace_prefix_match.is_some() && full {
                ctx.error(Code::SchemaRule, "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set", pp.clone());
            }
        }
        if let Some(m) = &f.request_mirror {
            check_mirror(m, &format!("{fp}/requestMirror"), ctx);
        }
        if let Some(c) = &f.cors {
            let cp = format!("{fp}/cors");
            for (list, field, msg) in [
                (&c.allow_headers, "allowHeaders", "AllowHeaders cannot contain '*' alongside other methods"),
                (&c.allow_methods, "allowMethods", "AllowMethods cannot contain '*' alongside other methods"),
                (&c.allow_origins, "allowOrigins", "AllowOrigins cannot contain '*' alongside other origins"),
            ] {
                if list.iter().any(|x| x == "*") && list.len() > 1 {
                    ctx.error(Code::SchemaRule, msg, format!("{cp}/{field}"));
                }
            }
        }
    }
}

/// Header modifiers are maps keyed by name (case-insensitively, as header names are).
pub(super) fn check_modifiers(request: &Option<HeaderModifier>, response: &Option<HeaderModifier>, fp: &str, ctx: &mut Ctx) {
    for (m, field) in [(request, "requestHeaderModifier"), (response, "responseHeaderModifier")] {
        let Some(m) = m else { continue };
        for (list, lname) in [(&m.set, "set"), (&m.add, "add")] {
            let mut names = HashSet::new();
            for (j, h) in list.iter().enumerate() {
                if !names.insert(h.name.to_ascii_lowercase()) {
                    ctx.error(Code::SchemaRule, format!("header `{}` is listed twice in {lname}", h.name), format!("{fp}/{field}/{lname}/{j}"));
                }
            }
        }
    }
}

pub(super) fn check_mirror(m: &RequestMirror, mp: &str, ctx: &mut Ctx) {
    if m.percent.is_some() && m.fraction.is_some() {
        ctx.error(Code::SchemaRule, "Only one of percent or fraction may be specified in HTTPRequestMirrorFilter", mp);
    }
    if let Some(fr) = &m.fraction
        && fr.numerator > fr.denominator
    {
        ctx.error(Code::SchemaRule, "numerator must be less than or equal to denominator", format!("{mp}/fraction"));
    }
    let b = &m.backend_ref;
    if b.group.is_empty() && b.kind == "Service" && b.port.is_none() {
        ctx.error(Code::SchemaRule, "Must have port for Service reference", format!("{mp}/backendRef"));
    }
}

/// The CRDs' "must be nil / must be specified" rules of one filter, per field: (the filter is
/// of this field's type, the field is set, field name, type name).
pub(super) fn check_filter_fields<const N: usize>(fields: [(bool, bool, &str, &str); N], fp: &str, ctx: &mut Ctx) {
    for (is_type, has, field, name) in fields {
        if has && !is_type {
            ctx.error(Code::SchemaRule, format!("filter.{field} must be nil if the filter.type is not {name}"), format!("{fp}/{field}"));
        }
        if !has && is_type {
            ctx.error(Code::SchemaRule, format!("filter.{field} must be specified for {name} filter.type"), fp);
        }
    }
}
