//! End to end through a real Envoy: manifests in, bootstrap out, real requests routed to Rust
//! echo backends on 127.0.0.1. What the client and the backends see is the test.

mod support;
use support::*;

/// The seed scenario: one Gateway on port 80 (bound at 10080-style P+10000), two HTTPRoutes
/// sharing it, host and path routing, an 80/20 split, a redirect, header modifiers, 404 for an
/// unknown host, 500 for a missing Service, and a route that is not accepted is not served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_scenario_through_envoy() {
    let Some(envoy) = envoy() else { return };
    let cart = echo("cart").await;
    let v1 = echo("shop-v1").await;
    let v2 = echo("shop-v2").await;
    let blog = echo("blog").await;
    let port = free_low_port();
    let mut input = format!(
        r#"
{EG_CLASS}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: web, namespace: default}}
spec:
  gatewayClassName: eg
  listeners:
    - {{name: http, protocol: HTTP, port: {port}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: shop, namespace: default}}
spec:
  parentRefs: [{{name: web}}]
  hostnames: [shop.example.com]
  rules:
    - matches: [{{path: {{type: PathPrefix, value: /cart}}}}]
      backendRefs: [{{name: cart, port: 8080}}]
    - backendRefs:
        - {{name: shop-v1, port: 8080, weight: 80}}
        - {{name: shop-v2, port: 8080, weight: 20}}
    - matches: [{{path: {{type: Exact, value: /gone}}}}]
      backendRefs: [{{name: missing, port: 8080}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: blog, namespace: default}}
spec:
  parentRefs: [{{name: web}}]
  hostnames: [blog.example.com]
  rules:
    - matches: [{{path: {{type: Exact, value: /old}}}}]
      filters:
        - type: RequestRedirect
          requestRedirect:
            path: {{type: ReplaceFullPath, replaceFullPath: /new}}
            statusCode: 301
    - filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set: [{{name: x-site, value: blog}}]
            remove: [x-drop-me]
        - type: ResponseHeaderModifier
          responseHeaderModifier:
            add: [{{name: x-served-by, value: gatewayc}}]
      backendRefs: [{{name: blog, port: 8080}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: intruder, namespace: other}}
spec:
  parentRefs: [{{name: web, namespace: default}}]
  hostnames: [intruder.example.com]
  rules:
    - backendRefs: [{{name: blog, port: 8080}}]
"#
    );
    input.push_str(&slice("default", "cart", cart.addr.port()));
    input.push_str(&slice("default", "shop-v1", v1.addr.port()));
    input.push_str(&slice("default", "shop-v2", v2.addr.port()));
    input.push_str(&slice("default", "blog", blog.addr.port()));
    input.push_str(&slice("other", "blog", blog.addr.port()));

    let served = serve(&envoy, &input, &[]).await;
    // The route from namespace `other` is not allowed by the listener (from: Same): a warning.
    assert!(served.stderr.contains("NotAllowedByListeners"), "{}", served.stderr);
    let bound = port + 10000;
    assert!(served.bootstrap.contains(&format!("port_value: {bound}")), "listener binds P+10000");

    let host = |h: &str| if port == 80 { h.to_string() } else { format!("{h}:{port}") };

    // Host and path routing; the prefix is segment-aware.
    let r = get(bound, &host("shop.example.com"), "/cart/items?id=1").await.expect("request");
    assert_eq!((r.status, r.backend().as_str()), (200, "cart"));
    assert_eq!(r.echo()["path"], "/cart/items?id=1");
    let r = get(bound, &host("shop.example.com"), "/cartoon").await.expect("request");
    assert_ne!(r.backend(), "cart", "/cart must not match /cartoon");

    // 80/20 split measured over 1000 requests (at least 200 asked), within ±7 points: 5 standard
    // deviations, so the check does not flake.
    let mut v1n = 0;
    let n = 1000;
    for _ in 0..n {
        let r = get(bound, &host("shop.example.com"), "/").await.expect("request");
        assert_eq!(r.status, 200);
        match r.backend().as_str() {
            "shop-v1" => v1n += 1,
            "shop-v2" => {}
            other => panic!("unexpected backend {other}"),
        }
    }
    let share = v1n as f64 * 100.0 / n as f64;
    eprintln!("weighted split: shop-v1 {share}%");
    assert!((73.0..=87.0).contains(&share), "shop-v1 got {share}% of requests, want 80±7");

    // Redirect, seen by the client.
    let r = get(bound, &host("blog.example.com"), "/old").await.expect("request");
    assert_eq!(r.status, 301);
    let loc = r.headers.get("location").cloned().unwrap_or_default();
    assert!(loc.ends_with("blog.example.com/new") || loc.contains("blog.example.com:") && loc.ends_with("/new"), "location {loc}");
    assert!(loc.starts_with("http://"), "location {loc}");
    assert!(!loc.contains(&bound.to_string()), "Location must use the listener port, not the bound one: {loc}");

    // Header modifiers, seen by the backend and by the client.
    let r = request(bound, "GET", &host("blog.example.com"), "/post", &[("x-drop-me", "1"), ("x-site", "spoofed")]).await.expect("request");
    assert_eq!(r.backend(), "blog");
    assert_eq!(r.echo()["headers"]["x-site"], "blog");
    assert!(r.echo()["headers"].get("x-drop-me").is_none());
    assert_eq!(r.headers.get("x-served-by").map(String::as_str), Some("gatewayc"));

    // 404 for an unknown host; 500 for a route whose Service is missing.
    assert_eq!(get(bound, &host("nobody.example.com"), "/").await.expect("request").status, 404);
    assert_eq!(get(bound, &host("shop.example.com"), "/gone").await.expect("request").status, 500);
    // The route that was not accepted is not served.
    assert_eq!(get(bound, &host("intruder.example.com"), "/").await.expect("request").status, 404);
}

/// Match types and precedence across routes: exact beats prefix, longer prefix beats shorter,
/// method and header matches, query parameters, regular expressions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matching_and_precedence_through_envoy() {
    let Some(envoy) = envoy() else { return };
    let names = ["exact", "long-prefix", "short-prefix", "method", "header", "query", "regex"];
    let mut backends = Vec::new();
    for n in names {
        backends.push(echo(n).await);
    }
    let port = free_port();
    let mut input = format!(
        r#"
{EG_CLASS}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: default}}
spec:
  gatewayClassName: eg
  listeners: [{{name: http, protocol: HTTP, port: {port}, hostname: "*.example.com"}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: b-route, namespace: default, creationTimestamp: "2024-01-02T00:00:00Z"}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
    - matches: [{{path: {{type: PathPrefix, value: /api}}}}]
      backendRefs: [{{name: short-prefix, port: 8080}}]
    - matches: [{{path: {{type: PathPrefix, value: /api/v1/}}}}]
      backendRefs: [{{name: long-prefix, port: 8080}}]
    - matches: [{{path: {{type: RegularExpression, value: "/re/[0-9]+"}}}}]
      backendRefs: [{{name: regex, port: 8080}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: a-route, namespace: default, creationTimestamp: "2024-01-01T00:00:00Z"}}
spec:
  parentRefs: [{{name: gw}}]
  hostnames: [app.example.com]
  rules:
    - matches: [{{path: {{type: Exact, value: /api/v1/exact}}}}]
      backendRefs: [{{name: exact, port: 8080}}]
    - matches: [{{path: {{type: PathPrefix, value: /api}}, method: POST}}]
      backendRefs: [{{name: method, port: 8080}}]
    - matches: [{{path: {{type: PathPrefix, value: /api}}, headers: [{{name: X-Version, value: "2"}}]}}]
      backendRefs: [{{name: header, port: 8080}}]
    - matches: [{{path: {{type: PathPrefix, value: /api}}, queryParams: [{{name: debug, value: "true"}}]}}]
      backendRefs: [{{name: query, port: 8080}}]
"#
    );
    for b in &backends {
        input.push_str(&slice("default", &b.name, b.addr.port()));
    }
    let _served = serve(&envoy, &input, &[]).await;
    let h = format!("app.example.com:{port}");
    let cases: Vec<(&str, &str, Vec<(&str, &str)>, &str)> = vec![
        ("GET", "/api/v1/exact", vec![], "exact"),
        ("GET", "/api/v1/other", vec![], "long-prefix"),
        ("GET", "/api/v1", vec![], "long-prefix"),
        ("GET", "/api/v2", vec![], "short-prefix"),
        ("POST", "/api/v2", vec![], "method"),
        ("GET", "/api/v2", vec![("x-version", "2")], "header"),
        ("GET", "/api/v2?debug=true", vec![], "query"),
        ("GET", "/re/123", vec![], "regex"),
    ];
    for (method, path, headers, want) in cases {
        let r = request(port, method, &h, path, &headers).await.expect("request");
        assert_eq!((r.status, r.backend()), (200, want.to_string()), "{method} {path} {headers:?}");
    }
    // The route without hostnames serves every host under the listener's wildcard.
    let r = get(port, &format!("other.example.com:{port}"), "/api/x").await.expect("request");
    assert_eq!(r.backend(), "short-prefix");
    let r = get(port, &format!("deep.sub.example.com:{port}"), "/re/7").await.expect("request");
    assert_eq!(r.backend(), "regex");
    // Outside the listener's hostname: no virtual host.
    assert_eq!(get(port, &format!("example.org:{port}"), "/api").await.expect("request").status, 404);
}

/// Redirects keep the spec's port rules whatever the client put in Host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_ports_through_envoy() {
    let Some(envoy) = envoy() else { return };
    let port = free_port();
    let gateway = http_gateway(port);
    let input = format!(
        r#"
{gateway}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: r, namespace: default}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
    - matches: [{{path: {{value: /https}}}}]
      filters: [{{type: RequestRedirect, requestRedirect: {{scheme: https}}}}]
    - matches: [{{path: {{value: /https-8443}}}}]
      filters: [{{type: RequestRedirect, requestRedirect: {{scheme: https, port: 8443}}}}]
    - matches: [{{path: {{value: /http80}}}}]
      filters: [{{type: RequestRedirect, requestRedirect: {{port: 80}}}}]
"#
    );
    let exact = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: exact, namespace: default}\nspec:\n  parentRefs: [{name: gw}]\n  hostnames: [exact.example.com]\n  rules:\n    - matches: [{path: {value: /https}}]\n      filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}]\n";
    let _served = serve(&envoy, &format!("{input}{exact}"), &[]).await;
    let loc = |host: String, p: &'static str| async move { get(port, &host, p).await.expect("request").headers.get("location").cloned().unwrap_or_default() };
    // A Host without a port: the well-known port stays out of Location.
    let h = "example.com".to_string();
    assert_eq!(loc(h.clone(), "/https").await, "https://example.com/https");
    assert_eq!(loc(h.clone(), "/https-8443").await, "https://example.com:8443/https-8443");
    assert_eq!(loc(h, "/http80").await, "http://example.com/http80");
    // A Host with the listener's port: the client's port never leaks into a redirect to another
    // port. On an exact hostname the Location names the host alone; on a wildcard one Envoy
    // can only replace the port, so it is the well-known one, written out.
    let h = format!("example.com:{port}");
    assert_eq!(loc(h.clone(), "/https").await, "https://example.com:443/https");
    assert_eq!(loc(h.clone(), "/https-8443").await, "https://example.com:8443/https-8443");
    assert_eq!(loc(h, "/http80").await, "http://example.com:80/http80");
    assert_eq!(loc(format!("exact.example.com:{port}"), "/https").await, "https://exact.example.com/https");
    assert_eq!(loc("exact.example.com".into(), "/https").await, "https://exact.example.com/https");
}

/// A rule whose backendRefs are partly invalid: the invalid ones' share of traffic answers 500,
/// the rest reaches the valid backend (measured over 400 requests, ±10 points: 4 deviations).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_backend_share_answers_500_through_envoy() {
    let Some(envoy) = envoy() else { return };
    let good = echo("good").await;
    let port = free_port();
    let gateway = http_gateway(port);
    let mut input = format!(
        r#"{gateway}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: partial, namespace: default}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
    - backendRefs:
        - {{name: good, port: 8080, weight: 1}}
        - {{name: missing, port: 8080, weight: 1}}
"#
    );
    input.push_str(&slice("default", "good", good.addr.port()));
    let served = serve(&envoy, &input, &[]).await;
    assert!(served.stderr.contains("BackendNotFound"), "{}", served.stderr);
    let n = 400;
    let mut errors = 0;
    for _ in 0..n {
        let r = get(port, "example.com", "/").await.expect("request");
        match r.status {
            500 => errors += 1,
            200 => assert_eq!(r.backend(), "good"),
            s => panic!("unexpected status {s}"),
        }
    }
    let share = errors as f64 * 100.0 / n as f64;
    assert!((40.0..=60.0).contains(&share), "{share}% answered 500, want 50±10");
}

/// An HTTP Gateway on a free port whose one HTTPRoute sends everything to the echo backend `api`.
async fn one_backend(envoy: &std::path::Path) -> (Echo, u16, Served) {
    let api = echo("api").await;
    let port = free_port();
    let mut input = format!(
        "{}---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: default}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules: [{{backendRefs: [{{name: api, port: 8080}}]}}]\n",
        http_gateway(port)
    );
    input.push_str(&slice("default", "api", api.addr.port()));
    let served = serve(envoy, &input, &[]).await;
    (api, port, served)
}

/// Envoy Gateway's defaults, through Envoy: a request header with an underscore is refused (it
/// could smuggle a header a backend reads with dashes), and the backend's Server header passes
/// through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envoy_gateway_defaults_through_envoy() {
    let Some(envoy) = envoy() else { return };
    let (api, port, _served) = one_backend(&envoy).await;
    let r = get(port, "example.com", "/").await.expect("request");
    assert_eq!((r.status, r.backend().as_str()), (200, "api"));
    assert_eq!(r.headers.get("server").map(String::as_str), Some("gatewayc-echo"));
    let r = request(port, "GET", "example.com", "/u", &[("x_user", "admin")]).await.expect("request");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(!api.seen.lock().map(|v| v.iter().any(|p| p == "/u")).unwrap_or(true), "the backend must not see it");
}

/// Envoy Gateway's HTTP/2 limit, as a client sees it: the listener's SETTINGS allow 100
/// concurrent streams (Envoy's own default is 2^31-1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_clients_are_limited_to_100_concurrent_streams() {
    let Some(envoy) = envoy() else { return };
    let (_api, port, _served) = one_backend(&envoy).await;
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let (mut client, mut conn) = h2::client::handshake(tcp).await.expect("h2c prior knowledge");
    let req = http::Request::get("http://example.com/").body(()).expect("request");
    let (resp, _) = client.send_request(req, true).expect("send");
    // Drive the connection until the answer: the server's SETTINGS come before it.
    let resp = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        tokio::pin!(resp);
        tokio::select! {
            r = &mut resp => r,
            c = &mut conn => panic!("connection ended first: {c:?}"),
        }
    })
    .await
    .expect("answered in time")
    .expect("response");
    assert_eq!(resp.status(), 200);
    assert_eq!(conn.max_concurrent_send_streams(), 100);
}
