//! BackendTrafficPolicy end to end through a real Envoy: load balancing and session affinity
//! (cookie, header, source IP), retries, timeouts, circuit breakers, and which policy wins
//! (rule over route over Gateway), seen in traffic and in status.

mod support;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::policy::*;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_affinity_by_cookie_header_and_source_ip() {
    let Some(envoy) = envoy() else { return };
    let (_b, ports) = backends(4).await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route("cookie", "/cookie", "svc"));
    input.push_str(&route("header", "/header", "svc"));
    input.push_str(&route("ip", "/ip", "svc"));
    input.push_str(&service("default", "svc", &ports));
    input.push_str(&policy("cookie", "HTTPRoute", "cookie", "  loadBalancer:\n    type: ConsistentHash\n    consistentHash: {type: Cookie, cookie: {name: affinity, ttl: 60s}}\n"));
    input.push_str(&policy("header", "HTTPRoute", "header", "  loadBalancer:\n    type: ConsistentHash\n    consistentHash: {type: Header, header: {name: x-user}}\n"));
    input.push_str(&policy("ip", "HTTPRoute", "ip", "  loadBalancer:\n    type: ConsistentHash\n    consistentHash: {type: SourceIP}\n    \n"));
    let served = serve(&envoy, &input, &[]).await;
    assert!(served.bootstrap.contains("lb_policy: MAGLEV"), "{}", served.bootstrap);

    // Cookie: the first answer sets the cookie; every request that carries it lands on one
    // backend; new clients (other addresses) spread.
    let mut first_backends = BTreeSet::new();
    for c in 2..22 {
        let from = format!("127.0.0.{c}");
        let r = request_from(&from, port, "/cookie", &[]).await;
        assert_eq!(r.status, 200, "{r:?}");
        let set = r.headers.get("set-cookie").cloned().unwrap_or_default();
        assert!(set.starts_with("affinity="), "the first response sets the cookie: {r:?}");
        let cookie = set.split(';').next().unwrap_or("").to_string();
        first_backends.insert(r.backend());
        for _ in 0..5 {
            let again = request_from(&from, port, "/cookie", &[("cookie", &cookie)]).await;
            assert_eq!(again.backend(), r.backend(), "cookie {cookie} moved");
            assert!(!again.headers.contains_key("set-cookie"), "no new cookie when one is sent");
        }
    }
    assert!(first_backends.len() > 1, "new clients all landed on one backend: {first_backends:?}");

    // Header: one value, one backend; values spread.
    let mut by_value = BTreeSet::new();
    for u in 0..20 {
        let user = format!("user-{u}");
        let first = request_from("127.0.0.1", port, "/header", &[("x-user", &user)]).await.backend();
        for _ in 0..4 {
            assert_eq!(request_from("127.0.0.1", port, "/header", &[("x-user", &user)]).await.backend(), first, "{user} moved");
        }
        by_value.insert(first);
    }
    assert!(by_value.len() > 1, "every header value landed on one backend");

    // Source IP: each client address sticks to one backend; the clients reach several.
    let mut by_client = BTreeMap::new();
    for c in 2..22 {
        let from = format!("127.0.0.{c}");
        let first = request_from(&from, port, "/ip", &[]).await.backend();
        for _ in 0..4 {
            assert_eq!(request_from(&from, port, "/ip", &[]).await.backend(), first, "{from} moved");
        }
        by_client.insert(from, first);
    }
    let reached: BTreeSet<_> = by_client.values().collect();
    assert!(reached.len() > 1, "every client address landed on one backend: {by_client:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_robin_random_and_least_request() {
    let Some(envoy) = envoy() else { return };
    let (rr, rr_ports) = backends(2).await;
    let (rnd, rnd_ports) = backends(2).await;
    let (lr, lr_ports) = backends(2).await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route("rr", "/rr", "rr"));
    input.push_str(&route("random", "/random", "rnd"));
    input.push_str(&route("least", "/least", "lr"));
    input.push_str(&service("default", "rr", &rr_ports));
    input.push_str(&service("default", "rnd", &rnd_ports));
    input.push_str(&service("default", "lr", &lr_ports));
    input.push_str(&policy("rr", "HTTPRoute", "rr", "  loadBalancer: {type: RoundRobin}\n"));
    input.push_str(&policy("random", "HTTPRoute", "random", "  loadBalancer: {type: Random}\n"));
    input.push_str(&policy("least", "HTTPRoute", "least", "  loadBalancer: {type: LeastRequest}\n"));
    let served = serve(&envoy, &input, &[]).await;
    for lb in ["lb_policy: RANDOM", "lb_policy: LEAST_REQUEST", "lb_policy: ROUND_ROBIN"] {
        assert!(served.bootstrap.contains(lb), "{lb} missing");
    }
    // Round robin (one Envoy worker): exactly even.
    for _ in 0..20 {
        assert_eq!(get(port, "app", "/rr").await.expect("rr").status, 200);
    }
    assert_eq!((rr[0].hits(), rr[1].hits()), (10, 10));
    // Random: both get a fair share (expected 100 each; under 60 is a 1e-8 event).
    for _ in 0..200 {
        assert_eq!(get(port, "app", "/random").await.expect("random").status, 200);
    }
    assert!(rnd[0].hits() >= 60 && rnd[1].hits() >= 60, "random: {} / {}", rnd[0].hits(), rnd[1].hits());
    // Least request: while one backend holds a slow request, the idle one takes most of the
    // rest (power of two choices picks the busy one twice 1 time in 4: expected 150 of 200;
    // under 130 is a 4-sigma event).
    let slow = tokio::spawn(async move { request(port, "GET", "app", "/least/slow", &[("x-echo-delay-ms", "6000")]).await });
    let deadline = Instant::now() + Duration::from_secs(5);
    while lr[0].hits() + lr[1].hits() == 0 {
        assert!(Instant::now() < deadline, "the slow request never arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let busy = if lr[0].hits() == 1 { 0 } else { 1 };
    let (before_busy, before_idle) = (lr[busy].hits(), lr[1 - busy].hits());
    for _ in 0..200 {
        assert_eq!(get(port, "app", "/least").await.expect("least").status, 200);
    }
    let (to_busy, to_idle) = (lr[busy].hits() - before_busy, lr[1 - busy].hits() - before_idle);
    assert!(to_idle >= 130, "least request sent {to_idle} of 200 to the idle backend, {to_busy} to the busy one");
    slow.abort();
}

/// A backend that answers 503 to its first `fail` requests, then 200, counting attempts.
async fn flaky(fail: usize) -> (u16, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    use http_body_util::Full;
    use hyper::{Request, Response, body::Bytes, service::service_fn};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let c = c.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |_req: Request<hyper::body::Incoming>| {
                    let n = c.fetch_add(1, Ordering::SeqCst);
                    async move {
                        let status = if n < fail { 503 } else { 200 };
                        Ok::<_, hyper::Error>(Response::builder().status(status).body(Full::new(Bytes::from(format!("attempt {}", n + 1)))).expect("response"))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(stream), svc).await;
            });
        }
    });
    (port, count, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_timeouts_and_circuit_breaker() {
    let Some(envoy) = envoy() else { return };
    let (ok_port, ok_count, _t1) = flaky(2).await;
    let (bad_port, bad_count, _t2) = flaky(2).await;
    let slow = echo("slow").await;
    let limited = echo("limited").await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route("retry3", "/retry3", "ok"));
    input.push_str(&route("retry1", "/retry1", "bad"));
    input.push_str(&route("timeout", "/timeout", "slow"));
    input.push_str(&route("limited", "/limited", "limited"));
    input.push_str(&service("default", "ok", &[ok_port]));
    input.push_str(&service("default", "bad", &[bad_port]));
    input.push_str(&service("default", "slow", &[slow.addr.port()]));
    input.push_str(&service("default", "limited", &[limited.addr.port()]));
    let retry = |n: u32| format!("  retry:\n    numRetries: {n}\n    retryOn: {{triggers: [retriable-status-codes], httpStatusCodes: [503]}}\n");
    input.push_str(&policy("retry3", "HTTPRoute", "retry3", &retry(3)));
    input.push_str(&policy("retry1", "HTTPRoute", "retry1", &retry(1)));
    input.push_str(&policy("timeout", "HTTPRoute", "timeout", "  timeout: {http: {requestTimeout: 400ms}}\n"));
    input.push_str(&policy("limited", "HTTPRoute", "limited", "  circuitBreaker: {maxConnections: 1, maxPendingRequests: 1, maxParallelRequests: 1}\n"));
    // Envoy's own headers (x-envoy-overloaded below) are suppressed unless a
    // ClientTrafficPolicy asks for them, as in Envoy Gateway.
    input.push_str(&client_policy("envoy-headers", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw}", "  headers: {enableEnvoyHeaders: true}\n"));
    let _served = serve(&envoy, &input, &[]).await;

    // Three retries cover two failures: the client sees the third attempt's 200.
    let r = get(port, "app", "/retry3").await.expect("retry3");
    assert_eq!((r.status, r.body.as_str()), (200, "attempt 3"));
    assert_eq!(ok_count.load(Ordering::SeqCst), 3);
    // One retry does not: two attempts, the client sees 503.
    let r = get(port, "app", "/retry1").await.expect("retry1");
    assert_eq!(r.status, 503, "{r:?}");
    assert_eq!(bad_count.load(Ordering::SeqCst), 2);

    // The request timeout: 504 after about 400 ms for a backend that takes 2 s.
    let t0 = Instant::now();
    let r = request(port, "GET", "app", "/timeout", &[("x-echo-delay-ms", "2000")]).await.expect("timeout");
    let took = t0.elapsed();
    assert_eq!(r.status, 504, "{r:?}");
    assert!(took >= Duration::from_millis(350) && took < Duration::from_millis(1800), "took {took:?}");
    assert_eq!(request(port, "GET", "app", "/timeout", &[("x-echo-delay-ms", "50")]).await.expect("fast").status, 200);

    // The circuit breaker: one connection, one pending request; the rest of 6 parallel slow
    // requests are answered 503 by Envoy without reaching the backend.
    let mut tasks = Vec::new();
    for _ in 0..6 {
        tasks.push(tokio::spawn(async move { request(port, "GET", "app", "/limited", &[("x-echo-delay-ms", "800")]).await }));
    }
    let mut statuses = Vec::new();
    let mut overloaded = 0;
    for t in tasks {
        let r = t.await.expect("join").expect("limited");
        if r.headers.get("x-envoy-overloaded").is_some_and(|v| v == "true") {
            overloaded += 1;
        }
        statuses.push(r.status);
    }
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(statuses.iter().filter(|s| **s == 503).count() >= 3 && overloaded >= 3, "{statuses:?}");
    assert!(limited.hits() <= 3, "the backend saw {} requests", limited.hits());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_beats_route_beats_gateway_in_traffic_and_status() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: default}\nspec:\n  parentRefs: [{name: gw}]\n  rules:\n    - name: fast\n      matches: [{path: {type: PathPrefix, value: /fast}}]\n      backendRefs: [{name: svc, port: 8080}]\n    - matches: [{path: {type: PathPrefix, value: /patient}}]\n      backendRefs: [{name: svc, port: 8080}]\n",
    );
    input.push_str(&route("plain", "/plain", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    // Gateway: 300 ms; route r: 3 s; rule `fast` of r: 150 ms.
    input.push_str(&policy("gw", "Gateway", "gw", "  timeout: {http: {requestTimeout: 300ms}}\n"));
    input.push_str(&policy("route", "HTTPRoute", "r", "  timeout: {http: {requestTimeout: 3s}}\n"));
    input.push_str(
        "---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\nmetadata: {name: rule, namespace: default}\nspec:\n  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r, sectionName: fast}]\n  timeout: {http: {requestTimeout: 150ms}}\n",
    );
    let _served = serve(&envoy, &input, &[]).await;
    let delayed = |path: &'static str, ms: &'static str| async move { request(port, "GET", "app", path, &[("x-echo-delay-ms", ms)]).await.expect(path).status };
    // Only the Gateway's policy covers /plain.
    assert_eq!(delayed("/plain", "700").await, 504);
    // The route's policy covers /patient, not the Gateway's.
    assert_eq!(delayed("/patient", "700").await, 200);
    // The rule's policy covers /fast, not the route's.
    assert_eq!(delayed("/fast", "400").await, 504);
    assert_eq!(delayed("/fast", "10").await, 200);

    // Status says the same: the Gateway's policy is overridden for r, the route's for the rule.
    let (code, out, err) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    let docs: Vec<&str> = out.split("\n---\n").collect();
    let of = |name: &str| docs.iter().find(|d| d.contains("kind: BackendTrafficPolicy") && d.contains(&format!("name: {name}\n"))).copied().unwrap_or("");
    assert!(of("gw").contains("This policy is being overridden by other backendTrafficPolicies for these routes: [default/r]"), "{}", of("gw"));
    assert!(of("route").contains("these route rules: [fast]"), "{}", of("route"));
    assert!(of("rule").contains("reason: Accepted") && !of("rule").contains("Overridden"), "{}", of("rule"));
}

/// A backend whose `/healthz` answers the status in `health` (counting checks) and whose
/// other paths answer `status` with its name in `x-echo-backend`.
struct Switchable {
    port: u16,
    health: Arc<std::sync::atomic::AtomicU16>,
    checks: Arc<AtomicUsize>,
    served: Arc<AtomicUsize>,
    _task: tokio::task::JoinHandle<()>,
}

async fn switchable(name: &'static str, status: u16) -> Switchable {
    use http_body_util::Full;
    use hyper::{Request, Response, body::Bytes, service::service_fn};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let health = Arc::new(std::sync::atomic::AtomicU16::new(200));
    let checks = Arc::new(AtomicUsize::new(0));
    let served = Arc::new(AtomicUsize::new(0));
    let (h, c, s) = (health.clone(), checks.clone(), served.clone());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (h, c, s) = (h.clone(), c.clone(), s.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let code = if req.uri().path() == "/healthz" {
                        c.fetch_add(1, Ordering::SeqCst);
                        h.load(Ordering::SeqCst)
                    } else {
                        s.fetch_add(1, Ordering::SeqCst);
                        status
                    };
                    async move { Ok::<_, hyper::Error>(Response::builder().status(code).header("x-echo-backend", name).body(Full::new(Bytes::from(name))).expect("response")) }
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(stream), svc).await;
            });
        }
    });
    Switchable { port, health, checks, served, _task: task }
}

/// Poll `/path` until `want` holds for the backend names of `n` requests in a row (bounded).
async fn until_all(port: u16, path: &str, n: usize, max: Duration, want: impl Fn(&str) -> bool) -> bool {
    let deadline = Instant::now() + max;
    let mut run = 0;
    while Instant::now() < deadline {
        let r = get(port, "app", path).await.expect("request");
        let b = r.headers.get("x-echo-backend").cloned().unwrap_or_default();
        run = if want(&b) { run + 1 } else { 0 };
        if run >= n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_health_check_and_outlier_detection() {
    let Some(envoy) = envoy() else { return };
    let a = switchable("a", 200).await;
    let b = switchable("b", 200).await;
    let bad = switchable("bad", 503).await;
    let good = switchable("good", 200).await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route("checked", "/checked", "checked"));
    input.push_str(&route("outlier", "/outlier", "outlier"));
    input.push_str(&service("default", "checked", &[a.port, b.port]));
    input.push_str(&service("default", "outlier", &[bad.port, good.port]));
    input.push_str(&policy(
        "checked",
        "HTTPRoute",
        "checked",
        "  healthCheck:\n    active:\n      type: HTTP\n      http: {path: /healthz, expectedStatuses: [200]}\n      interval: 100ms\n      timeout: 500ms\n      unhealthyThreshold: 1\n      healthyThreshold: 1\n",
    ));
    input.push_str(&policy(
        "outlier",
        "HTTPRoute",
        "outlier",
        "  healthCheck:\n    passive: {consecutive5XxErrors: 2, interval: 1s, baseEjectionTime: 60s, maxEjectionPercent: 100}\n",
    ));
    let _served = serve(&envoy, &input, &[]).await;

    // Both healthy: both serve.
    assert!(until_all(port, "/checked", 1, Duration::from_secs(5), |n| n == "b").await, "b never served");
    assert!(b.checks.load(Ordering::SeqCst) > 0, "no health check reached b");
    // b fails its checks: out of rotation.
    b.health.store(503, Ordering::SeqCst);
    assert!(until_all(port, "/checked", 20, Duration::from_secs(5), |n| n == "a").await, "b stayed in rotation");
    let served_while_down = b.served.load(Ordering::SeqCst);
    for _ in 0..10 {
        assert_eq!(get(port, "app", "/checked").await.expect("checked").headers.get("x-echo-backend").map(String::as_str), Some("a"));
    }
    assert_eq!(b.served.load(Ordering::SeqCst), served_while_down);
    // b recovers: back in.
    b.health.store(200, Ordering::SeqCst);
    assert!(until_all(port, "/checked", 1, Duration::from_secs(5), |n| n == "b").await, "b never came back");
    let _ = &a.checks;

    // Outlier detection: two 5xx in a row eject `bad`; everything after lands on `good`.
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(get(port, "app", "/outlier").await.expect("outlier").status);
    }
    assert_eq!(bad.served.load(Ordering::SeqCst), 2, "{statuses:?}");
    assert!(statuses[statuses.len() - 15..].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(good.served.load(Ordering::SeqCst), 18);
}

/// A fallback Backend takes traffic only while the rule's other backend fails its health
/// checks (one cluster, the fallback at priority 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fallback_backend_serves_while_the_primary_is_unhealthy() {
    let Some(envoy) = envoy() else { return };
    let primary = switchable("primary", 200).await;
    let spare = switchable("spare", 200).await;
    let port = free_port();
    let mut input = http_gateway(port);
    let backend = |name: &str, port: u16, fallback: bool| {
        format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: Backend\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  fallback: {fallback}\n  endpoints: [{{ip: {{address: 127.0.0.1, port: {port}}}}}]\n")
    };
    input.push_str(&backend("primary", primary.port, false));
    input.push_str(&backend("spare", spare.port, true));
    input.push_str("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: app, namespace: default}\nspec:\n  parentRefs: [{name: gw}]\n  rules:\n  - backendRefs:\n    - {group: gateway.envoyproxy.io, kind: Backend, name: primary}\n    - {group: gateway.envoyproxy.io, kind: Backend, name: spare}\n");
    input.push_str(&policy(
        "checked",
        "HTTPRoute",
        "app",
        "  healthCheck:\n    active:\n      type: HTTP\n      http: {path: /healthz, expectedStatuses: [200]}\n      interval: 100ms\n      timeout: 500ms\n      unhealthyThreshold: 1\n      healthyThreshold: 1\n",
    ));
    let served = serve(&envoy, &input, &["--allow-loopback-backends"]).await;
    assert!(served.bootstrap.contains("priority: 1"), "{}", served.bootstrap);
    // Healthy primary: it takes everything, the fallback nothing.
    assert!(until_all(port, "/", 1, Duration::from_secs(5), |n| n == "primary").await, "primary never served");
    for _ in 0..10 {
        assert_eq!(get(port, "app", "/").await.expect("get").headers.get("x-echo-backend").map(String::as_str), Some("primary"));
    }
    assert_eq!(spare.served.load(Ordering::SeqCst), 0);
    // The primary fails its checks: the fallback serves; it recovers: back to the primary.
    primary.health.store(503, Ordering::SeqCst);
    assert!(until_all(port, "/", 10, Duration::from_secs(5), |n| n == "spare").await, "the fallback never took over");
    primary.health.store(200, Ordering::SeqCst);
    assert!(until_all(port, "/", 10, Duration::from_secs(5), |n| n == "primary").await, "the primary never came back");
}
