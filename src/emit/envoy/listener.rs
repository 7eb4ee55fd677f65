//! The Envoy listener of one port: its listener filters (PROXY protocol, TLS inspector),
//! socket settings and filter chains (a route table, TLS chains by SNI, a TCP or UDP proxy),
//! and the downstream TLS of terminating chains.

use super::*;

const TLS_INSPECTOR: &str = "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector";
const DOWNSTREAM_TLS: &str = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";

pub(super) fn listener(p: &ir::PortIr, g: &GatewayIr, opts: &EnvoyOptions) -> Listener {
    let domain = |table: &str| crate::names::rate_limit_domain(&g.namespace, &g.name, table);
    // Socket settings are the Envoy listener's, so the port's: the first route table's (or
    // proxy's) policy.
    let tables = p.client_settings();
    let client = tables.first().copied();
    let buffer_limit = client.and_then(|c| c.buffer_limit).unwrap_or(BUFFER_LIMIT_BYTES);
    let accept = match client.and_then(|c| c.max_accept_per_socket_event) {
        Some(0) => None,
        Some(n) => Some(n),
        None => Some(1),
    };
    let proxy_protocol = client::proxy_protocol_filter(p);
    let tcp_listener = |listener_filters: Vec<ListenerFilter>, filter_chains| Listener {
        name: p.name.clone(),
        address: Some(Address::new(&opts.bind_address, p.bind_port)),
        internal_listener: None,
        listener_filters: proxy_protocol.into_iter().chain(listener_filters).collect(),
        filter_chains,
        per_connection_buffer_limit_bytes: Some(buffer_limit),
        max_connections_to_accept_per_socket_event: accept,
        socket_options: client.and_then(|c| c.keepalive.as_ref()).map(client::keepalive_options).unwrap_or_default(),
        listener_filters_timeout: client.and_then(|c| c.inspection_timeout_ms).map(policy::duration),
    };
    let chain = |name, filters| FilterChain { name, filter_chain_match: None, filters, transport_socket: None, transport_socket_connect_timeout: None };
    let mut l = match &p.transport {
        ir::Transport::Http { virtual_hosts, client } => tcp_listener(Vec::new(), vec![chain(None, hcm_with(&p.name, virtual_hosts, None, &domain(&p.name), client.as_deref(), opts.secrets_dir.as_deref()))]),
        ir::Transport::Tls { chains } => {
            let inspector = ListenerFilter { name: "envoy.filters.listener.tls_inspector", typed_config: ListenerFilterConfig::Empty(TypedEmpty { type_: TLS_INSPECTOR }) };
            tcp_listener(vec![inspector], chains.iter().map(|c| tls_chain(c, &domain(&c.name), opts)).collect())
        }
        ir::Transport::Tcp { proxy } => tcp_listener(Vec::new(), vec![chain(Some(proxy.name.clone()), stream::tcp_filters(proxy))]),
        ir::Transport::Udp { proxy } => Listener {
            name: p.name.clone(),
            address: Some(Address::udp(&opts.bind_address, p.bind_port)),
            internal_listener: None,
            listener_filters: vec![stream::udp_proxy(proxy)],
            filter_chains: Vec::new(),
            per_connection_buffer_limit_bytes: None,
            max_connections_to_accept_per_socket_event: None,
            socket_options: Vec::new(),
            listener_filters_timeout: None,
        },
    };
    if g.infra.proxy.access_log != crate::resolve::AccessLogIr::Default {
        set_access_logs(&mut l, &super::access_log::access_logs(&g.infra.proxy));
    }
    if !g.infra.proxy.filter_order.is_empty() {
        for f in l.filter_chains.iter_mut().flat_map(|c| c.filters.iter_mut()) {
            if let NetworkConfig::Hcm(h) = &mut f.typed_config {
                super::http_filters::reorder(&mut h.http_filters, &g.infra.proxy.filter_order);
            }
        }
    }
    if let Some(t) = &g.infra.proxy.tracing {
        let t = super::tracing::hcm_tracing(t);
        for f in l.filter_chains.iter_mut().flat_map(|c| c.filters.iter_mut()) {
            if let NetworkConfig::Hcm(h) = &mut f.typed_config {
                h.tracing = Some(Box::new(t.clone()));
            }
        }
    }
    l
}

/// Every access log of a listener (its connection managers', TCP and UDP proxies') as the
/// EnvoyProxy says.
fn set_access_logs(l: &mut Listener, logs: &[AccessLog]) {
    for f in l.filter_chains.iter_mut().flat_map(|c| c.filters.iter_mut()) {
        match &mut f.typed_config {
            NetworkConfig::Hcm(h) => h.access_log = logs.to_vec(),
            NetworkConfig::TcpProxy(t) => t.access_log = logs.to_vec(),
            _ => {}
        }
    }
    for f in &mut l.listener_filters {
        if let ListenerFilterConfig::UdpProxy(u) = &mut f.typed_config {
            u.access_log = logs.to_vec();
        }
    }
}

/// One TLS filter chain, selected by SNI: an HTTPS listener's route table, or a TCP proxy
/// (terminating with the chain's certificates, or passing the bytes through without any).
fn tls_chain(c: &ir::TlsChainIr, domain: &str, opts: &EnvoyOptions) -> FilterChain {
    let client = match &c.serves {
        ir::ChainServes::Http { client, .. } => client.as_deref(),
        ir::ChainServes::Proxy(p) => p.client.as_deref(),
    };
    let (filters, transport_socket) = match &c.serves {
        ir::ChainServes::Http { virtual_hosts, http2, client, .. } => {
            // The policy's ALPN list, else h2 and HTTP/1.1 (HTTP/1.1 alone where certificates
            // overlap, against connection coalescing).
            let alpn = c.tls.alpn.clone().unwrap_or_else(|| if *http2 { vec!["h2".into(), "http/1.1".into()] } else { vec!["http/1.1".into()] });
            (hcm_with(&c.name, virtual_hosts, misdirected_host(c), domain, client.as_deref(), opts.secrets_dir.as_deref()), Some(tls_context(c, alpn, opts)))
        }
        ir::ChainServes::Proxy(proxy) => (stream::tcp_filters(proxy), (!c.certificates.is_empty()).then(|| tls_context(c, c.tls.alpn.clone().unwrap_or_default(), opts))),
    };
    FilterChain {
        name: Some(c.name.clone()),
        filter_chain_match: (!c.server_names.is_empty()).then(|| FilterChainMatch { server_names: c.server_names.clone() }),
        transport_socket_connect_timeout: client.and_then(|c| c.tls_handshake_timeout_ms).filter(|_| transport_socket.is_some()).map(policy::duration),
        filters,
        transport_socket,
    }
}

/// A certificate and its key, inline or as files under `--secrets-dir`.
pub(super) fn certificate_sources(cert: &crate::resolve::tls::Certificate, opts: &EnvoyOptions) -> TlsCertificate {
    let source = |key: bool| match &opts.secrets_dir {
        None => DataSource { inline_string: Some(if key { cert.key_pem.clone() } else { cert.chain_pem.clone() }), filename: None },
        Some(dir) => {
            let (crt, k) = crate::names::certificate_files(dir, &cert.secret);
            DataSource { inline_string: None, filename: Some((if key { k } else { crt }).display().to_string()) }
        }
    };
    TlsCertificate { certificate_chain: source(false), private_key: source(true) }
}

/// The chain's certificates, inline or as files under `--secrets-dir`.
fn tls_context(c: &ir::TlsChainIr, alpn: Vec<String>, opts: &EnvoyOptions) -> TransportSocket {
    let t = &c.tls;
    TransportSocket {
        name: "envoy.transport_sockets.tls",
        typed_config: DownstreamTlsContext {
            type_: DOWNSTREAM_TLS,
            // Session resumption is off unless a policy turns it on, as Envoy Gateway has it.
            disable_stateful_session_resumption: !t.stateful_resumption,
            disable_stateless_session_resumption: !t.stateless_resumption,
            common_tls_context: CommonTlsContext {
                tls_params: TlsParameters {
                    tls_minimum_protocol_version: t.min_version,
                    tls_maximum_protocol_version: t.max_version,
                    cipher_suites: t.ciphers.clone(),
                    ecdh_curves: t.ecdh_curves.clone(),
                    signature_algorithms: t.signature_algorithms.clone(),
                },
                tls_certificates: c.certificates.iter().map(|cert| certificate_sources(cert, opts)).collect(),
                // Client certificates: asked for and verified against the CA bundle (public,
                // so inline); required unless the mode is AllowInsecureFallback.
                validation_context: c
                    .client_validation
                    .as_ref()
                    .map(|v| CertificateValidationContext {
                        trusted_ca: DataSource { inline_string: Some(v.ca_pem.clone()), filename: None },
                        match_typed_subject_alt_names: v.subject_alt_names.iter().map(|n| SanMatcher { san_type: n.san_type, matcher: StringMatcher::of_value(&n.value, false), oid: n.oid.clone() }).collect(),
                        verify_certificate_spki: v.spki_hashes.clone(),
                        verify_certificate_hash: v.certificate_hashes.clone(),
                        allow_expired_certificate: v.allow_expired,
                        trust_chain_verification: v.accept_untrusted.then_some("ACCEPT_UNTRUSTED"),
                        crl: v.crl.as_ref().map(|(pem, _)| DataSource { inline_string: Some(pem.clone()), filename: None }),
                        only_verify_leaf_cert_crl: v.crl.as_ref().is_some_and(|(_, leaf)| *leaf),
                    }),
                alpn_protocols: alpn,
            },
            require_client_certificate: c.client_validation.as_ref().map(|v| !v.optional),
        },
    }
}

/// The virtual host answering 421 for hosts another HTTPS listener of the port owns.
fn misdirected_host(c: &ir::TlsChainIr) -> Option<VirtualHost> {
    let ir::ChainServes::Http { misdirected, .. } = &c.serves else {
        return None;
    };
    if misdirected.is_empty() {
        return None;
    }
    Some(VirtualHost {
        name: format!("{}/misdirected", c.name),
        domains: misdirected.clone(),
        routes: vec![Route {
            direct_response: Some(DirectResponse { status: 421, body: None }),
            ..Route::new(
                format!("{}/misdirected", c.name),
                RouteMatch {
                    prefix: Some("/".into()),
                    ..Default::default()
                },
            )
        }],
    })
}
