//! ClientTrafficPolicy on TCP and TLS listeners through a real Envoy: the TCP idle timeout,
//! the connection limit, TCP keepalive on Envoy's accepted sockets (read from the kernel's
//! socket table), PROXY protocol before a TCP proxy, and the connection inspection and TLS
//! handshake timeouts.

mod support;
use std::sync::Arc;
use std::time::Duration;
use support::policy::client_policy;
use support::streams::*;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn on(section: &str) -> String {
    format!("{{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: {section}}}")
}

/// Gateway `gw` with TCP listeners `t` and `u` on the given ports, a TCPRoute on each to the
/// backend at `backend`, and `policies`.
fn tcp_gateway(pt: u16, pu: u16, backend: u16, policies: &[String]) -> String {
    let mut s = format!("{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n  - {{name: t, protocol: TCP, port: {pt}}}\n  - {{name: u, protocol: TCP, port: {pu}}}\n");
    for l in ["t", "u"] {
        s.push_str(&format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: TCPRoute\nmetadata: {{name: {l}, namespace: default}}\nspec:\n  parentRefs: [{{name: gw, sectionName: {l}}}]\n  rules: [{{backendRefs: [{{name: db, port: 8080}}]}}]\n"));
    }
    s.push_str(&slice("default", "db", backend));
    for p in policies {
        s.push_str(p);
    }
    s
}

/// A connection through Envoy that got the backend's greeting, or None if Envoy closed it
/// first (bounded to 5 s).
async fn greeted(port: u16, first: &[u8]) -> Option<TcpStream> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    s.write_all(first).await.ok()?;
    tokio::time::timeout(Duration::from_secs(5), read_line(&mut s)).await.expect("greeting or close in time").ok()?;
    Some(s)
}

/// Whether Envoy closes `s` within `ms` milliseconds.
async fn closed_within(s: &mut TcpStream, ms: u64) -> bool {
    let mut buf = [0u8; 64];
    loop {
        match tokio::time::timeout(Duration::from_millis(ms), s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// The timer (the `tr` column: 2 is the keepalive timer) of each established socket bound to
/// 127.0.0.1:`port`, that is Envoy's side of the connections to that listener.
fn timers_of_sockets_on(port: u16) -> Vec<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("the kernel's TCP socket table");
    let local = format!("0100007F:{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.get(1) == Some(&local.as_str()) && f.get(3) == Some(&"01")).then(|| f.get(5).map(|t| t[..2].to_string()).unwrap_or_default())
        })
        .collect()
}

/// On listener t: timeout.tcp.idleTimeout closes an idle connection, connectionLimit refuses
/// the second connection while the first is open, tcpKeepalive arms the keepalive timer of
/// Envoy's socket. Listener u, without a policy, does none of these.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_idle_timeout_limit_and_keepalive() {
    let Some(envoy) = envoy() else { return };
    let backend = tcp_backend("db").await;
    let (pt, pu) = (free_port(), free_port());
    let policy = client_policy("tcp", "2025-01-01T00:00:00Z", &on("t"), "  timeout: {tcp: {idleTimeout: 1s}}\n  connection: {connectionLimit: {value: 1}}\n  tcpKeepalive: {idleTime: 77s, interval: 5s, probes: 3}\n");
    let _served = serve(&envoy, &tcp_gateway(pt, pu, backend.port(), &[policy]), &[]).await;

    let mut first = greeted(pt, b"").await.expect("the first connection is served");
    assert!(greeted(pt, b"").await.is_none(), "a second connection was served over the limit of one");
    assert_eq!(timers_of_sockets_on(pt), vec!["02".to_string()], "Envoy's socket has no keepalive timer");
    assert!(closed_within(&mut first, 5000).await, "the idle connection was not closed");

    let mut a = greeted(pu, b"").await.expect("u serves");
    let _b = greeted(pu, b"").await.expect("u has no connection limit");
    assert!(timers_of_sockets_on(pu).iter().all(|t| t == "00"), "{:?}", timers_of_sockets_on(pu));
    assert!(!closed_within(&mut a, 1500).await, "u closed an idle connection");
}

/// proxyProtocol on listener t: a client that sends a PROXY v1 header first reaches the
/// backend, which never sees the header; one that sends other bytes first is refused. Listener u passes a
/// PROXY header on as data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_protocol_before_a_tcp_proxy() {
    let Some(envoy) = envoy() else { return };
    let backend = tcp_backend("db").await;
    let (pt, pu) = (free_port(), free_port());
    let policy = client_policy("pp", "2025-01-01T00:00:00Z", &on("t"), "  proxyProtocol: {}\n");
    let _served = serve(&envoy, &tcp_gateway(pt, pu, backend.port(), &[policy]), &[]).await;
    let header = b"PROXY TCP4 10.9.9.9 127.0.0.1 5555 5432\r\n";
    // The bytes the backend echoes after its greeting.
    let echoed = |port: u16| async move {
        let mut s = greeted(port, header).await?;
        s.write_all(b"ping").await.ok()?;
        let mut got = vec![0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut got)).await.expect("echo in time").ok()?;
        Some(String::from_utf8_lossy(&got[..n]).into_owned())
    };
    assert_eq!(echoed(pt).await.as_deref(), Some("ping"), "the header was not taken off");
    assert!(greeted(pt, b"ping\r\n").await.is_none(), "a client without the PROXY header was served");
    let through = echoed(pu).await.expect("u serves");
    assert!(through.starts_with("PROXY TCP4"), "{through}");
}

/// On a TLS Terminate listener: connectionInspectionTimeout drops a client that never sends
/// its ClientHello, tlsHandshakeTimeout one that stops after it; a client that completes the
/// handshake is served. Without the policy neither is dropped within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspection_and_handshake_timeouts() {
    let Some(envoy) = envoy() else { return };
    let pki = Pki::new("test ca");
    let (crt, key) = pki.leaf(&["db.example.com"]);
    let backend = tcp_backend("db").await;
    let (ps, pn) = (free_port(), free_port());
    let mut input = format!("{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n");
    for (l, p) in [("s", ps), ("n", pn)] {
        input.push_str(&format!("  - {{name: {l}, protocol: TLS, port: {p}, hostname: db.example.com, tls: {{mode: Terminate, certificateRefs: [{{name: cert}}]}}}}\n"));
    }
    for l in ["s", "n"] {
        input.push_str(&format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: TCPRoute\nmetadata: {{name: {l}, namespace: default}}\nspec:\n  parentRefs: [{{name: gw, sectionName: {l}}}]\n  rules: [{{backendRefs: [{{name: db, port: 8080}}]}}]\n"));
    }
    input.push_str(&slice("default", "db", backend.port()));
    input.push_str(&tls_secret("default", "cert", &crt, &key));
    input.push_str(&client_policy("t", "2025-01-01T00:00:00Z", &on("s"), "  timeout: {tcp: {connectionInspectionTimeout: 300ms, tlsHandshakeTimeout: 300ms}}\n"));
    let _served = serve(&envoy, &input, &[]).await;

    let (who, _) = tls_greeting(ps, "db.example.com", &pki.ca_der).await.expect("a full handshake is served");
    assert_eq!(who, "db");
    // A ClientHello for db.example.com, and nothing after it.
    let hello = || {
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("db.example.com").expect("name");
        let mut c = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
        let mut bytes = Vec::new();
        c.write_tls(&mut bytes).expect("client hello");
        bytes
    };
    for (port, expect_closed, wait) in [(ps, true, 5000), (pn, false, 1000)] {
        let mut silent = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        assert_eq!(closed_within(&mut silent, wait).await, expect_closed, "silent client on port {port}");
        let mut stalled = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        stalled.write_all(&hello()).await.expect("write");
        assert_eq!(closed_within(&mut stalled, wait).await, expect_closed, "client stalled after its hello on port {port}");
    }
}
