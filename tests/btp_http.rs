//! BackendTrafficPolicy's HTTP settings through a real Envoy: request buffering (413 over the
//! limit, whole requests to the backend), HTTP/2 towards backends (max concurrent streams per
//! connection), and the protocol upgrades a route allows.

mod support;
use std::collections::BTreeSet;
use support::policy::*;
use support::*;

/// A Service `svc` whose one port speaks h2c, with an endpoint at 127.0.0.1:`port`.
fn h2c_service(svc: &str, port: u16) -> String {
    format!(
        "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {svc}, namespace: default}}\nspec:\n  ports: [{{name: h2c, port: 8080, appProtocol: kubernetes.io/h2c}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {svc}-0\n  namespace: default\n  labels: {{kubernetes.io/service-name: {svc}}}\naddressType: IPv4\nports: [{{name: h2c, port: {port}}}]\nendpoints:\n  - addresses: [127.0.0.1]\n"
    )
}

async fn post(port: u16, path: &str, body: Vec<u8>, chunked: bool) -> Reply {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let headers: &[(&str, &str)] = if chunked { &[("transfer-encoding", "chunked")] } else { &[] };
    send_body(stream, "POST", "app", path, headers, body).await.expect("post")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_buffer_limits_and_buffers_whole_requests() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route("buffered", "/buffered", "svc"));
    input.push_str(&route("plain", "/plain", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&policy("buf", "HTTPRoute", "buffered", "  requestBuffer: {limit: 1Ki}\n"));
    let _served = serve(&envoy, &input, &[]).await;

    // A chunked request within the limit reaches the backend whole, with its length.
    let r = post(port, "/buffered", vec![b'x'; 600], true).await;
    assert_eq!(r.status, 200, "{r:?}");
    let e = r.echo();
    assert_eq!(e["body_bytes"], 600, "{e}");
    assert_eq!(e["headers"]["content-length"], "600", "the buffered request has no length: {e}");
    assert!(e["headers"].get("transfer-encoding").is_none(), "{e}");
    // Over the limit: 413, and the backend never sees it.
    let hits = b.hits();
    for chunked in [true, false] {
        let r = post(port, "/buffered", vec![b'x'; 2048], chunked).await;
        assert_eq!(r.status, 413, "chunked={chunked}: {r:?}");
    }
    assert_eq!(b.hits(), hits, "a request over the buffer limit reached the backend");
    // The route without the policy streams the same request through, chunked.
    let r = post(port, "/plain", vec![b'x'; 2048], true).await;
    assert_eq!(r.status, 200, "{r:?}");
    let e = r.echo();
    assert_eq!((e["body_bytes"].as_u64(), e["headers"]["transfer-encoding"].as_str()), (Some(2048), Some("chunked")), "{e}");
}

/// Three slow requests at once: one HTTP/2 connection carries them all, unless the policy
/// allows one stream per connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_max_concurrent_streams_opens_connections() {
    let Some(envoy) = envoy() else { return };
    let b = echo("h2").await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route("one", "/one", "h2"));
    input.push_str(&route("many", "/many", "h2"));
    input.push_str(&h2c_service("h2", b.addr.port()));
    input.push_str(&policy("h2", "HTTPRoute", "one", "  http2:\n    maxConcurrentStreams: 1\n    initialStreamWindowSize: 128Ki\n    onInvalidMessage: TerminateStream\n    connectionKeepalive: {interval: 30s, timeout: 5s}\n"));
    let served = serve(&envoy, &input, &[]).await;
    assert!(served.bootstrap.contains("max_concurrent_streams: 1\n"), "{}", served.bootstrap);
    let peers = |path: &'static str| async move {
        let calls: Vec<_> = (0..3).map(|_| tokio::spawn(async move { get_with(port, path).await })).collect();
        let mut seen = BTreeSet::new();
        for c in calls {
            let r = c.await.expect("join");
            assert_eq!(r.status, 200, "{r:?}");
            assert_eq!(r.echo()["version"], "HTTP/2.0", "{}", r.body);
            seen.insert(r.echo()["peer"].as_str().unwrap_or_default().to_string());
        }
        seen
    };
    assert_eq!(peers("/many").await.len(), 1, "Envoy multiplexes on one connection by default");
    assert_eq!(peers("/one").await.len(), 3, "one stream per connection means three connections");
}

async fn get_with(port: u16, path: &str) -> Reply {
    request(port, "GET", "app", path, &[("x-echo-delay-ms", "300")]).await.expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_upgrade_types_per_route() {
    let Some(envoy) = envoy() else { return };
    let (ws_addr, _ws) = ws_echo().await;
    let port = free_port();
    let mut input = http_gateway(port);
    for (name, path) in [("spdy", "/spdy"), ("default", "/default"), ("buffered", "/buffered")] {
        input.push_str(&route(name, path, "up"));
    }
    input.push_str(&service("default", "up", &[ws_addr.port()]));
    input.push_str(&policy("spdy", "HTTPRoute", "spdy", "  httpUpgrade: [{type: spdy/3.1}]\n"));
    input.push_str(&policy("buffered", "HTTPRoute", "buffered", "  requestBuffer: {limit: 1Mi}\n"));
    let _served = serve(&envoy, &input, &[]).await;
    // The listener's default: WebSocket only.
    assert_eq!(try_upgrade(port, "/default", "websocket").await, (101, true));
    assert_eq!(try_upgrade(port, "/default", "spdy/3.1").await.0, 403);
    // The policy's list replaces the default.
    assert_eq!(try_upgrade(port, "/spdy", "spdy/3.1").await, (101, true));
    assert_eq!(try_upgrade(port, "/spdy", "websocket").await.0, 403);
    // A request buffer rules out the default upgrade.
    assert_eq!(try_upgrade(port, "/buffered", "websocket").await.0, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_override_replaces_replies() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let port = free_port();
    let closed = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route("app", "/app", "svc"));
    input.push_str(&route("dead", "/dead", "dead"));
    input.push_str(&route("plain", "/plain", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&service("default", "dead", &[closed]));
    input.push_str("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: page, namespace: default}\ndata: {response.body: \"<h1>down for maintenance</h1>\"}\n");
    input.push_str(
        "---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\nmetadata: {name: ro, namespace: default}\nspec:\n  targetRefs:\n  - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}\n  - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: dead}\n  responseOverride:\n  - match: {statusCodes: [{value: 404}]}\n    response: {contentType: text/plain, body: {inline: not here}, statusCode: 410, header: {add: [{name: x-added, value: \"1\"}], set: [{name: server, value: gatewayc}]}}\n  - match: {statusCodes: [{type: Range, range: {start: 500, end: 503}}]}\n    source: Local\n    response: {contentType: text/html, body: {type: ValueRef, valueRef: {group: \"\", kind: ConfigMap, name: page}}}\n  - match: {responseHeaders: [{name: x-move, value: {type: Prefix, value: \"yes\"}}]}\n    redirect: {path: {type: ReplaceFullPath, replaceFullPath: /plain/moved}, statusCode: 301}\n",
    );
    let _served = serve(&envoy, &input, &[]).await;
    let ask = |path: &'static str, headers: &'static [(&'static str, &'static str)]| async move { request(port, "GET", "app", path, headers).await.expect("request") };

    // A backend's 404 becomes the policy's 410, with its body and headers.
    let r = ask("/app", &[("x-echo-status", "404")]).await;
    assert_eq!((r.status, r.body.as_str()), (410, "not here"), "{r:?}");
    assert_eq!(r.headers.get("content-type").map(String::as_str), Some("text/plain"));
    assert_eq!(r.headers.get("x-added").map(String::as_str), Some("1"));
    assert_eq!(r.headers.get("server").map(String::as_str), Some("gatewayc"));
    // Envoy's own 503 (no backend answers) takes the ConfigMap's page; a backend's 503 does not.
    let r = ask("/dead", &[]).await;
    assert_eq!((r.status, r.body.as_str()), (503, "<h1>down for maintenance</h1>"), "{r:?}");
    assert_eq!(r.headers.get("content-type").map(String::as_str), Some("text/html"));
    let r = ask("/app", &[("x-echo-status", "503")]).await;
    assert_eq!((r.status, r.backend().as_str()), (503, "b"), "a backend's reply was replaced: {r:?}");
    // A response header match redirects, inside Envoy (as Envoy Gateway configures it): the
    // client gets the reply of the new path.
    let r = ask("/app", &[("x-echo-response-header", "x-move=yes please")]).await;
    assert_eq!((r.backend().as_str(), r.echo()["path"].as_str()), ("b", Some("/plain/moved")), "{r:?}");
    // Unmatched replies, and routes without the policy, pass as they are.
    assert_eq!(ask("/app", &[]).await.backend(), "b");
    let r = ask("/plain", &[("x-echo-status", "404")]).await;
    assert_eq!((r.status, r.backend().as_str()), (404, "b"), "{r:?}");
}

/// Two slow requests at once to one endpoint: two connections, unless the circuit breaker
/// allows one connection per endpoint, which then carries both in turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_endpoint_connection_limit_serializes_requests() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route("limited", "/limited", "svc"));
    input.push_str(&route("open", "/open", "svc2"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&service("default", "svc2", &[b.addr.port()]));
    input.push_str(&policy("one", "HTTPRoute", "limited", "  circuitBreaker:\n    perEndpoint: {maxConnections: 1}\n    retryBudget: {percent: {numerator: 20}, minRetryConcurrency: 3}\n  retry: {numRetries: 1, numAttemptsPerPriority: 1}\n  connection: {preconnect: {perEndpointPercent: 100}}\n"));
    let _served = serve(&envoy, &input, &[]).await;
    let peers = |path: &'static str| async move {
        let calls: Vec<_> = (0..2).map(|_| tokio::spawn(async move { get_with(port, path).await })).collect();
        let mut seen = BTreeSet::new();
        for c in calls {
            let r = c.await.expect("join");
            assert_eq!(r.status, 200, "{r:?}");
            seen.insert(r.echo()["peer"].as_str().unwrap_or_default().to_string());
        }
        seen
    };
    assert_eq!(peers("/open").await.len(), 2, "parallel requests open two connections");
    assert_eq!(peers("/limited").await.len(), 1, "one connection per endpoint carries both requests");
}

/// An active HTTP health check can POST a body (`requestBody`); the backend sees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_check_posts_its_request_body() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route("app", "/app", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&policy("hc", "HTTPRoute", "app", "  healthCheck:\n    active:\n      type: HTTP\n      http: {path: /probe, method: POST, requestBody: {type: Text, text: are you there}}\n      interval: 100ms\n"));
    let _served = serve(&envoy, &input, &[]).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let posted = || b.bodies.lock().map(|v| v.iter().any(|(m, p, body)| m == "POST" && p == "/probe" && body == "are you there")).unwrap_or(false);
    while !posted() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(posted(), "no health check with the body: {:?}", b.bodies.lock().map(|v| v.clone()).unwrap_or_default());
}
