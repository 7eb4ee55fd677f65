//! EnvoyPatchPolicy through a real Envoy: JSON patches written with Envoy Gateway's resource
//! names change what Envoy does (a route's timeout, a response header); a patch whose resource
//! gatewayc does not have, and one whose operation fails, are reported in status and leave
//! the rest applied.

mod support;

use support::policy::*;
use support::*;

/// An EnvoyPatchPolicy `name` on Gateway `gw` with `patches` (YAML lines under jsonPatches).
fn patch_policy(name: &str, priority: i32, patches: &str) -> String {
    format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyPatchPolicy\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  targetRef: {{group: gateway.networking.k8s.io, kind: Gateway, name: gw}}\n  type: JSONPatch\n  priority: {priority}\n  jsonPatches:\n{patches}")
}

const ROUTE_CONFIG: &str = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_change_a_route_timeout_and_add_a_header() {
    let Some(envoy) = envoy() else { return };
    let port = free_port();
    let b = echo("b").await;
    let mut input = http_gateway(port);
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    // Envoy Gateway's names: the route configuration of listener `http` of default/gw.
    input.push_str(&patch_policy("timeout", 0, &format!(
        "  - type: {ROUTE_CONFIG}\n    name: default/gw/http\n    operation: {{op: add, path: /virtual_hosts/0/routes/0/route/timeout, value: 0.3s}}\n  - type: {ROUTE_CONFIG}\n    name: default/gw/http\n    operation:\n      op: add\n      path: /response_headers_to_add\n      value: [{{header: {{key: x-patched, value: \"yes\"}}}}]\n"
    )));
    // Envoy Gateway's per-route cluster, which gatewayc shares as service/default/svc/8080;
    // a replace of a path that does not exist.
    input.push_str(&patch_policy("mismatched", 1, "  - type: type.googleapis.com/envoy.config.cluster.v3.Cluster\n    name: httproute/default/app/rule/0\n    operation: {op: add, path: /per_connection_buffer_limit_bytes, value: 1024}\n"));
    input.push_str(&patch_policy("failing", 2, &format!("  - type: {ROUTE_CONFIG}\n    name: default/gw/http\n    operation: {{op: replace, path: /virtual_hosts/7/domains, value: [x]}}\n")));
    let _s = serve(&envoy, &input, &[]).await;

    let fast = request(port, "GET", "app", "/", &[]).await.expect("fast");
    assert_eq!((fast.status, fast.headers.get("x-patched").map(String::as_str)), (200, Some("yes")), "{fast:?}");
    // The patched timeout (0.3 s) cuts a backend that takes a second: 504, where the
    // unpatched route (no timeout) would wait.
    let slow = request(port, "GET", "app", "/", &[("x-echo-delay-ms", "1000")]).await.expect("slow");
    assert_eq!(slow.status, 504, "{slow:?}");

    let (code, out, err) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    let docs: Vec<&str> = out.split("\n---\n").collect();
    let of = |name: &str| docs.iter().find(|d| d.contains("kind: EnvoyPatchPolicy") && d.contains(&format!("metadata:\n  name: {name}\n"))).copied().unwrap_or("");
    assert!(of("timeout").contains("reason: Programmed") && of("timeout").contains("Patches have been successfully applied."), "{}", of("timeout"));
    assert!(
        of("mismatched").contains("reason: ResourceNotFound") && of("mismatched").contains("Unable to find xds resources: type.googleapis.com/envoy.config.cluster.v3.Cluster/httproute/default/app/rule/0"),
        "{}",
        of("mismatched")
    );
    assert!(of("failing").contains("reason: Invalid") && of("failing").contains("replace: nothing at /virtual_hosts/7/domains"), "{}", of("failing"));
    // validate fails on what status reports as not applied, naming each patch; translate
    // (serve above) wrote the rest.
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &input);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("policy::patch") && err.contains("httproute/default/app/rule/0") && err.contains("/virtual_hosts/7/domains"), "{err}");
}
