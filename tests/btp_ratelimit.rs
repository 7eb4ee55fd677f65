//! BackendTrafficPolicy global rate limits through a real Envoy and a rate-limit service
//! (test code) that counts by the configuration gatewayc wrote beside the bootstrap: the
//! descriptors Envoy sends are the ones that configuration limits.

mod support;
use support::policy::*;
use support::ratelimit::*;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_rate_limit_counts_at_the_service() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let rls_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind rls");
    let rls_addr = rls_listener.local_addr().expect("addr");
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route("limited", "/limited", "svc"));
    input.push_str(&route("other", "/other", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&policy(
        "global",
        "HTTPRoute",
        "limited",
        "  rateLimit:\n    global:\n      rules:\n      - clientSelectors: [{headers: [{name: x-user, type: Distinct}]}]\n        limit: {requests: 2, unit: Hour}\n      - clientSelectors: [{headers: [{name: x-plan, value: free}], methods: [{value: POST}]}]\n        limit: {requests: 1, unit: Hour}\n      - limit: {requests: 7, unit: Hour}\n",
    ));
    // Translate into a directory: the bootstrap and the service's configuration.
    let dir = tempfile::tempdir().expect("tempdir");
    let admin = free_port();
    let (out, rls) = (dir.path().to_str().expect("utf-8"), format!("127.0.0.1:{}", rls_addr.port()));
    let admin_arg = format!("127.0.0.1:{admin}");
    let (code, _, stderr) = gatewayc(&["translate", "-f", "-", "--bind-address", "127.0.0.1", "--admin-address", &admin_arg, "--rate-limit-service", &rls, "--output-dir", out], &input);
    assert_eq!(code, 0, "{stderr}");
    let gw = dir.path().join("default/gw");
    let service = rate_limit_service(rls_listener, &gw.join("ratelimit")).await;
    let bootstrap = std::fs::read_to_string(gw.join("envoy.yaml")).expect("bootstrap");
    let _envoy = EnvoyProc::start(&envoy, &bootstrap, admin).await;

    let ask = |method: &'static str, path: &'static str, headers: &'static [(&'static str, &'static str)]| async move { request(port, method, "app", path, headers).await.expect("request").status };
    // Each x-user value has two requests an hour.
    assert_eq!(ask("GET", "/limited", &[("x-user", "ann")]).await, 200);
    assert_eq!(ask("GET", "/limited", &[("x-user", "ann")]).await, 200);
    assert_eq!(ask("GET", "/limited", &[("x-user", "ann")]).await, 429);
    assert_eq!(ask("GET", "/limited", &[("x-user", "bob")]).await, 200);
    // Free-plan POSTs have one; a free-plan GET is not selected by that rule.
    assert_eq!(ask("POST", "/limited", &[("x-plan", "free")]).await, 200);
    assert_eq!(ask("POST", "/limited", &[("x-plan", "free")]).await, 429);
    assert_eq!(ask("GET", "/limited", &[("x-plan", "free")]).await, 200);
    // Every request of the route counts in the rule without selectors: the 8th is over 7.
    assert_eq!(ask("GET", "/limited", &[]).await, 429);
    // The route without the policy never asks the service.
    let asked = service.seen.lock().map(|s| s.len()).unwrap_or(0);
    for _ in 0..10 {
        assert_eq!(ask("GET", "/other", &[("x-user", "ann")]).await, 200);
    }
    assert_eq!(service.seen.lock().map(|s| s.len()).unwrap_or(0), asked);
    // Envoy sent the route's own entry first in every descriptor.
    let seen = service.seen.lock().map(|s| s.clone()).unwrap_or_default();
    let domain = format!("default/gw/http-{port}");
    assert!(seen.iter().all(|(d, ds)| *d == domain && ds.iter().all(|d| d[0].0 == "httproute/default/limited/rule/0/match/0")), "{seen:?}");
}

/// Without a rate-limit service a global rate limit is Invalid (Envoy Gateway's message when
/// its rate limiting is off): validate fails (the policy is rejected) and translate writes
/// what Envoy Gateway would, the route answering 500. With a service, printing a single
/// bootstrap would lose the service's configuration, so translate asks for a directory.
#[test]
fn global_rate_limit_needs_the_service_and_a_directory() {
    let mut input = http_gateway(8080);
    input.push_str(&route("limited", "/limited", "svc"));
    input.push_str(&service("default", "svc", &[9000]));
    input.push_str(&policy("global", "HTTPRoute", "limited", "  rateLimit:\n    global:\n      rules: [{limit: {requests: 1, unit: Second}}]\n"));
    for (verb, exit) in [("validate", 1), ("translate", 0)] {
        let (code, stdout, stderr) = gatewayc(&[verb, "-f", "-"], &input);
        assert_eq!(code, exit, "{verb}: {stderr}");
        assert!(stderr.contains("RateLimit: enable Ratelimit in the EnvoyGateway config to configure global rateLimit"), "{verb}: {stderr}");
        if verb == "translate" {
            assert!(stdout.contains("status: 500") && !stdout.contains("envoy.filters.http.ratelimit"), "{stdout}");
        }
    }
    let (code, _, stderr) = gatewayc(&["validate", "-f", "-", "--rate-limit-service", "ratelimit.infra:8081"], &input);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = gatewayc(&["translate", "-f", "-", "--rate-limit-service", "ratelimit.infra:8081"], &input);
    assert_ne!(code, 0, "{stderr}");
    assert!(stdout.is_empty() && stderr.contains("pass --output-dir DIR to write the rate-limit service's configuration"), "{stderr}");
    let (code, _, stderr) = gatewayc(&["validate", "-f", "-", "--rate-limit-service", "no-port"], &input);
    assert_eq!(code, 2, "{stderr}");
}
