//! Client certificate validation at the Gateway (`spec.tls.frontend`) through a real Envoy,
//! with certificates made by rcgen: who gets through, per port, and the status of bad CA
//! references.

mod support;
use support::*;

/// Gateway `gw` with three HTTPS listeners for `app.example.com` on three ports, the
/// certificate for it, and `spec.tls` as given.
fn gateway(ports: [u16; 3], tls: &str) -> String {
    let listener = |name: &str, port: u16| {
        format!("    - {{name: {name}, protocol: HTTPS, port: {port}, hostname: app.example.com, tls: {{certificateRefs: [{{name: server}}]}}}}\n")
    };
    format!(
        "{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  tls:\n{tls}  listeners:\n{}{}{}---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: app, namespace: default}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules: [{{backendRefs: [{{name: app, port: 8080}}]}}]\n",
        listener("strict", ports[0]),
        listener("fallback", ports[1]),
        listener("open", ports[2])
    )
}

/// AllowValidOnly by default: no certificate, or one of another CA, is refused; one the
/// configured CA signed gets through. A per-port AllowInsecureFallback lets a client without
/// a certificate in and still refuses one its CA did not sign; a per-port entry without
/// validation turns it off for that port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_are_required_verified_and_per_port() {
    let Some(envoy) = envoy() else { return };
    let app = echo("app").await;
    let server_ca = Pki::new("server CA");
    let (clients, partners, strangers) = (Pki::new("client CA"), Pki::new("partner CA"), Pki::new("stranger CA"));
    let client = clients.leaf(&["client.example.com"]);
    let partner = partners.leaf(&["partner.example.com"]);
    let stranger = strangers.leaf(&["stranger.example.com"]);
    let ports = [free_port(), free_port(), free_port()];
    let tls = format!(
        "    frontend:\n      default: {{validation: {{caCertificateRefs: [{{group: \"\", kind: ConfigMap, name: clients}}]}}}}\n      perPort:\n        - {{port: {}, tls: {{validation: {{mode: AllowInsecureFallback, caCertificateRefs: [{{group: \"\", kind: ConfigMap, name: partners}}]}}}}}}\n        - {{port: {}, tls: {{}}}}\n",
        ports[1], ports[2]
    );
    let mut input = gateway(ports, &tls);
    let (crt, key) = server_ca.leaf(&["app.example.com"]);
    input.push_str(&tls_secret("default", "server", &crt, &key));
    input.push_str(&ca_config_map("default", "clients", &clients.ca_pem()));
    input.push_str(&ca_config_map("default", "partners", &partners.ca_pem()));
    input.push_str(&slice("default", "app", app.addr.port()));
    let _served = serve(&envoy, &input, &[]).await;
    let get = |port: u16, who: Option<&(String, String)>| {
        let ca = server_ca.ca_der.clone();
        let who = who.cloned();
        async move { mtls_get(port, "app.example.com", &ca, who.as_ref(), "/x").await }
    };
    let [strict, fallback, open] = ports;
    assert!(get(strict, None).await.is_err(), "no certificate must be refused");
    assert!(get(strict, Some(&stranger)).await.is_err(), "another CA's certificate must be refused");
    assert!(get(strict, Some(&partner)).await.is_err(), "the other port's CA is not this port's");
    assert_eq!(get(strict, Some(&client)).await.expect("a certificate the CA signed").backend(), "app");
    assert_eq!(get(fallback, None).await.expect("fallback lets a client without a certificate in").backend(), "app");
    assert_eq!(get(fallback, Some(&partner)).await.expect("and one its CA signed").backend(), "app");
    assert!(get(fallback, Some(&stranger)).await.is_err(), "a presented certificate is still verified");
    assert_eq!(get(open, None).await.expect("no validation on this port").backend(), "app");
    assert_eq!(app.hits(), 4, "only the accepted requests reached the backend");

    // Status: the Gateway says it lets clients in without certificates.
    let (code, out, _) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0);
    assert!(out.contains("type: InsecureFrontendValidationMode") && out.contains("reason: ConfigurationChanged"), "{out}");
}

/// Bad CA references: missing ConfigMap or key, a kind that is not supported, another
/// namespace without a ReferenceGrant: ResolvedRefs=False with the spec's reasons; with no
/// valid CA the listener is also Accepted=False NoValidCACertificate; either way it is not
/// programmed and refuses every client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ca_references_refuse_clients_and_say_why() {
    let Some(envoy) = envoy() else { return };
    let app = echo("app").await;
    let server_ca = Pki::new("server CA");
    let clients = Pki::new("client CA");
    let client = clients.leaf(&["client.example.com"]);
    let ports = [free_port(), free_port(), free_port()];
    let refs = |r: &str| format!("{{validation: {{caCertificateRefs: [{r}]}}}}");
    let tls = format!(
        "    frontend:\n      default: {}\n      perPort:\n        - {{port: {}, tls: {}}}\n        - {{port: {}, tls: {}}}\n",
        refs("{group: \"\", kind: ConfigMap, name: missing}"),
        ports[1],
        refs("{group: \"\", kind: Service, name: clients}, {group: \"\", kind: ConfigMap, name: clients}"),
        ports[2],
        refs("{group: \"\", kind: ConfigMap, name: clients, namespace: certs}"),
    );
    let mut input = gateway(ports, &tls);
    let (crt, key) = server_ca.leaf(&["app.example.com"]);
    input.push_str(&tls_secret("default", "server", &crt, &key));
    input.push_str(&ca_config_map("default", "clients", &clients.ca_pem()));
    input.push_str(&ca_config_map("certs", "clients", &clients.ca_pem()));
    input.push_str(&slice("default", "app", app.addr.port()));
    let (code, out, _) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0);
    let gw = gatewayc::source::load_str("status", &out).documents.into_iter().map(|d| d.value).find(|v| v["kind"] == "Gateway").expect("gateway");
    let cond = |listener: &str, t: &str| {
        let l = gw["status"]["listeners"].as_array().and_then(|ls| ls.iter().find(|l| l["name"] == listener).cloned()).expect("listener");
        let c = l["conditions"].as_array().and_then(|cs| cs.iter().find(|c| c["type"] == t).cloned()).expect("condition");
        (c["status"].as_str().unwrap_or("").to_string(), c["reason"].as_str().unwrap_or("").to_string())
    };
    let pair = |s: &str, r: &str| (s.to_string(), r.to_string());
    assert_eq!(cond("strict", "ResolvedRefs"), pair("False", "InvalidCACertificateRef"));
    assert_eq!(cond("strict", "Accepted"), pair("False", "NoValidCACertificate"));
    assert_eq!(cond("strict", "Programmed"), pair("False", "Invalid"));
    assert_eq!(cond("fallback", "ResolvedRefs"), pair("False", "InvalidCACertificateKind"));
    assert_eq!(cond("fallback", "Accepted"), pair("True", "Accepted"), "one valid CA keeps it accepted");
    assert_eq!(cond("fallback", "Programmed"), pair("False", "Invalid"), "a bad reference still keeps it out, as a bad certificateRef does");
    assert_eq!(cond("open", "ResolvedRefs"), pair("False", "RefNotPermitted"));
    assert_eq!(cond("open", "Accepted"), pair("False", "NoValidCACertificate"));
    // validate fails as translate would.
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &input);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("reference::ca-certificate"), "{err}");

    // With a ReferenceGrant the cross-namespace bundle works and is verified against; the
    // listeners with bad references serve nobody.
    input.push_str("---\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: cas, namespace: certs}\nspec:\n  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: default}]\n  to: [{group: \"\", kind: ConfigMap}]\n");
    let _served = serve(&envoy, &input, &[]).await;
    let get = |port: u16, who: Option<&(String, String)>| {
        let ca = server_ca.ca_der.clone();
        let who = who.cloned();
        async move { mtls_get(port, "app.example.com", &ca, who.as_ref(), "/x").await }
    };
    assert!(get(ports[0], Some(&client)).await.is_err(), "a listener without a valid CA serves nobody");
    assert!(get(ports[1], Some(&client)).await.is_err(), "a listener with a bad reference serves nobody");
    assert_eq!(get(ports[2], Some(&client)).await.expect("granted").backend(), "app");
    assert!(get(ports[2], None).await.is_err());
}

/// A TLS listener in Terminate mode takes the same validation: a TCPRoute behind it is
/// reached only with a certificate the CA signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_terminate_listeners_verify_clients_too() {
    let Some(envoy) = envoy() else { return };
    let db = support::streams::tcp_backend("db").await;
    let (server_ca, clients) = (Pki::new("server CA"), Pki::new("client CA"));
    let client = clients.leaf(&["client.example.com"]);
    let port = free_port();
    let mut input = format!(
        "{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  tls:\n    frontend:\n      default: {{validation: {{caCertificateRefs: [{{group: \"\", kind: ConfigMap, name: clients}}]}}}}\n  listeners:\n    - {{name: db, protocol: TLS, port: {port}, hostname: db.example.com, tls: {{mode: Terminate, certificateRefs: [{{name: server}}]}}}}\n---\napiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute\nmetadata: {{name: db, namespace: default}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules: [{{backendRefs: [{{name: db, port: 5432}}]}}]\n"
    );
    let (crt, key) = server_ca.leaf(&["db.example.com"]);
    input.push_str(&tls_secret("default", "server", &crt, &key));
    input.push_str(&ca_config_map("default", "clients", &clients.ca_pem()));
    input.push_str(&format!(
        "---\napiVersion: v1\nkind: Service\nmetadata: {{name: db, namespace: default}}\nspec:\n  ports: [{{name: p, port: 5432}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: db-1\n  namespace: default\n  labels: {{kubernetes.io/service-name: db}}\naddressType: IPv4\nports: [{{name: p, port: {}}}]\nendpoints: [{{addresses: [127.0.0.1]}}]\n",
        db.port()
    ));
    let _served = serve(&envoy, &input, &[]).await;
    let greet = |who: Option<(String, String)>| {
        let ca = server_ca.ca_der.clone();
        async move { support::streams::tls_greeting_as(port, "db.example.com", &ca, who.as_ref()).await.map(|(g, _)| g) }
    };
    assert!(greet(None).await.is_err(), "no certificate: refused");
    assert_eq!(greet(Some(client.clone())).await.expect("a certificate the CA signed"), "db");
}
