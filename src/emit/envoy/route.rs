//! Route tables: virtual hosts, the routes of one IR route (matches, actions, rewrites,
//! redirects, header operations, CORS, sessions).

use super::types::*;
use super::*;
use crate::ir::{Action, HeaderOps, PathMatch, PathRewrite, StringMatch};
use crate::resolve::http::HostRewrite;

pub(super) fn virtual_host(v: &ir::VirtualHostIr, secrets: Option<&std::path::Path>) -> VirtualHost {
    VirtualHost { name: v.name.clone(), domains: vec![v.hostname.clone()], routes: v.routes.iter().flat_map(|r| routes(r, &v.hostname, secrets)).collect() }
}

/// The Envoy routes of one IR route. A redirect to a scheme's well-known port must drop the
/// port the client put in Host, which Envoy keeps unless it rewrites the host or the port: on an
/// exact hostname the redirect names that host; on a wildcard one, a first route for Hosts that
/// carry a port sets the well-known port explicitly (`host:443`), a second serves the rest.
fn routes(r: &ir::RouteIr, vhost: &str, secrets: Option<&std::path::Path>) -> Vec<Route> {
    let Action::Redirect(rd) = &r.action else { return vec![route(r, secrets)] };
    if !rd.default_port || rd.hostname.is_some() {
        return vec![route(r, secrets)];
    }
    if !vhost.starts_with('*') {
        let mut out = route(r, secrets);
        if let Some(a) = out.redirect.as_mut() {
            a.host_redirect = Some(vhost.to_string());
        }
        return vec![out];
    }
    let mut with_port = route(r, secrets);
    with_port.name = format!("{}/host-with-port", r.name);
    with_port.match_.headers.push(HeaderMatcher { name: ":authority".into(), string_match: StringMatcher::of(&StringMatch::Regex(r"^.*:[0-9]+$".into())) });
    if let Some(a) = with_port.redirect.as_mut() {
        a.port_redirect = Some(rd.port);
    }
    vec![with_port, route(r, secrets)]
}

fn header_options(ops: &HeaderOps) -> Vec<HeaderValueOption> {
    let set = ops.set.iter().map(|(k, v)| HeaderValueOption {
        header: HeaderValue { key: k.clone(), value: v.clone() },
        append_action: "OVERWRITE_IF_EXISTS_OR_ADD",
    });
    let add = ops.add.iter().map(|(k, v)| HeaderValueOption {
        header: HeaderValue { key: k.clone(), value: v.clone() },
        append_action: "APPEND_IF_EXISTS_OR_ADD",
    });
    set.chain(add).collect()
}


/// (prefix_rewrite, regex_rewrite) for a path rewrite, with Gateway API's slash rules.
fn rewrite(p: &PathRewrite) -> (Option<String>, Option<RegexRewrite>, Option<String>) {
    match p {
        PathRewrite::Full(full) => (None, None, Some(full.clone())),
        PathRewrite::Regex { pattern, substitution } => (None, Some(RegexRewrite { pattern: RegexMatcher { regex: pattern.clone() }, substitution: substitution.clone() }), None),
        PathRewrite::Prefix { matched, replacement } => {
            if matched == "/" {
                // Everything matched `/`: put the replacement in front of the whole path.
                let sub = if replacement == "/" { "/".to_string() } else { format!("{replacement}/") };
                (None, Some(RegexRewrite { pattern: RegexMatcher { regex: "^/".into() }, substitution: sub }), None)
            } else if replacement == "/" {
                // `/foo/bar` → `/bar`, `/foo` and `/foo/` → `/`.
                (None, Some(RegexRewrite { pattern: RegexMatcher { regex: format!("^{}/*", crate::validate::regex::escape(matched)) }, substitution: "/".into() }), None)
            } else {
                (Some(replacement.clone()), None, None)
            }
        }
    }
}

/// Milliseconds as a proto3 JSON duration (`1.500s`).
fn envoy_duration(ms: u64) -> String {
    if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{}.{:03}s", ms / 1000, ms % 1000) }
}

fn redirect_code(status: u16) -> &'static str {
    match status {
        301 => "MOVED_PERMANENTLY",
        303 => "SEE_OTHER",
        307 => "TEMPORARY_REDIRECT",
        308 => "PERMANENT_REDIRECT",
        _ => "FOUND",
    }
}

fn route(r: &ir::RouteIr, secrets: Option<&std::path::Path>) -> Route {
    let mut m = RouteMatch::default();
    match &r.matches.path {
        PathMatch::Exact(v) => m.path = Some(v.clone()),
        PathMatch::Prefix(v) if v == "/" => m.prefix = Some("/".into()),
        PathMatch::Prefix(v) => m.path_separated_prefix = Some(v.clone()),
        PathMatch::Regex(v) => m.safe_regex = Some(RegexMatcher { regex: v.clone() }),
    }
    if let Some(method) = &r.matches.method {
        m.headers.push(HeaderMatcher { name: ":method".into(), string_match: StringMatcher::of(&StringMatch::Exact(method.clone())) });
    }
    m.headers.extend(r.matches.headers.iter().map(|h| HeaderMatcher { name: h.name.clone(), string_match: StringMatcher::of(&h.value) }));
    m.query_parameters = r.matches.query.iter().map(|q| QueryParameterMatcher { name: q.name.clone(), string_match: StringMatcher::of(&q.value) }).collect();
    let mut out = Route {
        name: r.name.clone(),
        match_: m,
        route: None,
        redirect: None,
        direct_response: None,
        request_headers_to_add: header_options(&r.request_headers),
        request_headers_to_remove: r.request_headers.remove.clone(),
        response_headers_to_add: header_options(&r.response_headers),
        response_headers_to_remove: r.response_headers.remove.clone(),
        typed_per_filter_config: r.cors.as_ref().map(|c| {
            let join = |v: &[String]| if v.is_empty() { None } else { Some(v.join(", ")) };
            PerFilterConfig {
                cors: Some(CorsPolicy {
                    type_: CORS_POLICY,
                    allow_origin_string_match: c.origins.iter().map(StringMatcher::of).collect(),
                    allow_methods: join(&c.methods),
                    allow_headers: join(&c.headers),
                    expose_headers: join(&c.expose_headers),
                    max_age: c.max_age.map(|a| a.to_string()),
                    allow_credentials: c.credentials,
                    // A preflight from an origin not allowed is answered here, never forwarded.
                    forward_not_matching_preflights: false,
                }),
                ..Default::default()
            }
        }),
    };
    if let Some(sec) = &r.security {
        security_config(&mut out, &r.name, sec, secrets);
    }
    if let Some(c) = &r.credential {
        out.typed_per_filter_config.get_or_insert_with(PerFilterConfig::default).enable.insert(c.filter.clone(), super::credential::enable());
    }
    if let Some(e) = &r.extension {
        for f in super::extension::enabled(e) {
            out.typed_per_filter_config.get_or_insert_with(PerFilterConfig::default).enable.insert(f.clone(), super::credential::enable());
        }
    }
    match &r.action {
        Action::DirectResponse { status, body } => out.direct_response = Some(DirectResponse { status: *status, body: body.as_ref().map(|b| DataSource { inline_string: Some(b.clone()), filename: None }) }),
        Action::Redirect(rd) => {
            let (prefix, regex, full) = rd.path.as_ref().map(rewrite).unwrap_or((None, None, None));
            out.redirect = Some(RedirectAction {
                scheme_redirect: rd.scheme.clone(),
                host_redirect: rd.hostname.clone(),
                port_redirect: (!rd.default_port).then_some(rd.port),
                path_redirect: full,
                prefix_rewrite: prefix,
                regex_rewrite: regex,
                response_code: redirect_code(rd.status),
            });
        }
        Action::Forward { clusters, host_rewrite, append_x_forwarded_host, path_rewrite, timeout_ms, backend_timeout_ms, mirrors, retry, session, traffic } => {
            let mut ra = RouteAction { append_x_forwarded_host: *append_x_forwarded_host, ..Default::default() };
            match host_rewrite {
                None => {}
                Some(HostRewrite::Literal(h)) => ra.host_rewrite_literal = Some(h.clone()),
                Some(HostRewrite::Header(h)) => ra.host_rewrite_header = Some(h.clone()),
                Some(HostRewrite::Backend) => ra.auto_host_rewrite = true,
                Some(HostRewrite::PathRegex { pattern, substitution }) => ra.host_rewrite_path_regex = Some(RegexRewrite { pattern: RegexMatcher { regex: pattern.clone() }, substitution: substitution.clone() }),
            }
            // Gateway API `request` is the route timeout (0 disables it); `backendRequest` bounds
            // each try (there are no retries without a retry filter).
            // A BackendTrafficPolicy's request timeout and retries apply where the rule sets none
            // (Gateway API takes precedence, as with Envoy Gateway).
            ra.timeout = timeout_ms.or(traffic.as_ref().and_then(|t| t.request_timeout_ms)).map(envoy_duration);
            ra.hash_policy = traffic.as_ref().map(|t| super::policy::hash_policies(&t.hash)).unwrap_or_default();
            ra.idle_timeout = traffic.as_ref().and_then(|t| t.stream_idle_timeout_ms).map(envoy_duration);
            ra.upgrade_configs = traffic.as_ref().map(super::http_filters::route_upgrades).unwrap_or_default();
            if let Some(t) = traffic {
                let (fault, limit) = (t.fault.as_ref().map(super::http_filters::fault), t.rate_limit.as_ref().map(super::http_filters::local_rate_limit));
                if fault.is_some() || limit.is_some() || !t.compression.is_empty() || t.request_buffer.is_some() || t.response_override.is_some() || t.global_rate_limit.is_some() {
                    let cfg = out.typed_per_filter_config.get_or_insert_with(PerFilterConfig::default);
                    (cfg.fault, cfg.local_ratelimit) = (fault, limit);
                    cfg.buffer = t.request_buffer.map(super::http_filters::buffer_per_route);
                    cfg.ratelimit = t.global_rate_limit.as_ref().map(|rules| super::global_rate_limit::per_route(&r.name, rules));
                    if let Some(ro) = &t.response_override {
                        cfg.custom_response.insert(crate::names::custom_response(ro), super::custom_response::filter(ro));
                    }
                    for (codec, _) in &t.compression {
                        let on = Some(super::http_filters::compressor_per_route());
                        match codec {
                            crate::resolve::traffic::Codec::Gzip => cfg.gzip = on,
                            crate::resolve::traffic::Codec::Brotli => cfg.brotli = on,
                            crate::resolve::traffic::Codec::Zstd => cfg.zstd = on,
                        }
                    }
                }
                // The backend must not compress what Envoy compresses again.
                if !t.compression.is_empty() && !out.request_headers_to_remove.iter().any(|h| h == "accept-encoding") {
                    out.request_headers_to_remove.push("accept-encoding".into());
                }
            }
            let per_try_timeout = backend_timeout_ms.filter(|ms| *ms > 0).map(envoy_duration);
            ra.retry_policy = match retry {
                Some(r) => Some(RetryPolicy {
                    retry_on: Some(if r.codes.is_empty() {
                        "connect-failure,refused-stream,reset".to_string()
                    } else {
                        "connect-failure,refused-stream,reset,retriable-status-codes".to_string()
                    }),
                    num_retries: r.attempts,
                    per_try_timeout,
                    retriable_status_codes: r.codes.clone(),
                    retry_back_off: r.backoff_ms.filter(|ms| *ms > 0).map(|ms| RetryBackOff { base_interval: envoy_duration(ms), max_interval: None }),
                    ..Default::default()
                }),
                None => match traffic.as_ref().and_then(|t| t.retry.as_ref()) {
                    Some(r) => Some(super::policy::retry_policy(r)),
                    None => per_try_timeout.map(|t| RetryPolicy { num_retries: 0, per_try_timeout: Some(t), ..Default::default() }),
                },
            };
            if let Some(s) = session {
                let cfg = out.typed_per_filter_config.get_or_insert_with(PerFilterConfig::default);
                cfg.stateful_session = Some(StatefulSessionPerRoute {
                    type_: STATEFUL_SESSION_ROUTE,
                    stateful_session: StatefulSession {
                        session_state: match s {
                            ir::SessionIr::Cookie { name, ttl_ms } => SessionState {
                                name: "envoy.http.stateful_session.cookie",
                                typed_config: SessionStateConfig::Cookie {
                                    type_: COOKIE_SESSION,
                                    cookie: SessionCookie { name: name.clone(), path: "/", ttl: ttl_ms.map(envoy_duration) },
                                },
                            },
                            ir::SessionIr::Header { name } => SessionState {
                                name: "envoy.http.stateful_session.header",
                                typed_config: SessionStateConfig::Header { type_: HEADER_SESSION, name: name.clone() },
                            },
                        },
                    },
                });
            }
            ra.request_mirror_policies = mirrors
                .iter()
                .map(|(cluster, per_million)| RequestMirrorPolicy {
                    cluster: cluster.clone(),
                    // Everything mirrored needs no fraction at all.
                    runtime_fraction: (*per_million < 1_000_000).then_some(RuntimeFractionalPercent {
                        default_value: FractionalPercent { numerator: *per_million, denominator: "MILLION" },
                    }),
                })
                .collect();
            if let Some(p) = path_rewrite {
                let (prefix, regex, full) = rewrite(p);
                ra.prefix_rewrite = prefix;
                ra.regex_rewrite = regex.or(full.map(|f| RegexRewrite { pattern: RegexMatcher { regex: "^/.*$".into() }, substitution: f }));
            }
            let simple = clusters.len() == 1 && clusters[0].request_headers.is_empty() && clusters[0].response_headers.is_empty() && clusters[0].credential.is_none();
            if simple {
                ra.cluster = Some(clusters[0].cluster.clone());
            } else {
                ra.weighted_clusters = Some(WeightedClusters {
                    clusters: clusters
                        .iter()
                        .map(|c| ClusterWeight {
                            name: c.cluster.clone(),
                            weight: c.weight,
                            request_headers_to_add: header_options(&c.request_headers),
                            request_headers_to_remove: c.request_headers.remove.clone(),
                            response_headers_to_add: header_options(&c.response_headers),
                            response_headers_to_remove: c.response_headers.remove.clone(),
                            typed_per_filter_config: c.credential.as_ref().map(|cr| {
                                let mut cfg = Box::<PerFilterConfig>::default();
                                cfg.enable.insert(cr.filter.clone(), super::credential::enable());
                                cfg
                            }),
                        })
                        .collect(),
                });
            }
            out.route = Some(ra);
        }
    }
    out
}


/// A SecurityPolicy's checks on one route (CORS is the route's `cors`); `name` is the IR
/// route's, which names its JWT requirement.
fn security_config(out: &mut Route, name: &str, sec: &crate::resolve::security::Security, secrets: Option<&std::path::Path>) {
    if sec.csrf.is_none() && sec.api_keys.is_none() && sec.basic_auth.is_none() && sec.jwt.is_none() && sec.ext_auth.is_none() && sec.oidc.is_none() && sec.authorization.is_none() {
        return;
    }
    let cfg = out.typed_per_filter_config.get_or_insert_with(PerFilterConfig::default);
    cfg.csrf = sec.csrf.as_ref().map(super::security::csrf_route);
    cfg.api_key_auth = sec.api_keys.as_ref().map(super::security::api_key_route);
    cfg.rbac = sec.authorization.as_ref().map(super::rbac::rbac_route);
    cfg.jwt_authn = sec.jwt.as_ref().map(|_| super::jwt::per_route(name));
    if let Some(e) = &sec.ext_auth {
        cfg.ext_authz.insert(e.filter.clone(), super::ext_auth::enable());
    }
    if let Some(o) = &sec.oidc {
        cfg.enable.insert(o.filter.clone(), super::credential::enable());
    }
    if let Some(b) = &sec.basic_auth {
        cfg.basic_auth.insert(super::security::basic_auth_filter_name(b.forward_username_header.as_deref()), super::security::basic_auth_route(b, secrets));
    }
}
