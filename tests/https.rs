//! HTTPS listeners: TLS terminated by Envoy with certificates from Secrets, chosen by SNI,
//! checked with real certificates made at test time and a real TLS client.

mod support;
use support::*;

fn header(port: u16, http_port: u16) -> String {
    format!(
        r#"
{EG_CLASS}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: default}}
spec:
  gatewayClassName: eg
  listeners:
    - name: secure
      protocol: HTTPS
      port: {port}
      hostname: secure.example.com
      tls: {{certificateRefs: [{{name: secure-cert}}]}}
    - name: wild
      protocol: HTTPS
      port: {port}
      hostname: "*.wild.example.com"
      tls: {{certificateRefs: [{{name: wild-cert, namespace: certs}}]}}
    - name: plain
      protocol: HTTP
      port: {http_port}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {{name: gateways-may-use-certs, namespace: certs}}
spec:
  from: [{{group: gateway.networking.k8s.io, kind: Gateway, namespace: default}}]
  to: [{{group: "", kind: Secret}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: secure, namespace: default}}
spec:
  parentRefs: [{{name: gw, sectionName: secure}}]
  rules: [{{backendRefs: [{{name: secure, port: 8080}}]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: wild, namespace: default}}
spec:
  parentRefs: [{{name: gw, sectionName: wild}}]
  rules: [{{backendRefs: [{{name: wild, port: 8080}}]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: to-https, namespace: default}}
spec:
  parentRefs: [{{name: gw, sectionName: plain}}]
  rules:
    - filters:
        - type: RequestRedirect
          requestRedirect: {{scheme: https, port: {port}, statusCode: 301}}
"#
    )
}

fn service(ns: &str, svc: &str, port: u16) -> String {
    format!(
        "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {svc}, namespace: {ns}}}\nspec:\n  ports: [{{port: 8080}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {svc}-x1\n  namespace: {ns}\n  labels: {{kubernetes.io/service-name: {svc}}}\naddressType: IPv4\nports: [{{port: {port}}}]\nendpoints:\n  - addresses: [127.0.0.1]\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_listeners_terminate_tls_by_sni() {
    let Some(envoy) = envoy() else { return };
    let pki = Pki::new("gatewayc test CA");
    let (secure_crt, secure_key) = pki.leaf(&["secure.example.com"]);
    let (wild_crt, wild_key) = pki.leaf(&["*.wild.example.com"]);
    let secure = echo("secure").await;
    let wild = echo("wild").await;
    let (port, http_port, admin) = (free_port(), free_port(), free_port());
    let mut input = header(port, http_port);
    input.push_str(&tls_secret("default", "secure-cert", &secure_crt, &secure_key));
    input.push_str(&tls_secret("certs", "wild-cert", &wild_crt, &wild_key));
    input.push_str(&service("default", "secure", secure.addr.port()));
    input.push_str(&service("default", "wild", wild.addr.port()));
    let admin_arg = format!("127.0.0.1:{admin}");
    let (code, bootstrap, stderr) =
        gatewayc(&["translate", "-f", "-", "--bind-address", "127.0.0.1", "--admin-address", &admin_arg], &input);
    assert_eq!(code, 0, "translate failed: {stderr}");
    let _envoy = EnvoyProc::start(&envoy, &bootstrap, admin).await;

    // The client verifies the certificate against the test CA for the SNI it sent: a wrong
    // certificate fails the handshake.
    let r = https_request(port, "secure.example.com", &pki.ca_der, "secure.example.com", "/hello").await.expect("https secure");
    assert_eq!((r.status, r.backend().as_str()), (200, "secure"));
    assert_eq!(r.echo()["path"], "/hello");
    let r = https_request(port, "a.wild.example.com", &pki.ca_der, "a.wild.example.com", "/").await.expect("https wild");
    assert_eq!((r.status, r.backend().as_str()), (200, "wild"));
    // A host another listener owns is not served on this connection: misdirected (421).
    let r = https_request(port, "a.wild.example.com", &pki.ca_der, "secure.example.com", "/").await.expect("https");
    assert_eq!(r.status, 421);
    // No listener for this SNI: no certificate, the handshake fails.
    assert!(https_request(port, "unknown.example.org", &pki.ca_der, "unknown.example.org", "/").await.is_err());
    // HTTP to HTTPS redirect.
    let r = get(http_port, "secure.example.com", "/path?q=1").await.expect("http");
    assert_eq!(r.status, 301);
    assert_eq!(r.headers.get("location").cloned(), Some(format!("https://secure.example.com:{port}/path?q=1")));
}

#[test]
fn certificate_problems_set_listener_status_and_spare_the_others() {
    let pki = Pki::new("gatewayc test CA");
    let (good_crt, good_key) = pki.leaf(&["good.example.com"]);
    let (other_crt, other_key) = pki.leaf(&["other.example.com"]);
    let _ = other_crt;
    let listeners = [
        ("good", "good-cert", None),
        ("missing", "no-such-secret", None),
        ("opaque", "opaque-cert", None),
        ("garbage", "garbage-cert", None),
        ("mismatch", "mismatch-cert", None),
        ("foreign", "good-cert", Some("elsewhere")),
    ];
    let mut input = String::from(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: eg}\nspec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: default}\nspec:\n  gatewayClassName: eg\n  listeners:\n",
    );
    for (i, (name, secret, ns)) in listeners.iter().enumerate() {
        let ns = ns.map(|n| format!(", namespace: {n}")).unwrap_or_default();
        input.push_str(&format!(
            "    - {{name: {name}, protocol: HTTPS, port: 443, hostname: {name}{i}.example.com, tls: {{certificateRefs: [{{name: {secret}{ns}}}]}}}}\n"
        ));
    }
    input.push_str(&tls_secret("default", "good-cert", &good_crt, &good_key));
    input.push_str(&tls_secret("elsewhere", "good-cert", &good_crt, &good_key));
    input.push_str(&tls_secret("default", "garbage-cert", "not a certificate", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
    input.push_str(&tls_secret("default", "mismatch-cert", &good_crt, &other_key));
    input.push_str("---\napiVersion: v1\nkind: Secret\nmetadata: {name: opaque-cert, namespace: default}\ntype: Opaque\ndata: {a: YQ==}\n");
    let (code, out, err) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    let docs: Vec<serde_json::Value> = out
        .split("\n---\n")
        .map(|d| gatewayc::source::load_str("s.yaml", d).documents.into_iter().next().expect("doc").value)
        .collect();
    let gw = docs.iter().find(|d| d["kind"] == "Gateway").expect("gateway");
    let cond = |listener: &str, t: &str| -> (String, String) {
        let l = gw["status"]["listeners"].as_array().expect("listeners").iter().find(|l| l["name"] == listener).expect("listener");
        let c = l["conditions"].as_array().expect("conds").iter().find(|c| c["type"] == t).expect("cond");
        (c["status"].as_str().unwrap_or("").to_string(), c["reason"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(cond("good", "ResolvedRefs"), ("True".into(), "ResolvedRefs".into()));
    assert_eq!(cond("good", "Programmed"), ("True".into(), "Programmed".into()));
    for l in ["missing", "opaque", "garbage", "mismatch"] {
        assert_eq!(cond(l, "ResolvedRefs"), ("False".into(), "InvalidCertificateRef".into()), "{l}");
        assert_eq!(cond(l, "Programmed").0, "False", "{l}");
    }
    assert_eq!(cond("foreign", "ResolvedRefs"), ("False".into(), "RefNotPermitted".into()));
    // Key material never shows up in diagnostics or status.
    for text in [&out, &err] {
        assert!(!text.contains("PRIVATE KEY"), "key material leaked");
    }
    // The Gateway still translates: the good listener is served.
    let (code, bootstrap, err) = gatewayc(&["translate", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    assert!(bootstrap.contains("good0.example.com") && !bootstrap.contains("missing1.example.com"));
}

#[test]
fn https_listener_without_tls_is_invalid() {
    let input = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  gatewayClassName: eg\n  listeners: [{name: web, protocol: HTTPS, port: 443}]\n";
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], input);
    assert_eq!(code, 1);
    assert!(err.contains("tls must be specified for protocol HTTPS"), "{err}");
}

/// `--tls-secrets files`: certificates and keys go to 0600 files under --secrets-dir, the
/// bootstrap refers to them by path and holds no key, and Envoy serves TLS with them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_secrets_as_files() {
    use std::os::unix::fs::PermissionsExt;
    let Some(envoy) = envoy() else { return };
    let pki = Pki::new("gatewayc test CA");
    let (crt, key) = pki.leaf(&["secure.example.com"]);
    let secure = echo("secure").await;
    let (port, admin) = (free_port(), free_port());
    let mut input = format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: eg}}\nspec: {{controllerName: gateway.envoyproxy.io/gatewayclass-controller}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n    - {{name: secure, protocol: HTTPS, port: {port}, hostname: secure.example.com, tls: {{certificateRefs: [{{name: secure-cert}}]}}}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: default}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules: [{{backendRefs: [{{name: secure, port: 8080}}]}}]\n"
    );
    input.push_str(&tls_secret("default", "secure-cert", &crt, &key));
    input.push_str(&service("default", "secure", secure.addr.port()));
    let dir = tempfile::tempdir().expect("tmp");
    let secrets = dir.path().join("secrets");
    let secrets_arg = secrets.to_string_lossy().to_string();
    let admin_arg = format!("127.0.0.1:{admin}");
    let (code, bootstrap, err) = gatewayc(
        &["translate", "-f", "-", "--bind-address", "127.0.0.1", "--admin-address", &admin_arg, "--tls-secrets", "files", "--secrets-dir", &secrets_arg],
        &input,
    );
    assert_eq!(code, 0, "{err}");
    assert!(!bootstrap.contains("PRIVATE KEY"), "the bootstrap must not hold the key");
    let key_file = secrets.join("default/secure-cert/tls.key");
    assert!(bootstrap.contains(&key_file.display().to_string()));
    assert_eq!(std::fs::read_to_string(&key_file).expect("key file"), key);
    assert_eq!(std::fs::metadata(&key_file).expect("meta").permissions().mode() & 0o777, 0o600);
    let _envoy = EnvoyProc::start(&envoy, &bootstrap, admin).await;
    let r = https_request(port, "secure.example.com", &pki.ca_der, "secure.example.com", "/").await.expect("https");
    assert_eq!((r.status, r.backend().as_str()), (200, "secure"));
    // Without --secrets-dir the flag is a usage error.
    assert_eq!(gatewayc(&["translate", "-f", "-", "--tls-secrets", "files"], &input).0, 2);
}

/// The ALPN protocol Envoy picks for a client that offers h2 and http/1.1.
async fn negotiated_alpn(port: u16, sni: &str, ca: &rustls::pki_types::CertificateDer<'static>) -> Option<Vec<u8>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).expect("ca");
    let mut config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from(sni.to_string()).expect("sni");
    let tls = tokio::time::timeout(std::time::Duration::from_secs(10), connector.connect(name, tcp)).await.expect("timeout").expect("handshake");
    tls.get_ref().1.alpn_protocol().map(|p| p.to_vec())
}

/// Envoy Gateway's OverlappingTLSConfig: HTTPS listeners of one port whose hostnames overlap
/// (a wildcard and a name it covers) or whose certificates share a DNS name get the condition,
/// stay programmed, and offer HTTP/1.1 only, so that a browser's HTTP/2 connection for one
/// host is never reused for the other; a listener that overlaps nothing keeps h2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_tls_config_is_reported_and_turns_off_h2() {
    let Some(envoy) = envoy() else { return };
    let pki = Pki::new("overlap test CA");
    let port = free_port();
    let (a_crt, a_key) = pki.leaf(&["a.example.com"]);
    let (w_crt, w_key) = pki.leaf(&["*.example.com"]);
    let (o_crt, o_key) = pki.leaf(&["other.test"]);
    let input = format!(
        "{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n    - {{name: a, protocol: HTTPS, port: {port}, hostname: a.example.com, tls: {{certificateRefs: [{{name: a}}]}}}}\n    - {{name: wild, protocol: HTTPS, port: {port}, hostname: \"*.example.com\", tls: {{certificateRefs: [{{name: w}}]}}}}\n    - {{name: other, protocol: HTTPS, port: {port}, hostname: other.test, tls: {{certificateRefs: [{{name: o}}]}}}}\n{}{}{}",
        tls_secret("default", "a", &a_crt, &a_key),
        tls_secret("default", "w", &w_crt, &w_key),
        tls_secret("default", "o", &o_crt, &o_key)
    );
    let (code, status, err) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    let docs = gatewayc::source::load_str("status", &status);
    let gw = docs.documents.iter().find(|d| d.value["kind"] == "Gateway").expect("gateway");
    let cond = |listener: &str, t: &str| {
        gw.value["status"]["listeners"].as_array().expect("listeners").iter().find(|l| l["name"] == listener).and_then(|l| {
            l["conditions"].as_array().and_then(|cs| cs.iter().find(|c| c["type"] == t)).map(|c| (c["status"].as_str().unwrap_or("").to_string(), c["reason"].as_str().unwrap_or("").to_string()))
        })
    };
    for l in ["a", "wild"] {
        // Both hostname and certificate overlap: OverlappingCertificates, as the spec prefers.
        assert_eq!(cond(l, "OverlappingTLSConfig"), Some(("True".into(), "OverlappingCertificates".into())), "{l}");
        assert_eq!(cond(l, "Programmed"), Some(("True".into(), "Programmed".into())), "{l}");
    }
    assert_eq!(cond("other", "OverlappingTLSConfig"), None);
    let served = serve(&envoy, &input, &[]).await;
    assert!(served.stderr.contains("conflict::overlapping-tls"), "{}", served.stderr);
    assert_eq!(negotiated_alpn(port, "a.example.com", &pki.ca_der).await.as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(negotiated_alpn(port, "b.example.com", &pki.ca_der).await.as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(negotiated_alpn(port, "other.test", &pki.ca_der).await.as_deref(), Some(&b"h2"[..]));
}
