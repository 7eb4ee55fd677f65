//! GRPCRoute rules, interpreted into the [`super::http`] shapes HTTPRoute produces, so the IR
//! serves both kinds from one route table. gRPC's `:path` is `/<service>/<method>`; matches
//! become path and header matches as Envoy Gateway writes them (docs/features.md):
//!
//! | method match | Envoy |
//! |---|---|
//! | Exact service and method | path exactly `/S/M` |
//! | Exact service | path prefix `/S` (segment-aware: `/S/...`) |
//! | Exact method | every path, and `:path` ending in `/M` |
//! | RegularExpression | path regex `/(?:S)/(?:M)`, a missing part a valid name |
//!
//! Every backend is reached over HTTP/2.

use super::backend::{BackendRef, Index};
use super::http::*;
use super::httproute::{backend_ref, check_header_modifier, header_ops, mirror, route_filter, session, weighted_backend};
use super::status::{Problem, Recorder, Site, Target};
use crate::api::grpcroute::{self as g, GRPCRouteFilterType as F};
use crate::api::httproute::StringMatchType;
use crate::api::{GRPCRoute, Item};
use crate::diag::Code;
use crate::id::{ObjectKey, RuleId};
use crate::validate::regex::Verdicts;

/// A valid gRPC service name, for a regex match that names only the method.
const SERVICE_NAME: &str = r"\.?[A-Za-z_][A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)*";
/// A valid gRPC method name, for a regex match that names only the service.
const METHOD_NAME: &str = "[A-Za-z_][A-Za-z_0-9]*";

/// The route's rules resolved, and whether the route is valid (an expression Envoy would
/// refuse makes it `Accepted=False UnsupportedValue`, as for HTTPRoute).
pub fn resolve(item: &Item<Box<GRPCRoute>>, key: &ObjectKey, index: &Index, regexes_seen: &Verdicts, rec: &mut Recorder) -> (HttpRoute, bool) {
    let site = Site { object: key, loc: &item.loc };
    let mut valid = true;
    let mut refuse = |rec: &mut Recorder, msg: String, pointer: String| {
        valid = false;
        rec.report(site, Problem::new(Code::ValueUnsupported, msg, pointer).sets(Target::Route(key.clone()), "Accepted", false, "UnsupportedValue"));
    };
    let mut rules = Vec::new();
    for (ri, rule) in item.obj.spec.rules.iter().enumerate() {
        let p = format!("/spec/rules/{ri}");
        let mut matches = Vec::new();
        for (mi, m) in rule.matches.iter().enumerate() {
            let (hm, regexes) = grpc_match(m, &format!("{p}/matches/{mi}"));
            for (what, v, at) in regexes {
                if let Err(e) = regexes_seen.check(&v) {
                    refuse(rec, format!("{what} regular expression `{v}` is not valid RE2: {e}"), at);
                }
            }
            matches.push(hm);
        }
        if matches.is_empty() {
            // No match: every gRPC request.
            matches.push(HttpMatch { path: PathMatch::Prefix("/".into()), method: None, headers: Vec::new(), query: Vec::new() });
        }
        let mut request_headers = HeaderOps::default();
        let mut response_headers = HeaderOps::default();
        let mut unresolvable_filter = false;
        let mut mirrors = Vec::new();
        let mut ext = super::routefilter::Applied::default();
        for (fi, f) in rule.filters.iter().enumerate() {
            let fp = format!("{p}/filters/{fi}");
            match (f.type_, &f.request_header_modifier, &f.response_header_modifier, &f.request_mirror) {
                (F::RequestHeaderModifier, Some(m), _, _) => {
                    check_header_modifier(m, true, &format!("{fp}/requestHeaderModifier"), &mut |m, at| refuse(rec, m, at));
                    request_headers = header_ops(m);
                }
                (F::ResponseHeaderModifier, _, Some(m), _) => {
                    check_header_modifier(m, false, &format!("{fp}/responseHeaderModifier"), &mut |m, at| refuse(rec, m, at));
                    response_headers = header_ops(m);
                }
                (F::RequestMirror, _, _, Some(m)) => mirrors.extend(mirror(site, m, &fp, index, rec)),
                (F::ExtensionRef, ..) => {
                    unresolvable_filter |= !route_filter(site, f.extension_ref.as_ref(), (false, false), fp, index, &mut ext, rec);
                }
                // A type without its field: refused by validate's CEL rules.
                _ => {}
            }
        }
        let mut backends = Vec::new();
        let mut invalid_weight = 0u32;
        for (bi, b) in rule.backend_refs.iter().enumerate() {
            let bp = format!("{p}/backendRefs/{bi}");
            let bf = backend_filters(&b.filters, &bp, site, index, &mut |rec, m, at| refuse(rec, m, at), rec);
            weighted_backend(site, backend_ref!(b), b.weight, bf, bp, index, rec, (&mut backends, &mut invalid_weight));
        }
        let unresolvable_filter = unresolvable_filter | !super::httproute::fallback_ok(site, backends.iter().map(|b| (&*b.target, !b.request_headers.is_empty() || !b.response_headers.is_empty() || b.credential.is_some())), format!("/spec/rules/{ri}/backendRefs"), rec);
        response_headers.set.append(&mut ext.response_headers.set);
        response_headers.add.append(&mut ext.response_headers.add);
        let action = if unresolvable_filter {
            RuleAction::Respond(500, None)
        } else if let Some((status, body)) = ext.respond.take() {
            RuleAction::Respond(status, body)
        } else if backends.is_empty() {
            // No backend (none given, all invalid, or all weight 0) or a filter that cannot
            // be applied: the spec asks for a 500 (gRPC clients see it as a status).
            RuleAction::Respond(500, None)
        } else {
            RuleAction::Forward(Forward {
                backends,
                invalid_weight,
                host_rewrite: ext.host.take(),
                append_x_forwarded_host: ext.append_x_forwarded_host,
                path_rewrite: ext.path.take(),
                timeout_ms: None,
                backend_timeout_ms: None,
                mirrors,
                retry: None,
                session: rule.session_persistence.as_ref().map(|sp| session(sp, &key.namespace, &key.name, ri)),
                http2: true,
            })
        };
        let id = RuleId { route: key.clone(), index: ri, name: rule.name.clone() };
        let matches = super::routefilter::cross(matches, &ext.matches);
        rules.push(HttpRule { id, matches, request_headers, response_headers, cors: None, credential: ext.credential.take().map(std::sync::Arc::new), action });
    }
    (HttpRoute { key: key.clone(), loc: item.loc.clone(), rules }, valid)
}

type Refuse<'a> = dyn FnMut(&mut Recorder, String, String) + 'a;

/// A backendRef's own filters: header modifiers; anything else is not supported there.
fn backend_filters(filters: &[g::GRPCRouteFilter], bp: &str, site: Site, index: &Index, refuse: &mut Refuse, rec: &mut Recorder) -> super::http::BackendFilters {
    let mut bf = super::http::BackendFilters::default();
    for (fi, f) in filters.iter().enumerate() {
        let fp = format!("{bp}/filters/{fi}");
        match (f.type_, &f.request_header_modifier, &f.response_header_modifier) {
            (F::RequestHeaderModifier, Some(m), _) => {
                check_header_modifier(m, true, &format!("{fp}/requestHeaderModifier"), &mut |m, at| refuse(rec, m, at));
                bf.request_headers = header_ops(m);
            }
            (F::ResponseHeaderModifier, _, Some(m)) => {
                check_header_modifier(m, false, &format!("{fp}/responseHeaderModifier"), &mut |m, at| refuse(rec, m, at));
                bf.response_headers = header_ops(m);
            }
            (F::ExtensionRef, ..) => super::httproute::backend_route_filter(site, f.extension_ref.as_ref(), fp, index, &mut bf, rec),
            _ => rec.report(
                site,
                Problem::new(Code::UnsupportedField, format!("backendRef filter {:?} is not supported yet", f.type_), fp).help(crate::validate::UNSUPPORTED_HELP),
            ),
        }
    }
    bf
}

/// One match as path and header matches, and the regular expressions Envoy will compile
/// from it: (what, expression, pointer).
fn grpc_match(m: &g::GRPCRouteMatch, mp: &str) -> (HttpMatch, Vec<(&'static str, String, String)>) {
    let mut regexes = Vec::new();
    let mut headers: Vec<KeyMatch> = m
        .headers
        .iter()
        .enumerate()
        .map(|(j, x)| KeyMatch {
            name: x.name.to_ascii_lowercase(),
            value: match x.type_ {
                StringMatchType::Exact => StringMatch::Exact(x.value.clone()),
                StringMatchType::RegularExpression => {
                    regexes.push(("header", x.value.clone(), format!("{mp}/headers/{j}/value")));
                    StringMatch::Regex(x.value.clone())
                }
            },
        })
        .collect();
    let mut path = PathMatch::Prefix("/".into());
    if let Some(method) = &m.method {
        let (service, name) = (method.service.as_deref(), method.method.as_deref());
        match method.type_ {
            StringMatchType::Exact => match (service, name) {
                (Some(s), Some(n)) => path = PathMatch::Exact(format!("/{s}/{n}")),
                (Some(s), None) => path = PathMatch::Prefix(format!("/{s}")),
                (None, Some(n)) => headers.push(KeyMatch { name: ":path".into(), value: StringMatch::Suffix(format!("/{n}")) }),
                (None, None) => {}
            },
            StringMatchType::RegularExpression => {
                if service.is_some() || name.is_some() {
                    let re = format!("/(?:{})/(?:{})", service.unwrap_or(SERVICE_NAME), name.unwrap_or(METHOD_NAME));
                    regexes.push(("method", re.clone(), format!("{mp}/method")));
                    path = PathMatch::Regex(re);
                }
            }
        }
    }
    (HttpMatch { path, method: None, headers, query: Vec::new() }, regexes)
}

#[cfg(test)]
mod tests {
    use super::*;
    fn m(yaml: serde_json::Value) -> HttpMatch {
        grpc_match(&serde_json::from_value(yaml).unwrap(), "").0
    }
    #[test]
    fn method_matches() {
        let exact = m(serde_json::json!({"method": {"service": "a.B", "method": "C"}}));
        assert_eq!(exact.path, PathMatch::Exact("/a.B/C".into()));
        let service = m(serde_json::json!({"method": {"service": "a.B"}}));
        assert_eq!(service.path, PathMatch::Prefix("/a.B".into()));
        let method = m(serde_json::json!({"method": {"method": "C"}}));
        assert_eq!(method.path, PathMatch::Prefix("/".into()));
        assert_eq!(method.headers, vec![KeyMatch { name: ":path".into(), value: StringMatch::Suffix("/C".into()) }]);
        let re = m(serde_json::json!({"method": {"type": "RegularExpression", "service": "a|b"}}));
        assert_eq!(re.path, PathMatch::Regex(format!("/(?:a|b)/(?:{METHOD_NAME})")));
        let headers = m(serde_json::json!({"headers": [{"name": "X-A", "value": "1"}]}));
        assert_eq!(headers.headers, vec![KeyMatch { name: "x-a".into(), value: StringMatch::Exact("1".into()) }]);
    }
}
