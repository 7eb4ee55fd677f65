//! ClientTrafficPolicy's HTTP/1 and HTTP/2 settings through a real Envoy: header case kept
//! both ways and trailers passed on (seen in the bytes a raw backend receives), HTTP/2
//! SETTINGS and windows as the client sees them, stream and header timeouts.

mod support;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::policy::*;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ON_A: &str = "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: a}";

/// A backend that records the bytes of each request as received (no HTTP library between)
/// and answers `200 ok` with the header `X-Reply-Case`.
async fn raw_backend() -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let (mut buf, mut got) = ([0u8; 4096], Vec::new());
                // The head, then a chunked body through its last chunk and trailers.
                loop {
                    let text = String::from_utf8_lossy(&got).to_ascii_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let chunked = text[..end].contains("transfer-encoding: chunked");
                        if !chunked || text[end..].contains("\r\n0\r\n") && text[end..].ends_with("\r\n\r\n") {
                            break;
                        }
                    }
                    match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
                        Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
                        _ => return,
                    }
                }
                log.lock().expect("log").push(String::from_utf8_lossy(&got).into_owned());
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nX-Reply-Case: Yes\r\nContent-Length: 2\r\n\r\nok").await;
            });
        }
    });
    (port, seen)
}

/// Gateway `gw` with listeners a and b, a route on both to one Service of `port`, and
/// `extra` (policies, more routes), in a running Envoy: its two ports.
async fn gateway_to(envoy: &std::path::Path, port: u16, extra: &[String]) -> (u16, u16, Served) {
    let (pa, pb) = (free_port(), free_port());
    let mut input = two_listener_gateway(pa, pb);
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&service("default", "svc", &[port]));
    for p in extra {
        input.push_str(p);
    }
    let served = serve(envoy, &input, &[]).await;
    (pa, pb, served)
}

/// Send `request` as is; the reply up to its body `ok` (bounded to 5 s).
async fn raw_exchange(port: u16, request: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    s.write_all(request).await.expect("write");
    let (mut buf, mut got) = ([0u8; 4096], Vec::new());
    while !got.ends_with(b"ok") {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await.expect("reply in time") {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// http1.preserveHeaderCase and enableTrailers on listener a: the backend receives
/// `X-CamelCase` as the client wrote it and the request's trailer, and the client gets
/// `X-Reply-Case` as the backend wrote it. Listener b, without the policy, lower-cases both
/// ways and drops the trailer (Envoy's default).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_case_and_trailers_pass_as_sent() {
    let Some(envoy) = envoy() else { return };
    let (backend, seen) = raw_backend().await;
    let policy = client_policy("h1", "2025-01-01T00:00:00Z", ON_A, "  http1: {preserveHeaderCase: true, enableTrailers: true}\n");
    let (pa, pb, _served) = gateway_to(&envoy, backend, &[policy]).await;
    let request = b"POST / HTTP/1.1\r\nHost: app\r\nX-CamelCase: 1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-Trailer-Case: t\r\n\r\n";

    let reply = raw_exchange(pa, request).await;
    assert!(reply.starts_with("HTTP/1.1 200") && reply.contains("X-Reply-Case: Yes"), "{reply}");
    let got = seen.lock().expect("log").pop().expect("the backend got the request");
    assert!(got.contains("X-CamelCase: 1"), "{got}");
    assert!(got.to_ascii_lowercase().contains("x-trailer-case: t"), "the trailer did not reach the backend: {got}");

    let reply = raw_exchange(pb, request).await;
    assert!(reply.starts_with("HTTP/1.1 200") && reply.contains("x-reply-case: Yes"), "{reply}");
    let got = seen.lock().expect("log").pop().expect("the backend got the request");
    assert!(got.contains("x-camelcase: 1") && !got.contains("X-CamelCase"), "{got}");
    assert!(!got.to_ascii_lowercase().contains("x-trailer-case"), "{got}");
}

/// An HTTP/2 (prior knowledge) connection to `port`: after one request has been answered,
/// the streams the server lets the client open at once and the window of a new stream.
async fn h2_limits(port: u16) -> (usize, usize) {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let (client, conn) = h2::client::handshake(tcp).await.expect("h2 handshake");
    tokio::spawn(conn);
    let mut client = client.ready().await.expect("ready");
    let get = http::Request::get("http://app/").body(()).expect("request");
    let (answer, _) = client.send_request(get, true).expect("send");
    let answer = tokio::time::timeout(Duration::from_secs(5), answer).await.expect("answered in time").expect("answer");
    assert_eq!(answer.status(), 200);
    let streams = client.current_max_send_streams();
    let mut client = client.ready().await.expect("ready");
    let post = http::Request::post("http://app/").body(()).expect("request");
    let (_, mut body) = client.send_request(post, false).expect("send");
    body.reserve_capacity(1 << 20);
    let window = tokio::time::timeout(Duration::from_secs(5), std::future::poll_fn(|cx| body.poll_capacity(cx))).await.expect("capacity in time").expect("capacity").expect("capacity");
    (streams, window)
}

/// http2 on listener a: the client is told the policy's stream limit and stream window;
/// listener b keeps Envoy Gateway's (100 streams, a 64 KiB window).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_settings_reach_clients() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let policy = client_policy("h2", "2025-01-01T00:00:00Z", ON_A, "  http2: {maxConcurrentStreams: 7, initialStreamWindowSize: 70000, initialConnectionWindowSize: 2Mi, onInvalidMessage: TerminateStream}\n");
    let (pa, pb, _served) = gateway_to(&envoy, b.addr.port(), &[policy]).await;
    assert_eq!(h2_limits(pa).await, (7, 70_000));
    assert_eq!(h2_limits(pb).await, (100, 65_536));
}

/// timeout.http: on listener a, a client that stops half way through its headers is cut
/// off after requestHeadersReceivedTimeout (408), while one that sent its headers and stops
/// in its body is not; on listener b, streamIdleTimeout cuts that one off (408).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_and_stream_idle_timeouts() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let on_b = ON_A.replace("sectionName: a", "sectionName: b");
    let policies = [
        client_policy("headers", "2025-01-01T00:00:00Z", ON_A, "  timeout: {http: {requestHeadersReceivedTimeout: 300ms}}\n"),
        client_policy("stream", "2025-01-01T00:00:00Z", &on_b, "  timeout: {http: {streamIdleTimeout: 300ms}}\n"),
    ];
    let (pa, pb, _served) = gateway_to(&envoy, b.addr.port(), &policies).await;
    // Whether Envoy closed the connection within `wait` of a request stopped at `partial`,
    // and what it answered.
    let stalled = |port: u16, partial: &'static [u8], wait: u64| async move {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        s.write_all(partial).await.expect("write");
        let mut got = Vec::new();
        let read = tokio::time::timeout(Duration::from_millis(wait), s.read_to_end(&mut got)).await;
        (read.is_ok(), String::from_utf8_lossy(&got).into_owned())
    };
    let half_head: &[u8] = b"GET / HTTP/1.1\r\nHost: app\r\n";
    let half_body: &[u8] = b"POST / HTTP/1.1\r\nHost: app\r\nContent-Length: 10\r\n\r\nabc";
    let (closed, reply) = stalled(pa, half_head, 5000).await;
    assert!(closed && reply.starts_with("HTTP/1.1 408"), "{reply}");
    let (closed, reply) = stalled(pa, half_body, 1000).await;
    assert!(!closed && reply.is_empty(), "listener a cut off a client whose headers had arrived: {reply}");
    let (closed, reply) = stalled(pb, half_body, 5000).await;
    assert!(closed && reply.starts_with("HTTP/1.1 408"), "{reply}");
}

/// headers on listener a: earlyRequestHeaders change the request before routing (set, add,
/// addIfAbsent, remove, removeOnMatch by prefix, any case), lateResponseHeaders every
/// response (set, remove, removeOnMatch), enableEnvoyHeaders lets the router add its own,
/// host.stripTrailingHostDot routes `dot.example.` as `dot.example`, and
/// disableRateLimitHeaders leaves `x-ratelimit-*` off a 429. Listener b has none of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_changes_early_late_and_envoys_own() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let headers = "  headers:\n    enableEnvoyHeaders: true\n    disableRateLimitHeaders: true\n    host: {stripTrailingHostDot: true}\n    earlyRequestHeaders:\n      set: [{name: x-set, value: s}]\n      add: [{name: x-add, value: a}]\n      addIfAbsent: [{name: x-absent, value: default}, {name: x-missing, value: default}]\n      remove: [x-drop]\n      removeOnMatch: [{type: Prefix, value: X-Secret-}]\n    lateResponseHeaders:\n      set: [{name: x-late, value: l}]\n      remove: [server]\n      removeOnMatch: [{type: Prefix, value: X-Echo-}]\n";
    let dot = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: dot, namespace: default}\nspec:\n  parentRefs: [{name: gw}]\n  hostnames: [dot.example]\n  rules:\n    - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-route, value: dot}]}}]\n      backendRefs: [{name: svc, port: 8080}]\n";
    let limited = format!("{}{}", route("limited", "/limited", "svc"), policy("limited", "HTTPRoute", "limited", "  rateLimit:\n    local:\n      rules:\n      - limit: {requests: 1, unit: Hour}\n"));
    let extra = [client_policy("headers", "2025-01-01T00:00:00Z", ON_A, headers), dot.to_string(), limited];
    let (pa, pb, _served) = gateway_to(&envoy, b.addr.port(), &extra).await;
    let sent = [("x-set", "client"), ("x-add", "client"), ("x-absent", "mine"), ("x-drop", "1"), ("x-secret-token", "t"), ("X-Secret-Other", "u")];

    let r = request(pa, "GET", "app", "/", &sent).await.expect("a");
    let seen = &r.echo()["headers"];
    assert_eq!((seen["x-set"].as_str(), seen["x-add"].as_str()), (Some("s"), Some("client,a")), "{seen}");
    assert_eq!((seen["x-absent"].as_str(), seen["x-missing"].as_str()), (Some("mine"), Some("default")), "{seen}");
    for gone in ["x-drop", "x-secret-token", "x-secret-other"] {
        assert!(seen.get(gone).is_none(), "{gone} reached the backend: {seen}");
    }
    assert_eq!(r.headers.get("x-late").map(String::as_str), Some("l"), "{:?}", r.headers);
    assert!(!r.headers.contains_key("server") && !r.headers.contains_key("x-echo-backend"), "{:?}", r.headers);
    assert!(r.headers.contains_key("x-envoy-upstream-service-time"), "{:?}", r.headers);
    let r = request(pa, "GET", "dot.example.", "/", &[]).await.expect("a dot");
    assert_eq!(r.echo()["headers"]["x-route"].as_str(), Some("dot"), "the trailing dot was not stripped: {}", r.body);

    let r = request(pb, "GET", "app", "/", &sent).await.expect("b");
    let seen = &r.echo()["headers"];
    assert_eq!((seen["x-set"].as_str(), seen["x-drop"].as_str(), seen["x-secret-token"].as_str()), (Some("client"), Some("1"), Some("t")), "{seen}");
    assert!(seen.get("x-missing").is_none(), "{seen}");
    assert!(!r.headers.contains_key("x-late") && r.headers.contains_key("x-echo-backend"), "{:?}", r.headers);
    assert!(!r.headers.contains_key("x-envoy-upstream-service-time"), "Envoy Gateway suppresses the router's headers: {:?}", r.headers);
    let r = request(pb, "GET", "dot.example.", "/", &[]).await.expect("b dot");
    assert!(r.echo()["headers"].get("x-route").is_none(), "{}", r.body);

    // The local rate limit (one request an hour): the 429 says so only on b.
    for (port, headers) in [(pa, false), (pb, true)] {
        let mut last = get(port, "app", "/limited").await.expect("limited");
        if last.status == 200 {
            last = get(port, "app", "/limited").await.expect("limited");
        }
        assert_eq!(last.status, 429, "{last:?}");
        assert_eq!(last.headers.contains_key("x-ratelimit-limit"), headers, "{:?}", last.headers);
    }
}

/// A Service `name` whose port 8080 speaks HTTP/2 in clear text (appProtocol
/// kubernetes.io/h2c), with one endpoint at 127.0.0.1:`port`.
fn h2c_service(name: &str, port: u16) -> String {
    format!("---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  ports: [{{name: h2c, port: 8080, appProtocol: kubernetes.io/h2c}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {name}-1\n  namespace: default\n  labels: {{kubernetes.io/service-name: {name}}}\naddressType: IPv4\nports: [{{name: h2c, port: {port}, appProtocol: kubernetes.io/h2c}}]\nendpoints: [{{addresses: [127.0.0.1]}}]\n")
}

/// grpc.enableWeb on listener a: a gRPC-Web call (HTTP/1.1, one framed message) through an
/// HTTPRoute reaches the gRPC backend as gRPC and comes back as gRPC-Web, its status in a
/// trailer frame. Listener b, without the policy, does not translate it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_web_through_an_http_route() {
    let Some(envoy) = envoy() else { return };
    let backend = support::grpc::grpc_backend("g").await;
    let (pa, pb) = (free_port(), free_port());
    let mut input = two_listener_gateway(pa, pb);
    input.push_str(&route("app", "/", "grpc"));
    input.push_str(&h2c_service("grpc", backend.addr.port()));
    input.push_str(&client_policy("web", "2025-01-01T00:00:00Z", ON_A, "  grpc: {enableWeb: true}\n"));
    let _served = serve(&envoy, &input, &[]).await;
    let message = b"hello";
    let mut frame = vec![0u8];
    frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
    frame.extend_from_slice(message);
    let web_call = |port: u16| {
        let frame = frame.clone();
        async move {
            let s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
            send_body(s, "POST", "app", "/svc.v1.Api/Get", &[("content-type", "application/grpc-web+proto"), ("x-grpc-web", "1")], frame).await.expect("reply")
        }
    };
    let r = web_call(pa).await;
    assert_eq!(r.headers.get("content-type").map(String::as_str), Some("application/grpc-web+proto"), "{:?}", r.headers);
    // A message frame with the backend's answer, then the trailer frame (flag 0x80).
    let trailer_at = r.raw.iter().rposition(|b| *b == 0x80).expect("a trailer frame");
    assert!(String::from_utf8_lossy(&r.raw[..trailer_at]).contains("\"backend\":\"g\""), "{:?}", r.body);
    assert!(String::from_utf8_lossy(&r.raw[trailer_at..]).contains("grpc-status:0"), "{:?}", r.body);
    assert_eq!(backend.calls().len(), 1);
    let r = web_call(pb).await;
    assert_ne!(r.headers.get("content-type").map(String::as_str), Some("application/grpc-web+proto"), "listener b translated gRPC-Web: {:?}", r.headers);
}

/// scheme MatchBackend on HTTPS listener a: the backend, reached over clear-text HTTP/2,
/// sees `:scheme http`; listener b keeps the client's `https` (Preserve, the default).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheme_of_the_backend_or_the_client() {
    let Some(envoy) = envoy() else { return };
    let pki = Pki::new("ca");
    let (crt, key) = pki.leaf(&["app.example"]);
    let b = echo("b").await;
    let (pa, pb) = (free_port(), free_port());
    let tls = "tls: {certificateRefs: [{name: cert}]}";
    let mut input = format!("{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n  - {{name: a, protocol: HTTPS, port: {pa}, hostname: app.example, {tls}}}\n  - {{name: b, protocol: HTTPS, port: {pb}, hostname: app.example, {tls}}}\n");
    input.push_str(&tls_secret("default", "cert", &crt, &key));
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&h2c_service("svc", b.addr.port()));
    input.push_str(&client_policy("scheme", "2025-01-01T00:00:00Z", ON_A, "  scheme: MatchBackend\n"));
    let _served = serve(&envoy, &input, &[]).await;
    let seen = |port: u16| {
        let ca = pki.ca_der.clone();
        async move {
            let r = https_request(port, "app.example", &ca, "app.example", "/").await.expect("https");
            (r.echo()["version"].as_str().unwrap_or_default().to_string(), r.echo()["scheme"].as_str().unwrap_or_default().to_string())
        }
    };
    assert_eq!(seen(pa).await, ("HTTP/2.0".to_string(), "http".to_string()));
    assert_eq!(seen(pb).await, ("HTTP/2.0".to_string(), "https".to_string()));
}

/// An open HTTP/1.1 connection to `port` after one answered GET.
async fn kept_alive(port: u16) -> tokio::net::TcpStream {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let reply = get_on(&mut s).await.expect("first request");
    assert!(reply.starts_with("http/1.1 200"), "{reply}");
    s
}

/// One GET on an open connection: the reply head and body (lower-cased), or None when Envoy
/// closed the connection first (bounded to 10 s).
async fn get_on(s: &mut tokio::net::TcpStream) -> Option<String> {
    s.write_all(b"GET / HTTP/1.1\r\nHost: app\r\n\r\n").await.ok()?;
    let (mut buf, mut got) = ([0u8; 4096], Vec::new());
    while !String::from_utf8_lossy(&got).contains("\"body_bytes\"") {
        match tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await.expect("reply or close in time") {
            Ok(0) | Err(_) => return None,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    Some(String::from_utf8_lossy(&got).to_ascii_lowercase())
}

/// connectionLimit.maxConnectionDuration: on listener a (Envoy Gateway's safe default) an
/// HTTP/1 connection past it stays open until its next request, answered with
/// `connection: close`; on listener b (http1.disableSafeMaxConnectionDuration) Envoy closes
/// the idle connection itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn safe_max_connection_duration() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let on_b = ON_A.replace("sectionName: a", "sectionName: b");
    let limit = "  connection: {connectionLimit: {maxConnectionDuration: 300ms}}\n";
    let policies = [client_policy("safe", "2025-01-01T00:00:00Z", ON_A, limit), client_policy("unsafe", "2025-01-01T00:00:00Z", &on_b, &format!("{limit}  http1: {{disableSafeMaxConnectionDuration: true}}\n"))];
    let (pa, pb, _served) = gateway_to(&envoy, b.addr.port(), &policies).await;
    let (mut a, mut b) = (kept_alive(pa).await, kept_alive(pb).await);
    // b is closed by Envoy past the duration (its drain may take a few seconds)...
    let mut byte = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(10), b.read(&mut byte)).await.expect("b closed in time");
    assert!(matches!(closed, Ok(0) | Err(_)), "b stayed open");
    // ...while a, by now past its duration too, still serves one last request.
    let reply = get_on(&mut a).await.expect("a served after its duration");
    assert!(reply.starts_with("http/1.1 200") && reply.contains("connection: close"), "{reply}");
}

/// http1.ignoredUpgradeTypes on listener a: an Upgrade to `TLS/1.2` (a Prefix match) is
/// served as a plain request, the backend seeing no upgrade; listener b refuses it (403),
/// as Envoy refuses upgrades it has no configuration for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignored_upgrade_types_are_served_plain() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let policy = client_policy("up", "2025-01-01T00:00:00Z", ON_A, "  http1: {ignoredUpgradeTypes: [{type: Prefix, value: TLS/}]}\n");
    let (pa, pb, _served) = gateway_to(&envoy, b.addr.port(), &[policy]).await;
    let upgrade = [("connection", "upgrade"), ("upgrade", "TLS/1.2")];
    let r = request(pa, "GET", "app", "/", &upgrade).await.expect("a");
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.echo()["headers"].get("upgrade").is_none(), "{}", r.body);
    assert_eq!(request(pb, "GET", "app", "/", &upgrade).await.expect("b").status, 403);
}
