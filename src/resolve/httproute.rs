//! HTTPRoute rules, interpreted: matches, filters and backends into [`super::http`] shapes.
//! Attachment is generic (`attach.rs`); this module knows what an HTTPRoute's rules mean.

use super::backend::{BackendRef, BackendTarget, Index};
use super::http::*;
use super::status::{Problem, Recorder, Site, Target};
use crate::api::core::PortProtocol;
use crate::api::httproute::{self as h, HTTPRouteFilterType, PathMatchType};
use crate::api::{HTTPRoute, Item};
use crate::diag::Code;
use crate::validate::regex::Verdicts;
use crate::id::{ObjectKey, RuleId};

/// What a backendRef (or a mirror's backendRef, of another type with the same fields) names.
macro_rules! backend_ref {
    ($b:expr) => {
        BackendRef { group: &$b.group, kind: &$b.kind, name: &$b.name, namespace: $b.namespace.as_deref(), port: $b.port }
    };
}

pub(super) use backend_ref;

/// The route's rules resolved, and whether the route is valid (a value Envoy would refuse
/// makes it `Accepted=False UnsupportedValue`, as Envoy Gateway does: it is not served).
pub fn resolve(item: &Item<Box<HTTPRoute>>, key: &ObjectKey, index: &Index, regexes_seen: &Verdicts, rec: &mut Recorder) -> (HttpRoute, bool) {
    let route = &item.obj;
    let site = Site { object: key, loc: &item.loc };
    let mut valid = true;
    let mut refuse = |rec: &mut Recorder, msg: String, pointer: String| {
        valid = false;
        rec.report(site, Problem::new(Code::ValueUnsupported, msg, pointer).sets(Target::Route(key.clone()), "Accepted", false, "UnsupportedValue"));
    };
    let mut rules = Vec::new();
    for (ri, rule) in route.spec.rules.iter().enumerate() {
        let p = format!("/spec/rules/{ri}");
        let id = RuleId { route: key.clone(), index: ri, name: rule.name.clone() };
        let mut matches = Vec::new();
        for (mi, m) in rule.matches.iter().enumerate() {
            let mp = format!("{p}/matches/{mi}");
            for (what, v, at) in regexes(m, &mp) {
                if let Err(e) = regexes_seen.check(v) {
                    refuse(rec, format!("{what} regular expression `{v}` is not valid RE2: {e}"), at);
                }
            }
            matches.push(http_match(m));
        }
        let mut request_headers = HeaderOps::default();
        let mut response_headers = HeaderOps::default();
        let mut redirect = None;
        let mut rewrite = None;
        let mut cors = None;
        let mut unresolvable_filter = false;
        let mut mirrors = Vec::new();
        let mut ext = super::routefilter::Applied::default();
        for (fi, f) in rule.filters.iter().enumerate() {
            let fp = format!("{p}/filters/{fi}");
            match f.type_ {
                HTTPRouteFilterType::RequestHeaderModifier => {
                    if let Some(m) = &f.request_header_modifier {
                        check_header_modifier(m, true, &format!("{fp}/requestHeaderModifier"), &mut |m, at| refuse(rec, m, at));
                        request_headers = header_ops(m);
                    }
                }
                HTTPRouteFilterType::ResponseHeaderModifier => {
                    if let Some(m) = &f.response_header_modifier {
                        check_header_modifier(m, false, &format!("{fp}/responseHeaderModifier"), &mut |m, at| refuse(rec, m, at));
                        response_headers = header_ops(m);
                    }
                }
                HTTPRouteFilterType::RequestRedirect => {
                    if let Some(r) = &f.request_redirect {
                        check_path_modifier(r.path.as_ref(), &format!("{fp}/requestRedirect/path"), &mut |m, at| refuse(rec, m, at));
                        redirect = Some(r);
                    }
                }
                HTTPRouteFilterType::URLRewrite => {
                    if let Some(r) = &f.url_rewrite {
                        check_path_modifier(r.path.as_ref(), &format!("{fp}/urlRewrite/path"), &mut |m, at| refuse(rec, m, at));
                        rewrite = Some(r);
                    }
                }
                HTTPRouteFilterType::CORS => cors = f.cors.as_ref().map(cors_ir),
                HTTPRouteFilterType::RequestMirror => {
                    if let Some(m) = &f.request_mirror {
                        mirrors.extend(mirror(site, m, &fp, index, rec));
                    }
                }
                HTTPRouteFilterType::ExtensionRef => {
                    unresolvable_filter |= !route_filter(site, f.extension_ref.as_ref(), rule_rewrites(rule), fp, index, &mut ext, rec);
                }
            }
        }
        response_headers.set.append(&mut ext.response_headers.set);
        response_headers.add.append(&mut ext.response_headers.add);
        let mut backends = Vec::new();
        let mut invalid_weight = 0u32;
        for (bi, b) in rule.backend_refs.iter().enumerate() {
            let bp = format!("{p}/backendRefs/{bi}");
            let mut bf = super::http::BackendFilters::default();
            for (fi, f) in b.filters.iter().enumerate() {
                let fp = format!("{bp}/filters/{fi}");
                match (&f.request_header_modifier, &f.response_header_modifier) {
                    (Some(m), _) if f.type_ == HTTPRouteFilterType::RequestHeaderModifier => {
                        check_header_modifier(m, true, &format!("{fp}/requestHeaderModifier"), &mut |m, at| refuse(rec, m, at));
                        bf.request_headers = header_ops(m);
                    }
                    (_, Some(m)) if f.type_ == HTTPRouteFilterType::ResponseHeaderModifier => {
                        check_header_modifier(m, false, &format!("{fp}/responseHeaderModifier"), &mut |m, at| refuse(rec, m, at));
                        bf.response_headers = header_ops(m);
                    }
                    _ if f.type_ == HTTPRouteFilterType::ExtensionRef => backend_route_filter(site, f.extension_ref.as_ref(), fp, index, &mut bf, rec),
                    _ => rec.report(
                        site,
                        Problem::new(Code::UnsupportedField, format!("backendRef filter {:?} is not supported yet", f.type_), fp).help(crate::validate::UNSUPPORTED_HELP),
                    ),
                }
            }
            weighted_backend(site, backend_ref!(b), b.weight, bf, bp, index, rec, (&mut backends, &mut invalid_weight));
        }
        let unresolvable_filter = unresolvable_filter | !fallback_ok(site, backends.iter().map(|b| (&*b.target, !b.request_headers.is_empty() || !b.response_headers.is_empty() || b.credential.is_some())), format!("/spec/rules/{ri}/backendRefs"), rec);
        let action = if unresolvable_filter {
            RuleAction::Respond(500, None)
        } else if let Some((status, body)) = ext.respond.take() {
            RuleAction::Respond(status, body)
        } else if let Some(r) = redirect {
            RuleAction::Redirect(RedirectSpec {
                scheme: r.scheme.map(|s| match s {
                    h::Scheme::Http => "http",
                    h::Scheme::Https => "https",
                }),
                hostname: r.hostname.clone(),
                port: r.port,
                path: r.path.as_ref().map(path_modifier),
                status: r.status_code,
            })
        } else if backends.is_empty() {
            // No backend (none given, all invalid, or all weight 0): the spec asks for a 500.
            RuleAction::Respond(500, None)
        } else {
            let timeouts = rule.timeouts.as_ref();
            let (ns, name) = (key.namespace.as_str(), key.name.as_str());
            RuleAction::Forward(Forward {
                backends,
                invalid_weight,
                host_rewrite: rewrite.and_then(|r| r.hostname.clone()).map(HostRewrite::Literal).or(ext.host.take()),
                append_x_forwarded_host: ext.append_x_forwarded_host,
                path_rewrite: rewrite.and_then(|r| r.path.as_ref()).map(path_modifier).or(ext.path.take()),
                timeout_ms: timeouts.and_then(|t| t.request.as_deref()).and_then(h::duration_ms),
                backend_timeout_ms: timeouts.and_then(|t| t.backend_request.as_deref()).and_then(h::duration_ms),
                mirrors,
                retry: rule.retry.as_ref().map(|r| RetryIr {
                    // Gateway API leaves the default to implementations; Envoy Gateway's is 2.
                    attempts: r.attempts.unwrap_or(2),
                    codes: r.codes.clone(),
                    backoff_ms: r.backoff.as_deref().and_then(h::duration_ms),
                }),
                session: rule.session_persistence.as_ref().map(|sp| session(sp, ns, name, ri)),
                http2: false,
            })
        };
        let matches = super::routefilter::cross(matches, &ext.matches);
        rules.push(HttpRule { id, matches, request_headers, response_headers, cors, credential: ext.credential.take().map(std::sync::Arc::new), action });
    }
    (HttpRoute { key: key.clone(), loc: item.loc.clone(), rules }, valid)
}

/// A RequestMirror filter's backend and share (in millionths); None, reported, when its
/// backend does not resolve.
pub(super) fn mirror(site: Site, m: &h::RequestMirror, fp: &str, index: &Index, rec: &mut Recorder) -> Option<(std::sync::Arc<BackendTarget>, u32)> {
    let b = &m.backend_ref;
    let (num, den) = match (m.percent, &m.fraction) {
        (Some(p), _) => (p, 100),
        (None, Some(fr)) => (fr.numerator, fr.denominator),
        (None, None) => (100, 100),
    };
    let resolved = index.target((site.object.kind, site.object.namespace.as_str()), backend_ref!(b), PortProtocol::Tcp);
    if let Ok(t) = &resolved {
        super::backendtls::uses(index, site.object, t, rec);
    }
    match resolved {
        // No copies to a backend whose BackendTLSPolicy has no valid CA.
        Ok(target) if matches!(target.tls, Some(super::backendtls::BackendTls::Refused(_))) => None,
        Ok(target) => Some((target, (u64::from(num) * 1_000_000 / u64::from(den.max(1))) as u32)),
        Err(u) => {
            rec.report(
                site,
                Problem::new(u.code, u.message, format!("{fp}/requestMirror/backendRef"))
                    .context("mirror")
                    .sets(Target::Route(site.object.clone()), "ResolvedRefs", false, u.reason),
            );
            None
        }
    }
}

/// The rule's own URLRewrite filter rewrites (path, host).
fn rule_rewrites(rule: &h::HTTPRouteRule) -> (bool, bool) {
    let r = rule.filters.iter().filter_map(|f| f.url_rewrite.as_ref());
    r.fold((false, false), |(p, host), r| (p || r.path.is_some(), host || r.hostname.is_some()))
}

/// An ExtensionRef filter: an HTTPRouteFilter of the route's namespace is applied to `ext`;
/// one not found or not applicable is reported as Envoy Gateway reports it. False: the rule
/// answers 500. Another kind is not implemented (`extension_ref`).
pub(super) fn route_filter(site: Site, r: Option<&crate::api::meta::LocalObjectReference>, core: (bool, bool), fp: String, index: &Index, ext: &mut super::routefilter::Applied, rec: &mut Recorder) -> bool {
    let Some(r) = r.filter(|r| r.group == crate::api::ENVOY_GATEWAY_GROUP && r.kind == "HTTPRouteFilter") else {
        extension_ref(site, fp, rec);
        return false;
    };
    match super::routefilter::apply(&r.name, &site.object.namespace, index, core, ext) {
        Ok(()) => true,
        Err(e) => {
            rec.report(site, Problem::new(Code::ReferenceFilter, e.message, format!("{fp}/extensionRef")).sets(Target::Route(site.object.clone()), e.condition, false, "UnsupportedValue"));
            false
        }
    }
}

/// An ExtensionRef filter of a backendRef: an HTTPRouteFilter's credentialInjection applies to
/// that backend only; its other parts have no per-backend form in Envoy (`unsupported`), and a
/// filter not found or not applicable fails the backend's share (500), as one of the rule's.
pub(super) fn backend_route_filter(site: Site, r: Option<&crate::api::meta::LocalObjectReference>, fp: String, index: &Index, bf: &mut super::http::BackendFilters, rec: &mut Recorder) {
    let mut ext = super::routefilter::Applied::default();
    if !route_filter(site, r, (false, false), fp.clone(), index, &mut ext, rec) {
        bf.failed = true;
        return;
    }
    let per_rule = ext.path.is_some() || ext.host.is_some() || ext.append_x_forwarded_host || ext.respond.is_some() || !ext.matches.is_empty() || ext.response_headers != HeaderOps::default();
    if per_rule {
        let msg = "an HTTPRouteFilter on a backendRef may only inject a credential (urlRewrite, directResponse and matches apply to rules); the backend's share answers 500";
        rec.report(site, Problem::new(Code::UnsupportedField, msg, format!("{fp}/extensionRef")).help(crate::validate::UNSUPPORTED_HELP));
        bf.failed = true;
        return;
    }
    if ext.credential.is_some() && bf.credential.is_some() {
        rec.report(site, Problem::new(Code::UnsupportedField, "two credentials for one backendRef", format!("{fp}/extensionRef")).help(crate::validate::UNSUPPORTED_HELP));
        bf.failed = true;
        return;
    }
    bf.credential = ext.credential.map(std::sync::Arc::new).or(bf.credential.take());
}

/// An ExtensionRef filter: not implemented, so the rule answers 500 (under
/// `--allow-unsupported`; otherwise the run fails).
pub(super) fn extension_ref(site: Site, fp: String, rec: &mut Recorder) {
    rec.report(
        site,
        Problem::new(Code::UnsupportedField, "ExtensionRef filters are not supported yet; with --allow-unsupported the rule answers 500, as the spec requires for a filter that cannot be applied", fp)
            .help(crate::validate::UNSUPPORTED_HELP),
    );
}

/// Fallback Backends make a rule one Envoy cluster of prioritized localities: its backends must
/// share TLS and protocol and carry no backendRef filters. False (reported): the rule answers
/// 500 rather than send a fallback's share to it as a primary.
pub(super) fn fallback_ok<'a>(site: Site, backends: impl Iterator<Item = (&'a BackendTarget, bool)> + Clone, at: String, rec: &mut Recorder) -> bool {
    if !backends.clone().any(|(t, _)| t.fallback) || backends.clone().all(|(t, _)| t.fallback) {
        return true;
    }
    let key = |t: &BackendTarget| (t.tls.clone(), t.app_protocol.as_deref() == Some("kubernetes.io/h2c"));
    let first = backends.clone().next().map(|(t, _)| key(t));
    if backends.clone().all(|(t, filtered)| !filtered && Some(key(t)) == first) {
        return true;
    }
    let msg = "a rule with fallback Backends needs the same TLS and protocol for all its backends and no backendRef filters; the rule answers 500";
    rec.report(site, Problem::new(Code::UnsupportedField, msg, at).help(crate::validate::UNSUPPORTED_HELP));
    false
}

/// One weighted backendRef: a valid one with a weight joins `out.0`; an invalid one adds its
/// weight to `out.1` (that share answers 500) and is reported.
#[allow(clippy::too_many_arguments)]
pub(super) fn weighted_backend(
    site: Site,
    to: BackendRef,
    weight: u32,
    filters: super::http::BackendFilters,
    bp: String,
    index: &Index,
    rec: &mut Recorder,
    out: (&mut Vec<WeightedBackend>, &mut u32),
) {
    let resolved = index.target((site.object.kind, site.object.namespace.as_str()), to, PortProtocol::Tcp);
    if let Ok(t) = &resolved {
        super::backendtls::uses(index, site.object, t, rec);
    }
    match resolved {
        // A BackendTLSPolicy without a valid CA: the backend's share fails (500), as the
        // spec asks; the policy's status says why.
        // A BackendTLSPolicy without a valid CA, or a backendRef filter that cannot be
        // applied: the backend's share fails (500).
        Ok(target) if matches!(target.tls, Some(super::backendtls::BackendTls::Refused(_))) || filters.failed => *out.1 = out.1.saturating_add(weight),
        Ok(target) if weight > 0 => out.0.push(WeightedBackend { target, weight, request_headers: filters.request_headers, response_headers: filters.response_headers, credential: filters.credential }),
        Ok(_) => {}
        Err(u) => {
            *out.1 = out.1.saturating_add(weight);
            rec.report(site, Problem::new(u.code, u.message, bp).sets(Target::Route(site.object.clone()), "ResolvedRefs", false, u.reason));
        }
    }
}

/// Session persistence of rule `ri` of route `ns/name`.
pub(super) fn session(sp: &h::SessionPersistence, ns: &str, name: &str, ri: usize) -> SessionIr {
    match sp.type_ {
        h::SessionPersistenceType::Cookie => SessionIr::Cookie {
            name: sp.session_name.clone().unwrap_or_else(|| crate::names::session_cookie(ns, name, ri)),
            ttl_ms: match sp.cookie_config.as_ref().map(|c| c.lifetime_type) {
                Some(h::CookieLifetimeType::Permanent) => sp.absolute_timeout.as_deref().and_then(h::duration_ms),
                _ => None,
            },
        },
        h::SessionPersistenceType::Header => SessionIr::Header { name: sp.session_name.clone().unwrap_or_else(|| crate::names::session_header(ns, name, ri)) },
    }
}

/// The regular expressions of one match: (what, pattern, pointer).
fn regexes<'m>(m: &'m h::HTTPRouteMatch, mp: &str) -> Vec<(&'static str, &'m str, String)> {
    let mut out = Vec::new();
    if m.path.type_ == PathMatchType::RegularExpression {
        out.push(("path", m.path.value.as_str(), format!("{mp}/path/value")));
    }
    for (j, x) in m.headers.iter().enumerate().filter(|(_, x)| x.type_ == h::StringMatchType::RegularExpression) {
        out.push(("header", x.value.as_str(), format!("{mp}/headers/{j}/value")));
    }
    for (j, x) in m.query_params.iter().enumerate().filter(|(_, x)| x.type_ == h::StringMatchType::RegularExpression) {
        out.push(("query parameter", x.value.as_str(), format!("{mp}/queryParams/{j}/value")));
    }
    out
}

fn http_match(m: &h::HTTPRouteMatch) -> HttpMatch {
    let to_match = |name: String, t: h::StringMatchType, v: &str| KeyMatch {
        name,
        value: match t {
            h::StringMatchType::Exact => StringMatch::Exact(v.to_string()),
            h::StringMatchType::RegularExpression => StringMatch::Regex(v.to_string()),
        },
    };
    HttpMatch {
        path: match m.path.type_ {
            PathMatchType::Exact => PathMatch::Exact(m.path.value.clone()),
            PathMatchType::PathPrefix => PathMatch::Prefix(normalize_prefix(&m.path.value)),
            PathMatchType::RegularExpression => PathMatch::Regex(m.path.value.clone()),
        },
        method: m.method.map(|x| x.as_str().to_string()),
        headers: m.headers.iter().map(|x| to_match(x.name.to_ascii_lowercase(), x.type_, &x.value)).collect(),
        query: m.query_params.iter().map(|x| to_match(x.name.clone(), x.type_, &x.value)).collect(),
    }
}

/// CR, LF or NUL in a value would split or end a header line: Envoy refuses the config.
fn bad_chars(v: &str) -> bool {
    v.contains(['\r', '\n', '\0'])
}

/// Header modifiers Envoy would refuse: control characters in values, and `host` (Envoy
/// Gateway refuses modifying it through a header filter; URLRewrite's hostname does that).
pub(super) fn check_header_modifier(m: &h::HeaderModifier, request: bool, at: &str, refuse: &mut dyn FnMut(String, String)) {
    for (list, field) in [(&m.set, "set"), (&m.add, "add")] {
        for (i, x) in list.iter().enumerate() {
            if bad_chars(&x.value) {
                refuse(format!("header `{}`: a value with CR, LF or NUL is not allowed", x.name), format!("{at}/{field}/{i}/value"));
            }
            if request && (x.name.eq_ignore_ascii_case("host") || x.name.starts_with(':')) {
                refuse(format!("header `{}` cannot be modified by a header filter", x.name), format!("{at}/{field}/{i}/name"));
            }
        }
    }
    for (i, x) in m.remove.iter().enumerate() {
        if request && (x.eq_ignore_ascii_case("host") || x.starts_with(':')) {
            refuse(format!("header `{x}` cannot be removed by a header filter"), format!("{at}/remove/{i}"));
        }
    }
}

fn check_path_modifier(pm: Option<&h::PathModifier>, at: &str, refuse: &mut dyn FnMut(String, String)) {
    let Some(pm) = pm else { return };
    for (v, field) in [(&pm.replace_full_path, "replaceFullPath"), (&pm.replace_prefix_match, "replacePrefixMatch")] {
        if let Some(v) = v
            && bad_chars(v)
        {
            refuse(format!("{field}: a path with CR, LF or NUL is not allowed"), format!("{at}/{field}"));
        }
    }
}

pub(super) fn header_ops(m: &h::HeaderModifier) -> HeaderOps {
    HeaderOps {
        set: m.set.iter().map(|x| (x.name.to_ascii_lowercase(), x.value.clone())).collect(),
        add: m.add.iter().map(|x| (x.name.to_ascii_lowercase(), x.value.clone())).collect(),
        remove: m.remove.iter().map(|x| x.to_ascii_lowercase()).collect(),
    }
}

/// `/foo/` and `/foo` are the same prefix to Gateway API; Envoy wants no trailing slash.
fn normalize_prefix(p: &str) -> String {
    let t = p.trim_end_matches('/');
    if t.is_empty() { "/".into() } else { t.into() }
}

fn path_modifier(pm: &h::PathModifier) -> PathModifier {
    match pm.type_ {
        h::PathModifierType::ReplaceFullPath => PathModifier::Full(pm.replace_full_path.clone().unwrap_or_default()),
        h::PathModifierType::ReplacePrefixMatch => PathModifier::Prefix(normalize_prefix(pm.replace_prefix_match.as_deref().unwrap_or("/"))),
    }
}

/// An allowed origin as a matcher: `*` alone matches all; `*` in a host matches any labels
/// to its left (greedy), as the CORS filter's documentation describes.
pub(crate) fn origin_match(o: &str) -> StringMatch {
    if o == "*" {
        return StringMatch::Regex(".*".into());
    }
    if !o.contains('*') {
        return StringMatch::Exact(o.to_string());
    }
    let mut re = String::from("^");
    for c in o.chars() {
        match c {
            '*' => re.push_str(".*"),
            c if "\\.+?()|[]{}^$".contains(c) => {
                re.push('\\');
                re.push(c);
            }
            c => re.push(c),
        }
    }
    re.push('$');
    StringMatch::Regex(re)
}

fn cors_ir(c: &h::Cors) -> CorsIr {
    CorsIr {
        origins: c.allow_origins.iter().map(|o| origin_match(o)).collect(),
        methods: c.allow_methods.clone(),
        headers: c.allow_headers.clone(),
        expose_headers: c.expose_headers.clone(),
        max_age: Some(c.max_age),
        credentials: c.allow_credentials.unwrap_or(false),
    }
}
