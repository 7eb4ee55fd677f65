//! Every name the output uses (clusters, listeners, routes, virtual hosts, files), built here
//! and nowhere else, so they stay consistent between stages and stable across releases.

/// Cluster of one key: `service/<namespace>/<name>/<port>` (an Envoy Gateway Backend:
/// `backend/<namespace>/<name>`), then a suffix for each setting
/// that differs from the default (`/h2c`), so that different keys never share a name.
pub fn cluster(key: &crate::ir::ClusterKey) -> String {
    if let Some(r) = &key.route {
        let mut name = format!("{}/{}/{}", r.kind.name().to_lowercase(), r.namespace, r.name);
        if let Some(i) = key.rule {
            name.push_str(&format!("/rule/{i}"));
        }
        if let Some(h) = key.http1 {
            if h.trailers {
                name.push_str("/trailers");
            }
            if h.preserve_case {
                name.push_str("/preserve-case");
            }
        }
        if let Some(p) = &key.policy {
            name.push_str(&format!("/policy-{:08x}", settings_hash(p)));
        }
        return name;
    }
    let mut name = match key.kind {
        crate::resolve::backend::TargetKind::Service => format!("service/{}/{}/{}", key.namespace, key.service, key.port),
        crate::resolve::backend::TargetKind::Backend => format!("backend/{}/{}", key.namespace, key.service),
    };
    // HTTP/2 is h2c in clear text and h2 over TLS.
    match (key.protocol, key.tls.is_some()) {
        (crate::ir::UpstreamProtocol::H2c, false) => name.push_str("/h2c"),
        (crate::ir::UpstreamProtocol::H2c, true) => name.push_str("/h2"),
        (crate::ir::UpstreamProtocol::Udp, _) => name.push_str("/udp"),
        (crate::ir::UpstreamProtocol::Http1, _) => {}
    }
    if key.tls.is_some() {
        name.push_str("/tls");
    }
    if let Some(h) = key.http1 {
        if h.trailers {
            name.push_str("/trailers");
        }
        if h.preserve_case {
            name.push_str("/preserve-case");
        }
    }
    if let Some(p) = &key.policy {
        name.push_str(&format!("/policy-{:08x}", settings_hash(p)));
    }
    name
}

/// The rate-limit service's domain of one route table of a Gateway: `<ns>/<name>/<table>`.
pub fn rate_limit_domain(namespace: &str, name: &str, table: &str) -> String {
    format!("{namespace}/{name}/{table}")
}

/// The cluster of the rate-limit service.
pub fn rate_limit_cluster() -> &'static str {
    "ratelimit_cluster"
}

/// The rate-limit service's configuration of one domain, in the Gateway's directory:
/// `ratelimit/<table>.yaml`.
pub fn rate_limit_config_file(table_domain: &str) -> std::path::PathBuf {
    let table = table_domain.rsplit('/').next().unwrap_or(table_domain);
    std::path::Path::new("ratelimit").join(format!("{table}.yaml"))
}

/// The ConfigMap `render` writes the rate-limit service's configuration into, for the
/// service's pods to mount: `<infra name>-ratelimit`.
pub fn rate_limit_config_map(infra: &str) -> String {
    format!("{infra}-ratelimit")
}

/// The cluster of a URI Envoy calls itself (a remote JWKS, an OIDC token endpoint): its
/// host and port, as Envoy Gateway names it.
pub fn host_cluster(host: &str, port: u32) -> String {
    format!("{}_{port}", host.replace('.', "_"))
}

/// The ext_authz filter of a SecurityPolicy, as Envoy Gateway names it.
pub fn ext_auth_filter(policy: &crate::id::ObjectKey) -> String {
    format!("envoy.filters.http.ext_authz/securitypolicy/{}/{}", policy.namespace, policy.name)
}

/// The cluster of a SecurityPolicy's external authorization service.
pub fn ext_auth_cluster(policy: &crate::id::ObjectKey) -> String {
    format!("securitypolicy/{}/{}/extauth/0", policy.namespace, policy.name)
}

/// The Lua filter of an EnvoyExtensionPolicy's script `i` (Envoy Gateway's name).
pub fn lua_filter(policy: &crate::id::ObjectKey, i: usize) -> String {
    format!("envoy.filters.http.lua/envoyextensionpolicy/{}/{}/lua/{i}", policy.namespace, policy.name)
}

/// The ext_proc filter of an EnvoyExtensionPolicy's processor `i` (Envoy Gateway's name).
pub fn ext_proc_filter(policy: &crate::id::ObjectKey, i: usize) -> String {
    format!("envoy.filters.http.ext_proc/envoyextensionpolicy/{}/{}/extproc/{i}", policy.namespace, policy.name)
}

/// The cluster of an EnvoyExtensionPolicy's processor `i`, named after its first backendRef
/// (Envoy Gateway's name).
pub fn ext_proc_cluster(policy: &crate::id::ObjectKey, i: usize, backend: &str) -> String {
    format!("envoyextensionpolicy/{}/{}/{i}/{backend}", policy.namespace, policy.name)
}

/// The cluster of a SecurityPolicy's upstream reached through its backendRefs (a remote key
/// set: `what` is `jwks/<provider>`; the OIDC token endpoint: `oidc`).
pub fn policy_backend_cluster(policy: &crate::id::ObjectKey, what: &str) -> String {
    format!("securitypolicy/{}/{}/{what}", policy.namespace, policy.name)
}

/// The oauth2 filter of a SecurityPolicy's OIDC login.
pub fn oauth2_filter(policy: &crate::id::ObjectKey) -> String {
    format!("envoy.filters.http.oauth2/securitypolicy/{}/{}", policy.namespace, policy.name)
}

/// A bootstrap secret of a SecurityPolicy's OIDC login (`what`: client-secret, hmac).
pub fn oauth2_secret(policy: &crate::id::ObjectKey, what: &str) -> String {
    format!("securitypolicy/{}/{}/oauth2/{what}", policy.namespace, policy.name)
}

/// The file of a bootstrap secret (see [`oauth2_secret`]) when secrets go to files.
pub fn oauth2_secret_file(dir: &std::path::Path, secret: &str) -> std::path::PathBuf {
    dir.join(secret)
}

/// The credential_injector filter of an HTTPRouteFilter.
pub fn credential_filter(filter: &crate::id::ObjectKey) -> String {
    format!("envoy.filters.http.credential_injector/httproutefilter/{}/{}", filter.namespace, filter.name)
}

/// The bootstrap secret of an HTTPRouteFilter's injected credential.
pub fn credential_secret(filter: &crate::id::ObjectKey) -> String {
    format!("httproutefilter/{}/{}/credential", filter.namespace, filter.name)
}

/// The Secret that holds a bootstrap carrying credentials (API keys), instead of its ConfigMap.
pub fn bootstrap_secret(infra: &str) -> String {
    format!("{infra}-bootstrap")
}

/// The custom_response filter of one set of response overrides:
/// `envoy.filters.http.custom_response/<digest>`, one filter for equal sets.
pub fn custom_response(ro: &crate::resolve::traffic_http::ResponseOverrides) -> String {
    format!("envoy.filters.http.custom_response/{:08x}", settings_hash(ro))
}

/// A short, stable digest of settings (FNV-1a, 32 bits, over their debug form): equal
/// settings give one name whichever policy they came from, on every machine and run.
fn settings_hash(p: &impl std::fmt::Debug) -> u32 {
    format!("{p:?}").bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// Listener (and its route configuration) for one port: `http-<port>` or `https-<port>`.
pub fn listener(port: u32, https: bool) -> String {
    if https { format!("https-{port}") } else { format!("http-{port}") }
}

/// Envoy listener of a TLS port (HTTPS and TLS listeners by SNI): `tls-<port>`; of a TCP or
/// UDP port: `tcp-<port>`, `udp-<port>` (a TCP and a UDP listener may share a number).
pub fn stream_listener(transport: &str, port: u32) -> String {
    format!("{transport}-{port}")
}

/// The TLS chain of one route on one TLS listener: `tls-<port>/<listener>/<kind>/<ns>/<name>`.
pub fn stream_chain(port: u32, listener: &str, route: &crate::id::ObjectKey) -> String {
    format!(
        "tls-{port}/{listener}/{}/{}/{}",
        route.kind.name().to_lowercase(),
        route.namespace,
        route.name
    )
}

/// Stat prefix of a route's TCP or UDP proxy: `<kind>/<ns>/<name>`.
pub fn stream_proxy(route: &crate::id::ObjectKey) -> String {
    format!(
        "{}/{}/{}",
        route.kind.name().to_lowercase(),
        route.namespace,
        route.name
    )
}

/// A listener in the names of its chains: a Gateway's by its name; a ListenerSet's
/// `listenerset/<namespace>/<name>/<listener>`, which no Gateway listener name can be (a
/// name has no `/`).
pub fn listener_label(id: &crate::id::ListenerId) -> String {
    if id.parent.kind == crate::api::Kind::ListenerSet {
        format!("listenerset/{}/{}/{}", id.parent.namespace, id.parent.name, id.section)
    } else {
        id.section.clone()
    }
}

/// The TLS filter chain (and its route configuration) of one HTTPS Gateway listener:
/// `https-<port>/<listener name>`.
pub fn tls_chain(port: u32, listener: &str) -> String {
    format!("https-{port}/{listener}")
}

/// Virtual host for one hostname on one port: `http-<port>/<hostname>` (`*` spelled `wildcard`).
pub fn virtual_host(port: u32, hostname: &str) -> String {
    format!("http-{port}/{}", hostname.replace('*', "wildcard"))
}

/// Route of one match of one rule: `httproute/<namespace>/<name>/rule/<i>/match/<j>`.
pub fn route(rule: &crate::id::RuleId, m: usize) -> String {
    let r = &rule.route;
    format!("{}/{}/{}/rule/{}/match/{m}", r.kind.name().to_lowercase(), r.namespace, r.name, rule.index)
}

/// Port Envoy binds for a listener port: ports below 1024 move up by 10000 (as Envoy Gateway
/// does, so Envoy needs no privilege); clients still see the listener port.
pub fn bound_port(port: u32) -> u32 {
    if port < 1024 { port + 10000 } else { port }
}

/// Output directory of one Gateway's files, relative to `--output-dir`.
pub fn gateway_dir(namespace: &str, name: &str) -> std::path::PathBuf {
    std::path::Path::new(namespace).join(name)
}

/// File name of a bootstrap in the given format (`yaml` or `json`).
pub fn bootstrap_file(ext: &str) -> String {
    format!("envoy.{ext}")
}

/// Files of one Secret's certificate chain and key under `--secrets-dir`:
/// `<dir>/<namespace>/<name>/tls.crt` and `tls.key` (the Secret's own key names).
pub fn certificate_files(dir: &std::path::Path, secret: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let base = dir.join(secret);
    (base.join("tls.crt"), base.join("tls.key"))
}

/// Session cookie of a rule without `sessionName`: `gw-session-<hash of namespace/name/rule>`,
/// short and stable.
pub fn session_cookie(namespace: &str, route: &str, rule: usize) -> String {
    format!("gw-session-{:08x}", fnv1a(&format!("{namespace}/{route}/{rule}")))
}

/// Session header of a rule without `sessionName`.
pub fn session_header(namespace: &str, route: &str, rule: usize) -> String {
    format!("x-gw-session-{:08x}", fnv1a(&format!("{namespace}/{route}/{rule}")))
}

fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// The cluster of a Gateway's `i`th access log sink (an OpenTelemetry collector).
pub fn access_log_cluster(gateway: &crate::id::ObjectKey, i: usize) -> String {
    format!("accesslog/{}/{}/{i}", gateway.namespace, gateway.name)
}

/// The cluster of a Gateway's tracing collector (Envoy Gateway's name for it).
pub fn tracing_cluster() -> &'static str {
    "tracing"
}

/// Listener (and route) that serves the Prometheus metrics.
pub fn metrics() -> &'static str {
    "metrics"
}

/// Listener (and route) that serves the readiness probe.
pub fn readiness() -> &'static str {
    "readiness"
}

/// Cluster that reaches Envoy's own admin interface (for the readiness probe).
pub fn admin_cluster() -> &'static str {
    "gatewayc-admin"
}

/// Name of the objects that run one Gateway (ConfigMap, Secret, Deployment, Service), in
/// Envoy Gateway's style: `envoy-<namespace>-<name>-<hash>`, at most 63 characters.
pub fn infra(namespace: &str, name: &str) -> String {
    let hash = format!("{:08x}", fnv1a(&format!("{namespace}/{name}")));
    let mut base = format!("envoy-{namespace}-{name}");
    if base.len() > 54 {
        base.truncate(54);
        while base.ends_with(['-', '.']) {
            base.pop();
        }
    }
    format!("{base}-{hash}").replace('.', "-")
}

/// The L2Advertisement `--metallb-l2` writes.
pub fn l2_advertisement() -> &'static str {
    "gatewayc-l2"
}

/// Internal listener and cluster that answer 500 for invalid backendRefs' share of traffic.
pub fn invalid_backend() -> &'static str {
    "gatewayc-invalid-backend"
}

/// File of one rendered object of a Gateway, under its [`gateway_dir`]: `deployment.yaml`, ...
pub fn manifest_file(kind: &str) -> String {
    format!("{}.yaml", kind.to_lowercase())
}

/// File of one rendered MetalLB object: `<namespace>/metallb/<kind>-<name>.yaml`.
pub fn metallb_file(namespace: &str, kind: &str, name: &str) -> std::path::PathBuf {
    std::path::Path::new(namespace).join("metallb").join(format!("{}-{name}.yaml", kind.to_lowercase()))
}

/// A label value from a name: as it is up to 63 characters (the API server's limit), else its
/// first 54 characters (trailing `-`, `_`, `.` trimmed), `-`, and the first 8 hex digits of its
/// SHA-256, as Envoy Gateway shortens names (`GetHashedName`).
pub fn label_value(v: &str) -> String {
    if v.len() <= 63 {
        return v.to_string();
    }
    use sha2::Digest;
    let hash = format!("{:x}", sha2::Sha256::digest(v.as_bytes()));
    let mut head: String = v.chars().take(54).collect();
    while head.ends_with(['-', '_', '.']) {
        head.pop();
    }
    format!("{head}-{}", &hash[..8])
}

/// The name of a SecurityPolicy's authorization rule that has none: Envoy Gateway's.
pub fn authorization_rule(policy: &crate::id::ObjectKey, index: usize) -> String {
    format!("securitypolicy/{}/{}/authorization/rule/{index}", policy.namespace, policy.name)
}

/// The file of a SecurityPolicy's htpasswd Secret (`namespace/name`) when secrets go to files.
pub fn htpasswd_file(dir: &std::path::Path, secret: &str) -> std::path::PathBuf {
    dir.join(secret).join("htpasswd")
}

#[cfg(test)]
mod tests {
    #[test]
    fn label_values_fit_the_api_server() {
        assert_eq!(super::label_value("web"), "web");
        let long = format!("{}.b", "a".repeat(250));
        let v = super::label_value(&long);
        assert_eq!(v.len(), 63);
        assert!(v.starts_with(&"a".repeat(54)) && v != super::label_value(&format!("{}.c", "a".repeat(250))));
    }
}
