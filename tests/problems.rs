//! One problem, one value: each problem gives a diagnostic and the status condition it implies,
//! and `validate` fails exactly when `translate` does (and on what status reports as rejected).

mod support;
use support::*;

fn gateway(listeners: &str) -> String {
    format!("{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners: {listeners}\n")
}

fn route(rules: &str) -> String {
    format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: default}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules:\n{rules}")
}

/// The conditions of the route's first parent in `gatewayc status` output.
fn route_conditions(status: &str) -> Vec<(String, String, String)> {
    let l = gatewayc::source::load_str("status", status);
    let r = l.documents.iter().find(|d| d.value["kind"] == "HTTPRoute").expect("route in status");
    r.value["status"]["parents"][0]["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .map(|c| (c["type"].as_str().unwrap_or("").into(), c["status"].as_str().unwrap_or("").into(), c["reason"].as_str().unwrap_or("").into()))
        .collect()
}

#[test]
fn a_gateway_whose_listeners_all_conflict_fails_validate_and_strict() {
    let input = gateway("[{name: a, protocol: HTTP, port: 8080}, {name: b, protocol: HTTPS, port: 8080, tls: {certificateRefs: [{name: x}]}}]");
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &input);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("conflict::listener") && err.contains("ProtocolConflict"), "{err}");
    let (code, _, err) = gatewayc(&["translate", "-f", "-", "--strict"], &input);
    assert_eq!(code, 1, "{err}");
    // Status says the same: the listeners are Conflicted and not programmed.
    let (code, out, _) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0);
    assert!(out.contains("reason: ProtocolConflict") && out.contains("reason: Invalid"), "{out}");
}

#[test]
fn a_route_of_another_controller_is_not_ours_to_judge() {
    let other = "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: other}\nspec: {controllerName: example.com/other}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: default}\nspec:\n  gatewayClassName: other\n  listeners: [{name: http, protocol: HTTP, port: 8080}]\n";
    let input = format!("{other}{}", route("    - backendRefs: [{name: nowhere, port: 80}]\n"));
    let (code, out, err) = gatewayc(&["validate", "-f", "-", "--format", "json"], &input);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("reference::backend"), "{out}");
    let (_, out, _) = gatewayc(&["status", "-f", "-"], &input);
    assert!(!out.contains("parents:"), "a route not ours gets no status from us: {out}");
}

#[test]
fn values_envoy_would_refuse_make_the_route_not_accepted() {
    let gw = gateway("[{name: http, protocol: HTTP, port: 8080}]");
    let cases = [
        ("header value with LF", "    - filters:\n        - type: RequestHeaderModifier\n          requestHeaderModifier: {set: [{name: x-a, value: \"a\\nb\"}]}\n      backendRefs: [{name: svc, port: 80}]\n", "/filters/0/requestHeaderModifier/set/0/value"),
        ("set host", "    - filters:\n        - type: RequestHeaderModifier\n          requestHeaderModifier: {add: [{name: Host, value: evil}]}\n      backendRefs: [{name: svc, port: 80}]\n", "/filters/0/requestHeaderModifier/add/0/name"),
        ("rewrite with CR", "    - matches: [{path: {type: PathPrefix, value: /a}}]\n      filters:\n        - type: URLRewrite\n          urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: \"/x\\r\"}}\n      backendRefs: [{name: svc, port: 80}]\n", "/filters/0/urlRewrite/path/replaceFullPath"),
        ("regex RE2 refuses", "    - matches: [{path: {type: RegularExpression, value: \"(a)\\\\1\"}}]\n      backendRefs: [{name: svc, port: 80}]\n", "/matches/0/path/value"),
    ];
    for (what, rules, pointer) in cases {
        let input = format!("{gw}{}", route(rules));
        // The experimental channel's schema refuses control characters in header values
        // itself; the standard channel's has no pattern, and Envoy would refuse the config.
        let channel = if what == "header value with LF" {
            let (code, out, _) = gatewayc(&["validate", "-f", "-", "--format", "json"], &input);
            assert_eq!(code, 1);
            assert!(out.contains("schema::pattern") && out.contains("requestHeaderModifier/set/0/value"), "{out}");
            "standard"
        } else {
            "experimental"
        };
        let with = |args: &[&'static str]| [args, &["--gateway-api-channel", channel]].concat();
        let (code, out, err) = gatewayc(&with(&["validate", "-f", "-", "--format", "json"]), &input);
        assert_eq!(code, 1, "{what}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        let d = v["diagnostics"].as_array().expect("diagnostics").iter().find(|d| d["code"] == "value::unsupported").unwrap_or_else(|| panic!("{what}: {out}"));
        assert_eq!(d["path"], format!("/spec/rules/0{pointer}"), "{what}");
        assert!(d["line"].is_u64(), "{what}");
        let (code, _, _) = gatewayc(&with(&["translate", "-f", "-"]), &input);
        assert_eq!(code, 1, "{what}: translate must fail as validate does");
        // The object is kept, and status says why it is not accepted.
        let (code, status, _) = gatewayc(&with(&["status", "-f", "-"]), &input);
        assert_eq!(code, 0);
        let conds = route_conditions(&status);
        assert!(conds.contains(&("Accepted".into(), "False".into(), "UnsupportedValue".into())), "{what}: {conds:?}");
    }
}

#[test]
fn nothing_the_input_says_is_dropped_silently() {
    let gw = gateway("[{name: http, protocol: HTTP, port: 8080}]");
    let cases = [
        ("absoluteTimeout of a header session", route("    - sessionPersistence: {type: Header, absoluteTimeout: 1h}\n      backendRefs: [{name: svc, port: 80}]\n"), "sessionPersistence.absoluteTimeout"),
        ("a Backend zone", "---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: Backend\nmetadata: {name: b, namespace: default}\nspec:\n  endpoints: [{ip: {address: 10.0.0.1, port: 80}, zone: a}]\n".to_string(), "Backend endpoint zone"),
    ];
    for (what, extra, needle) in cases {
        let input = format!("{gw}{extra}");
        let (code, _, err) = gatewayc(&["translate", "-f", "-"], &input);
        assert_eq!(code, 1, "{what}: {err}");
        assert!(err.contains("unsupported::field") && err.contains(needle), "{what}: {err}");
        let (code, _, err) = gatewayc(&["translate", "-f", "-", "--allow-unsupported"], &input);
        assert_eq!(code, 0, "{what}: {err}");
    }
}

#[test]
fn parameters_refs_resolve_as_envoy_gateway_resolves_them() {
    let proxy = "---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyProxy\nmetadata: {name: p, namespace: default}\nspec: {provider: {type: Kubernetes, kubernetes: {envoyDeployment: {replicas: 3}}}}\n";
    // A GatewayClass parametersRef without a namespace finds the EnvoyProxy in `default`.
    let class = EG_CLASS.replace("spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}", "spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller, parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: p}}");
    let gw = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: apps}\nspec:\n  gatewayClassName: eg\n  listeners: [{name: http, protocol: HTTP, port: 8080}]\n";
    let (code, out, err) = gatewayc(&["render", "-f", "-"], &format!("{class}{proxy}{gw}"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("replicas: 3"), "{out}");
    // A Gateway whose infrastructure.parametersRef names nothing is not accepted.
    for params in ["{group: gateway.envoyproxy.io, kind: EnvoyProxy, name: missing}", "{group: example.com, kind: Thing, name: p}"] {
        let gw = format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  infrastructure: {{parametersRef: {params}}}\n  listeners: [{{name: http, protocol: HTTP, port: 8080}}]\n");
        let input = format!("{EG_CLASS}{proxy}{gw}");
        let (code, _, err) = gatewayc(&["translate", "-f", "-"], &input);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("reference::parameters") && err.contains("Gateway default/gw is not accepted (InvalidParameters"), "{err}");
        let (_, status, _) = gatewayc(&["status", "-f", "-"], &input);
        assert!(status.contains("reason: InvalidParameters"), "{status}");
    }
}

#[test]
fn the_standard_channel_serves_only_its_versions() {
    let doc = |api: &str, kind: &str, spec: &str| format!("apiVersion: gateway.networking.k8s.io/{api}\nkind: {kind}\nmetadata: {{name: x, namespace: default}}\nspec:\n{spec}");
    let tcp = "  rules: [{backendRefs: [{name: a, port: 1}]}]\n";
    let btls = "  targetRefs: [{group: \"\", kind: Service, name: a}]\n  validation: {hostname: a.internal, wellKnownCACertificates: System}\n";
    for (api, kind, spec) in [("v1alpha2", "TCPRoute", tcp), ("v1alpha3", "BackendTLSPolicy", btls)] {
        let input = doc(api, kind, spec);
        let (code, _, err) = gatewayc(&["validate", "-f", "-", "--gateway-api-channel", "standard"], &input);
        assert_eq!(code, 1, "{kind} {api}: {err}");
        assert!(err.contains("schema::unknown-version") && err.contains("standard channel"), "{err}");
        let (code, _, err) = gatewayc(&["validate", "-f", "-"], &input);
        assert_eq!(code, 0, "the experimental channel serves {kind} {api}: {err}");
    }
}
