//! TLSRoute, TCPRoute and UDPRoute end to end through a real Envoy: Rust TCP, UDP and TLS
//! backends on 127.0.0.1 name themselves; the client counts who answered and checks which
//! certificate it saw.

mod support;
use std::collections::BTreeMap;
use std::time::Duration;
use support::streams::*;
use support::*;
use tokio::net::UdpSocket;

/// A Service with one port and an EndpointSlice holding 127.0.0.1:`target`.
fn service(name: &str, port: u16, protocol: &str, target: u16) -> String {
    format!(
        "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  ports: [{{name: p, port: {port}, protocol: {protocol}, targetPort: {target}}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {name}-1\n  namespace: default\n  labels: {{kubernetes.io/service-name: {name}}}\naddressType: IPv4\nports: [{{name: p, port: {target}, protocol: {protocol}}}]\nendpoints: [{{addresses: [127.0.0.1]}}]\n"
    )
}

fn gateway(listeners: &str) -> String {
    format!("{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n{listeners}")
}

fn route(kind: &str, name: &str, created: &str, spec: &str) -> String {
    format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: {kind}\nmetadata: {{name: {name}, namespace: default, creationTimestamp: \"{created}\"}}\nspec:\n{spec}")
}

/// (kind, name) → the conditions of the object's first route parent, from `gatewayc status`.
fn route_status(input: &str) -> BTreeMap<(String, String), Vec<(String, String, String)>> {
    let (code, out, err) = gatewayc(&["status", "-f", "-"], input);
    assert_eq!(code, 0, "{err}");
    let mut m = BTreeMap::new();
    for d in gatewayc::source::load_str("status", &out).documents {
        let v = d.value;
        let Some(conds) = v["status"]["parents"][0]["conditions"].as_array() else { continue };
        let key = (v["kind"].as_str().unwrap_or("").to_string(), v["metadata"]["name"].as_str().unwrap_or("").to_string());
        m.insert(key, conds.iter().map(|c| (c["type"].as_str().unwrap_or("").into(), c["status"].as_str().unwrap_or("").into(), c["reason"].as_str().unwrap_or("").into())).collect());
    }
    m
}

fn accepted(conds: &[(String, String, String)]) -> (String, String) {
    conds.iter().find(|c| c.0 == "Accepted").map(|c| (c.1.clone(), c.2.clone())).unwrap_or_default()
}

/// TCP: an echo backend answers through Envoy, a 70/30 split holds over many connections, a
/// second (younger) TCPRoute on the listener is Accepted but carries nothing, and a route
/// whose only backend is missing gets no listener: its connections are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_routes_split_connections_and_refuse_without_backends() {
    let Some(envoy) = envoy() else { return };
    let (a, b, c) = (tcp_backend("a").await, tcp_backend("b").await, tcp_backend("c").await);
    let (port, dead) = (free_port(), free_port());
    let mut input = gateway(&format!("    - {{name: db, protocol: TCP, port: {port}}}\n    - {{name: dead, protocol: TCP, port: {dead}}}\n"));
    input.push_str(&route("TCPRoute", "db", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: db}]\n  rules: [{backendRefs: [{name: a, port: 5432, weight: 70}, {name: b, port: 5432, weight: 30}]}]\n"));
    input.push_str(&route("TCPRoute", "late", "2024-06-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: db}]\n  rules: [{backendRefs: [{name: c, port: 5432}]}]\n"));
    input.push_str(&route("TCPRoute", "nothing", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: dead}]\n  rules: [{backendRefs: [{name: missing, port: 5432}]}]\n"));
    for (n, addr) in [("a", a), ("b", b), ("c", c)] {
        input.push_str(&service(n, 5432, "TCP", addr.port()));
    }
    let served = serve(&envoy, &input, &[]).await;
    assert!(served.stderr.contains("conflict::route-shadowed"), "{}", served.stderr);
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for _ in 0..200 {
        let who = tcp_greeting(port).await.expect("through envoy");
        *seen.entry(who).or_default() += 1;
    }
    let (na, nb) = (seen.get("a").copied().unwrap_or(0), seen.get("b").copied().unwrap_or(0));
    assert_eq!(na + nb, 200, "{seen:?}");
    // 70% of 200 is 140; the bounds are more than four standard deviations wide.
    assert!((110..=170).contains(&na), "{seen:?}");
    assert!(tcp_greeting(dead).await.is_err(), "a route without a backend must not forward");
    let st = route_status(&input);
    assert_eq!(accepted(&st[&("TCPRoute".into(), "late".into())]), ("True".into(), "Accepted".into()));
    let nothing = &st[&("TCPRoute".into(), "nothing".into())];
    assert!(nothing.iter().any(|c| c.0 == "ResolvedRefs" && c.1 == "False" && c.2 == "BackendNotFound"), "{nothing:?}");
}

/// UDP: datagrams reach a UDP echo backend; fresh client sockets split 70/30 (one backend per
/// session); a second UDPRoute on the listener is not accepted, as Envoy Gateway writes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_routes_split_sessions() {
    let Some(envoy) = envoy() else { return };
    let (a, b) = (udp_backend("a").await, udp_backend("b").await);
    let port = free_tcp_udp_port();
    // A TCP listener on the same number: different transports may share it.
    let tcp = tcp_backend("tcp").await;
    let mut input = gateway(&format!("    - {{name: dns, protocol: UDP, port: {port}}}\n    - {{name: dns-tcp, protocol: TCP, port: {port}}}\n"));
    input.push_str(&route("UDPRoute", "dns", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: dns}]\n  rules: [{backendRefs: [{name: a, port: 53, weight: 70}, {name: b, port: 53, weight: 30}]}]\n"));
    input.push_str(&route("UDPRoute", "second", "2024-06-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: dns}]\n  rules: [{backendRefs: [{name: a, port: 53}]}]\n"));
    input.push_str(&route("TCPRoute", "dns-tcp", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: dns-tcp}]\n  rules: [{backendRefs: [{name: t, port: 53}]}]\n"));
    input.push_str(&service("a", 53, "UDP", a.port()));
    input.push_str(&service("b", 53, "UDP", b.port()));
    input.push_str(&service("t", 53, "TCP", tcp.port()));
    let served = serve(&envoy, &input, &[]).await;
    assert!(served.bootstrap.contains("udp_proxy"), "{}", served.bootstrap);
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for _ in 0..200 {
        let s = UdpSocket::bind("127.0.0.1:0").await.expect("client");
        let mut answer = None;
        // Datagrams may be lost before the listener is warm: a few tries, each bounded.
        for _ in 0..5 {
            s.send_to(b"query", ("127.0.0.1", port)).await.expect("send");
            let mut buf = [0u8; 64];
            if let Ok(Ok((n, _))) = tokio::time::timeout(Duration::from_millis(500), s.recv_from(&mut buf)).await {
                answer = Some(String::from_utf8_lossy(&buf[..n]).into_owned());
                break;
            }
        }
        *seen.entry(answer.expect("a UDP answer through envoy")).or_default() += 1;
    }
    let na = seen.get("a").copied().unwrap_or(0);
    assert_eq!(na + seen.get("b").copied().unwrap_or(0), 200, "{seen:?}");
    assert!((110..=170).contains(&na), "{seen:?}");
    assert_eq!(tcp_greeting(port).await.expect("tcp on the same number"), "tcp");
    let st = route_status(&input);
    assert_eq!(accepted(&st[&("UDPRoute".into(), "dns".into())]), ("True".into(), "Accepted".into()));
    assert_eq!(accepted(&st[&("UDPRoute".into(), "second".into())]), ("False".into(), "UnsupportedValue".into()));
}

/// TLS passthrough by SNI: each backend keeps its own certificate (the client sees it, not
/// the Gateway's); an unknown SNI is refused. On the same port a terminate listener decrypts
/// with the Gateway's certificate and forwards plain TCP (TCPRoute) or a TLSRoute's stream,
/// and an HTTPS listener serves HTTP for the hostname it owns, even one a TLSRoute names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_passthrough_and_terminate_share_a_port_by_sni() {
    let Some(envoy) = envoy() else { return };
    let pki = Pki::new("test ca");
    let (a_crt, a_key) = pki.leaf(&["a.example.com"]);
    let (b_crt, b_key) = pki.leaf(&["b.example.com"]);
    let (gw_crt, gw_key) = pki.leaf(&["term.example.com", "*.term.example.com"]);
    let a = tls_backend("a", &a_crt, &a_key).await;
    let b = tls_backend("b", &b_crt, &b_key).await;
    let plain = tcp_backend("plain").await;
    let plain2 = tcp_backend("plain2").await;
    let (www_crt, www_key) = pki.leaf(&["www.example.com"]);
    let web = echo("web").await;
    let port = free_port();
    let mut input = gateway(&format!(
        "    - {{name: www, protocol: HTTPS, port: {port}, hostname: www.example.com, tls: {{certificateRefs: [{{name: www-cert}}]}}}}\n    - {{name: pass, protocol: TLS, port: {port}, hostname: \"*.example.com\", tls: {{mode: Passthrough}}}}\n    - {{name: term, protocol: TLS, port: {port}, hostname: term.example.com, tls: {{mode: Terminate, certificateRefs: [{{name: gw-cert}}]}}}}\n    - {{name: term-wild, protocol: TLS, port: {port}, hostname: \"*.term.example.com\", tls: {{mode: Terminate, certificateRefs: [{{name: gw-cert}}]}}}}\n"
    ));
    input.push_str(&route("TLSRoute", "a", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: pass}]\n  hostnames: [a.example.com, www.example.com]\n  rules: [{backendRefs: [{name: a, port: 443}]}]\n"));
    input.push_str("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: web, namespace: default}\nspec:\n  parentRefs: [{name: gw, sectionName: www}]\n  rules: [{backendRefs: [{name: web, port: 8080}]}]\n");
    input.push_str(&slice("default", "web", web.addr.port()));
    input.push_str(&tls_secret("default", "www-cert", &www_crt, &www_key));
    input.push_str(&route("TLSRoute", "b", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: pass}]\n  hostnames: [b.example.com]\n  rules: [{backendRefs: [{name: b, port: 443}]}]\n"));
    input.push_str(&route("TCPRoute", "term", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: term}]\n  rules: [{backendRefs: [{name: plain, port: 80}]}]\n"));
    input.push_str(&route("TLSRoute", "x", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: term-wild}]\n  hostnames: [x.term.example.com]\n  rules: [{backendRefs: [{name: plain2, port: 80}]}]\n"));
    input.push_str(&service("a", 443, "TCP", a.port()));
    input.push_str(&service("b", 443, "TCP", b.port()));
    input.push_str(&service("plain", 80, "TCP", plain.port()));
    input.push_str(&service("plain2", 80, "TCP", plain2.port()));
    input.push_str(&tls_secret("default", "gw-cert", &gw_crt, &gw_key));
    let _served = serve(&envoy, &input, &[]).await;
    let der = |pem: &str| rustls_pemfile_certs(pem).remove(0).to_vec();
    let (who, shown) = tls_greeting(port, "a.example.com", &pki.ca_der).await.expect("sni a");
    assert_eq!((who.as_str(), shown), ("a", der(&a_crt)), "passthrough to a shows a's certificate");
    let (who, shown) = tls_greeting(port, "b.example.com", &pki.ca_der).await.expect("sni b");
    assert_eq!((who.as_str(), shown), ("b", der(&b_crt)));
    assert!(tls_greeting(port, "c.example.com", &pki.ca_der).await.is_err(), "no route serves c.example.com");
    let (who, shown) = tls_greeting(port, "term.example.com", &pki.ca_der).await.expect("terminate");
    assert_eq!((who.as_str(), shown), ("plain", der(&gw_crt)), "terminated with the Gateway's certificate, plain TCP behind");
    let (who, shown) = tls_greeting(port, "x.term.example.com", &pki.ca_der).await.expect("terminate tlsroute");
    assert_eq!((who.as_str(), shown), ("plain2", der(&gw_crt)));
    assert!(tls_greeting(port, "y.term.example.com", &pki.ca_der).await.is_err(), "the TLSRoute claims x only");
    let reply = https_request(port, "www.example.com", &pki.ca_der, "www.example.com", "/").await.expect("https");
    assert_eq!((reply.status, reply.backend()), (200, "web".to_string()), "the HTTPS listener owns www.example.com");
}

/// Route and listener status for the stream kinds: the reasons attachment gives, backend
/// references across namespaces, and certificate problems of a TLS Terminate listener.
#[test]
fn stream_route_status_reasons() {
    let mut input = gateway(
        "    - {name: web, protocol: HTTP, port: 8080}\n    - {name: pass, protocol: TLS, port: 8443, hostname: \"*.example.com\", tls: {mode: Passthrough}}\n    - {name: term, protocol: TLS, port: 9443, tls: {mode: Terminate, certificateRefs: [{name: nowhere}]}}\n    - {name: pg, protocol: TCP, port: 5432, allowedRoutes: {namespaces: {from: All}}}\n    - {name: tls2, protocol: TLS, port: 7443, hostname: x.example.com, tls: {mode: Passthrough}}\n    - {name: tcp2, protocol: TCP, port: 7443}\n",
    );
    input.push_str(&route("TCPRoute", "on-http", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: web}]\n  rules: [{backendRefs: [{name: a, port: 1}]}]\n"));
    input.push_str(&route("TLSRoute", "elsewhere", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: pass}]\n  hostnames: [a.example.org]\n  rules: [{backendRefs: [{name: a, port: 1}]}]\n"));
    input.push_str(&route("TCPRoute", "no-section", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: nope}]\n  rules: [{backendRefs: [{name: a, port: 1}]}]\n"));
    input.push_str(&route("TCPRoute", "not-a-service", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: pg}]\n  rules: [{backendRefs: [{group: example.com, kind: Database, name: a, port: 1}]}]\n"));
    input.push_str(&route("TCPRoute", "by-port", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, port: 5432}]\n  rules: [{backendRefs: [{name: a, port: 1}]}]\n"));
    input.push_str(&route("TCPRoute", "wrong-port", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, port: 5433}]\n  rules: [{backendRefs: [{name: a, port: 1}]}]\n"));
    // An older served version: TLSRoute v1alpha2 may leave hostnames out.
    input.push_str("---\napiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TLSRoute\nmetadata: {name: old, namespace: default}\nspec:\n  parentRefs: [{name: gw, sectionName: pass}]\n  rules: [{backendRefs: [{name: a, port: 1}]}]\n");
    for (ns, granted) in [("team-a", true), ("team-b", false)] {
        input.push_str(&format!(
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: TCPRoute\nmetadata: {{name: db, namespace: {ns}}}\nspec:\n  parentRefs: [{{name: gw, namespace: default, sectionName: pg}}]\n  rules: [{{backendRefs: [{{name: a, namespace: default, port: 1}}]}}]\n"
        ));
        if granted {
            input.push_str(&format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: ReferenceGrant\nmetadata: {{name: g, namespace: default}}\nspec:\n  from: [{{group: gateway.networking.k8s.io, kind: TCPRoute, namespace: {ns}}}]\n  to: [{{group: \"\", kind: Service}}]\n"));
        }
    }
    input.push_str(&service("a", 1, "TCP", 9));
    let st = route_status(&input);
    let reason = |kind: &str, name: &str, t: &str| st[&(kind.to_string(), name.to_string())].iter().find(|c| c.0 == t).map(|c| (c.1.clone(), c.2.clone())).unwrap_or_default();
    assert_eq!(reason("TCPRoute", "on-http", "Accepted"), ("False".into(), "NotAllowedByListeners".into()));
    assert_eq!(reason("TLSRoute", "elsewhere", "Accepted"), ("False".into(), "NoMatchingListenerHostname".into()));
    assert_eq!(reason("TCPRoute", "no-section", "Accepted"), ("False".into(), "NoMatchingParent".into()));
    assert_eq!(reason("TCPRoute", "by-port", "Accepted"), ("True".into(), "Accepted".into()));
    assert_eq!(reason("TCPRoute", "not-a-service", "ResolvedRefs"), ("False".into(), "InvalidKind".into()));
    assert_eq!(reason("TCPRoute", "wrong-port", "Accepted"), ("False".into(), "NoMatchingParent".into()));
    assert_eq!(reason("TLSRoute", "old", "Accepted"), ("True".into(), "Accepted".into()));
    // Both TCPRoutes named `db` share a key only by name: look them up by namespace instead.
    let (code, out, err) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    let docs = gatewayc::source::load_str("status", &out).documents;
    let db = |ns: &str| {
        let d = docs.iter().find(|d| d.value["kind"] == "TCPRoute" && d.value["metadata"]["namespace"] == ns).expect("db route");
        let c = d.value["status"]["parents"][0]["conditions"].as_array().expect("conds").iter().find(|c| c["type"] == "ResolvedRefs").expect("ResolvedRefs").clone();
        (c["status"].as_str().unwrap_or("").to_string(), c["reason"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(db("team-a"), ("True".into(), "ResolvedRefs".into()));
    assert_eq!(db("team-b"), ("False".into(), "RefNotPermitted".into()));
    let gw = docs.iter().find(|d| d.value["kind"] == "Gateway").expect("gateway");
    let term = gw.value["status"]["listeners"].as_array().expect("listeners").iter().find(|l| l["name"] == "term").expect("term").clone();
    let cond = |t: &str| term["conditions"].as_array().expect("conds").iter().find(|c| c["type"] == t).map(|c| (c["status"].as_str().unwrap_or("").to_string(), c["reason"].as_str().unwrap_or("").to_string()));
    assert_eq!(cond("ResolvedRefs"), Some(("False".into(), "InvalidCertificateRef".into())));
    assert_eq!(cond("Programmed").map(|c| c.0), Some("False".into()));
    let kinds: Vec<&str> = term["supportedKinds"].as_array().expect("kinds").iter().filter_map(|k| k["kind"].as_str()).collect();
    assert_eq!(kinds, ["TCPRoute", "TLSRoute"]);
    // TCP beside a TLS listener on one port: both conflict (docs/features.md says why).
    for name in ["tls2", "tcp2"] {
        let l = gw.value["status"]["listeners"].as_array().expect("listeners").iter().find(|l| l["name"] == name).expect("listener").clone();
        let c = l["conditions"].as_array().expect("conds").iter().find(|c| c["type"] == "Conflicted").expect("Conflicted").clone();
        assert_eq!((c["status"].as_str(), c["reason"].as_str()), (Some("True"), Some("ProtocolConflict")), "{name}");
    }
    let pg = gw.value["status"]["listeners"].as_array().expect("listeners").iter().find(|l| l["name"] == "pg").expect("pg").clone();
    assert_eq!(pg["attachedRoutes"], 4, "both db routes, by-port and not-a-service are accepted on pg");
}
