//! Inputs and clients for the policy tests: Services with an endpoint per backend, routes,
//! BackendTrafficPolicies, and requests from chosen loopback addresses.

use super::*;

/// One Service `svc` (port 8080) with an endpoint per backend (one EndpointSlice each).
pub fn service(ns: &str, svc: &str, ports: &[u16]) -> String {
    let mut s = format!("---\napiVersion: v1\nkind: Service\nmetadata: {{name: {svc}, namespace: {ns}}}\nspec:\n  ports: [{{name: http, port: 8080}}]\n");
    for (i, p) in ports.iter().enumerate() {
        s.push_str(&format!(
            "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {svc}-{i}\n  namespace: {ns}\n  labels: {{kubernetes.io/service-name: {svc}}}\naddressType: IPv4\nports: [{{name: http, port: {p}}}]\nendpoints:\n  - addresses: [127.0.0.1]\n"
        ));
    }
    s
}

/// A route `name` on `gw` for `path` to `svc`, as YAML.
pub fn route(name: &str, path: &str, svc: &str) -> String {
    format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules:\n    - matches: [{{path: {{type: PathPrefix, value: {path}}}}}]\n      backendRefs: [{{name: {svc}, port: 8080}}]\n"
    )
}

/// A BackendTrafficPolicy `name` on the route `target` with `body` (YAML lines under spec).
pub fn policy(name: &str, kind: &str, target: &str, body: &str) -> String {
    format!(
        "---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  targetRefs: [{{group: gateway.networking.k8s.io, kind: {kind}, name: {target}}}]\n{body}"
    )
}

/// Gateway `gw` (class `eg`) with two HTTP listeners, `a` and `b`, on the given ports.
pub fn two_listener_gateway(a: u16, b: u16) -> String {
    format!("{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n  - {{name: a, protocol: HTTP, port: {a}}}\n  - {{name: b, protocol: HTTP, port: {b}}}\n")
}

/// A ClientTrafficPolicy `name`, created at `created`, on `target` with `body` (YAML lines
/// under spec).
pub fn client_policy(name: &str, created: &str, target: &str, body: &str) -> String {
    format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: ClientTrafficPolicy\nmetadata: {{name: {name}, namespace: default, creationTimestamp: \"{created}\"}}\nspec:\n  targetRefs: [{target}]\n{body}")
}

/// One request from the loopback address `from` (127.0.0.x stands in for a client machine).
pub async fn request_from(from: &str, port: u16, path: &str, headers: &[(&str, &str)]) -> Reply {
    let sock = tokio::net::TcpSocket::new_v4().expect("socket");
    sock.bind(format!("{from}:0").parse().expect("addr")).expect("bind client");
    let stream = tokio::time::timeout(Duration::from_secs(5), sock.connect(([127, 0, 0, 1], port).into())).await.expect("connect in time").expect("connect");
    send(stream, "GET", "app", path, headers).await.expect("request")
}

pub async fn backends(n: usize) -> (Vec<Echo>, Vec<u16>) {
    let mut v = Vec::new();
    for i in 0..n {
        v.push(echo(&format!("b{i}")).await);
    }
    let ports = v.iter().map(|e| e.addr.port()).collect();
    (v, ports)
}


/// A SecurityPolicy `name`, created at `created`, on `target` (a targetRef in flow style)
/// with `body` (YAML lines under spec).
pub fn security_policy(name: &str, created: &str, target: &str, body: &str) -> String {
    format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: SecurityPolicy\nmetadata: {{name: {name}, namespace: default, creationTimestamp: \"{created}\"}}\nspec:\n  targetRefs: [{target}]\n{body}")
}

/// An Opaque Secret `name` in `default` with `data` (values given as text, written base64).
pub fn opaque_secret(name: &str, data: &[(&str, &str)]) -> String {
    use base64::Engine;
    let mut s = format!("---\napiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: default}}\ntype: Opaque\ndata:\n");
    for (k, v) in data {
        s.push_str(&format!("  {k:?}: {}\n", base64::engine::general_purpose::STANDARD.encode(v)));
    }
    s
}

/// An htpasswd line for `user` with the `{SHA}` hash of `password` (what Envoy supports).
pub fn htpasswd_line(user: &str, password: &str) -> String {
    use base64::Engine;
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, password.as_bytes());
    format!("{user}:{{SHA}}{}", base64::engine::general_purpose::STANDARD.encode(digest.as_ref()))
}

/// `Authorization: Basic` for `user:password`.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}
