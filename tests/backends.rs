//! Envoy Gateway's Backend kind through a real Envoy: an HTTPRoute to a Backend's IP endpoint
//! on loopback (with --allow-loopback-backends) and to a Unix-socket endpoint, a TCPRoute to a
//! Backend, TLS to a Backend by its own settings and by a BackendTLSPolicy, and what Envoy
//! Gateway refuses (a loopback address without the flag: Accepted=False, the route 500).

mod support;

use support::streams::{tcp_backend, tcp_greeting};
use support::*;

fn backend(name: &str, spec: &str) -> String {
    format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: Backend\nmetadata: {{name: {name}, namespace: default}}\nspec:\n{spec}")
}

fn ip_backend(name: &str, port: u16) -> String {
    backend(name, &format!("  endpoints: [{{ip: {{address: 127.0.0.1, port: {port}}}}}]\n"))
}

/// An HTTPRoute rule per (path, Backend).
fn route_to_backends(rules: &[(&str, &str)]) -> String {
    let mut out = String::from("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: app, namespace: default}\nspec:\n  parentRefs: [{name: gw, sectionName: http}]\n  rules:\n");
    for (path, b) in rules {
        out.push_str(&format!("  - matches: [{{path: {{type: PathPrefix, value: {path}}}}}]\n    backendRefs: [{{group: gateway.envoyproxy.io, kind: Backend, name: {b}}}]\n"));
    }
    out
}

fn gateway(http: u16, tcp: u16) -> String {
    format!(
        "{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n  - {{name: http, protocol: HTTP, port: {http}}}\n  - {{name: db, protocol: TCP, port: {tcp}}}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ip_unix_socket_and_tcp_backends() {
    let Some(envoy) = envoy() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("app.sock");
    let a = echo("ip").await;
    let u = unix_echo("uds", &sock).await;
    let db = tcp_backend("db").await;
    let (http, tcp) = (free_port(), free_port());
    let mut input = gateway(http, tcp);
    input.push_str(&ip_backend("ip", a.addr.port()));
    input.push_str(&backend("uds", &format!("  endpoints: [{{unix: {{path: {}}}}}]\n", sock.display())));
    input.push_str(&ip_backend("db", db.port()));
    input.push_str(&route_to_backends(&[("/ip", "ip"), ("/uds", "uds")]));
    input.push_str("---\napiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute\nmetadata: {name: db, namespace: default}\nspec:\n  parentRefs: [{name: gw, sectionName: db}]\n  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: db}]}]\n");
    let _s = serve(&envoy, &input, &["--allow-loopback-backends"]).await;
    let r = request(http, "GET", "app", "/ip/x", &[]).await.expect("ip");
    assert_eq!((r.status, r.echo()["backend"].as_str(), r.echo()["path"].as_str()), (200, Some("ip"), Some("/ip/x")), "{r:?}");
    let r = request(http, "GET", "app", "/uds/y", &[]).await.expect("uds");
    assert_eq!((r.status, r.echo()["backend"].as_str()), (200, Some("uds")), "{r:?}");
    // The request came over the Unix socket.
    assert_eq!(r.echo()["peer"].as_str(), Some(sock.display().to_string().as_str()));
    assert!(u.wait_for("/uds/y", std::time::Duration::from_secs(1)).await);
    assert_eq!(tcp_greeting(tcp).await.as_deref(), Ok("db"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_is_refused_as_envoy_gateway_does() {
    let Some(envoy) = envoy() else { return };
    let a = echo("a").await;
    let (http, tcp) = (free_port(), free_port());
    let mut input = gateway(http, tcp);
    input.push_str(&ip_backend("local", a.addr.port()));
    input.push_str(&route_to_backends(&[("/", "local")]));
    // A warning for translate (status says it), a failure for validate.
    let s = serve(&envoy, &input, &[]).await;
    assert!(s.stderr.contains("IP address 127.0.0.1 in the loopback range is not supported"), "{}", s.stderr);
    assert_eq!(request(http, "GET", "app", "/", &[]).await.expect("get").status, 500);
    assert_eq!(a.hits(), 0);
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &input);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("backend::invalid"), "{err}");
    let (code, out, err) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    let doc = |kind: &str| out.split("\n---\n").find(|d| d.lines().any(|l| l == format!("kind: {kind}"))).unwrap_or_default().to_string();
    let b = doc("Backend");
    assert!(b.contains("type: Accepted\n    status: \"False\"\n    reason: Invalid\n    message: \"The Backend was not accepted: IP address 127.0.0.1 in the loopback range"), "{b}");
    let route = doc("HTTPRoute");
    assert!(route.contains("type: ResolvedRefs\n      status: \"False\"\n      reason: InvalidAddress"), "{route}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_by_the_backend_and_by_a_policy() {
    let Some(envoy) = envoy() else { return };
    let pki = Pki::new("backend-ca");
    let (cert, key) = pki.leaf(&["api.internal.test"]);
    let b = tls_echo("tls", &cert, &key, None).await;
    let (http, tcp) = (free_port(), free_port());
    let mut input = gateway(http, tcp);
    let ep = format!("  endpoints: [{{ip: {{address: 127.0.0.1, port: {}}}}}]\n", b.addr.port());
    // Its own settings: trust the CA from a ConfigMap, with an SNI the certificate carries.
    input.push_str(&ca_config_map("default", "backend-ca", &pki.ca_pem()));
    input.push_str(&backend("own", &format!("{ep}  tls:\n    caCertificateRefs: [{{group: \"\", kind: ConfigMap, name: backend-ca}}]\n    sni: api.internal.test\n")));
    // The same with a name the certificate does not carry: the handshake fails.
    input.push_str(&backend("wrong-name", &format!("{ep}  tls:\n    caCertificateRefs: [{{group: \"\", kind: ConfigMap, name: backend-ca}}]\n    sni: other.internal.test\n")));
    input.push_str(&backend("skip", &format!("{ep}  tls: {{insecureSkipVerify: true}}\n")));
    // A BackendTLSPolicy targeting a Backend.
    input.push_str(&backend("by-policy", &ep));
    input.push_str("---\napiVersion: gateway.networking.k8s.io/v1\nkind: BackendTLSPolicy\nmetadata: {name: p, namespace: default}\nspec:\n  targetRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: by-policy}]\n  validation:\n    hostname: api.internal.test\n    caCertificateRefs: [{group: \"\", kind: ConfigMap, name: backend-ca}]\n");
    input.push_str(&route_to_backends(&[("/own", "own"), ("/wrong-name", "wrong-name"), ("/skip", "skip"), ("/policy", "by-policy")]));
    let _s = serve(&envoy, &input, &["--allow-loopback-backends"]).await;
    for path in ["/own", "/policy"] {
        let r = request(http, "GET", "app", path, &[]).await.expect(path);
        assert_eq!((r.status, r.echo()["sni"].as_str()), (200, Some("api.internal.test")), "{path}: {r:?}");
    }
    let r = request(http, "GET", "app", "/skip", &[]).await.expect("skip");
    assert_eq!((r.status, r.echo()["backend"].as_str()), (200, Some("tls")), "{r:?}");
    let r = request(http, "GET", "app", "/wrong-name", &[]).await.expect("wrong name");
    assert_eq!(r.status, 503, "{r:?}");
}

/// A Backend's own client certificate, TLS versions and ALPN: a backend that requires a
/// client certificate from the CA gets the Backend's (the Gateway has none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_presents_its_client_certificate() {
    let Some(envoy) = envoy() else { return };
    let pki = Pki::new("mesh-ca");
    let (cert, key) = pki.leaf(&["api.internal.test"]);
    let (client, client_key) = pki.leaf(&["gateway.internal.test"]);
    let b = tls_echo("mtls", &cert, &key, Some(&pki.ca_der)).await;
    let (http, tcp) = (free_port(), free_port());
    let mut input = gateway(http, tcp);
    input.push_str(&ca_config_map("default", "mesh-ca", &pki.ca_pem()));
    input.push_str(&tls_secret("default", "client", &client, &client_key));
    let tls = "  tls:\n    caCertificateRefs: [{group: \"\", kind: ConfigMap, name: mesh-ca}]\n    sni: api.internal.test\n    minVersion: \"1.3\"\n    alpnProtocols: [http/1.1]\n";
    let ep = format!("  endpoints: [{{ip: {{address: 127.0.0.1, port: {}}}}}]\n", b.addr.port());
    input.push_str(&backend("with-cert", &format!("{ep}{tls}    clientCertificateRef: {{name: client}}\n")));
    input.push_str(&backend("without", &format!("{ep}{tls}")));
    input.push_str(&route_to_backends(&[("/with", "with-cert"), ("/without", "without")]));
    let s = serve(&envoy, &input, &["--allow-loopback-backends"]).await;
    assert!(s.bootstrap.contains("tls_minimum_protocol_version: TLSv1_3"), "{}", s.bootstrap);
    let r = request(http, "GET", "app", "/with", &[]).await.expect("with");
    assert_eq!((r.status, r.echo()["client_cert"].as_bool(), r.echo()["version"].as_str()), (200, Some(true), Some("HTTP/1.1")), "{r:?}");
    // Without a certificate the backend refuses the handshake.
    assert_eq!(request(http, "GET", "app", "/without", &[]).await.expect("without").status, 503);
}

#[test]
fn crd_rules_and_what_is_not_implemented() {
    let head = format!("{}{}", gateway(8080, 5432), route_to_backends(&[("/", "b")]));
    for (spec, msg) in [
        ("  endpoints: [{fqdn: {hostname: a.example.com, port: 80}}, {ip: {address: 10.0.0.1, port: 80}}]\n", "fqdn addresses cannot be mixed with other address types"),
        ("  endpoints: [{ip: {address: 10.0.0.1, port: 80}, unix: {path: /x.sock}}]\n", "only one of fqdn, ip or unix can be specified"),
        ("  endpoints: [{ip: {address: 10.0.0.1, port: 80}}]\n  tls: {insecureSkipVerify: true, wellKnownCACertificates: System}\n", "must not contain either CACertificateRefs or WellKnownCACertificates when InsecureSkipVerify is enabled"),
        ("  type: DynamicResolver\n", "Backend type DynamicResolver is not supported yet"),
        ("  endpoints: [{ip: {address: 10.0.0.1, port: 443}}]\n  tls: {insecureSkipVerify: true, fingerprints: [JA3]}\n", "Backend tls.fingerprints is not supported yet"),
    ] {
        let (code, _, err) = gatewayc(&["validate", "-f", "-"], &format!("{head}{}", backend("b", spec)));
        assert_ne!(code, 0, "{spec}");
        assert!(err.contains(msg), "{spec}: {err}");
    }
    // Judged as Envoy Gateway judges a Backend: a one-label name, TLS without trust.
    for (spec, msg) in [
        ("  endpoints: [{fqdn: {hostname: localhost, port: 80}}]\n", "hostname localhost should be a domain with at least two segments separated by dots"),
        ("  endpoints: [{ip: {address: 10.0.0.1, port: 443}}]\n  tls: {sni: api.example.com}\n", "must specify either CACertificateRefs or WellKnownCACertificates when InsecureSkipVerify is unset or false"),
    ] {
        let (code, out, err) = gatewayc(&["status", "-f", "-"], &format!("{head}{}", backend("b", spec)));
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(&format!("The Backend was not accepted: {msg}")), "{spec}: {out}");
    }
    // Fallback Backends share one cluster with the rule's others: TLS must agree.
    let mixed = format!("{}{}{}{}", gateway(8080, 5432), route_to_backends(&[]).trim_end(), "\n  - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: p}, {group: gateway.envoyproxy.io, kind: Backend, name: f}]\n", backend("p", "  endpoints: [{ip: {address: 10.0.0.1, port: 80}}]\n"));
    let mixed = format!("{mixed}{}", backend("f", "  fallback: true\n  endpoints: [{ip: {address: 10.0.0.2, port: 443}}]\n  tls: {insecureSkipVerify: true}\n"));
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &mixed);
    assert_ne!(code, 0);
    assert!(err.contains("a rule with fallback Backends needs the same TLS and protocol"), "{err}");
    // A kind gatewayc does not implement is `unsupported`, not InvalidKind.
    let input = format!("{}---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: mcs, namespace: default}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules: [{{backendRefs: [{{group: multicluster.x-k8s.io, kind: ServiceImport, name: s, port: 80}}]}}]\n", gateway(8080, 5432));
    let (code, _, err) = gatewayc(&["translate", "-f", "-"], &input);
    assert_ne!(code, 0);
    assert!(err.contains("unsupported::kind") && err.contains("ServiceImport"), "{err}");
    let (code, _, err) = gatewayc(&["translate", "-f", "-", "--allow-unsupported"], &input);
    assert_eq!(code, 0, "{err}");
}

/// A UDPRoute to a Backend: datagrams to its IP endpoint, answered through Envoy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_to_a_backend() {
    let Some(envoy) = envoy() else { return };
    let dns = support::streams::udp_backend("dns").await;
    let port = support::streams::free_tcp_udp_port();
    let mut input = format!("{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners: [{{name: dns, protocol: UDP, port: {port}}}]\n");
    input.push_str(&ip_backend("dns", dns.port()));
    input.push_str("---\napiVersion: gateway.networking.k8s.io/v1alpha2\nkind: UDPRoute\nmetadata: {name: dns, namespace: default}\nspec:\n  parentRefs: [{name: gw}]\n  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: dns}]}]\n");
    let _s = serve(&envoy, &input, &["--allow-loopback-backends"]).await;
    let s = tokio::net::UdpSocket::bind("127.0.0.1:0").await.expect("client");
    let mut answer = None;
    // Datagrams may be lost before the listener is warm: a few tries, each bounded.
    for _ in 0..10 {
        s.send_to(b"query", ("127.0.0.1", port)).await.expect("send");
        let mut buf = [0u8; 64];
        if let Ok(Ok((n, _))) = tokio::time::timeout(std::time::Duration::from_millis(500), s.recv_from(&mut buf)).await {
            answer = Some(String::from_utf8_lossy(&buf[..n]).into_owned());
            break;
        }
    }
    assert_eq!(answer.as_deref(), Some("dns"));
}
