//! GRPCRoute end to end through a real Envoy: gRPC backends on 127.0.0.1 (tonic's unary
//! handler) say who they are and what metadata they saw; a tonic client calls through Envoy.

mod support;
use std::collections::BTreeMap;
use std::time::Duration;
use support::grpc::*;
use support::*;
use tonic::Code;

fn grpc_route(name: &str, created: &str, spec: &str) -> String {
    format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {{name: {name}, namespace: default, creationTimestamp: \"{created}\"}}\nspec:\n{spec}")
}

const ECHO: &str = "grpc.examples.echo.Echo";

/// Method and header matching: exact service and method, service only (segment-aware: a
/// longer service name is another service), method only, a regular expression, a header
/// match that outranks the service match it refines; header modifiers seen by the backend
/// and the client; a mirror; unrouted methods and hosts answer UNIMPLEMENTED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_routes_by_service_method_and_header() {
    let Some(envoy) = envoy() else { return };
    let (a, b, c, m) = (grpc_backend("a").await, grpc_backend("b").await, grpc_backend("c").await, grpc_backend("mirror").await);
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&grpc_route(
        "echo",
        "2024-01-01T00:00:00Z",
        &format!(
            r#"  parentRefs: [{{name: gw}}]
  hostnames: [grpc.example.com]
  rules:
    - matches: [{{method: {{service: {ECHO}, method: UnaryEcho}}}}]
      filters:
        - {{type: RequestHeaderModifier, requestHeaderModifier: {{set: [{{name: x-route, value: unary}}], remove: [x-drop]}}}}
        - {{type: ResponseHeaderModifier, responseHeaderModifier: {{add: [{{name: x-served-by, value: gatewayc}}]}}}}
        - {{type: RequestMirror, requestMirror: {{backendRef: {{name: m, port: 8080}}}}}}
      backendRefs: [{{name: a, port: 8080}}]
    - matches: [{{method: {{service: {ECHO}}}}}]
      backendRefs: [{{name: b, port: 8080}}]
    - matches:
        - method: {{service: {ECHO}}}
          headers: [{{name: X-Canary, value: "true"}}]
        - method: {{type: RegularExpression, method: "Stream[A-Z][a-z]+"}}
      backendRefs: [{{name: c, port: 8080}}]
    - matches: [{{method: {{method: Check}}}}]
      backendRefs: [{{name: a, port: 8080}}]
"#
        ),
    ));
    for (n, s) in [("a", &a), ("b", &b), ("c", &c), ("m", &m)] {
        input.push_str(&slice("default", n, s.addr.port()));
    }
    let _served = serve(&envoy, &input, &[]).await;
    let mut client = grpc_client(port, "grpc.example.com").await;

    let r = call(&mut client, &format!("/{ECHO}/UnaryEcho"), &[("x-drop", "1")]).await.expect("UnaryEcho");
    assert_eq!(r.backend(), "a");
    assert_eq!(r.header("x-route").as_deref(), Some("unary"), "request header set: {}", r.body);
    assert_eq!(r.header("x-drop"), None, "request header removed: {}", r.body);
    assert_eq!(r.header("content-type").as_deref(), Some("application/grpc"));
    assert_eq!(r.meta("x-served-by").as_deref(), Some("gatewayc"), "response metadata");
    assert!(m.wait_for_calls(1, Duration::from_secs(5)).await, "the mirror saw no call");
    assert_eq!(m.calls()[0].path, format!("/{ECHO}/UnaryEcho"));

    let expect = [
        (format!("/{ECHO}/ServerStreamingEcho"), vec![], "b"),
        (format!("/{ECHO}/ServerStreamingEcho"), vec![("x-canary", "true")], "c"),
        (format!("/{ECHO}/ServerStreamingEcho"), vec![("x-canary", "false")], "b"),
        ("/other.v1.Svc/StreamData".to_string(), vec![], "c"),
        ("/grpc.health.v1.Health/Check".to_string(), vec![], "a"),
    ];
    for (path, md, want) in expect {
        let r = call(&mut client, &path, &md).await.unwrap_or_else(|s| panic!("{path} {md:?}: {s:?}"));
        assert_eq!(r.backend(), want, "{path} {md:?}");
        assert_eq!(r.body["path"], path.as_str());
    }
    for path in [format!("/{ECHO}V2/UnaryEcho"), "/other.v1.Svc/Streamdata".into(), "/other.v1.Svc/Get".into()] {
        let err = call(&mut client, &path, &[]).await.err().unwrap_or_else(|| panic!("{path} was routed"));
        assert_eq!(err.code(), Code::Unimplemented, "{path}: {err:?}");
    }
    let mut other = grpc_client(port, "other.example.com").await;
    let err = call(&mut other, &format!("/{ECHO}/UnaryEcho"), &[]).await.err().expect("a host no route names");
    assert_eq!(err.code(), Code::Unimplemented, "{err:?}");
    assert_eq!(a.calls().len(), 2, "a: UnaryEcho and Check");
}

/// A weighted split measured over many calls, per-backend header filters, and an HTTPRoute
/// on the same Gateway and hostname served by its own rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_weighted_split_beside_an_http_route() {
    let Some(envoy) = envoy() else { return };
    let (a, b) = (grpc_backend("a").await, grpc_backend("b").await);
    let web = echo("web").await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&grpc_route(
        "split",
        "2024-01-01T00:00:00Z",
        r#"  parentRefs: [{name: gw}]
  hostnames: [api.example.com]
  rules:
    - backendRefs:
        - {name: a, port: 8080, weight: 3}
        - name: b
          port: 8080
          weight: 1
          filters: [{type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: x-backend, value: b}]}}]
"#,
    ));
    input.push_str(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: site, namespace: default, creationTimestamp: \"2024-01-02T00:00:00Z\"}\nspec:\n  parentRefs: [{name: gw}]\n  hostnames: [api.example.com]\n  rules: [{matches: [{path: {type: PathPrefix, value: /status}}], backendRefs: [{name: web, port: 8080}]}]\n",
    );
    input.push_str(&slice("default", "a", a.addr.port()));
    input.push_str(&slice("default", "b", b.addr.port()));
    input.push_str(&slice("default", "web", web.addr.port()));
    let _served = serve(&envoy, &input, &[]).await;

    let mut client = grpc_client(port, "api.example.com").await;
    let mut counts = BTreeMap::new();
    for i in 0..400 {
        let r = call(&mut client, &format!("/svc.v1.Api/Get{}", i % 7), &[]).await.expect("call");
        assert_eq!(r.header("x-backend").as_deref(), (r.backend() == "b").then_some("b"), "only b's filter adds x-backend");
        *counts.entry(r.backend()).or_insert(0u32) += 1;
    }
    let share_a = f64::from(counts.get("a").copied().unwrap_or(0)) / 400.0;
    assert!((0.65..=0.85).contains(&share_a), "3:1 split gave {counts:?}");

    // The HTTPRoute's longer prefix outranks the GRPCRoute's match-everything rule.
    let r = get(port, "api.example.com", "/status/x").await.expect("HTTP through the same listener");
    assert_eq!(r.backend(), "web");
}

/// GRPCRoute on an HTTPS listener: HTTP/2 chosen by ALPN, the listener's certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_over_https() {
    let Some(envoy) = envoy() else { return };
    let a = grpc_backend("a").await;
    let pki = Pki::new("gatewayc grpc CA");
    let (crt, key) = pki.leaf(&["grpc.example.com"]);
    let port = free_port();
    let mut input = format!(
        "{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n    - name: https\n      protocol: HTTPS\n      port: {port}\n      hostname: grpc.example.com\n      tls: {{certificateRefs: [{{name: cert}}]}}\n"
    );
    input.push_str(&tls_secret("default", "cert", &crt, &key));
    input.push_str(&grpc_route("echo", "2024-01-01T00:00:00Z", &format!("  parentRefs: [{{name: gw}}]\n  rules: [{{matches: [{{method: {{service: {ECHO}}}}}], backendRefs: [{{name: a, port: 8080}}]}}]\n")));
    input.push_str(&slice("default", "a", a.addr.port()));
    let _served = serve(&envoy, &input, &[]).await;
    let mut client = grpc_tls_client(port, "grpc.example.com", &pki.ca_pem()).await;
    let r = call(&mut client, &format!("/{ECHO}/UnaryEcho"), &[]).await.expect("call over TLS");
    assert_eq!(r.backend(), "a");
    assert_eq!(r.header("x-forwarded-proto").as_deref(), Some("https"), "{}", r.body);
    let err = call(&mut client, "/x.Y/Z", &[]).await.err().expect("unrouted");
    assert_eq!(err.code(), Code::Unimplemented);
}

/// (kind, name) → the Accepted and ResolvedRefs conditions of the first route parent, and
/// the listeners' (name, attachedRoutes, supportedKinds), from `gatewayc status`.
fn statuses(input: &str) -> (BTreeMap<(String, String), Vec<(String, String, String)>>, Vec<(String, u64, Vec<String>)>) {
    let (code, out, err) = gatewayc(&["status", "-f", "-"], input);
    assert_eq!(code, 0, "{err}");
    let (mut routes, mut listeners) = (BTreeMap::new(), Vec::new());
    for d in gatewayc::source::load_str("status", &out).documents {
        let v = d.value;
        let s = |x: &serde_json::Value| x.as_str().unwrap_or_default().to_string();
        for l in v["status"]["listeners"].as_array().into_iter().flatten() {
            let kinds = l["supportedKinds"].as_array().into_iter().flatten().map(|k| s(&k["kind"])).collect();
            listeners.push((s(&l["name"]), l["attachedRoutes"].as_u64().unwrap_or(0), kinds));
        }
        let Some(conds) = v["status"]["parents"][0]["conditions"].as_array() else { continue };
        routes.insert((s(&v["kind"]), s(&v["metadata"]["name"])), conds.iter().map(|c| (s(&c["type"]), s(&c["status"]), s(&c["reason"]))).collect());
    }
    (routes, listeners)
}

/// Route status as for HTTPRoute: accepted, a backend that does not exist (its calls fail
/// with a gRPC status), an expression Envoy would refuse, a listener that allows only
/// HTTPRoutes; listeners count GRPCRoutes and list the kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_route_status_and_failures() {
    let Some(envoy) = envoy() else { return };
    let a = grpc_backend("a").await;
    let (port, http_only) = (free_port(), free_port());
    let mut input = format!(
        "{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n    - {{name: http, protocol: HTTP, port: {port}}}\n    - {{name: http-only, protocol: HTTP, port: {http_only}, allowedRoutes: {{kinds: [{{kind: HTTPRoute}}]}}}}\n"
    );
    input.push_str(&grpc_route("ok", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: http}]\n  rules:\n    - matches: [{method: {service: a.A}}]\n      backendRefs: [{name: a, port: 8080}]\n    - matches: [{method: {service: gone.Gone}}]\n      backendRefs: [{name: missing, port: 8080}]\n"));
    input.push_str(&grpc_route("refused", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: http-only}]\n  rules: [{backendRefs: [{name: a, port: 8080}]}]\n"));
    input.push_str(&slice("default", "a", a.addr.port()));
    let bad_regex = grpc_route("bad-regex", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw, sectionName: http}]\n  rules: [{matches: [{method: {type: RegularExpression, method: \"Get(?=x)\"}}], backendRefs: [{name: a, port: 8080}]}]\n");

    let (routes, listeners) = statuses(&format!("{input}{bad_regex}"));
    let cond = |name: &str, t: &str| routes[&("GRPCRoute".to_string(), name.to_string())].iter().find(|c| c.0 == t).map(|c| (c.1.clone(), c.2.clone()));
    let pair = |s: &str, r: &str| Some((s.to_string(), r.to_string()));
    assert_eq!(cond("ok", "Accepted"), pair("True", "Accepted"));
    assert_eq!(cond("ok", "ResolvedRefs"), pair("False", "BackendNotFound"));
    assert_eq!(cond("bad-regex", "Accepted"), pair("False", "UnsupportedValue"));
    assert_eq!(cond("refused", "Accepted"), pair("False", "NotAllowedByListeners"));
    let http = listeners.iter().find(|l| l.0 == "http").expect("listener http");
    assert_eq!((http.1, http.2.clone()), (2, vec!["HTTPRoute".to_string(), "GRPCRoute".to_string()]), "ok and bad-regex attach");
    let only = listeners.iter().find(|l| l.0 == "http-only").expect("listener http-only");
    assert_eq!((only.1, only.2.clone()), (0, vec!["HTTPRoute".to_string()]));

    // `validate` fails on the expression exactly as translate would.
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &format!("{input}{bad_regex}"));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not valid RE2"), "{err}");

    let _served = serve(&envoy, &input, &[]).await;
    let mut client = grpc_client(port, "any.example.com").await;
    assert_eq!(call(&mut client, "/a.A/Get", &[]).await.expect("routed").backend(), "a");
    let err = call(&mut client, "/gone.Gone/Get", &[]).await.err().expect("a rule without a backend answers an error");
    // Envoy answers the rule's 500 to a gRPC client as gRPC status UNKNOWN (its HTTP-to-gRPC
    // mapping); UNIMPLEMENTED would mean no rule matched.
    assert_eq!(err.code(), Code::Unknown, "{err:?}");
}

/// ExtensionRef filters: to a kind not implemented, an error naming the field, and with
/// `--allow-unsupported` the rule answers an error status instead of serving without it; to
/// an HTTPRouteFilter, applied (an injected credential the backend sees), or, not found, the
/// rule answers an error status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_extension_refs() {
    let Some(envoy) = envoy() else { return };
    let a = grpc_backend("a").await;
    let port = free_port();
    let mut input = http_gateway(port);
    let rule = |service: &str, group: &str, kind: &str, name: &str| {
        format!("    - matches: [{{method: {{service: {service}}}}}]\n      filters: [{{type: ExtensionRef, extensionRef: {{group: {group}, kind: {kind}, name: {name}}}}}]\n      backendRefs: [{{name: a, port: 8080}}]\n")
    };
    let rules = [rule("ext.Ext", "example.com", "Foo", "f"), rule("inj.Inj", "gateway.envoyproxy.io", "HTTPRouteFilter", "inject"), rule("miss.Miss", "gateway.envoyproxy.io", "HTTPRouteFilter", "nope")].concat();
    input.push_str(&grpc_route("ext", "2024-01-01T00:00:00Z", &format!("  parentRefs: [{{name: gw}}]\n  rules:\n{rules}    - matches: [{{method: {{service: plain.Plain}}}}]\n      backendRefs: [{{name: a, port: 8080}}]\n")));
    input.push_str(&slice("default", "a", a.addr.port()));
    input.push_str("---\napiVersion: v1\nkind: Secret\nmetadata: {name: token, namespace: default}\nstringData: {credential: Bearer grpc-token}\n");
    input.push_str("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: HTTPRouteFilter\nmetadata: {name: inject, namespace: default}\nspec:\n  credentialInjection: {credential: {valueRef: {name: token}}}\n");
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &input);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unsupported::field") && err.contains("/spec/rules/0/filters/0"), "{err}");
    let (code, _, _) = gatewayc(&["translate", "-f", "-"], &input);
    assert_eq!(code, 1, "translate fails as validate does");

    let _served = serve(&envoy, &input, &["--allow-unsupported"]).await;
    let mut client = grpc_client(port, "example.com").await;
    let err = call(&mut client, "/ext.Ext/Get", &[]).await.err().expect("the rule with the filter is not served");
    assert_eq!(err.code(), Code::Unknown, "{err:?}");
    assert!(a.calls().is_empty(), "the backend saw a call past an unapplied filter");
    assert_eq!(call(&mut client, "/inj.Inj/Get", &[]).await.expect("injected").header("authorization").as_deref(), Some("Bearer grpc-token"));
    assert_eq!(call(&mut client, "/miss.Miss/Get", &[]).await.err().expect("a filter not found").code(), Code::Unknown);
    assert_eq!(call(&mut client, "/plain.Plain/Get", &[]).await.expect("the other rule").backend(), "a");
}

/// Experimental sessionPersistence on a GRPCRoute: a header session sticks calls to one of
/// a Service's two endpoints, which without it share the calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_header_session_persistence() {
    let Some(envoy) = envoy() else { return };
    let (a, b) = (grpc_backend("a").await, grpc_backend("b").await);
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&grpc_route(
        "sticky",
        "2024-01-01T00:00:00Z",
        "  parentRefs: [{name: gw}]\n  rules:\n    - matches: [{method: {service: s.Sticky}}]\n      sessionPersistence: {sessionName: x-grpc-session, type: Header}\n      backendRefs: [{name: pair, port: 8080}]\n    - backendRefs: [{name: pair, port: 8080}]\n",
    ));
    input.push_str(&two_endpoint_service("default", "pair", a.addr.port(), b.addr.port()));
    let _served = serve(&envoy, &input, &[]).await;
    let mut client = grpc_client(port, "example.com").await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..6 {
        seen.insert(call(&mut client, "/plain.Plain/Get", &[]).await.expect("call").backend());
    }
    assert_eq!(seen.len(), 2, "without a session both endpoints serve: {seen:?}");
    let first = call(&mut client, "/s.Sticky/Get", &[]).await.expect("call");
    let token = first.meta("x-grpc-session").expect("the session header in the response metadata");
    for _ in 0..10 {
        let r = call_with(&mut client, "/s.Sticky/Get", &[("x-grpc-session".to_string(), token.as_str())]).await.expect("call");
        assert_eq!(r.backend(), first.backend(), "the session moved");
    }
}

/// A GRPCRoute to an Envoy Gateway Backend (an IP endpoint on loopback): HTTP/2 to it, as to
/// any GRPCRoute backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_to_a_backend() {
    let Some(envoy) = envoy() else { return };
    let a = grpc_backend("a").await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: Backend\nmetadata: {{name: a, namespace: default}}\nspec:\n  endpoints: [{{ip: {{address: 127.0.0.1, port: {}}}}}]\n", a.addr.port()));
    input.push_str(&grpc_route("echo", "2024-01-01T00:00:00Z", "  parentRefs: [{name: gw}]\n  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: a}]}]\n"));
    let _served = serve(&envoy, &input, &["--allow-loopback-backends"]).await;
    let mut client = grpc_client(port, "app").await;
    let r = call(&mut client, &format!("/{ECHO}/UnaryEcho"), &[]).await.expect("call");
    assert_eq!(r.backend(), "a");
}
