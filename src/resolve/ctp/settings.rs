//! A ClientTrafficPolicy's translation: what it asks of Envoy for the listeners it holds
//! ([`ClientSettings`]), or Envoy Gateway's message for what it cannot translate.

use crate::api::ctp::ClientTrafficPolicySpec;
use crate::api::httproute::duration_ms;
use std::sync::Arc;

/// How Envoy treats the clients of one listener (its HTTP connection manager's settings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSettings {
    /// Envoy's action on request headers with underscores.
    pub headers_with_underscores: Option<&'static str>,
    pub merge_slashes: Option<bool>,
    /// Envoy's action on escaped slashes (`%2F`, `%5C`) in paths.
    pub escaped_slashes: Option<&'static str>,
    /// A path Envoy answers itself.
    pub health_check_path: Option<String>,
    pub idle_timeout_ms: Option<u64>,
    pub request_timeout_ms: Option<u64>,
    /// Connections held at once, and how long Envoy waits before closing one over the limit.
    pub connection_limit: Option<(u64, Option<u64>)>,
    pub max_connection_duration_ms: Option<u64>,
    pub max_requests_per_connection: Option<u32>,
    pub max_stream_duration_ms: Option<u64>,
    /// What Envoy does with `x-request-id`: (keep the client's, generate one when missing).
    pub request_id: Option<(bool, bool)>,
    /// Soft limit of each connection's buffers, in bytes (the Envoy listener's).
    pub buffer_limit: Option<u32>,
    /// Connections accepted per socket event (the Envoy listener's).
    pub max_accept_per_socket_event: Option<u32>,
    /// How a terminating listener speaks TLS (HTTPS and TLS-terminate listeners only).
    pub tls: Option<Arc<DownstreamTls>>,
    /// Where the client's address comes from; None: the connection's peer.
    pub client_ip: Option<ClientIp>,
    /// Client certificates verified on terminating listeners (replacing the Gateway's own
    /// `tls.frontend` validation there, as Envoy Gateway does).
    pub client_validation: Option<Arc<crate::resolve::tls::ClientValidation>>,
    /// The PROXY protocol header is read first; `Some(true)`: connections without it are
    /// served too (the Envoy listener's).
    pub proxy_protocol: Option<bool>,
    /// HTTP/1: trailers passed on; HTTP/1.0 served, with the Host given to requests without one.
    pub http1: Option<Http1>,
    /// Envoy's forward_client_cert_details and the details it sets.
    pub xfcc: Option<(&'static str, Vec<String>)>,
    /// HTTP/2 with the clients: windows, stream limit, reset handling, PING keepalive.
    pub http2: Option<crate::resolve::traffic_http::Http2Options>,
    /// A stream with no activity this long is reset.
    pub stream_idle_timeout_ms: Option<u64>,
    /// The request's headers must arrive within this.
    pub request_headers_timeout_ms: Option<u64>,
    /// A TCP proxy's connection idle this long is closed (TCP and TLS listeners).
    pub tcp_idle_timeout_ms: Option<u64>,
    /// Listener filters (TLS inspector, PROXY protocol) must be done within this.
    pub inspection_timeout_ms: Option<u64>,
    /// The TLS handshake must be done within this (terminating chains).
    pub tls_handshake_timeout_ms: Option<u64>,
    /// TCP keepalive of the listener's sockets.
    pub keepalive: Option<Keepalive>,
    /// Changes to requests before routing (Envoy's early header mutation).
    pub early_request_headers: Option<HeaderChanges>,
    /// Changes to every response, after the route table's own.
    pub late_response_headers: Option<HeaderChanges>,
    /// The router adds its `x-envoy-*` headers (Envoy Gateway suppresses them by default).
    pub envoy_headers: bool,
    /// Rate limits answer without `X-RateLimit-*` headers.
    pub no_rate_limit_headers: bool,
    /// `Host: example.com.` is taken as `example.com`.
    pub strip_trailing_host_dot: bool,
    /// Past max_connection_duration an HTTP/1 connection closes only after its next request
    /// (Envoy Gateway's default), not at once.
    pub http1_safe_max_connection_duration: bool,
    /// gRPC-Web is translated for every route of the table, not only GRPCRoutes.
    pub grpc_web: bool,
    /// The `:scheme` sent to backends is that of the connection to them (MatchBackend), not
    /// the client's.
    pub scheme_matches_backend: bool,
}

/// TCP keepalive as the kernel takes it: probes, and seconds idle before and between them
/// (unset: the kernel's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Keepalive {
    pub probes: Option<u32>,
    pub idle_s: Option<u64>,
    pub interval_s: Option<u64>,
}

impl ClientSettings {
    /// What the listener's HTTP/1 settings ask of the connections to its backends too (as
    /// Envoy Gateway sets them on the clusters): trailers passed on, header case kept.
    pub fn upstream_http1(&self) -> Option<UpstreamHttp1> {
        let h = self.http1.as_ref()?;
        (h.trailers || h.preserve_case).then_some(UpstreamHttp1 { trailers: h.trailers, preserve_case: h.preserve_case })
    }
}

/// HTTP/1 towards the backends of a listener with HTTP/1 settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UpstreamHttp1 {
    pub trailers: bool,
    pub preserve_case: bool,
}

/// Header changes in the order Envoy applies them (Envoy Gateway's: additions, then
/// removals).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderChanges(pub Vec<HeaderChange>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderChange {
    /// (name, value): replacing any values, appending to them, or only when absent.
    Set(String, String),
    Append(String, String),
    AddIfAbsent(String, String),
    Remove(String),
    /// Every header whose name matches.
    RemoveMatching(crate::resolve::traffic_http::ValueMatch),
}

fn header_changes(m: &crate::api::ctp::HeaderMutations, at: &str) -> Result<HeaderChanges, Failed> {
    let mut out: Vec<HeaderChange> = Vec::new();
    out.extend(m.set.iter().map(|h| HeaderChange::Set(h.name.clone(), h.value.clone())));
    out.extend(m.add.iter().map(|h| HeaderChange::Append(h.name.clone(), h.value.clone())));
    out.extend(m.add_if_absent.iter().map(|h| HeaderChange::AddIfAbsent(h.name.clone(), h.value.clone())));
    out.extend(m.remove.iter().map(|n| HeaderChange::Remove(n.clone())));
    for (i, r) in m.remove_on_match.iter().enumerate() {
        let v = crate::resolve::traffic_http::value_match(r).map_err(|e| (format!("Headers: {e}"), format!("{at}/removeOnMatch/{i}")))?;
        out.push(HeaderChange::RemoveMatching(v));
    }
    Ok(HeaderChanges(out))
}

/// The policy's client validation: its CA bundles (the first reference that fails is the
/// policy's error, as Envoy Gateway reports it); None without any reference.
fn client_validation(v: &crate::api::ctp::ClientValidationContext, ns: &str, index: &crate::resolve::backend::Index) -> Result<Option<crate::resolve::tls::ClientValidation>, Failed> {
    let mut ca_pem = String::new();
    let mut sources = Vec::new();
    for (k, r) in v.ca_certificate_refs.iter().enumerate() {
        let o = crate::api::gateway::ObjectReference { group: r.group.clone(), kind: r.kind.clone(), name: r.name.clone(), namespace: r.namespace.clone() };
        let pem = crate::resolve::tls::ca_bundle_for(index, (crate::api::ENVOY_GATEWAY_GROUP, "ClientTrafficPolicy"), ns, &o).map_err(|e| (format!("TLS: {}", e.message), format!("/spec/tls/clientValidation/caCertificateRefs/{k}")))?;
        ca_pem.push_str(pem.trim_end());
        ca_pem.push('\n');
        sources.push(format!("{}/{}", r.namespace.as_deref().unwrap_or(ns), r.name));
    }
    if sources.is_empty() {
        return Ok(None);
    }
    // Mode wins over the deprecated optional.
    let (required, verified) = match v.mode.as_deref() {
        Some("Request") => (false, false),
        Some("RequireAny") => (true, false),
        Some("VerifyIfGiven") => (false, true),
        Some(_) => (true, true),
        None => (!v.optional.unwrap_or(false), true),
    };
    let mut c = crate::resolve::tls::ClientValidation::of_ca(sources, ca_pem, !required);
    c.accept_untrusted = !verified;
    c.allow_expired = v.allow_expired_certificate.unwrap_or(false);
    c.spki_hashes = v.spki_hashes.clone().unwrap_or_default();
    c.certificate_hashes = v.certificate_hashes.clone().unwrap_or_default();
    if let Some(n) = &v.subject_alt_names {
        c.subject_alt_names = subject_alt_names(n)?;
    }
    if let Some(crl) = &v.crl {
        let mut pem = String::new();
        for (k, r) in crl.refs.iter().enumerate() {
            let o = crate::api::gateway::ObjectReference { group: r.group.clone(), kind: r.kind.clone(), name: r.name.clone(), namespace: r.namespace.clone() };
            let list = crate::resolve::tls::crl_for(index, (crate::api::ENVOY_GATEWAY_GROUP, "ClientTrafficPolicy"), ns, &o).map_err(|e| (format!("TLS: {}", e.message), format!("/spec/tls/clientValidation/crl/refs/{k}")))?;
            pem.push_str(list.trim_end());
            pem.push('\n');
        }
        c.crl = Some((pem, crl.only_verify_leaf_certificate.unwrap_or(false)));
    }
    Ok(Some(c))
}

/// The SAN matches in Envoy Gateway's order (DNS, email, IP, URI, otherName); a regular
/// expression RE2 refuses is the policy's error.
fn subject_alt_names(n: &crate::api::ctp::SubjectAltNames) -> Result<Vec<crate::resolve::tls::ClientSan>, Failed> {
    use crate::resolve::tls::ClientSan;
    use crate::resolve::traffic_http::value_match;
    let at = "/spec/tls/clientValidation/subjectAltNames";
    let mut out = Vec::new();
    for (list, field, san) in [(&n.dns_names, "dnsNames", "DNS"), (&n.email_addresses, "emailAddresses", "EMAIL"), (&n.ip_addresses, "ipAddresses", "IP_ADDRESS"), (&n.uris, "uris", "URI")] {
        for (i, m) in list.iter().enumerate() {
            out.push(ClientSan { san_type: san, oid: None, value: value_match(m).map_err(|e| (format!("TLS: {e}"), format!("{at}/{field}/{i}")))? });
        }
    }
    for (i, o) in n.other_names.iter().enumerate() {
        let m = crate::api::btp::HeaderValueMatch { type_: o.type_.clone(), value: o.value.clone() };
        out.push(ClientSan { san_type: "OTHER_NAME", oid: Some(o.oid.clone()), value: value_match(&m).map_err(|e| (format!("TLS: {e}"), format!("{at}/otherNames/{i}")))? });
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http1 {
    pub trailers: bool,
    /// Header names keep the case they were sent in (both ways).
    pub preserve_case: bool,
    /// HTTP/1.0 served, with this Host for requests without one.
    pub http10: Option<Option<String>>,
    /// The Host is the listener's hostname (http10.useDefaultHost), filled in per listener.
    pub http10_listener_host: bool,
    /// Upgrade requests of these types are served as plain requests.
    pub ignored_upgrades: Vec<crate::resolve::traffic_http::ValueMatch>,
}

/// Envoy's original-IP detection for a route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientIp {
    /// X-Forwarded-For: Envoy's trusted-hop count (Envoy Gateway's count less one, as it
    /// writes it), or the networks of trusted proxies (network, prefix length); and whether
    /// Envoy leaves the header without its own entry.
    Xff { trusted_hops: Option<u32>, trusted_cidrs: Vec<(String, u32)>, skip_append: bool },
    /// A header holding the address; refuse (403) requests without a valid one.
    Header { name: String, fail_closed: bool },
}

fn client_ip(d: &crate::api::ctp::ClientIpDetection) -> Option<ClientIp> {
    if let Some(h) = &d.custom_header {
        return Some(ClientIp::Header { name: h.name.clone(), fail_closed: h.fail_closed.unwrap_or(false) });
    }
    let x = d.x_forwarded_for.as_ref()?;
    let trusted_cidrs = x.trusted_cidrs.iter().flatten().filter_map(|c| crate::resolve::traffic::parse_cidr(c)).map(|(net, len, _)| (net, len)).collect();
    Some(ClientIp::Xff { trusted_hops: x.num_trusted_hops.map(|n| n.saturating_sub(1)), trusted_cidrs, skip_append: x.disable_append.unwrap_or(false) })
}

/// TLS with the clients of a terminating listener, in Envoy's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownstreamTls {
    pub min_version: &'static str,
    pub max_version: &'static str,
    pub ciphers: Vec<String>,
    pub ecdh_curves: Vec<String>,
    pub signature_algorithms: Vec<String>,
    /// None: the listener's default (h2 and http/1.1 for HTTPS); empty: no ALPN.
    pub alpn: Option<Vec<String>>,
    pub stateful_resumption: bool,
    pub stateless_resumption: bool,
}

impl Default for DownstreamTls {
    /// Envoy Gateway's, with or without a policy: TLS 1.2 to 1.3, no session resumption.
    fn default() -> Self {
        DownstreamTls {
            min_version: "TLSv1_2",
            max_version: "TLSv1_3",
            ciphers: Vec::new(),
            ecdh_curves: Vec::new(),
            signature_algorithms: Vec::new(),
            alpn: None,
            stateful_resumption: false,
            stateless_resumption: false,
        }
    }
}

/// A CRD TLS version in Envoy's terms (`Auto`: Envoy's default).
pub(crate) fn tls_version(v: &str) -> &'static str {
    match v {
        "1.0" => "TLSv1_0",
        "1.1" => "TLSv1_1",
        "1.2" => "TLSv1_2",
        "1.3" => "TLSv1_3",
        _ => "TLS_AUTO",
    }
}

fn downstream_tls(t: &crate::api::ctp::ClientTls) -> DownstreamTls {
    let d = DownstreamTls::default();
    let resumption = t.session.as_ref().and_then(|s| s.resumption.as_ref());
    DownstreamTls {
        min_version: t.min_version.as_deref().map_or(d.min_version, tls_version),
        max_version: t.max_version.as_deref().map_or(d.max_version, tls_version),
        ciphers: t.ciphers.clone().unwrap_or_default(),
        ecdh_curves: t.ecdh_curves.clone().unwrap_or_default(),
        signature_algorithms: t.signature_algorithms.clone().unwrap_or_default(),
        alpn: t.alpn_protocols.clone(),
        stateful_resumption: resumption.is_some_and(|r| r.stateful.is_some()),
        stateless_resumption: resumption.is_some_and(|r| r.stateless.is_some()),
    }
}

/// Why a policy cannot be translated (Envoy Gateway's message), and the field at fault.
pub(super) type Failed = (String, String);

/// Envoy Gateway's translation of a policy, or its error message.
pub(super) fn settings(s: &ClientTrafficPolicySpec, ns: &str, index: &crate::resolve::backend::Index) -> Result<ClientSettings, Failed> {
    let at = |msg: String| (msg, "/spec/connection/bufferLimit".to_string());
    let validation = match s.tls.as_ref().and_then(|t| t.client_validation.as_ref()) {
        Some(v) => client_validation(v, ns, index)?.map(Arc::new),
        None => None,
    };
    let h = s.timeout.as_ref().and_then(|t| t.http.as_ref());
    let tcp = s.timeout.as_ref().and_then(|t| t.tcp.as_ref());
    let hs = s.headers.as_ref();
    let c = s.connection.as_ref();
    let l = c.and_then(|c| c.connection_limit.as_ref());
    let ms = |d: &Option<String>| d.as_deref().and_then(duration_ms);
    let http2 = match &s.http2 {
        Some(h) => Some(crate::resolve::traffic_http::http2(h).map_err(|m| (m, "/spec/http2".to_string()))?),
        None => None,
    };
    let buffer_limit = match c.and_then(|c| c.buffer_limit.as_ref()) {
        Some(q) => {
            let bytes = crate::resolve::traffic::quantity_bytes(q).ok_or_else(|| at("Connection: invalid BufferLimit value".into()))?;
            Some(u32::try_from(bytes).map_err(|_| at(format!("Connection: BufferLimit value {bytes} is out of range, must be between 0 and {}", u32::MAX)))?)
        }
        None => None,
    };
    Ok(ClientSettings {
        connection_limit: l.and_then(|l| l.value.map(|v| (v, ms(&l.close_delay)))),
        max_connection_duration_ms: l.and_then(|l| ms(&l.max_connection_duration)),
        max_requests_per_connection: l.and_then(|l| l.max_requests_per_connection),
        max_stream_duration_ms: l.and_then(|l| ms(&l.max_stream_duration)),
        buffer_limit,
        max_accept_per_socket_event: c.and_then(|c| c.max_accept_per_socket_event),
        tls: s.tls.as_ref().map(|t| Arc::new(downstream_tls(t))),
        client_ip: s.client_ip_detection.as_ref().and_then(client_ip),
        client_validation: validation,
        http1: match &s.http1 {
            Some(h) => Some(Http1 {
                trailers: h.enable_trailers.unwrap_or(false),
                preserve_case: h.preserve_header_case.unwrap_or(false),
                http10: h.http10.as_ref().map(|_| None),
                http10_listener_host: h.http10.as_ref().and_then(|x| x.use_default_host).unwrap_or(false),
                ignored_upgrades: h
                    .ignored_upgrade_types
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, m)| crate::resolve::traffic_http::value_match(m).map_err(|e| (format!("HTTP1: {e}"), format!("/spec/http1/ignoredUpgradeTypes/{i}"))))
                    .collect::<Result<_, _>>()?,
            }),
            None => None,
        },
        http1_safe_max_connection_duration: !s.http1.as_ref().and_then(|h| h.disable_safe_max_connection_duration).unwrap_or(false),
        // proxyProtocol wins over the older enableProxyProtocol.
        proxy_protocol: match (&s.proxy_protocol, s.enable_proxy_protocol) {
            (Some(p), _) => Some(p.optional.unwrap_or(false)),
            (None, Some(true)) => Some(false),
            (None, _) => None,
        },
        xfcc: s.headers.as_ref().and_then(|h| h.x_forwarded_client_cert.as_ref()).map(|x| {
            let mode = match x.mode.as_deref() {
                Some("ForwardOnly") => "FORWARD_ONLY",
                Some("AppendForward") => "APPEND_FORWARD",
                Some("SanitizeSet") => "SANITIZE_SET",
                Some("AlwaysForwardOnly") => "ALWAYS_FORWARD_ONLY",
                _ => "SANITIZE",
            };
            let details = if matches!(mode, "APPEND_FORWARD" | "SANITIZE_SET") { x.cert_details_to_add.clone() } else { Vec::new() };
            (mode, details)
        }),
        // requestID wins over the deprecated preserveXRequestID (true: Preserve, as Envoy
        // Gateway maps it).
        request_id: s.headers.as_ref().and_then(|h| match (h.request_id.as_deref(), h.preserve_x_request_id) {
            (Some("PreserveOrGenerate"), _) => Some((true, true)),
            (Some("Preserve"), _) | (None, Some(true)) => Some((true, false)),
            (Some("Generate"), _) => Some((false, true)),
            (Some(_), _) => Some((false, false)),
            (None, _) => None,
        }),
        headers_with_underscores: s.headers.as_ref().and_then(|h| h.with_underscores_action.as_deref()).map(|a| match a {
            "Allow" => "ALLOW",
            "DropHeader" => "DROP_HEADER",
            _ => "REJECT_REQUEST",
        }),
        merge_slashes: s.path.as_ref().and_then(|p| p.disable_merge_slashes).map(|d| !d),
        escaped_slashes: s.path.as_ref().and_then(|p| p.escaped_slashes_action.as_deref()).map(|a| match a {
            "KeepUnchanged" => "KEEP_UNCHANGED",
            "RejectRequest" => "REJECT_REQUEST",
            "UnescapeAndForward" => "UNESCAPE_AND_FORWARD",
            _ => "UNESCAPE_AND_REDIRECT",
        }),
        health_check_path: s.health_check.as_ref().map(|h| h.path.clone()),
        idle_timeout_ms: h.and_then(|h| h.idle_timeout.as_deref()).and_then(duration_ms),
        request_timeout_ms: h.and_then(|h| h.request_received_timeout.as_deref()).and_then(duration_ms),
        stream_idle_timeout_ms: h.and_then(|h| h.stream_idle_timeout.as_deref()).and_then(duration_ms),
        request_headers_timeout_ms: h.and_then(|h| h.request_headers_received_timeout.as_deref()).and_then(duration_ms),
        http2,
        tcp_idle_timeout_ms: tcp.and_then(|t| ms(&t.idle_timeout)),
        inspection_timeout_ms: tcp.and_then(|t| ms(&t.connection_inspection_timeout)),
        tls_handshake_timeout_ms: tcp.and_then(|t| ms(&t.tls_handshake_timeout)),
        // Whole seconds, as Envoy Gateway truncates them.
        early_request_headers: match hs.and_then(|h| h.early_request_headers.as_ref()) {
            Some(m) => Some(header_changes(m, "/spec/headers/earlyRequestHeaders")?),
            None => None,
        },
        late_response_headers: match hs.and_then(|h| h.late_response_headers.as_ref()) {
            Some(m) => Some(header_changes(m, "/spec/headers/lateResponseHeaders")?),
            None => None,
        },
        envoy_headers: hs.and_then(|h| h.enable_envoy_headers).unwrap_or(false),
        no_rate_limit_headers: hs.and_then(|h| h.disable_rate_limit_headers).unwrap_or(false),
        grpc_web: s.grpc.as_ref().and_then(|g| g.enable_web).unwrap_or(false),
        scheme_matches_backend: s.scheme.as_deref() == Some("MatchBackend"),
        strip_trailing_host_dot: hs.and_then(|h| h.host.as_ref()).and_then(|h| h.strip_trailing_host_dot).unwrap_or(false),
        keepalive: s.tcp_keepalive.as_ref().map(|k| Keepalive { probes: k.probes, idle_s: ms(&k.idle_time).map(|m| m / 1000), interval_s: ms(&k.interval).map(|m| m / 1000) }),
    })
}
