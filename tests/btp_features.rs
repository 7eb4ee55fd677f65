//! BackendTrafficPolicy features beyond load balancing, through a real Envoy: fault
//! injection, local rate limits per client selector, PROXY protocol towards backends, the
//! client's protocol to backends, and connection settings Envoy must accept.

mod support;
use std::time::{Duration, Instant};
use support::policy::*;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_injection_aborts_and_delays() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let port = free_port();
    let mut input = http_gateway(port);
    for (name, path) in [("abort", "/abort"), ("delay", "/delay"), ("half", "/half")] {
        input.push_str(&route(name, path, "svc"));
    }
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&policy("abort", "HTTPRoute", "abort", "  faultInjection: {abort: {httpStatus: 418}}\n"));
    input.push_str(&policy("delay", "HTTPRoute", "delay", "  faultInjection: {delay: {fixedDelay: 400ms}}\n"));
    input.push_str(&policy("half", "HTTPRoute", "half", "  faultInjection: {abort: {httpStatus: 503, percentage: 50}}\n"));
    let served = serve(&envoy, &input, &[]).await;
    assert!(served.bootstrap.contains("envoy.filters.http.fault"), "{}", served.bootstrap);
    for _ in 0..5 {
        assert_eq!(get(port, "app", "/abort").await.expect("abort").status, 418);
    }
    assert_eq!(b.hits(), 0, "an aborted request reached the backend");
    let t0 = Instant::now();
    let r = get(port, "app", "/delay").await.expect("delay");
    assert_eq!((r.status, r.backend().as_str()), (200, "b"));
    assert!(t0.elapsed() >= Duration::from_millis(390), "not delayed: {:?}", t0.elapsed());
    let mut aborted = 0;
    for _ in 0..200 {
        if get(port, "app", "/half").await.expect("half").status == 503 {
            aborted += 1;
        }
    }
    // Expected 100; outside 50..150 is a 1e-12 event.
    assert!((50..=150).contains(&aborted), "{aborted} of 200 aborted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_rate_limit_per_client_selector() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route("rl", "/rl", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&policy(
        "rl",
        "HTTPRoute",
        "rl",
        "  rateLimit:\n    local:\n      rules:\n      - limit: {requests: 3, unit: Minute}\n      - clientSelectors: [{headers: [{name: x-user, value: vip}]}]\n        limit: {requests: 5, unit: Hour}\n      - clientSelectors: [{sourceCIDR: {type: Distinct, value: 127.0.0.8/29}}]\n        limit: {requests: 2, unit: Minute}\n",
    ));
    let _served = serve(&envoy, &input, &[]).await;
    let statuses = |v: Vec<Reply>| v.iter().map(|r| r.status).collect::<Vec<_>>();
    let mut run = Vec::new();
    for _ in 0..5 {
        run.push(request_from("127.0.0.2", port, "/rl", &[]).await);
    }
    // The default bucket: three a minute for requests no rule selects.
    assert_eq!(statuses(run), [200, 200, 200, 429, 429]);
    // The vip rule has its own bucket, untouched by the default's exhaustion.
    let mut run = Vec::new();
    for _ in 0..6 {
        run.push(request_from("127.0.0.3", port, "/rl", &[("x-user", "vip")]).await);
    }
    assert_eq!(statuses(run), [200, 200, 200, 200, 200, 429]);
    // The source range, one bucket per address in it.
    for client in ["127.0.0.9", "127.0.0.10"] {
        let mut run = Vec::new();
        for _ in 0..3 {
            run.push(request_from(client, port, "/rl", &[]).await);
        }
        assert_eq!(statuses(run), [200, 200, 429], "{client}");
    }
    let limited = request_from("127.0.0.2", port, "/rl", &[]).await;
    assert_eq!(limited.status, 429);
    assert!(limited.headers.contains_key("x-ratelimit-limit"), "{:?}", limited.headers);
    assert_eq!(b.hits(), 3 + 5 + 2 + 2);
}

/// A backend that reads a PROXY protocol header (v1 text or v2 binary), then one HTTP request,
/// and answers with the client address the header carried.
async fn proxy_protocol_backend() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let source = loop {
                    let Ok(n) = s.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if buf.starts_with(b"PROXY ") {
                        if let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
                            let line = String::from_utf8_lossy(&buf[..end]).to_string();
                            buf.drain(..end + 2);
                            break format!("v1 {}", line.split(' ').nth(2).unwrap_or("?"));
                        }
                    } else if buf.len() >= 16 && buf.starts_with(b"\r\n\r\n\0\r\nQUIT\n") {
                        let len = u16::from_be_bytes([buf[14], buf[15]]) as usize;
                        if buf.len() >= 16 + len {
                            let src = if buf[13] == 0x11 && len >= 12 { format!("{}.{}.{}.{}", buf[16], buf[17], buf[18], buf[19]) } else { "?".into() };
                            buf.drain(..16 + len);
                            break format!("v2 {src}");
                        }
                    } else if buf.len() >= 16 {
                        break "none".to_string();
                    }
                };
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    let Ok(n) = s.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let resp = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{source}", source.len());
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    (port, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_protocol_and_client_protocol_to_backends() {
    let Some(envoy) = envoy() else { return };
    let (pp_port, _pp) = proxy_protocol_backend().await;
    let b = echo("b").await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route("v1", "/v1", "pp1"));
    input.push_str(&route("v2", "/v2", "pp2"));
    input.push_str(&route("same", "/same", "b"));
    input.push_str(&route("plain", "/plain", "b2"));
    input.push_str(&service("default", "pp1", &[pp_port]));
    input.push_str(&service("default", "pp2", &[pp_port]));
    input.push_str(&service("default", "b", &[b.addr.port()]));
    input.push_str(&service("default", "b2", &[b.addr.port()]));
    input.push_str(&policy("v1", "HTTPRoute", "v1", "  proxyProtocol: {version: V1}\n"));
    input.push_str(&policy("v2", "HTTPRoute", "v2", "  proxyProtocol: {version: V2}\n  tcpKeepalive: {probes: 3, idleTime: 60s, interval: 10s}\n"));
    input.push_str(&policy("same", "HTTPRoute", "same", "  useClientProtocol: true\n  connection: {bufferLimit: 64Ki}\n  dns: {dnsRefreshRate: 5s, respectDnsTtl: true}\n"));
    let served = serve(&envoy, &input, &[]).await;
    assert!(served.bootstrap.contains("upstream_proxy_protocol") && served.bootstrap.contains("keepalive_probes: 3"), "{}", served.bootstrap);
    assert!(served.bootstrap.contains("per_connection_buffer_limit_bytes: 65536"), "{}", served.bootstrap);

    // The backend sees the client's address in the PROXY header, in either version.
    let r = request_from("127.0.0.7", port, "/v1", &[]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "v1 127.0.0.7"));
    let r = request_from("127.0.0.8", port, "/v2", &[]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "v2 127.0.0.8"));

    // useClientProtocol: an HTTP/2 client reaches the backend over HTTP/2; HTTP/1.1 stays
    // HTTP/1.1; without the policy the backend always sees HTTP/1.1.
    let h2 = h2c_get(port, "/same").await;
    assert_eq!(h2["version"], "HTTP/2.0", "{h2}");
    assert_eq!(get(port, "app", "/same").await.expect("h1").echo()["version"], "HTTP/1.1");
    assert_eq!(h2c_get(port, "/plain").await["version"], "HTTP/1.1");
}

/// One HTTP/2 (prior knowledge, clear text) GET to Envoy; the echo backend's report.
async fn h2c_get(port: u16, path: &str) -> serde_json::Value {
    use http_body_util::{BodyExt, Full};
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), hyper_util::rt::TokioIo::new(stream)).await.expect("h2 handshake");
    tokio::spawn(conn);
    let req = hyper::Request::builder().uri(format!("http://app{path}")).body(Full::new(bytes::Bytes::new())).expect("request");
    let resp = tokio::time::timeout(Duration::from_secs(10), sender.send_request(req)).await.expect("in time").expect("response");
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compression_gives_bodies_the_client_decodes() {
    use std::io::Read;
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route("zipped", "/zipped", "svc"));
    input.push_str(&route("plain", "/plain", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&policy("zipped", "HTTPRoute", "zipped", "  compression: [{type: Gzip}, {type: Brotli}, {type: Zstd}]\n"));
    let served = serve(&envoy, &input, &[]).await;
    assert!(served.bootstrap.contains("envoy.filters.http.compressor.gzip"), "{}", served.bootstrap);

    let r = request(port, "GET", "app", "/zipped", &[("accept-encoding", "gzip")]).await.expect("gzip");
    assert_eq!((r.status, r.headers.get("content-encoding").map(String::as_str)), (200, Some("gzip")), "{:?}", r.headers);
    // The body bytes as they came (the test client does not decode): ungzip them.
    let raw = &r.raw;
    let mut text = String::new();
    flate2::read::GzDecoder::new(&raw[..]).read_to_string(&mut text).expect("a gzip body");
    let seen: serde_json::Value = serde_json::from_str(&text).expect("the echo's JSON");
    assert_eq!(seen["backend"], "b");
    // The backend is not asked to compress (Envoy does).
    assert!(seen["headers"].get("accept-encoding").is_none(), "{seen}");
    for (asked, got) in [("br", "br"), ("zstd", "zstd")] {
        let r = request(port, "GET", "app", "/zipped", &[("accept-encoding", asked)]).await.expect("compressed");
        assert_eq!(r.headers.get("content-encoding").map(String::as_str), Some(got), "{asked}: {:?}", r.headers);
    }
    // Routes without the policy are not compressed.
    let r = request(port, "GET", "app", "/plain", &[("accept-encoding", "gzip")]).await.expect("plain");
    assert!(!r.headers.contains_key("content-encoding"), "{:?}", r.headers);
    assert_eq!(r.backend(), "b");
}

/// TCP routes: ConsistentHash hashes the client's address; clients on different loopback
/// addresses each keep one backend, and together they reach more than one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_source_ip_affinity() {
    let Some(envoy) = envoy() else { return };
    let mut ports = Vec::new();
    for n in ["t0", "t1", "t2"] {
        ports.push(support::streams::tcp_backend(n).await.port());
    }
    let port = free_port();
    let mut input = format!("{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners: [{{name: db, protocol: TCP, port: {port}}}]\n");
    input.push_str("---\napiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute\nmetadata: {name: db, namespace: default}\nspec:\n  parentRefs: [{name: gw}]\n  rules: [{backendRefs: [{name: svc, port: 8080}]}]\n");
    input.push_str(&service("default", "svc", &ports));
    input.push_str(&policy("sticky", "TCPRoute", "db", "  loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP}}\n"));
    let _served = serve(&envoy, &input, &[]).await;
    let greet = |from: String| async move {
        let sock = tokio::net::TcpSocket::new_v4().expect("socket");
        sock.bind(format!("{from}:0").parse().expect("addr")).expect("bind client");
        let mut s = tokio::time::timeout(Duration::from_secs(5), sock.connect(([127, 0, 0, 1], port).into())).await.expect("in time").expect("connect");
        support::streams::read_line(&mut s).await.expect("greeting")
    };
    let mut reached = std::collections::BTreeSet::new();
    for c in 2..18 {
        let from = format!("127.0.0.{c}");
        let first = greet(from.clone()).await;
        for _ in 0..4 {
            assert_eq!(greet(from.clone()).await, first, "client {from} moved");
        }
        reached.insert(first);
    }
    assert!(reached.len() > 1, "16 clients all on {reached:?}");
}

/// mergeType in traffic: a route policy that merges with the Gateway's keeps the Gateway's
/// settings it does not set (here a response override) beside its own (a request buffer); a
/// route policy without mergeType replaces the Gateway's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_route_policy_keeps_the_gateway_settings() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route("merged", "/merged", "svc"));
    input.push_str(&route("replaced", "/replaced", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&policy("gw", "Gateway", "gw", "  responseOverride:\n  - match: {statusCodes: [{value: 404}]}\n    response: {body: {inline: gone}, statusCode: 410}\n"));
    input.push_str(&policy("merged", "HTTPRoute", "merged", "  mergeType: StrategicMerge\n  requestBuffer: {limit: 1Ki}\n"));
    input.push_str(&policy("replaced", "HTTPRoute", "replaced", "  requestBuffer: {limit: 1Ki}\n"));
    let _served = serve(&envoy, &input, &[]).await;
    let post = |path: &'static str, n: usize| async move {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        send_body(stream, "POST", "app", path, &[], vec![b'x'; n]).await.expect("post").status
    };
    for path in ["/merged", "/replaced"] {
        assert_eq!(post(path, 2048).await, 413, "{path}: its own request buffer");
    }
    let r = request(port, "GET", "app", "/merged", &[("x-echo-status", "404")]).await.expect("request");
    assert_eq!((r.status, r.body.as_str()), (410, "gone"), "the merged route lost the Gateway's override: {r:?}");
    let r = request(port, "GET", "app", "/replaced", &[("x-echo-status", "404")]).await.expect("request");
    assert_eq!((r.status, r.backend().as_str()), (404, "b"), "{r:?}");
}
