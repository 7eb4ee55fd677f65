//! ListenerSets through a real Envoy: a team's listeners on a shared Gateway, on the Gateway's
//! port (by hostname) and on ports of their own (HTTPS with the team's certificate, TCP);
//! routes attached by parentRef kind ListenerSet; a younger ListenerSet's conflicting listener
//! loses; a namespace the Gateway does not admit is NotAllowed.

mod support;

use support::policy::service;
use support::streams::{tcp_backend, tcp_greeting};
use support::*;

fn gateway(port: u16, allowed: &str) -> String {
    format!(
        "{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: shared, namespace: infra}}\nspec:\n  gatewayClassName: eg\n  allowedListeners: {{namespaces: {allowed}}}\n  listeners:\n  - {{name: web, protocol: HTTP, port: {port}, hostname: www.example.test}}\n"
    )
}

fn listener_set(ns: &str, created: &str, listeners: &str) -> String {
    format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: ListenerSet\nmetadata: {{name: {ns}, namespace: {ns}, creationTimestamp: \"{created}\"}}\nspec:\n  parentRef: {{name: shared, namespace: infra}}\n  listeners:\n{listeners}"
    )
}

/// An HTTPRoute `name` of namespace `ns` on `parent` (a flow mapping) to Service `svc`.
fn http_route(ns: &str, name: &str, parent: &str, svc: &str) -> String {
    format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  parentRefs: [{parent}]\n  rules: [{{backendRefs: [{{name: {svc}, port: 8080}}]}}]\n")
}

fn set_ref(name: &str, section: &str) -> String {
    format!("{{group: gateway.networking.k8s.io, kind: ListenerSet, name: {name}, namespace: {name}, sectionName: {section}}}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_listener_set_is_served_with_the_gateway() {
    let Some(envoy) = envoy() else { return };
    let pki = Pki::new("team-ca");
    let (cert, key) = pki.leaf(&["secure.a.example.test"]);
    let (www, a, secure) = (echo("www").await, echo("a").await, echo("a-secure").await);
    let db = tcp_backend("db").await;
    let (http, https, tcp) = (free_port(), free_port(), free_port());
    let mut input = gateway(http, "{from: All}");
    input.push_str(&listener_set(
        "team-a",
        "2025-01-01T00:00:00Z",
        &format!(
            "  - {{name: web, protocol: HTTP, port: {http}, hostname: a.example.test}}\n  - {{name: secure, protocol: HTTPS, port: {https}, hostname: secure.a.example.test, tls: {{certificateRefs: [{{name: team-cert}}]}}}}\n  - {{name: db, protocol: TCP, port: {tcp}}}\n"
        ),
    ));
    // The certificate lives in the team's namespace.
    input.push_str(&tls_secret("team-a", "team-cert", &cert, &key));
    input.push_str(&service("infra", "www", &[www.addr.port()]));
    input.push_str(&service("team-a", "a", &[a.addr.port()]));
    input.push_str(&service("team-a", "secure", &[secure.addr.port()]));
    input.push_str(&format!("---\napiVersion: v1\nkind: Service\nmetadata: {{name: db, namespace: team-a}}\nspec:\n  ports: [{{name: db, port: 5432}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: db, namespace: team-a, labels: {{kubernetes.io/service-name: db}}}}\naddressType: IPv4\nports: [{{name: db, port: {}}}]\nendpoints: [{{addresses: [127.0.0.1]}}]\n", db.port()));
    input.push_str(&http_route("infra", "www", "{name: shared}", "www"));
    input.push_str(&http_route("team-a", "a", &set_ref("team-a", "web"), "a"));
    input.push_str(&http_route("team-a", "secure", &set_ref("team-a", "secure"), "secure"));
    input.push_str(&format!("---\napiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute\nmetadata: {{name: db, namespace: team-a}}\nspec:\n  parentRefs: [{}]\n  rules: [{{backendRefs: [{{name: db, port: 5432}}]}}]\n", set_ref("team-a", "db")));
    let _s = serve(&envoy, &input, &[]).await;
    // One port, two owners, by hostname.
    let r = request(http, "GET", "www.example.test", "/", &[]).await.expect("www");
    assert_eq!((r.status, r.echo()["backend"].as_str()), (200, Some("www")), "{r:?}");
    let r = request(http, "GET", "a.example.test", "/", &[]).await.expect("a");
    assert_eq!((r.status, r.echo()["backend"].as_str()), (200, Some("a")), "{r:?}");
    assert_eq!(request(http, "GET", "other.example.test", "/", &[]).await.expect("other").status, 404);
    // The team's HTTPS listener with the team's certificate, and its TCP listener.
    let r = https_request(https, "secure.a.example.test", &pki.ca_der, "secure.a.example.test", "/s").await.expect("https");
    assert_eq!((r.status, r.echo()["backend"].as_str()), (200, Some("a-secure")), "{r:?}");
    assert_eq!(tcp_greeting(tcp).await.as_deref(), Ok("db"));
    let (code, out, err) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("attachedListenerSets: 1"), "{out}");
    let set = out.split("\n---\n").find(|d| d.contains("kind: ListenerSet\n")).unwrap_or_default();
    assert!(set.contains("message: All listeners are accepted") && set.contains("message: All listeners are programmed"), "{set}");
    // Each listener's attached routes are counted on the ListenerSet.
    assert_eq!(set.matches("attachedRoutes: 1").count(), 3, "{set}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_younger_conflicting_listener_loses_and_a_namespace_not_admitted_is_refused() {
    let Some(envoy) = envoy() else { return };
    let (a, b, c) = (echo("a").await, echo("b").await, echo("c").await);
    let http = free_port();
    let mut input = gateway(http, "{from: Selector, selector: {matchLabels: {shared: \"yes\"}}}");
    for ns in ["team-a", "team-b"] {
        input.push_str(&format!("---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{shared: \"yes\"}}}}\n"));
    }
    let web = format!("  - {{name: web, protocol: HTTP, port: {http}, hostname: app.example.test}}\n");
    // team-b's ListenerSet is younger (created later): its listener loses the hostname.
    input.push_str(&listener_set("team-b", "2025-06-01T00:00:00Z", &web));
    input.push_str(&listener_set("team-a", "2025-01-01T00:00:00Z", &web));
    input.push_str(&listener_set("team-c", "2025-01-01T00:00:00Z", &format!("  - {{name: web, protocol: HTTP, port: {http}, hostname: c.example.test}}\n")));
    for (ns, e) in [("team-a", &a), ("team-b", &b), ("team-c", &c)] {
        input.push_str(&service(ns, "app", &[e.addr.port()]));
        input.push_str(&http_route(ns, "app", &set_ref(ns, "web"), "app"));
    }
    let s = serve(&envoy, &input, &[]).await;
    assert!(s.stderr.contains("ListenerSet attachment from namespace team-c not allowed by Gateway infra/shared"), "{}", s.stderr);
    let r = request(http, "GET", "app.example.test", "/", &[]).await.expect("app");
    assert_eq!((r.status, r.echo()["backend"].as_str()), (200, Some("a")), "{r:?}");
    assert_eq!(request(http, "GET", "c.example.test", "/", &[]).await.expect("c").status, 404);
    assert_eq!(b.hits() + c.hits(), 0);
    let (code, out, err) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    let doc = |name: &str| out.split("\n---\n").find(|d| d.contains("kind: ListenerSet\n") && d.contains(&format!("  name: {name}\n"))).unwrap_or_default().to_string();
    let (sa, sb, sc) = (doc("team-a"), doc("team-b"), doc("team-c"));
    assert!(sa.contains("reason: NoConflicts") && sa.contains("message: All listeners are programmed"), "{sa}");
    assert!(sb.contains("type: Conflicted\n      status: \"True\"\n      reason: HostnameConflict"), "{sb}");
    assert!(sb.contains("type: Programmed\n    status: \"False\"\n    reason: ListenersNotValid\n    message: No listeners are programmed"), "{sb}");
    assert!(sc.contains("type: Accepted\n    status: \"False\"\n    reason: NotAllowed"), "{sc}");
    // validate fails on what status rejects.
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &input);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("reference::listenerset") && err.contains("conflict::listener"), "{err}");
}

/// Policies on a ListenerSet (and on one of its listeners) as Envoy Gateway applies them: a
/// ClientTrafficPolicy on the ListenerSet over the Gateway's, a listener's over the
/// ListenerSet's, a SecurityPolicy on a ListenerSet listener; their ancestors are the
/// ListenerSet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_on_a_listener_set() {
    let Some(envoy) = envoy() else { return };
    let (www, a) = (echo("www").await, echo("a").await);
    let (gw_port, open, closed, own) = (free_port(), free_port(), free_port(), free_port());
    let mut input = gateway(gw_port, "{from: All}");
    input.push_str(&listener_set(
        "team-a",
        "2025-01-01T00:00:00Z",
        &format!("  - {{name: open, protocol: HTTP, port: {open}}}\n  - {{name: closed, protocol: HTTP, port: {closed}}}\n  - {{name: own, protocol: HTTP, port: {own}}}\n"),
    ));
    input.push_str(&service("infra", "www", &[www.addr.port()]));
    input.push_str(&service("team-a", "a", &[a.addr.port()]));
    input.push_str(&http_route("infra", "www", "{name: shared}", "www"));
    input.push_str(&http_route("team-a", "a", "{group: gateway.networking.k8s.io, kind: ListenerSet, name: team-a}", "a"));
    let ctp = |ns: &str, name: &str, target: &str, team: &str| {
        format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: ClientTrafficPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  targetRefs: [{target}]\n  headers:\n    earlyRequestHeaders:\n      set: [{{name: x-team, value: {team}}}]\n")
    };
    input.push_str(&ctp("infra", "gw", "{group: gateway.networking.k8s.io, kind: Gateway, name: shared}", "gateway"));
    input.push_str(&ctp("team-a", "set", "{group: gateway.networking.k8s.io, kind: ListenerSet, name: team-a}", "set"));
    input.push_str(&ctp("team-a", "own", "{group: gateway.networking.k8s.io, kind: ListenerSet, name: team-a, sectionName: own}", "own"));
    input.push_str("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: SecurityPolicy\nmetadata: {name: closed, namespace: team-a}\nspec:\n  targetRefs: [{group: gateway.networking.k8s.io, kind: ListenerSet, name: team-a, sectionName: closed}]\n  authorization: {defaultAction: Deny}\n");
    let _s = serve(&envoy, &input, &[]).await;
    let team = |r: &Reply| r.echo()["headers"]["x-team"].as_str().map(str::to_string);
    let r = request(gw_port, "GET", "www.example.test", "/", &[]).await.expect("gateway");
    assert_eq!((r.echo()["backend"].as_str(), team(&r).as_deref()), (Some("www"), Some("gateway")), "{r:?}");
    let r = request(open, "GET", "any", "/", &[]).await.expect("set");
    assert_eq!((r.echo()["backend"].as_str(), team(&r).as_deref()), (Some("a"), Some("set")), "{r:?}");
    let r = request(own, "GET", "any", "/", &[]).await.expect("own");
    assert_eq!(team(&r).as_deref(), Some("own"), "{r:?}");
    assert_eq!(request(closed, "GET", "any", "/", &[]).await.expect("closed").status, 403);
    let (code, out, err) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    let doc = |kind: &str, name: &str| out.split("\n---\n").find(|d| d.contains(&format!("kind: {kind}\n")) && d.contains(&format!("  name: {name}\n"))).unwrap_or_default().to_string();
    let set = doc("ClientTrafficPolicy", "set");
    assert!(set.contains("kind: ListenerSet\n      namespace: team-a\n      name: team-a"), "{set}");
    assert!(set.contains("overriding these sections [own]"), "{set}");
    let sp = doc("SecurityPolicy", "closed");
    assert!(sp.contains("kind: ListenerSet") && sp.contains("sectionName: closed") && sp.contains("reason: Accepted"), "{sp}");
}

/// Envoy Gateway's OverlappingTLSConfig across a Gateway's HTTPS listener and a ListenerSet's
/// on the same port: both marked, and the bootstrap still passes Envoy.
#[test]
fn overlapping_tls_across_the_gateway_and_a_listener_set() {
    let pki = Pki::new("ca");
    let (wild, wild_key) = pki.leaf(&["*.example.test"]);
    let (one, one_key) = pki.leaf(&["a.example.test"]);
    let mut input = format!(
        "{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: shared, namespace: infra}}\nspec:\n  gatewayClassName: eg\n  allowedListeners: {{namespaces: {{from: All}}}}\n  listeners:\n  - {{name: wild, protocol: HTTPS, port: 8443, hostname: \"*.example.test\", tls: {{certificateRefs: [{{name: wild}}]}}}}\n"
    );
    input.push_str(&tls_secret("infra", "wild", &wild, &wild_key));
    input.push_str(&listener_set("team-a", "2025-01-01T00:00:00Z", "  - {name: a, protocol: HTTPS, port: 8443, hostname: a.example.test, tls: {certificateRefs: [{name: one}]}}\n"));
    input.push_str(&tls_secret("team-a", "one", &one, &one_key));
    let (code, out, err) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    let doc = |kind: &str| out.split("\n---\n").find(|d| d.lines().any(|l| l == format!("kind: {kind}"))).unwrap_or_default().to_string();
    for kind in ["Gateway", "ListenerSet"] {
        let d = doc(kind);
        assert!(d.contains("type: OverlappingTLSConfig\n      status: \"True\"\n      reason: OverlappingCertificates"), "{kind}: {d}");
    }
    assert!(doc("Gateway").contains("in listener listenerset/team-a/team-a/a"), "{}", doc("Gateway"));
    let (code, bootstrap, err) = gatewayc(&["translate", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    // HTTP/1.1 only by ALPN on both chains.
    assert!(!bootstrap.contains("- h2"), "{bootstrap}");
    if let Some(envoy) = envoy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("envoy.yaml");
        std::fs::write(&path, &bootstrap).expect("write");
        envoy_validate(&envoy, &path);
    }
}
