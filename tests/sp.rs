//! SecurityPolicy through a real Envoy: basic auth, API keys, authorization by client address
//! and headers, CORS, CSRF; a route-level policy over a Gateway-level one, in traffic and in
//! status; a policy that cannot be translated closes its routes.

mod support;

use support::policy::*;
use support::*;

const GW: &str = "{group: gateway.networking.k8s.io, kind: Gateway, name: gw}";

fn on_route(name: &str) -> String {
    format!("{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: {name}}}")
}

/// Gateway `gw` on `port`, routes `app` (/) and `open` (/open) to one echo backend, and `extra`.
async fn served(envoy: &std::path::Path, port: u16, extra: &[String]) -> (Echo, Served, String) {
    let b = echo("b").await;
    let mut input = http_gateway(port);
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&route("open", "/open", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    for e in extra {
        input.push_str(e);
    }
    let s = serve(envoy, &input, &[]).await;
    (b, s, input)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_lets_in_the_listed_users_and_names_them() {
    let Some(envoy) = envoy() else { return };
    let port = free_port();
    let htpasswd = format!("{}\n{}\n", htpasswd_line("alice", "wonderland"), htpasswd_line("bob", "builder"));
    let (_b, s, _) = served(&envoy, port, &[
        opaque_secret("users", &[(".htpasswd", &htpasswd)]),
        security_policy("basic", "2025-01-01T00:00:00Z", &on_route("app"), "  basicAuth:\n    users: {name: users}\n    forwardUsernameHeader: x-user\n"),
    ])
    .await;
    // The password never reaches the bootstrap; only its hash does.
    assert!(!s.bootstrap.contains("wonderland"));
    let get = |auth: Option<String>| async move {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
        request(port, "GET", "app", "/", &headers).await.expect("request")
    };
    assert_eq!(get(None).await.status, 401);
    assert_eq!(get(Some(basic("alice", "wrong"))).await.status, 401);
    assert_eq!(get(Some(basic("mallory", "wonderland"))).await.status, 401);
    let ok = get(Some(basic("alice", "wonderland"))).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.echo()["headers"]["x-user"], "alice");
    assert_eq!(get(Some(basic("bob", "builder"))).await.echo()["headers"]["x-user"], "bob");
    // A client cannot name itself: the header is Envoy's.
    let forged = request(port, "GET", "app", "/", &[("authorization", &basic("bob", "builder")), ("x-user", "alice")]).await.expect("forged");
    assert_eq!(forged.echo()["headers"]["x-user"], "bob");
    // The policy is on route `app` only.
    assert_eq!(request(port, "GET", "app", "/open", &[]).await.expect("open").status, 200);
}

/// One request from loopback address `from` with `headers`.
async fn from(addr: &str, port: u16, path: &str, headers: &[(&str, &str)]) -> u16 {
    request_from(addr, port, path, headers).await.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_by_address_and_header_and_a_route_policy_over_the_gateway_one() {
    let Some(envoy) = envoy() else { return };
    let port = free_port();
    let gateway_rules = "  authorization:\n    defaultAction: Deny\n    rules:\n    - {name: office, action: Allow, principal: {clientCIDRs: [127.0.0.2/32, 127.0.1.0/24]}}\n    - {action: Deny, principal: {headers: [{name: x-role, values: [intruder]}]}}\n    - {action: Allow, principal: {headers: [{name: x-role, values: [admin, ops]}]}}\n";
    let (_b, _s, input) = served(&envoy, port, &[
        security_policy("gw", "2025-01-01T00:00:00Z", GW, gateway_rules),
        security_policy("open", "2025-01-02T00:00:00Z", &on_route("open"), "  authorization: {defaultAction: Allow, rules: [{action: Deny, principal: {clientCIDRs: [127.0.0.9/32]}}]}\n"),
    ])
    .await;
    assert_eq!(from("127.0.0.2", port, "/", &[]).await, 200);
    assert_eq!(from("127.0.1.7", port, "/", &[]).await, 200);
    assert_eq!(from("127.0.0.3", port, "/", &[]).await, 403);
    assert_eq!(from("127.0.0.3", port, "/", &[("x-role", "ops")]).await, 200);
    assert_eq!(from("127.0.0.3", port, "/", &[("x-role", "guest")]).await, 403);
    // Rules apply in order: the office address passes before the header rule could deny.
    assert_eq!(from("127.0.0.2", port, "/", &[("x-role", "intruder")]).await, 200);
    assert_eq!(from("127.0.0.3", port, "/", &[("x-role", "intruder")]).await, 403);
    // Route `open` has its own policy: everyone but 127.0.0.9.
    assert_eq!(from("127.0.0.3", port, "/open", &[]).await, 200);
    assert_eq!(from("127.0.0.9", port, "/open", &[]).await, 403);

    let (code, out, err) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    let docs: Vec<&str> = out.split("\n---\n").collect();
    let of = |name: &str| docs.iter().find(|d| d.contains("kind: SecurityPolicy") && d.contains(&format!("name: {name}\n"))).copied().unwrap_or("");
    assert!(of("gw").contains("This policy is being overridden by other securityPolicies for these routes: [default/open]"), "{}", of("gw"));
    assert!(of("open").contains("reason: Accepted") && !of("open").contains("Overridden"), "{}", of("open"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_addresses_follow_client_ip_detection() {
    let Some(envoy) = envoy() else { return };
    let port = free_port();
    let (_b, _s, _) = served(&envoy, port, &[
        client_policy("xff", "2025-01-01T00:00:00Z", GW, "  clientIPDetection: {xForwardedFor: {numTrustedHops: 1}}\n"),
        security_policy("gw", "2025-01-01T00:00:00Z", GW, "  authorization: {defaultAction: Deny, rules: [{action: Allow, principal: {clientCIDRs: [10.0.0.0/8]}}]}\n"),
    ])
    .await;
    // The peer (127.0.0.1) is not allowed; the client X-Forwarded-For names is.
    assert_eq!(request(port, "GET", "app", "/", &[]).await.expect("direct").status, 403);
    assert_eq!(request(port, "GET", "app", "/", &[("x-forwarded-for", "10.1.2.3")]).await.expect("xff").status, 200);
    assert_eq!(request(port, "GET", "app", "/", &[("x-forwarded-for", "192.0.2.1")]).await.expect("outside").status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_from_a_header_or_a_query_parameter() {
    let Some(envoy) = envoy() else { return };
    let port = free_port();
    let (_b, _s, _) = served(&envoy, port, &[
        opaque_secret("keys", &[("client-1", "k3y-one"), ("client-2", "k3y-two")]),
        security_policy(
            "keys",
            "2025-01-01T00:00:00Z",
            &on_route("app"),
            "  apiKeyAuth:\n    credentialRefs: [{name: keys}]\n    extractFrom: [{headers: [x-api-key]}, {params: [api_key]}, {cookies: [apikey]}]\n    forwardClientIDHeader: x-client\n    sanitize: true\n",
        ),
    ])
    .await;
    assert_eq!(request(port, "GET", "app", "/", &[]).await.expect("none").status, 401);
    assert_eq!(request(port, "GET", "app", "/", &[("x-api-key", "nope")]).await.expect("wrong").status, 401);
    let h = request(port, "GET", "app", "/", &[("x-api-key", "k3y-one")]).await.expect("header");
    assert_eq!(h.status, 200, "{h:?}");
    assert_eq!(h.echo()["headers"]["x-client"], "client-1");
    // sanitize: the key does not reach the backend.
    assert!(h.echo()["headers"].get("x-api-key").is_none(), "{h:?}");
    let q = request(port, "GET", "app", "/?api_key=k3y-two", &[]).await.expect("query");
    assert_eq!(q.status, 200, "{q:?}");
    assert_eq!(q.echo()["headers"]["x-client"], "client-2");
    assert!(!q.echo()["path"].as_str().unwrap_or_default().contains("k3y-two"), "{q:?}");
    let c = request(port, "GET", "app", "/", &[("cookie", "theme=dark; apikey=k3y-one")]).await.expect("cookie");
    assert_eq!((c.status, c.echo()["headers"]["x-client"].as_str()), (200, Some("client-1")), "{c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflights_and_requests() {
    let Some(envoy) = envoy() else { return };
    let port = free_port();
    let (_b, _s, _) = served(&envoy, port, &[security_policy(
        "cors",
        "2025-01-01T00:00:00Z",
        GW,
        "  cors:\n    allowOrigins: [\"https://*.example.com\", \"http://app.test:8080\"]\n    allowMethods: [GET, POST]\n    allowHeaders: [x-custom]\n    exposeHeaders: [x-exposed]\n    maxAge: 1h\n    allowCredentials: true\n",
    )])
    .await;
    let preflight = |origin: &'static str| async move {
        request(port, "OPTIONS", "app", "/", &[("origin", origin), ("access-control-request-method", "POST"), ("access-control-request-headers", "x-custom")]).await.expect("preflight")
    };
    let ok = preflight("https://www.example.com").await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.headers.get("access-control-allow-origin").map(String::as_str), Some("https://www.example.com"));
    assert_eq!(ok.headers.get("access-control-allow-methods").map(String::as_str), Some("GET, POST"));
    assert_eq!(ok.headers.get("access-control-allow-headers").map(String::as_str), Some("x-custom"));
    assert_eq!(ok.headers.get("access-control-max-age").map(String::as_str), Some("3600"));
    assert_eq!(ok.headers.get("access-control-allow-credentials").map(String::as_str), Some("true"));
    // The preflight is answered by Envoy, not forwarded.
    assert!(ok.echo().is_null(), "{ok:?}");
    assert_eq!(preflight("http://app.test:8080").await.headers.get("access-control-allow-origin").map(String::as_str), Some("http://app.test:8080"));
    for bad in ["https://example.org", "http://www.example.com", "https://example.com.evil.org"] {
        let r = preflight(bad).await;
        assert!(!r.headers.contains_key("access-control-allow-origin"), "{bad}: {r:?}");
    }
    let actual = request(port, "GET", "app", "/", &[("origin", "https://a.example.com")]).await.expect("actual");
    assert_eq!(actual.status, 200);
    assert_eq!(actual.headers.get("access-control-allow-origin").map(String::as_str), Some("https://a.example.com"));
    assert_eq!(actual.headers.get("access-control-expose-headers").map(String::as_str), Some("x-exposed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_refuses_cross_origin_writes() {
    let Some(envoy) = envoy() else { return };
    let port = free_port();
    let (_b, _s, _) = served(&envoy, port, &[security_policy("csrf", "2025-01-01T00:00:00Z", &on_route("app"), "  csrf:\n    additionalOrigins: [\"https://trusted.example.com\"]\n")]).await;
    let post = |origin: &'static str, path: &'static str| async move { request(port, "POST", "app", path, &[("origin", origin)]).await.expect("post").status };
    assert_eq!(post("https://evil.example.com", "/").await, 403);
    assert_eq!(post("http://app", "/").await, 200);
    assert_eq!(post("https://trusted.example.com", "/").await, 200);
    // Reads are not checked; nor is the route without the policy.
    assert_eq!(request(port, "GET", "app", "/", &[("origin", "https://evil.example.com")]).await.expect("get").status, 200);
    assert_eq!(post("https://evil.example.com", "/open").await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_that_cannot_be_translated_closes_its_routes() {
    let Some(envoy) = envoy() else { return };
    let port = free_port();
    let (_b, s, input) = served(&envoy, port, &[security_policy("basic", "2025-01-01T00:00:00Z", &on_route("app"), "  basicAuth:\n    users: {name: missing}\n")]).await;
    assert_eq!(request(port, "GET", "app", "/", &[]).await.expect("closed").status, 500);
    assert_eq!(request(port, "GET", "app", "/open", &[]).await.expect("open").status, 200);
    assert!(s.stderr.contains("secret default/missing does not exist"), "{}", s.stderr);
    let (_, out, _) = gatewayc(&["status", "-f", "-"], &input);
    assert!(out.contains("BasicAuth: secret default/missing does not exist") && out.contains("reason: Invalid"), "{out}");
}

#[test]
fn refused_by_name_and_the_crd_rules() {
    let check = |body: &str| {
        let mut input = http_gateway(8080);
        input.push_str(&security_policy("p", "2025-01-01T00:00:00Z", GW, body));
        gatewayc(&["validate", "-f", "-"], &input)
    };
    for (body, msg) in [
        ("  jwt: {providers: [{name: p, remoteJWKS: {uri: \"https://x/jwks\", backendRefs: [{name: idp, port: 443, fallback: true}]}}]}\n", "A SecurityPolicy backendRef's fallback is not supported yet"),
        ("  jwt: {providers: [{name: p, remoteJWKS: {uri: \"https://x/jwks\", backendRefs: [{name: idp}]}}]}\n", "Must have port for Service reference"),
        ("  jwt: {optional: true, failOpen: true, providers: [{name: p, remoteJWKS: {uri: \"https://x/jwks\"}}]}\n", "optional and failOpen cannot both be set"),
        ("  jwt: {providers: [{name: p, recomputeRoute: true, remoteJWKS: {uri: \"https://x/jwks\"}}]}\n", "claimToHeaders must be specified if recomputeRoute is enabled."),
        ("  jwt: {providers: [{name: p}]}\n", "either remoteJWKS or localJWKS must be specified."),
        ("  jwt: {providers: [{name: p, localJWKS: {type: ValueRef, inline: x}}]}\n", "Exactly one of inline or valueRef must be set with correct type."),
        ("  extAuth: {http: {backendRefs: [{name: a, port: 80}]}, contextExtensions: [{name: a, type: Value, value: b}]}\n", "SecurityPolicy extAuth.contextExtensions is not supported yet"),
        ("  extAuth: {failOpen: true}\n", "one of grpc or http must be specified"),
        ("  extAuth: {http: {backendRefs: [{name: a}]}}\n", "Must have port for Service reference"),
        ("  extAuth: {grpc: {backendRefs: [{name: a, port: 80, kind: ServiceImport, group: multicluster.x-k8s.io}]}}\n", "An extAuth backendRef of kind ServiceImport is not supported yet"),
        ("  oidc: {provider: {issuer: \"https://x\"}, clientID: c, clientSecret: {name: s}, forwardIDToken: {header: x-id}}\n", "SecurityPolicy oidc.forwardIDToken is not supported yet"),
        ("  oidc: {provider: {issuer: \"https://x\"}, clientSecret: {name: s}}\n", "only one of clientID or clientIDRef must be set"),
        ("  authorization: {rules: [{action: Allow, cel: \"true\"}]}\n", "authorization.rules.cel is not supported yet"),
        ("  authorization: {rules: [{action: Allow, principal: {clientIPGeoLocations: [{country: US}]}}]}\n", "clientIPGeoLocations is not supported yet"),
        ("  mergeType: StrategicMerge\n  cors: {allowOrigins: [\"*\"]}\n", "mergeType can only be used with xRoute targets"),
        ("  authorization: {rules: [{action: Allow, principal: {jwt: {provider: p, scopes: [a]}}}]}\n", "if authorization.rules.principal.jwt is used, jwt must be defined"),
        ("  apiKeyAuth: {credentialRefs: [{name: k}], extractFrom: [{headers: [a], params: [b]}]}\n", "exactly one of headers, params, or cookies must be specified"),
        ("  authorization: {rules: [{action: Allow, principal: {}}]}\n", "at least one of clientCIDRs, jwt, headers, or clientIPGeoLocations must be specified"),
        ("  csrf: {shadowFraction: {numerator: 5, denominator: 4}}\n", "numerator must be less than or equal to denominator"),
    ] {
        let (code, _, err) = check(body);
        assert!(code == 1 && err.contains(msg), "{body}: {err}");
    }
    let (code, _, err) = check("  authorization: {rules: [{action: Allow, principal: {clientCIDRs: [127.0.0.0/8]}}]}\n");
    assert_eq!(code, 0, "{err}");
}

/// The greeting of the TCP backend a connection from loopback address `from` reaches, once
/// the backend has echoed what the client sent; None when Envoy closes the connection first
/// (bounded to 5 s). Envoy's RBAC filter judges a connection on its first bytes, so only the
/// echo proves the connection was let through.
async fn tcp_from(addr: &str, port: u16) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sock = tokio::net::TcpSocket::new_v4().expect("socket");
    sock.bind(format!("{addr}:0").parse().expect("addr")).expect("bind client");
    let fut = async {
        let mut s = sock.connect(([127, 0, 0, 1], port).into()).await.ok()?;
        s.write_all(b"ping").await.ok()?;
        let name = support::streams::read_line(&mut s).await.ok()?;
        let mut echo = [0u8; 4];
        s.read_exact(&mut echo).await.ok()?;
        (&echo == b"ping").then_some(name)
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), fut).await.expect("greeting or close in time")
}

/// A Gateway's authorization covers its TCP listeners too, by client address alone; a rule
/// that needs HTTP facts fails closed there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_authorization_covers_tcp_listeners_by_address() {
    let Some(envoy) = envoy() else { return };
    let (ph, pt, pd) = (free_port(), free_port(), free_port());
    let b = echo("b").await;
    let db = support::streams::tcp_backend("db").await;
    let mut input = format!("{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n  - {{name: http, protocol: HTTP, port: {ph}}}\n  - {{name: tcp, protocol: TCP, port: {pt}}}\n  - {{name: denied, protocol: TCP, port: {pd}}}\n");
    for l in ["tcp", "denied"] {
        input.push_str(&format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: TCPRoute\nmetadata: {{name: {l}, namespace: default}}\nspec:\n  parentRefs: [{{name: gw, sectionName: {l}}}]\n  rules: [{{backendRefs: [{{name: db, port: 8080}}]}}]\n"));
    }
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&slice("default", "db", db.port()));
    let rules = "  authorization:\n    defaultAction: Deny\n    rules:\n    - {action: Allow, principal: {clientCIDRs: [127.0.0.2/32]}}\n    - {action: Allow, principal: {headers: [{name: x-role, values: [admin]}]}}\n";
    input.push_str(&security_policy("gw", "2025-01-01T00:00:00Z", GW, rules));
    // Listener `denied`: a Deny rule on a header cannot be judged on TCP, so it denies all.
    let deny = "  authorization:\n    defaultAction: Allow\n    rules: [{action: Deny, principal: {headers: [{name: x-role, values: [intruder]}]}}]\n";
    input.push_str(&security_policy("denied", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: denied}", deny));
    let _s = serve(&envoy, &input, &[]).await;
    assert_eq!(tcp_from("127.0.0.2", pt).await.as_deref(), Some("db"));
    assert_eq!(tcp_from("127.0.0.3", pt).await, None);
    assert_eq!(tcp_from("127.0.0.2", pd).await, None);
    // On HTTP the header rule is judged.
    assert_eq!(from("127.0.0.3", ph, "/", &[("x-role", "admin")]).await, 200);
    assert_eq!(from("127.0.0.3", ph, "/", &[]).await, 403);
}

#[test]
fn authorization_over_a_udp_listener_is_refused() {
    let mut input = format!("{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n  - {{name: dns, protocol: UDP, port: 5353}}\n");
    input.push_str("---\napiVersion: gateway.networking.k8s.io/v1alpha2\nkind: UDPRoute\nmetadata: {name: dns, namespace: default}\nspec:\n  parentRefs: [{name: gw}]\n  rules: [{backendRefs: [{name: dns, port: 8080}]}]\n");
    input.push_str("---\napiVersion: v1\nkind: Service\nmetadata: {name: dns, namespace: default}\nspec: {ports: [{name: d, port: 8080, protocol: UDP}]}\n");
    let (_, without, _) = gatewayc(&["translate", "-f", "-"], &input);
    assert!(without.contains("udp_proxy"), "{without}");
    input.push_str(&security_policy("gw", "2025-01-01T00:00:00Z", GW, "  authorization: {defaultAction: Deny}\n"));
    for verb in ["validate", "translate"] {
        let (code, _, err) = gatewayc(&[verb, "-f", "-"], &input);
        assert!(code == 1 && err.contains("SecurityPolicy authorization on UDP listener dns is not supported yet"), "{verb}: {err}");
    }
    // Allowed anyway, the UDP listener is not served rather than served to all.
    let (code, out, err) = gatewayc(&["translate", "-f", "-", "--allow-unsupported"], &input);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("udp_proxy"), "{out}");
}

/// With --allow-unsupported a policy with a part gatewayc does not implement is not applied
/// without it: its routes answer 500 and its status says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_unsupported_parts_close_the_routes() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&route("open", "/open", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&security_policy("cel", "2025-01-01T00:00:00Z", &on_route("app"), "  authorization: {defaultAction: Allow, rules: [{action: Deny, cel: \"request.path == '/x'\"}]}\n"));
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &input);
    assert!(code == 1 && err.contains("SecurityPolicy authorization.rules.cel is not supported yet"), "{err}");
    let s = serve(&envoy, &input, &["--allow-unsupported"]).await;
    assert!(s.stderr.contains("SecurityPolicy authorization.rules.cel is not supported yet"), "{}", s.stderr);
    assert_eq!(request(port, "GET", "app", "/", &[]).await.expect("closed").status, 500);
    assert_eq!(request(port, "GET", "app", "/open", &[]).await.expect("open").status, 200);
    let (_, out, _) = gatewayc(&["status", "-f", "-", "--allow-unsupported"], &input);
    assert!(out.contains("SecurityPolicy authorization.rules.cel is not supported by gatewayc"), "{out}");
}

/// A policy on a TCPRoute: authorization by client address; anything else is Invalid (as
/// Envoy Gateway) and closes the route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_route_policies() {
    let Some(envoy) = envoy() else { return };
    let (pa, pb) = (free_port(), free_port());
    let db = support::streams::tcp_backend("db").await;
    let mut input = format!("{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n  - {{name: a, protocol: TCP, port: {pa}}}\n  - {{name: b, protocol: TCP, port: {pb}}}\n");
    for l in ["a", "b"] {
        input.push_str(&format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: TCPRoute\nmetadata: {{name: {l}, namespace: default}}\nspec:\n  parentRefs: [{{name: gw, sectionName: {l}}}]\n  rules: [{{backendRefs: [{{name: db, port: 8080}}]}}]\n"));
    }
    input.push_str(&slice("default", "db", db.port()));
    let tcp_route = |n: &str| format!("{{group: gateway.networking.k8s.io, kind: TCPRoute, name: {n}}}");
    input.push_str(&security_policy("a", "2025-01-01T00:00:00Z", &tcp_route("a"), "  authorization: {defaultAction: Deny, rules: [{action: Allow, principal: {clientCIDRs: [127.0.0.2/32]}}]}\n"));
    input.push_str(&security_policy("b", "2025-01-01T00:00:00Z", &tcp_route("b"), "  authorization: {defaultAction: Allow, rules: [{action: Deny, principal: {headers: [{name: x, values: [y]}]}}]}\n"));
    let _s = serve(&envoy, &input, &[]).await;
    assert_eq!(tcp_from("127.0.0.2", pa).await.as_deref(), Some("db"));
    assert_eq!(tcp_from("127.0.0.3", pa).await, None);
    assert_eq!(tcp_from("127.0.0.2", pb).await, None, "an Invalid policy lets nobody connect");
    let (_, out, _) = gatewayc(&["status", "-f", "-"], &input);
    assert!(out.contains("invalid SecurityPolicy for TCP route: rule 0: headers not supported for TCP"), "{out}");
}

/// `--tls-secrets files`: the htpasswd list goes to a 0600 file beside the certificates, the
/// bootstrap refers to it by path, and Envoy checks users against it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_users_as_a_file() {
    use std::os::unix::fs::PermissionsExt;
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let (port, admin) = (free_port(), free_port());
    let line = htpasswd_line("alice", "wonderland");
    let mut input = http_gateway(port);
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&opaque_secret("users", &[(".htpasswd", &line)]));
    input.push_str(&security_policy("basic", "2025-01-01T00:00:00Z", GW, "  basicAuth: {users: {name: users}}\n"));
    let dir = tempfile::tempdir().expect("tmp");
    let secrets = dir.path().join("secrets");
    let (secrets_arg, admin_arg) = (secrets.to_string_lossy().to_string(), format!("127.0.0.1:{admin}"));
    let (code, bootstrap, err) = gatewayc(&["translate", "-f", "-", "--bind-address", "127.0.0.1", "--admin-address", &admin_arg, "--tls-secrets", "files", "--secrets-dir", &secrets_arg], &input);
    assert_eq!(code, 0, "{err}");
    let file = secrets.join("default/users/htpasswd");
    assert!(!bootstrap.contains(&line) && bootstrap.contains(&file.display().to_string()), "{bootstrap}");
    assert_eq!(std::fs::read_to_string(&file).expect("htpasswd file"), line);
    assert_eq!(std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777, 0o600);
    let _envoy = EnvoyProc::start(&envoy, &bootstrap, admin).await;
    assert_eq!(request(port, "GET", "app", "/", &[]).await.expect("anonymous").status, 401);
    assert_eq!(request(port, "GET", "app", "/", &[("authorization", &basic("alice", "wonderland"))]).await.expect("alice").status, 200);
}

/// An HTTP authorization service on 127.0.0.1: allows requests whose `x-allow` header is
/// `yes` (answering `x-auth-user` from their `x-user`), denies the rest with 403; it records
/// the paths it was asked.
async fn http_authorizer() -> (std::net::SocketAddr, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use http_body_util::Full;
    use hyper::service::service_fn;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = asked.clone();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = listener.accept().await else { return };
            let seen = seen.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    seen.lock().expect("lock").push(req.uri().path().to_string());
                    let allow = req.headers().get("x-allow").is_some_and(|v| v == "yes");
                    let user = req.headers().get("x-user").and_then(|v| v.to_str().ok()).unwrap_or("nobody").to_string();
                    async move {
                        let r = if allow { hyper::Response::builder().status(200).header("x-auth-user", user).header("x-not-forwarded", "1") } else { hyper::Response::builder().status(403) };
                        Ok::<_, hyper::Error>(r.body(Full::new(bytes::Bytes::from_static(b""))).expect("response"))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(s), svc).await;
            });
        }
    });
    (addr, asked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ext_auth_over_http_allows_denies_and_adds_headers() {
    let Some(envoy) = envoy() else { return };
    let port = free_port();
    let (authz, asked) = http_authorizer().await;
    // A port held but not listening: connections to it are refused for the whole test.
    let held = tokio::net::TcpSocket::new_v4().expect("socket");
    held.bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
    let closed = held.local_addr().expect("addr").port();
    let body = "  extAuth:\n    headersToExtAuth: [x-allow, x-user]\n    bodyToExtAuth: {maxRequestBytes: 64}\n    http:\n      backendRefs: [{name: authz, port: 8080}]\n      path: /check\n      headersToBackend: [x-auth-user]\n";
    let down = |open: bool| format!("  extAuth:\n    failOpen: {open}\n    http: {{backendRefs: [{{name: down, port: 8080}}]}}\n");
    let mut extra = vec![service("default", "authz", &[authz.port()]), service("default", "down", &[closed]), security_policy("authz", "2025-01-01T00:00:00Z", &on_route("app"), body)];
    extra.push(route("open-route", "/failopen", "svc"));
    extra.push(route("closed-route", "/failclosed", "svc"));
    extra.push(security_policy("open", "2025-01-01T00:00:00Z", &on_route("open-route"), &down(true)));
    extra.push(security_policy("closed", "2025-01-01T00:00:00Z", &on_route("closed-route"), &down(false)));
    let (_b, _s, _) = served(&envoy, port, &extra).await;
    let ok = request(port, "GET", "app", "/items?x=1", &[("x-allow", "yes"), ("x-user", "carol")]).await.expect("allowed");
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.echo()["headers"]["x-auth-user"], "carol");
    assert!(ok.echo()["headers"].get("x-not-forwarded").is_none(), "only headersToBackend reach the backend");
    assert_eq!(request(port, "GET", "app", "/items", &[("x-user", "carol")]).await.expect("denied").status, 403);
    assert!(asked.lock().expect("lock").iter().any(|p| p == "/check/items"), "{:?}", asked.lock().expect("lock"));
    // The body goes to the service, up to maxRequestBytes: a larger one is refused first.
    let post = |n: usize| async move {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        send_body(stream, "POST", "app", "/items", &[("x-allow", "yes")], vec![b'a'; n]).await.expect("post").status
    };
    assert_eq!(post(32).await, 200);
    assert_eq!(post(1000).await, 413);
    // The service is down: failOpen lets requests through, else they are refused (403).
    assert_eq!(request(port, "GET", "app", "/failopen", &[]).await.expect("fail open").status, 200);
    assert_eq!(request(port, "GET", "app", "/failclosed", &[]).await.expect("fail closed").status, 403);
}

/// An external authorization service named by an Envoy Gateway Backend (its IP endpoint).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ext_auth_through_a_backend() {
    let Some(envoy) = envoy() else { return };
    let port = free_port();
    let (authz, asked) = http_authorizer().await;
    let backend = format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: Backend\nmetadata: {{name: authz, namespace: default}}\nspec:\n  endpoints: [{{ip: {{address: 127.0.0.1, port: {}}}}}]\n", authz.port());
    let body = "  extAuth:\n    headersToExtAuth: [x-allow, x-user]\n    http:\n      backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: authz}]\n      path: /check\n      headersToBackend: [x-auth-user]\n";
    let mut input = http_gateway(port);
    input.push_str(&route("app", "/", "svc"));
    let b = echo("b").await;
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&backend);
    input.push_str(&security_policy("authz", "2025-01-01T00:00:00Z", &on_route("app"), body));
    let _s = serve(&envoy, &input, &["--allow-loopback-backends"]).await;
    let ok = request(port, "GET", "app", "/items", &[("x-allow", "yes"), ("x-user", "erin")]).await.expect("allowed");
    assert_eq!((ok.status, ok.echo()["headers"]["x-auth-user"].as_str()), (200, Some("erin")), "{ok:?}");
    assert_eq!(request(port, "GET", "app", "/items", &[("x-user", "erin")]).await.expect("denied").status, 403);
    assert!(asked.lock().expect("lock").iter().any(|p| p == "/check/items"), "{:?}", asked.lock().expect("lock"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ext_auth_over_grpc() {
    let Some(envoy) = envoy() else { return };
    let port = free_port();
    let authz = support::grpc::grpc_authorizer().await;
    // The Service's port says HTTP/2 (gRPC); the policy's grpc service is spoken as such.
    let svc = format!("---\napiVersion: v1\nkind: Service\nmetadata: {{name: authz, namespace: default}}\nspec:\n  ports: [{{name: grpc, port: 9000, appProtocol: kubernetes.io/h2c}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: authz-0, namespace: default, labels: {{kubernetes.io/service-name: authz}}}}\naddressType: IPv4\nports: [{{name: grpc, port: {}}}]\nendpoints: [{{addresses: [127.0.0.1]}}]\n", authz.addr.port());
    let body = "  extAuth:\n    grpc: {backendRefs: [{name: authz, port: 9000}]}\n";
    let (_b, _s, _) = served(&envoy, port, &[svc, security_policy("authz", "2025-01-01T00:00:00Z", GW, body)]).await;
    let ok = request(port, "GET", "app", "/", &[("x-allow", "yes"), ("x-user", "dave")]).await.expect("allowed");
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.echo()["headers"]["x-auth-user"], "dave");
    assert_eq!(request(port, "GET", "app", "/", &[("x-user", "dave")]).await.expect("denied").status, 403);
    let calls = authz.calls();
    assert!(calls.iter().all(|c| c.path == "/envoy.service.auth.v3.Authorization/Check"), "{calls:?}");
    assert!(calls.iter().any(|c| c.headers.get("x-user").is_some_and(|u| u == "dave")), "every header goes to a gRPC service: {calls:?}");
}

/// A rule-level policy beats its route's; a listener-level policy beats the Gateway's; a
/// route policy with mergeType merges with the Gateway's (both checks apply).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_listener_and_merged_policies() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let (pa, pb) = (free_port(), free_port());
    let mut input = two_listener_gateway(pa, pb);
    input.push_str("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: app, namespace: default}\nspec:\n  parentRefs: [{name: gw}]\n  rules:\n    - name: public\n      matches: [{path: {type: PathPrefix, value: /public}}]\n      backendRefs: [{name: svc, port: 8080}]\n    - matches: [{path: {type: PathPrefix, value: /}}]\n      backendRefs: [{name: svc, port: 8080}]\n");
    input.push_str(&route("merged", "/merged", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&opaque_secret("users", &[(".htpasswd", &htpasswd_line("alice", "wonderland"))]));
    let only = |cidr: &str| format!("  authorization: {{defaultAction: Deny, rules: [{{action: Allow, principal: {{clientCIDRs: [{cidr}]}}}}]}}\n");
    input.push_str(&security_policy("gw", "2025-01-01T00:00:00Z", GW, &only("127.0.0.2/32")));
    input.push_str(&security_policy("listener-b", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: b}", &only("127.0.0.3/32")));
    input.push_str(&security_policy("app", "2025-01-01T00:00:00Z", &on_route("app"), &only("127.0.0.4/32")));
    input.push_str(&security_policy("public", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app, sectionName: public}", "  authorization: {defaultAction: Allow}\n"));
    input.push_str(&security_policy("merged", "2025-01-01T00:00:00Z", &on_route("merged"), "  mergeType: StrategicMerge\n  basicAuth: {users: {name: users}}\n"));
    let _s = serve(&envoy, &input, &[]).await;
    // Route `app`: its own policy (127.0.0.4), its rule `public` open to all.
    assert_eq!(from("127.0.0.4", pa, "/x", &[]).await, 200);
    assert_eq!(from("127.0.0.2", pa, "/x", &[]).await, 403);
    assert_eq!(from("127.0.0.9", pa, "/public", &[]).await, 200);
    // Route `merged`: the Gateway's authorization and its own basic auth (on listener a);
    // on listener b the listener's policy is the parent it merges with.
    let alice = basic("alice", "wonderland");
    assert_eq!(from("127.0.0.2", pa, "/merged", &[("authorization", &alice)]).await, 200);
    assert_eq!(from("127.0.0.2", pa, "/merged", &[]).await, 401);
    assert_eq!(from("127.0.0.5", pa, "/merged", &[("authorization", &alice)]).await, 403);
    assert_eq!(from("127.0.0.3", pb, "/merged", &[("authorization", &alice)]).await, 200);
    assert_eq!(from("127.0.0.2", pb, "/merged", &[("authorization", &alice)]).await, 403);
    let (code, out, err) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Merged with policy default/gw") && out.contains("Merged with policy default/listener-b"), "{out}");
    assert!(out.contains("these route rules: [public]"), "{out}");
}

/// Authorization rules on what the request does: methods and paths (prefix, exact, regular
/// expression, inverted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_by_method_and_path() {
    let Some(envoy) = envoy() else { return };
    let port = free_port();
    let rules = "  authorization:\n    defaultAction: Allow\n    rules:\n    - {action: Deny, operation: {methods: [DELETE, PUT], path: {type: PathPrefix, value: /admin}}, principal: {clientCIDRs: [0.0.0.0/0]}}\n    - {action: Deny, operation: {path: {type: Exact, value: /secret}}, principal: {clientCIDRs: [0.0.0.0/0]}}\n    - {action: Deny, operation: {path: {type: RegularExpression, value: \"/v[0-9]+/internal.*\"}}, principal: {clientCIDRs: [0.0.0.0/0]}}\n    - {action: Deny, operation: {path: {value: /public, invert: true}}, principal: {headers: [{name: x-anon, values: [\"yes\"]}]}}\n";
    let (_b, _s, _) = served(&envoy, port, &[security_policy("ops", "2025-01-01T00:00:00Z", GW, rules)]).await;
    let status = |method: &'static str, path: &'static str, headers: &'static [(&'static str, &'static str)]| async move { request(port, method, "app", path, headers).await.expect(path).status };
    assert_eq!(status("DELETE", "/admin/users", &[]).await, 403);
    assert_eq!(status("PUT", "/admin", &[]).await, 403);
    assert_eq!(status("GET", "/admin/users", &[]).await, 200);
    assert_eq!(status("DELETE", "/administrator", &[]).await, 200, "a prefix is whole path segments");
    assert_eq!(status("GET", "/secret", &[]).await, 403);
    assert_eq!(status("GET", "/secret?x=1", &[]).await, 403);
    assert_eq!(status("GET", "/secret/more", &[]).await, 200);
    assert_eq!(status("GET", "/v2/internal/x", &[]).await, 403);
    assert_eq!(status("GET", "/v2/public", &[]).await, 200);
    assert_eq!(status("GET", "/elsewhere", &[("x-anon", "yes")]).await, 403);
    assert_eq!(status("GET", "/public/page", &[("x-anon", "yes")]).await, 200);
}
