//! ClientTrafficPolicy through a real Envoy: a Gateway-level policy and a listener-level one
//! that beats it on its listener (seen in traffic and in status), headers with underscores,
//! path normalisation, the listener health check, the idle timeout; conflicts in status.

mod support;
use std::time::Duration;
use support::policy::*;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An echo backend behind listeners a and b of `gw` (one route to it) with `policies`, in a
/// running Envoy: the backend, the two ports, the run and its input.
async fn two_listeners(envoy: &std::path::Path, policies: &[String]) -> (Echo, u16, u16, Served, String) {
    let b = echo("b").await;
    let (pa, pb) = (free_port(), free_port());
    let mut input = two_listener_gateway(pa, pb);
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    for p in policies {
        input.push_str(p);
    }
    let served = serve(envoy, &input, &[]).await;
    (b, pa, pb, served, input)
}

/// One GET on an open connection: the reply (lower-cased), or None when Envoy closed it first
/// (bounded to 5 s).
async fn raw_get(s: &mut tokio::net::TcpStream) -> Option<String> {
    s.write_all(b"GET / HTTP/1.1\r\nHost: app\r\n\r\n").await.ok()?;
    let (mut buf, mut got) = ([0u8; 4096], Vec::new());
    while !String::from_utf8_lossy(&got).contains("\"body_bytes\"") {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await.expect("reply or close in time") {
            Ok(0) | Err(_) => return None,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    Some(String::from_utf8_lossy(&got).to_ascii_lowercase())
}

/// (policy, sectionName or "") → (type, status, reason, message) of its ancestors' conditions.
fn policy_conditions(input: &str) -> Vec<(String, String, String, String, String)> {
    let (code, out, err) = gatewayc(&["status", "-f", "-"], input);
    assert_eq!(code, 0, "{err}");
    let mut v = Vec::new();
    for d in gatewayc::source::load_str("status", &out).documents {
        if d.value["kind"] != "ClientTrafficPolicy" {
            continue;
        }
        let name = d.value["metadata"]["name"].as_str().unwrap_or_default().to_string();
        for a in d.value["status"]["ancestors"].as_array().into_iter().flatten() {
            let section = a["ancestorRef"]["sectionName"].as_str().unwrap_or_default().to_string();
            for c in a["conditions"].as_array().into_iter().flatten() {
                let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
                v.push((name.clone(), section.clone(), s("type"), s("reason"), s("message")));
            }
        }
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_policy_beats_gateway_policy() {
    let Some(envoy) = envoy() else { return };
    let (b, pa, pb, _served, input) = two_listeners(&envoy, &[
        client_policy("gw", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw}", "  headers: {withUnderscoresAction: Allow}\n  healthCheck: {path: /healthz}\n"),
        client_policy("only-b", "2025-02-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: b}", "  headers: {withUnderscoresAction: DropHeader}\n  path: {disableMergeSlashes: true, escapedSlashesAction: KeepUnchanged}\n"),
    ])
    .await;

    // Listener a: the Gateway's policy. Underscore headers pass; Envoy answers the health path.
    let r = request(pa, "GET", "app", "/x", &[("x_user", "ann")]).await.expect("a");
    assert_eq!(r.echo()["headers"]["x_user"], "ann", "{}", r.body);
    let hits = b.hits();
    let r = get(pa, "app", "/healthz").await.expect("health");
    assert_eq!((r.status, b.hits()), (200, hits), "the health check reached the backend: {r:?}");
    assert_eq!(get(pa, "app", "//p//q").await.expect("a").echo()["path"], "/p/q");
    // Listener b: its own policy, whole. Underscore headers are dropped; the health path goes
    // to the backend; paths keep their slashes.
    let r = request(pb, "GET", "app", "/x", &[("x_user", "ann")]).await.expect("b");
    assert_eq!(r.status, 200);
    assert!(r.echo()["headers"].get("x_user").is_none(), "{}", r.body);
    assert_eq!(get(pb, "app", "/healthz").await.expect("b").backend(), "b");
    assert_eq!(get(pb, "app", "//p//q").await.expect("b").echo()["path"], "//p//q");
    assert_eq!(get(pb, "app", "/p%2Fq").await.expect("b").echo()["path"], "/p%2Fq");

    let conds = policy_conditions(&input);
    assert!(conds.iter().any(|c| c.0 == "gw" && c.1.is_empty() && c.2 == "Overridden" && c.4 == "There are existing ClientTrafficPolicies that are overriding these sections [b]"), "{conds:?}");
    assert!(conds.iter().any(|c| c.0 == "only-b" && c.1 == "b" && c.2 == "Accepted" && c.3 == "Accepted"), "{conds:?}");
}

/// The idle timeout of one listener; without a policy the other keeps Envoy Gateway's
/// defaults (no such timeout; a header with underscores is refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_timeout_closes_idle_connections() {
    let Some(envoy) = envoy() else { return };
    let (_b, pa, pb, _served, _) = two_listeners(&envoy, &[
        client_policy("idle", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: a}", "  timeout: {http: {idleTimeout: 300ms, requestReceivedTimeout: 500ms}}\n"),
    ])
    .await;
    // One request, a pause longer than the idle timeout, a second request on the connection:
    // Envoy has marked the idle connection for closing (it drains an HTTP/1.1 connection), so
    // the second reply says `connection: close`.
    let closes_after_idle = |port: u16| async move {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        let first = raw_get(&mut s).await.expect("closed before the reply");
        assert!(!first.contains("connection: close"), "{first}");
        tokio::time::sleep(Duration::from_millis(1000)).await;
        raw_get(&mut s).await.expect("closed before the reply").contains("connection: close")
    };
    assert!(closes_after_idle(pa).await, "listener a's idle timeout (300ms) did not end the connection");
    assert!(!closes_after_idle(pb).await, "listener b has no such idle timeout");
    // A request whose body never comes: 408 after requestReceivedTimeout.
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", pa)).await.expect("connect");
    s.write_all(b"POST / HTTP/1.1\r\nHost: app\r\ncontent-length: 10\r\n\r\n").await.expect("write");
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await.expect("answered in time").expect("read");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"), "{}", String::from_utf8_lossy(&buf[..n]));
    assert_eq!(request(pb, "GET", "app", "/", &[("x_user", "ann")]).await.expect("b").status, 400);
}

#[test]
fn conflicts_and_shared_ports_in_status() {
    let mut input = format!("{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n  - {{name: a, protocol: HTTP, port: 80, hostname: a.example}}\n  - {{name: b, protocol: HTTP, port: 80, hostname: b.example}}\n");
    let gw = "{group: gateway.networking.k8s.io, kind: Gateway, name: gw}";
    input.push_str(&client_policy("first", "2025-01-01T00:00:00Z", gw, "  path: {disableMergeSlashes: true}\n"));
    input.push_str(&client_policy("second", "2025-01-02T00:00:00Z", gw, "  path: {disableMergeSlashes: true}\n"));
    input.push_str(&client_policy("shared", "2025-01-03T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: a}", "  path: {disableMergeSlashes: true}\n"));
    input.push_str(&client_policy("nowhere", "2025-01-04T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: c}", "  path: {disableMergeSlashes: true}\n"));
    let conds = policy_conditions(&input);
    let has = |name: &str, reason: &str, message: &str| conds.iter().any(|c| c.0 == name && c.2 == "Accepted" && c.3 == reason && c.4 == message);
    assert!(has("first", "Accepted", "Policy has been accepted."), "{conds:?}");
    assert!(has("second", "Conflicted", "Unable to target Gateway, another ClientTrafficPolicy has already attached to it"), "{conds:?}");
    assert!(has("shared", "Invalid", "ClientTrafficPolicy is being applied to multiple http (non https) listeners (default/gw/b) on the same port, which is not allowed"), "{conds:?}");
    assert!(has("nowhere", "Invalid", "No section name c found for default/gw"), "{conds:?}");
}

/// connection.connectionLimit: the listener holds two connections; a third is closed. Its
/// maxRequestsPerConnection ends each connection after one request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limits() {
    let Some(envoy) = envoy() else { return };
    let (_b, pa, pb, served, _) = two_listeners(&envoy, &[
        client_policy("limits", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: a}", "  connection:\n    bufferLimit: 64Ki\n    maxAcceptPerSocketEvent: 4\n    connectionLimit: {value: 2}\n"),
        client_policy("one-request", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: b}", "  connection:\n    connectionLimit: {maxRequestsPerConnection: 1}\n"),
    ])
    .await;
    assert!(served.bootstrap.contains("per_connection_buffer_limit_bytes: 65536"), "{}", served.bootstrap);
    // A kept-open connection that has had one reply.
    let open = |port: u16| async move {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        let reply = raw_get(&mut s).await?;
        Some((s, reply))
    };
    let first = open(pa).await.expect("first connection");
    let second = open(pa).await.expect("second connection");
    assert!(open(pa).await.is_none(), "a third connection was served over the limit of two");
    drop((first, second));
    let (_, reply) = open(pb).await.expect("listener b");
    assert!(reply.contains("connection: close"), "one request per connection: {reply}");
}

/// Connection, PROXY protocol and keepalive settings reach HTTP, HTTPS, TCP and TLS
/// listeners; on a Gateway with a UDP listener they are refused by name, not dropped.
#[test]
fn connection_settings_on_udp_listeners_fail_closed() {
    let mut input = format!("{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n  - {{name: web, protocol: HTTP, port: 80}}\n  - {{name: dns, protocol: UDP, port: 53}}\n");
    input.push_str(&client_policy("limits", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw}", "  connection: {connectionLimit: {value: 10}}\n"));
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &input);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unsupported::field") && err.contains("connection settings on UDP listeners"), "{err}");
    let pp = input.replace("connection: {connectionLimit: {value: 10}}", "enableProxyProtocol: true");
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &pp);
    assert!(code == 1 && err.contains("PROXY protocol on UDP listeners"), "{err}");
    let keepalive = input.replace("connection: {connectionLimit: {value: 10}}", "tcpKeepalive: {probes: 3}");
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &keepalive);
    assert!(code == 1 && err.contains("TCP keepalive on UDP listeners"), "{err}");
    let only_web = input.replace("kind: Gateway, name: gw}]", "kind: Gateway, name: gw, sectionName: web}]");
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &only_web);
    assert_eq!(code, 0, "{err}");
}

/// headers.requestID: PreserveOrGenerate keeps the client's `x-request-id` (and makes one when
/// it has none); without a policy Envoy replaces an external request's id, as Envoy Gateway's
/// edge defaults do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_id_is_preserved_or_replaced() {
    let Some(envoy) = envoy() else { return };
    let (_b, pa, pb, _served, _) = two_listeners(&envoy, &[
        client_policy("ids", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: a}", "  headers: {requestID: PreserveOrGenerate}\n"),
    ])
    .await;
    let seen = |port: u16, id: Option<&'static str>| async move {
        let headers: Vec<(&str, &str)> = id.map(|i| ("x-request-id", i)).into_iter().collect();
        let r = request(port, "GET", "app", "/", &headers).await.expect("request");
        r.echo()["headers"]["x-request-id"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(seen(pa, Some("client-id-1")).await, "client-id-1");
    assert!(!seen(pa, None).await.is_empty(), "no id generated");
    let replaced = seen(pb, Some("client-id-1")).await;
    assert!(!replaced.is_empty() && replaced != "client-id-1", "{replaced}");
}

/// clientIPDetection: listener a takes the client from X-Forwarded-For (one trusted hop),
/// listener b from a header (failing closed). A per-client rate limit on 10.0.0.0/8 sees the
/// detected address: one request per client a minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_ip_detection_feeds_source_cidr_rules() {
    let Some(envoy) = envoy() else { return };
    let (_b, pa, pb, served, _) = two_listeners(&envoy, &[
        client_policy("xff", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: a}", "  clientIPDetection: {xForwardedFor: {numTrustedHops: 1}}\n"),
        client_policy("header", "2025-01-02T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw}", "  clientIPDetection: {customHeader: {name: x-client-ip, failClosed: true}}\n"),
        policy("rl", "HTTPRoute", "app", "  rateLimit:\n    local:\n      rules:\n      - clientSelectors: [{sourceCIDR: {type: Distinct, value: 10.0.0.0/8}}]\n        limit: {requests: 1, unit: Minute}\n"),
    ])
    .await;
    let status = |port: u16, headers: &'static [(&'static str, &'static str)]| async move { request(port, "GET", "app", "/", headers).await.expect("request").status };
    // a: the XFF entry is the client. 10.1.1.1 has its one request; 10.1.1.2 is another client.
    assert_eq!(status(pa, &[("x-forwarded-for", "10.1.1.1")]).await, 200);
    assert_eq!(status(pa, &[("x-forwarded-for", "10.1.1.1")]).await, 429);
    assert_eq!(status(pa, &[("x-forwarded-for", "10.1.1.2")]).await, 200);
    // Without the header the client is the peer (127.0.0.1), outside the limited network.
    assert_eq!((status(pa, &[]).await, status(pa, &[]).await), (200, 200));
    // b: the header is the client and X-Forwarded-For means nothing; no header: 403.
    assert_eq!(status(pb, &[("x-client-ip", "10.2.2.2")]).await, 200);
    assert_eq!(status(pb, &[("x-client-ip", "10.2.2.2"), ("x-forwarded-for", "192.0.2.1")]).await, 429);
    assert_eq!(status(pb, &[("x-client-ip", "127.0.0.9"), ("x-forwarded-for", "10.2.2.3")]).await, 200);
    assert_eq!(status(pb, &[("x-client-ip", "127.0.0.9"), ("x-forwarded-for", "10.2.2.3")]).await, 200);
    assert_eq!(status(pb, &[]).await, 403);
    // The access log's client is the detected one too (the peer when detection failed closed):
    // ten requests, in order.
    let clients: Vec<String> = served.envoy.access_log_lines(10).await.iter().map(|l| {
        let a = l["downstream_remote_address"].as_str().unwrap_or_default();
        a.rsplit_once(':').map_or(a, |(ip, _)| ip).to_string()
    }).collect();
    assert_eq!(clients, ["10.1.1.1", "10.1.1.1", "10.1.1.2", "127.0.0.1", "127.0.0.1", "10.2.2.2", "10.2.2.2", "127.0.0.9", "127.0.0.9", "127.0.0.1"].map(String::from), "{clients:?}");
}

#[test]
fn client_ip_detection_rules_of_the_crd() {
    let check = |body: &str| gatewayc(&["validate", "-f", "-"], &format!("{}{}", two_listener_gateway(8080, 8081), client_policy("p", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw}", body)));
    let (code, _, err) = check("  clientIPDetection: {xForwardedFor: {numTrustedHops: 1}, customHeader: {name: x-ip}}\n");
    assert!(code == 1 && err.contains("exactly one of xForwardedFor, customHeader, or directSourceIP must be set"), "{err}");
    let (code, _, err) = check("  clientIPDetection: {xForwardedFor: {numTrustedHops: 1, trustedCIDRs: [10.0.0.0/8]}}\n");
    assert!(code == 1 && err.contains("only one of numTrustedHops or trustedCIDRs must be set"), "{err}");
    let (code, _, err) = check("  clientIPDetection: {xForwardedFor: {trustedCIDRs: [10.0.0.0/33]}}\n");
    assert!(code == 1 && err.contains("is not an IPv4 or IPv6 CIDR"), "{err}");
    let (code, _, err) = check("  clientIPDetection: {xForwardedFor: {trustedCIDRs: [10.0.0.0/8, \"2001:db8::/32\"], disableXForwardedForAppend: true}}\n");
    assert_eq!(code, 0, "{err}");
}

/// A policy Envoy Gateway cannot translate leaves no listener as if it were not there: the
/// routes of its listener answer 500 (the other listener serves), and its status says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untranslatable_policy_fails_its_listener_closed() {
    let Some(envoy) = envoy() else { return };
    let (_b, pa, pb, _served, input) = two_listeners(&envoy, &[
        client_policy("too-big", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: a}", "  connection: {bufferLimit: 5Gi}\n"),
    ])
    .await;
    assert_eq!(get(pa, "app", "/").await.expect("a").status, 500);
    assert_eq!(get(pb, "app", "/").await.expect("b").backend(), "b");
    let conds = policy_conditions(&input);
    assert!(conds.iter().any(|c| c.0 == "too-big" && c.3 == "Invalid" && c.4.contains("BufferLimit value 5368709120 is out of range")), "{conds:?}");
}

/// proxyProtocol: listener a requires the PROXY header (v1 or v2) and takes the client from
/// it (the backend sees it as the external address); listener b (optional) serves clients
/// without.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_protocol_hands_envoy_the_client_address() {
    let Some(envoy) = envoy() else { return };
    let (_b, pa, pb, _served, _) = two_listeners(&envoy, &[
        client_policy("pp", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: a}", "  proxyProtocol: {}\n"),
        client_policy("pp-optional", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: b}", "  proxyProtocol: {optional: true}\n"),
    ])
    .await;
    let v1 = |ip: &str| format!("PROXY TCP4 {ip} 127.0.0.1 5555 80\r\n").into_bytes();
    let v2 = |ip: [u8; 4]| {
        let mut h = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
        h.extend_from_slice(&[0x21, 0x11, 0, 12]);
        h.extend_from_slice(&ip);
        h.extend_from_slice(&[127, 0, 0, 1, 0x15, 0xb3, 0, 80]);
        h
    };
    // The client address the backend sees, or None when Envoy served nothing.
    let seen = |port: u16, header: Vec<u8>| async move {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        s.write_all(&header).await.expect("write");
        let r = send(s, "GET", "app", "/", &[]).await.ok()?;
        Some(r.echo()["headers"]["x-envoy-external-address"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(seen(pa, v1("10.9.9.9")).await.as_deref(), Some("10.9.9.9"));
    assert_eq!(seen(pa, v2([10, 8, 8, 8])).await.as_deref(), Some("10.8.8.8"));
    assert_eq!(seen(pa, Vec::new()).await, None, "a client without the PROXY header was served");
    assert_eq!(seen(pb, Vec::new()).await.as_deref(), Some("127.0.0.1"));
    assert_eq!(seen(pb, v1("10.7.7.7")).await.as_deref(), Some("10.7.7.7"));
}

/// http1.http10: listener a serves HTTP/1.0 and gives a request without Host the listener's
/// hostname; listener b, without the policy, refuses HTTP/1.0 (Envoy's 426). A listener with
/// no hostname to give is refused by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http10_with_the_listeners_host() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let (pa, pb) = (free_port(), free_port());
    let mut input = two_listener_gateway(pa, pb).replace(&format!("port: {pa}}}"), &format!("port: {pa}, hostname: app.example}}"));
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    let policy = client_policy("h1", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: a}", "  http1: {enableTrailers: true, http10: {useDefaultHost: true}}\n");
    input.push_str(&policy);
    let _served = serve(&envoy, &input, &[]).await;
    let http10 = |port: u16| async move {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        s.write_all(b"GET / HTTP/1.0\r\n\r\n").await.expect("write");
        let mut got = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut got)).await.expect("answered in time").expect("read");
        String::from_utf8_lossy(&got).into_owned()
    };
    let a = http10(pa).await;
    assert!(a.starts_with("HTTP/1.0 200") && a.contains("\"host\":\"app.example\""), "{a}");
    let b_reply = http10(pb).await;
    assert!(b_reply.starts_with("HTTP/1.1 426"), "{b_reply}");

    let on_b = input.replace(&policy, &policy.replace("sectionName: a", "sectionName: b"));
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &on_b);
    assert!(code == 1 && err.contains("useDefaultHost on listener b without a non-wildcard hostname"), "{err}");
}
