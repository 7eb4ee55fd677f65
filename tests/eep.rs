//! EnvoyExtensionPolicy through a real Envoy: Lua scripts (inline and from a ConfigMap) that
//! change what the backend and the client see; an external processor written for the tests
//! that rewrites request headers and adds a response header; a route policy over the
//! Gateway's; a policy that cannot be translated closes its routes, and its status says why.

mod support;

use support::policy::*;
use support::*;

const GW: &str = "{group: gateway.networking.k8s.io, kind: Gateway, name: gw}";

fn on_route(name: &str) -> String {
    format!("{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: {name}}}")
}

/// An EnvoyExtensionPolicy `name` on `target` with `body` (YAML lines under spec).
fn extension_policy(name: &str, target: &str, body: &str) -> String {
    format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyExtensionPolicy\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  targetRefs: [{target}]\n{body}")
}

/// Gateway `gw` on `port` and routes `app` (/), `shop` (/shop), `broken` (/broken) to one
/// echo backend, with `extra`.
async fn served(envoy: &std::path::Path, port: u16, extra: &[String]) -> (Echo, Served, String) {
    let b = echo("b").await;
    let mut input = http_gateway(port);
    for (name, path) in [("app", "/"), ("shop", "/shop"), ("broken", "/broken")] {
        input.push_str(&route(name, path, "svc"));
    }
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    for e in extra {
        input.push_str(e);
    }
    let s = serve(envoy, &input, &[]).await;
    (b, s, input)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lua_scripts_inline_and_from_a_config_map() {
    let Some(envoy) = envoy() else { return };
    let port = free_port();
    let gateway_script = "  lua:\n  - type: Inline\n    inline: |\n      function envoy_on_request(handle)\n        handle:headers():replace(\"x-lua\", \"gateway:\" .. handle:headers():get(\":path\"))\n      end\n";
    let config_map = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: scripts, namespace: default}\ndata:\n  lua: |\n    function envoy_on_request(handle)\n      handle:headers():add(\"x-lua\", \"shop\")\n    end\n    function envoy_on_response(handle)\n      handle:headers():add(\"x-lua-response\", tostring(handle:headers():get(\":status\")))\n    end\n";
    let (_b, _s, input) = served(&envoy, port, &[
        config_map.to_string(),
        extension_policy("gw", GW, gateway_script),
        extension_policy("shop", &on_route("shop"), "  lua:\n  - type: ValueRef\n    valueRef: {group: \"\", kind: ConfigMap, name: scripts}\n"),
        extension_policy("broken", &on_route("broken"), "  lua:\n  - type: ValueRef\n    valueRef: {group: \"\", kind: ConfigMap, name: missing}\n"),
    ])
    .await;
    // The Gateway's script runs on every route without a policy of its own; a client's own
    // x-lua is replaced.
    let app = request(port, "GET", "app", "/items", &[("x-lua", "forged")]).await.expect("app");
    assert_eq!((app.status, app.echo()["headers"]["x-lua"].as_str()), (200, Some("gateway:/items")), "{app:?}");
    assert!(!app.headers.contains_key("x-lua-response"));
    // The route's script (from the ConfigMap) replaces the Gateway's there, both ways.
    let shop = request(port, "GET", "app", "/shop", &[]).await.expect("shop");
    assert_eq!((shop.status, shop.echo()["headers"]["x-lua"].as_str()), (200, Some("shop")), "{shop:?}");
    assert_eq!(shop.headers.get("x-lua-response").map(String::as_str), Some("200"));
    // A script that cannot be found closes its route: 500, never the route without it.
    assert_eq!(request(port, "GET", "app", "/broken", &[]).await.expect("broken").status, 500);

    let (code, out, err) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    let docs: Vec<&str> = out.split("\n---\n").collect();
    let of = |name: &str| docs.iter().find(|d| d.contains("kind: EnvoyExtensionPolicy") && d.contains(&format!("metadata:\n  name: {name}\n"))).copied().unwrap_or("");
    assert!(of("broken").contains("Lua: can't find the referenced configmap missing in namespace default"), "{}", of("broken"));
    assert!(of("gw").contains("This policy is being overridden by other envoyExtensionPolicies for these routes: [default/broken default/shop]"), "{}", of("gw"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_processor_rewrites_headers_both_ways() {
    let Some(envoy) = envoy() else { return };
    let port = free_port();
    let processor = support::extproc::ext_processor("p1").await;
    let svc = format!("---\napiVersion: v1\nkind: Service\nmetadata: {{name: processor, namespace: default}}\nspec:\n  ports: [{{name: grpc, port: 9002, appProtocol: kubernetes.io/h2c}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: processor-0, namespace: default, labels: {{kubernetes.io/service-name: processor}}}}\naddressType: IPv4\nports: [{{name: grpc, port: {}}}]\nendpoints: [{{addresses: [127.0.0.1]}}]\n", processor.addr.port());
    let body = "  extProc:\n  - backendRefs: [{name: processor, port: 9002}]\n    messageTimeout: 2s\n    processingMode:\n      request: {}\n      response: {}\n";
    let (_b, _s, _) = served(&envoy, port, &[svc, extension_policy("proc", &on_route("shop"), body)]).await;
    let shop = request(port, "GET", "app", "/shop/cart", &[("x-rewrite", "original")]).await.expect("shop");
    assert_eq!(shop.status, 200, "{shop:?}");
    assert_eq!(shop.echo()["headers"]["x-rewrite"], "rewritten");
    assert_eq!(shop.echo()["headers"]["x-processed"], "p1");
    assert_eq!(shop.headers.get("x-processed-response").map(String::as_str), Some("p1"));
    // The processor saw the request as the client sent it, and the backend's response.
    let calls = processor.calls();
    let req = calls.iter().find(|c| c.path == "request_headers").expect("request headers sent");
    assert_eq!((req.headers.get(":path").map(String::as_str), req.headers.get("x-rewrite").map(String::as_str)), (Some("/shop/cart"), Some("original")), "{calls:?}");
    assert!(calls.iter().any(|c| c.path == "response_headers" && c.headers.get(":status").is_some_and(|s| s == "200")), "{calls:?}");
    // Routes the policy does not cover are not processed.
    let app = request(port, "GET", "app", "/", &[("x-rewrite", "original")]).await.expect("app");
    assert_eq!(app.echo()["headers"]["x-rewrite"], "original");
    assert!(!app.headers.contains_key("x-processed-response"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_processor_fails_closed_unless_fail_open() {
    let Some(envoy) = envoy() else { return };
    let port = free_port();
    let dead = free_port();
    let svc = format!("---\napiVersion: v1\nkind: Service\nmetadata: {{name: processor, namespace: default}}\nspec:\n  ports: [{{name: grpc, port: 9002, appProtocol: kubernetes.io/h2c}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: processor-0, namespace: default, labels: {{kubernetes.io/service-name: processor}}}}\naddressType: IPv4\nports: [{{name: grpc, port: {dead}}}]\nendpoints: [{{addresses: [127.0.0.1]}}]\n");
    let closed = "  extProc:\n  - backendRefs: [{name: processor, port: 9002}]\n    processingMode: {request: {}}\n";
    let open = "  extProc:\n  - backendRefs: [{name: processor, port: 9002}]\n    failOpen: true\n    processingMode: {request: {}}\n";
    let (_b, _s, _) = served(&envoy, port, &[svc, extension_policy("closed", &on_route("shop"), closed), extension_policy("open", &on_route("app"), open)]).await;
    assert_eq!(request(port, "GET", "app", "/shop", &[]).await.expect("closed").status, 500);
    assert_eq!(request(port, "GET", "app", "/", &[]).await.expect("open").status, 200);
}

/// An EnvoyProxy's filterOrder moves a Lua script before basic auth: the script answers
/// before credentials are asked for; without it, basic auth (earlier in Envoy Gateway's
/// order) refuses first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_order_moves_lua_before_basic_auth() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let policies = |port: u16, order: &str| {
        let class = EG_CLASS.replace("spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}", "spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller, parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: order, namespace: default}}");
        let mut input = format!("{class}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners: [{{name: http, protocol: HTTP, port: {port}}}]\n---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyProxy\nmetadata: {{name: order, namespace: default}}\nspec:\n{order}");
        input.push_str(&route("app", "/", "svc"));
        input.push_str(&service("default", "svc", &[b.addr.port()]));
        input.push_str(&opaque_secret("users", &[(".htpasswd", &htpasswd_line("alice", "wonderland"))]));
        input.push_str(&security_policy("basic", "2025-01-01T00:00:00Z", GW, "  basicAuth: {users: {name: users}}\n"));
        input.push_str(&extension_policy("lua", GW, "  lua:\n  - type: Inline\n    inline: |\n      function envoy_on_request(handle)\n        handle:respond({[\":status\"] = \"200\"}, \"from lua\")\n      end\n"));
        input
    };
    let port = free_port();
    let _s = serve(&envoy, &policies(port, "  logging: {}\n"), &[]).await;
    assert_eq!(request(port, "GET", "app", "/", &[]).await.expect("default order").status, 401, "basic auth first, by default");
    drop(_s);
    let port = free_port();
    let _s = serve(&envoy, &policies(port, "  filterOrder:\n  - {name: envoy.filters.http.lua, before: envoy.filters.http.basic_auth}\n"), &[]).await;
    let r = request(port, "GET", "app", "/", &[]).await.expect("lua first");
    assert_eq!((r.status, r.body.as_str()), (200, "from lua"), "{r:?}");
}
