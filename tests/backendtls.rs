//! BackendTLSPolicy through a real Envoy: TLS echo backends with rcgen certificates say which
//! SNI they saw; the Gateway reaches a backend only when its certificate chains to the
//! policy's CA and carries the policy's name.

mod support;
use support::*;

fn policy(name: &str, created: &str, service: &str, validation: &str) -> String {
    format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: BackendTLSPolicy\nmetadata: {{name: {name}, namespace: default, creationTimestamp: \"{created}\"}}\nspec:\n  targetRefs: [{{group: \"\", kind: Service, name: {service}}}]\n  validation: {validation}\n")
}

fn route(paths: &[(&str, &str)]) -> String {
    let rules: String = paths.iter().map(|(p, b)| format!("    - matches: [{{path: {{type: PathPrefix, value: {p}}}}}]\n      backendRefs: [{{name: {b}, port: 8080}}]\n")).collect();
    format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: default}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules:\n{rules}")
}

const CA_REF: &str = "{hostname: secure.internal, caCertificateRefs: [{group: \"\", kind: ConfigMap, name: backend-ca}]}";

/// The policy's hostname is the SNI and the name checked; a name mismatch or an unknown CA
/// fails the request before the backend sees it; a URI SAN (SPIFFE-style) replaces the
/// hostname check; a Service without a policy stays plain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backends_are_reached_over_verified_tls() {
    let Some(envoy) = envoy() else { return };
    let (ca, stranger) = (Pki::new("backend CA"), Pki::new("stranger CA"));
    let (c, k) = ca.leaf(&["secure.internal"]);
    let secure = tls_echo("secure", &c, &k, None).await;
    let (c, k) = ca.leaf(&["other.internal"]);
    let wrong = tls_echo("wrong", &c, &k, None).await;
    let (c, k) = stranger.leaf(&["secure.internal"]);
    let unknown = tls_echo("unknown", &c, &k, None).await;
    let (c, k) = ca.leaf_sans(&["pod.internal"], &["spiffe://cluster.local/ns/default/sa/api"]);
    let spiffe = tls_echo("spiffe", &c, &k, None).await;
    let plain = echo("plain").await;
    let (c, k) = ca.leaf(&["secure.internal"]);
    let h2 = tls_echo("h2", &c, &k, None).await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route(&[("/secure", "secure"), ("/wrong", "wrong"), ("/unknown", "unknown"), ("/spiffe", "spiffe"), ("/plain", "plain"), ("/h2", "h2")]));
    // appProtocol kubernetes.io/h2c with a policy: HTTP/2 over TLS, chosen by ALPN.
    input.push_str(&format!(
        "---\napiVersion: v1\nkind: Service\nmetadata: {{name: h2, namespace: default}}\nspec:\n  ports: [{{name: http, port: 8080, appProtocol: kubernetes.io/h2c}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: h2-1\n  namespace: default\n  labels: {{kubernetes.io/service-name: h2}}\naddressType: IPv4\nports: [{{name: http, port: {}}}]\nendpoints: [{{addresses: [127.0.0.1]}}]\n",
        h2.addr.port()
    ));
    input.push_str(&policy("p-h2", "2024-01-01T00:00:00Z", "h2", CA_REF));
    input.push_str(&ca_config_map("default", "backend-ca", &ca.ca_pem()));
    for (name, svc) in [("p-secure", "secure"), ("p-wrong", "wrong"), ("p-unknown", "unknown")] {
        input.push_str(&policy(name, "2024-01-01T00:00:00Z", svc, CA_REF));
    }
    input.push_str(&policy(
        "p-spiffe",
        "2024-01-01T00:00:00Z",
        "spiffe",
        "{hostname: spiffe.internal, caCertificateRefs: [{group: \"\", kind: ConfigMap, name: backend-ca}], subjectAltNames: [{type: URI, uri: \"spiffe://cluster.local/ns/default/sa/api\"}]}",
    ));
    for e in [&secure, &wrong, &unknown, &spiffe, &plain] {
        input.push_str(&slice("default", &e.name, e.addr.port()));
    }
    let served = serve(&envoy, &input, &[]).await;
    assert!(served.bootstrap.contains("UpstreamTlsContext"), "{}", served.bootstrap);

    let r = get(port, "example.com", "/secure").await.expect("request");
    assert_eq!((r.status, r.backend()), (200, "secure".to_string()), "{}", r.body);
    assert_eq!(r.echo()["sni"], "secure.internal", "the policy's hostname is the SNI");
    for (path, e) in [("/wrong", &wrong), ("/unknown", &unknown)] {
        let r = get(port, "example.com", path).await.expect("request");
        assert_eq!(r.status, 503, "{path}: an unverified backend must not be used: {}", r.body);
        assert_eq!(e.hits(), 0, "{path}: the backend saw a request");
    }
    let r = get(port, "example.com", "/spiffe").await.expect("request");
    assert_eq!((r.status, r.backend()), (200, "spiffe".to_string()), "{}", r.body);
    assert_eq!(r.echo()["sni"], "spiffe.internal");
    let r = get(port, "example.com", "/plain").await.expect("request");
    assert_eq!((r.status, r.backend()), (200, "plain".to_string()));
    let r = get(port, "example.com", "/h2").await.expect("request");
    assert_eq!((r.status, r.backend()), (200, "h2".to_string()), "{}", r.body);
    assert_eq!(r.echo()["version"], "HTTP/2.0", "h2c appProtocol over TLS speaks HTTP/2 (ALPN h2)");
}

/// The spec's precedence (the older policy holds the target, the other is Conflicted), a
/// policy without a valid CA (its backend answers 500, never plain text), a CA reference of a
/// kind that is not supported; status written per Gateway that uses the targets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_status_conflicts_and_invalid_cas() {
    let Some(envoy) = envoy() else { return };
    let ca = Pki::new("backend CA");
    let (c, k) = ca.leaf(&["secure.internal"]);
    let secure = tls_echo("secure", &c, &k, None).await;
    let broken = tls_echo("broken", &c, &k, None).await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&route(&[("/secure", "secure"), ("/broken", "broken")]));
    input.push_str(&ca_config_map("default", "backend-ca", &ca.ca_pem()));
    input.push_str(&policy("older", "2024-01-01T00:00:00Z", "secure", CA_REF));
    input.push_str(&policy("newer", "2024-06-01T00:00:00Z", "secure", "{hostname: nowhere.internal, wellKnownCACertificates: System}"));
    input.push_str(&policy("no-ca", "2024-01-01T00:00:00Z", "broken", "{hostname: secure.internal, caCertificateRefs: [{group: \"\", kind: ConfigMap, name: missing}, {group: \"\", kind: Service, name: secure}]}"));
    input.push_str(&slice("default", "secure", secure.addr.port()));
    input.push_str(&slice("default", "broken", broken.addr.port()));

    let (code, out, err) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    let docs: Vec<serde_json::Value> = gatewayc::source::load_str("status", &out).documents.into_iter().map(|d| d.value).collect();
    let cond = |name: &str, t: &str| {
        let p = docs.iter().find(|d| d["kind"] == "BackendTLSPolicy" && d["metadata"]["name"] == name).expect("policy");
        let a = &p["status"]["ancestors"][0];
        assert_eq!(a["ancestorRef"]["name"], "gw", "{name}: {p}");
        let c = a["conditions"].as_array().and_then(|cs| cs.iter().find(|c| c["type"] == t).cloned()).unwrap_or_else(|| panic!("{name} {t}: {p}"));
        (c["status"].as_str().unwrap_or("").to_string(), c["reason"].as_str().unwrap_or("").to_string())
    };
    let pair = |s: &str, r: &str| (s.to_string(), r.to_string());
    assert_eq!(cond("older", "Accepted"), pair("True", "Accepted"));
    assert_eq!(cond("older", "ResolvedRefs"), pair("True", "ResolvedRefs"));
    assert_eq!(cond("newer", "Accepted"), pair("False", "Conflicted"));
    assert_eq!(cond("no-ca", "Accepted"), pair("False", "NoValidCACertificate"));
    assert_eq!(cond("no-ca", "ResolvedRefs"), pair("False", "InvalidCACertificateRef"));
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &input);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("conflict::policy") && err.contains("reference::ca-certificate") && err.contains("kind Service"), "{err}");

    let _served = serve(&envoy, &input, &[]).await;
    let r = get(port, "example.com", "/secure").await.expect("request");
    assert_eq!((r.status, r.backend()), (200, "secure".to_string()), "the older policy applies: {}", r.body);
    let r = get(port, "example.com", "/broken").await.expect("request");
    assert_eq!(r.status, 500, "no valid CA: the request fails: {}", r.body);
    assert_eq!(broken.hits(), 0);
}

/// `spec.tls.backend.clientCertificateRef`: a backend that requires a client certificate
/// sees the Gateway's; a Gateway without one is refused by it (503); a reference that does
/// not resolve is the Gateway's `ResolvedRefs=False InvalidClientCertificateRef`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_presents_its_client_certificate() {
    let Some(envoy) = envoy() else { return };
    let (ca, gateways) = (Pki::new("backend CA"), Pki::new("gateway client CA"));
    let (c, k) = ca.leaf(&["secure.internal"]);
    let strict = tls_echo("strict", &c, &k, Some(&gateways.ca_der)).await;
    let (with, without) = (free_port(), free_port());
    let gw = |name: &str, port: u16, tls: &str| {
        format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  gatewayClassName: eg\n{tls}  listeners: [{{name: http, protocol: HTTP, port: {port}}}]\n")
    };
    let mut input = EG_CLASS.to_string();
    input.push_str(&gw("with", with, "  tls: {backend: {clientCertificateRef: {name: gateway-client}}}\n"));
    input.push_str(&gw("without", without, ""));
    input.push_str("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: default}\nspec:\n  parentRefs: [{name: with}, {name: without}]\n  rules: [{backendRefs: [{name: strict, port: 8080}]}]\n");
    let (cc, ck) = gateways.leaf(&["gateway.example.com"]);
    input.push_str(&tls_secret("default", "gateway-client", &cc, &ck));
    input.push_str(&ca_config_map("default", "backend-ca", &ca.ca_pem()));
    input.push_str(&policy("p", "2024-01-01T00:00:00Z", "strict", CA_REF));
    input.push_str(&slice("default", "strict", strict.addr.port()));
    let _with = serve(&envoy, &input, &["--gateway", "default/with"]).await;
    let _without = serve(&envoy, &input, &["--gateway", "default/without"]).await;
    let r = get(with, "example.com", "/").await.expect("request");
    assert_eq!((r.status, r.backend()), (200, "strict".to_string()), "{}", r.body);
    assert_eq!(r.echo()["client_cert"], true, "the backend saw the Gateway's certificate");
    let r = get(without, "example.com", "/").await.expect("request");
    assert_eq!(r.status, 503, "a Gateway without a client certificate is refused: {}", r.body);
    assert_eq!(strict.hits(), 1);

    let broken = input.replace("clientCertificateRef: {name: gateway-client}", "clientCertificateRef: {name: missing}");
    let (code, out, _) = gatewayc(&["status", "-f", "-"], &broken);
    assert_eq!(code, 0);
    let g = gatewayc::source::load_str("status", &out).documents.into_iter().map(|d| d.value).find(|v| v["kind"] == "Gateway" && v["metadata"]["name"] == "with").expect("gateway");
    let c = g["status"]["conditions"].as_array().and_then(|cs| cs.iter().find(|c| c["type"] == "ResolvedRefs").cloned()).expect("ResolvedRefs");
    assert_eq!((c["status"].as_str(), c["reason"].as_str()), (Some("False"), Some("InvalidClientCertificateRef")), "{g}");
}

/// A TCPRoute to a Service with a policy: the plain TCP stream is re-encrypted to the backend
/// with the policy's SNI and verified (an HTTP exchange over it); a backend whose certificate
/// does not chain to the policy's CA gets no connection through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_routes_reencrypt_to_policy_backends() {
    let Some(envoy) = envoy() else { return };
    let (ca, stranger) = (Pki::new("backend CA"), Pki::new("stranger CA"));
    let (c, k) = ca.leaf(&["secure.internal"]);
    let good = tls_echo("good", &c, &k, None).await;
    let (c, k) = stranger.leaf(&["secure.internal"]);
    let bad = tls_echo("bad", &c, &k, None).await;
    let (p_good, p_bad) = (free_port(), free_port());
    let mut input = format!(
        "{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n    - {{name: good, protocol: TCP, port: {p_good}}}\n    - {{name: bad, protocol: TCP, port: {p_bad}}}\n"
    );
    for e in [&good, &bad] {
        let name = &e.name;
        input.push_str(&format!("---\napiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  parentRefs: [{{name: gw, sectionName: {name}}}]\n  rules: [{{backendRefs: [{{name: {name}, port: 8080}}]}}]\n"));
        input.push_str(&slice("default", name, e.addr.port()));
        input.push_str(&policy(&format!("p-{name}"), "2024-01-01T00:00:00Z", name, CA_REF));
    }
    input.push_str(&ca_config_map("default", "backend-ca", &ca.ca_pem()));
    let _served = serve(&envoy, &input, &[]).await;
    let r = get(p_good, "example.com", "/over-tcp").await.expect("re-encrypted to a verified backend");
    assert_eq!((r.backend(), r.echo()["sni"].as_str()), ("good".to_string(), Some("secure.internal")), "{}", r.body);
    assert!(get(p_bad, "example.com", "/over-tcp").await.is_err(), "an unverified backend gets nothing through");
    assert_eq!(bad.hits(), 0);
}
