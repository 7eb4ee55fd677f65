//! A ClientTrafficPolicy's settings in Envoy's terms: the connection manager's fields, the
//! original-IP detection extension, the connection limit and the PROXY protocol filter.

use super::{header_mutation, http_filters, policy};
use super::types::*;
use crate::ir;
use crate::resolve::ctp::ClientSettings;

pub(super) const CONNECTION_LIMIT: &str = "type.googleapis.com/envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit";

/// A ClientTrafficPolicy's settings over Envoy Gateway's defaults.
pub(super) fn client_settings(h: &mut HttpConnectionManager, c: &ClientSettings) {
    if let Some(a) = c.headers_with_underscores {
        h.common_http_protocol_options.headers_with_underscores_action = a;
    }
    h.common_http_protocol_options.idle_timeout = c.idle_timeout_ms.map(policy::duration);
    h.common_http_protocol_options.max_connection_duration = c.max_connection_duration_ms.map(policy::duration);
    h.http1_safe_max_connection_duration = c.max_connection_duration_ms.is_some() && c.http1_safe_max_connection_duration;
    h.common_http_protocol_options.max_requests_per_connection = c.max_requests_per_connection;
    h.common_http_protocol_options.max_stream_duration = c.max_stream_duration_ms.map(policy::duration);
    h.request_timeout = c.request_timeout_ms.map(policy::duration);
    if let Some((preserve, generate)) = c.request_id {
        (h.preserve_external_request_id, h.generate_request_id) = (Some(preserve), Some(generate));
    }
    if let Some(m) = c.merge_slashes {
        h.merge_slashes = m;
    }
    if let Some(a) = c.escaped_slashes {
        h.path_with_escaped_slashes_action = a;
    }
    if let Some(h1) = &c.http1 {
        h.http_protocol_options = Some(Http1ProtocolOptions {
            enable_trailers: h1.trailers,
            accept_http_10: h1.http10.is_some(),
            default_host_for_http_10: h1.http10.clone().flatten(),
            header_key_format: h1.preserve_case.then(HeaderKeyFormat::preserve_case),
            ignore_http_11_upgrade: h1.ignored_upgrades.iter().map(|m| StringMatcher::of_value(m, false)).collect(),
        });
    }
    if let Some(h2) = &c.http2 {
        // Envoy Gateway's defaults where the policy is silent (as without a policy).
        let up = policy::upstream_http2(Some(h2));
        h.http2_protocol_options = Http2ProtocolOptions {
            max_concurrent_streams: h2.max_concurrent_streams.unwrap_or(100),
            initial_stream_window_size: up.initial_stream_window_size,
            initial_connection_window_size: up.initial_connection_window_size,
            override_stream_error_on_invalid_http_message: up.override_stream_error_on_invalid_http_message,
            connection_keepalive: up.connection_keepalive,
        };
    }
    h.stream_idle_timeout = c.stream_idle_timeout_ms.map(policy::duration);
    h.request_headers_timeout = c.request_headers_timeout_ms.map(policy::duration);
    if let Some((mode, details)) = &c.xfcc {
        h.forward_client_cert_details = Some(mode);
        if !details.is_empty() {
            let has = |d: &str| details.iter().any(|x| x == d);
            h.set_current_client_cert_details = Some(ClientCertDetails { subject: has("Subject"), cert: has("Cert"), chain: has("Chain"), dns: has("DNS"), uri: has("URI") });
        }
    }
    if let Some(ip) = &c.client_ip {
        // An extension finds the client; Envoy then does not take the peer's address.
        h.use_remote_address = false;
        h.original_ip_detection_extensions = vec![ip_detection(ip)];
    }
    if c.grpc_web && !h.http_filters.iter().any(|f| f.name == "envoy.filters.http.grpc_web") {
        h.http_filters.insert(0, super::grpc_web_filter());
    }
    if c.scheme_matches_backend {
        h.scheme_header_transformation = Some(SchemeTransformation { match_upstream: true });
    }
    if let Some(path) = &c.health_check_path {
        // Answered by Envoy itself, before any other filter.
        h.http_filters.insert(0, HttpFilter { name: "envoy.filters.http.health_check".into(), typed_config: FilterConfig::HealthCheck(http_filters::health_check(path)), disabled: false });
    }
    if let Some(early) = &c.early_request_headers {
        h.early_header_mutation_extensions = vec![header_mutation::early(early)];
    }
    if let Some(late) = &c.late_response_headers {
        // First in the chain, so it changes every response last.
        h.http_filters.insert(0, header_mutation::late(late));
    }
    h.strip_trailing_host_dot = c.strip_trailing_host_dot;
    for f in &mut h.http_filters {
        match &mut f.typed_config {
            FilterConfig::Router(r) => r.suppress_envoy_headers = !c.envoy_headers,
            FilterConfig::RateLimit(r) if c.no_rate_limit_headers => r.enable_x_ratelimit_headers = "OFF",
            _ => {}
        }
    }
    if c.no_rate_limit_headers {
        // The local limits' headers are each route's setting.
        for r in h.route_config.virtual_hosts.iter_mut().flat_map(|v| v.routes.iter_mut()) {
            if let Some(l) = r.typed_per_filter_config.as_mut().and_then(|p| p.local_ratelimit.as_mut()) {
                l.enable_x_ratelimit_headers = None;
            }
        }
    }
}

fn ip_detection(ip: &crate::resolve::ctp::ClientIp) -> IpDetection {
    use crate::resolve::ctp::ClientIp;
    match ip {
        ClientIp::Xff { trusted_hops, trusted_cidrs, skip_append } => IpDetection {
            name: "envoy.extensions.http.original_ip_detection.xff",
            typed_config: IpDetectionConfig::Xff(XffConfig {
                type_: "type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig",
                xff_num_trusted_hops: trusted_hops.filter(|n| *n > 0),
                xff_trusted_cidrs: (!trusted_cidrs.is_empty()).then(|| XffTrustedCidrs { cidrs: trusted_cidrs.iter().map(|(net, len)| CidrRange { address_prefix: net.clone(), prefix_len: *len }).collect() }),
                skip_xff_append: *skip_append,
            }),
        },
        ClientIp::Header { name, fail_closed } => IpDetection {
            name: "envoy.extensions.http.original_ip_detection.custom_header",
            typed_config: IpDetectionConfig::Header(CustomHeaderConfig {
                type_: "type.googleapis.com/envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig",
                header_name: name.clone(),
                allow_extension_to_set_address_as_trusted: true,
                reject_with_status: fail_closed.then_some(HttpStatus { code: 403 }),
            }),
        },
    }
}


/// The PROXY protocol listener filter of a port, if a route table or proxy of it asks for
/// one: the filter reads the header first, for every chain of the port, so it is on when one
/// asks and optional only when all that ask allow that.
pub(super) fn proxy_protocol_filter(p: &ir::PortIr) -> Option<ListenerFilter> {
    let asked: Vec<bool> = p.client_settings().iter().filter_map(|c| c.proxy_protocol).collect();
    (!asked.is_empty()).then(|| ListenerFilter {
        name: "envoy.filters.listener.proxy_protocol",
        typed_config: ListenerFilterConfig::ProxyProtocol(ProxyProtocolConfig {
            type_: "type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol",
            allow_requests_without_proxy_protocol: asked.iter().all(|o| *o),
        }),
    })
}

/// The connection limit filter of a chain whose policy sets one.
pub(super) fn connection_limit(name: &str, c: Option<&ClientSettings>) -> Option<NetworkFilter> {
    let (max, delay) = c?.connection_limit?;
    Some(NetworkFilter {
        name: "envoy.filters.network.connection_limit",
        typed_config: NetworkConfig::ConnectionLimit(ConnectionLimit { type_: CONNECTION_LIMIT, stat_prefix: name.to_string(), max_connections: max, delay: delay.map(policy::duration) }),
    })
}

/// TCP keepalive as listener socket options (Linux: SOL_SOCKET SO_KEEPALIVE; IPPROTO_TCP
/// TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL), as Envoy Gateway writes them.
pub(super) fn keepalive_options(k: &crate::resolve::ctp::Keepalive) -> Vec<SocketOption> {
    let opt = |level: i64, name: i64, value: u64| SocketOption { level, name, int_value: value };
    let mut out = vec![opt(1, 9, 1)];
    out.extend(k.probes.map(|n| opt(6, 6, u64::from(n))));
    out.extend(k.idle_s.map(|s| opt(6, 4, s)));
    out.extend(k.interval_s.map(|s| opt(6, 5, s)));
    out
}
