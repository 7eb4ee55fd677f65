//! ClientTrafficPolicy `tls` through a real Envoy: versions, ALPN and session resumption on
//! one HTTPS listener; the listener without a policy keeps Envoy Gateway's defaults (TLS 1.2
//! and 1.3, h2 and HTTP/1.1, no resumption). The CRD's rules on `tls`.

mod support;
use std::sync::Arc;
use std::time::Duration;
use support::policy::*;
use support::*;

/// Two HTTPS listeners (a, b) on their own ports with one certificate for `app.example`.
fn https_gateway(pki: &Pki, a: u16, b: u16) -> String {
    let (crt, key) = pki.leaf(&["app.example"]);
    let tls = "tls: {certificateRefs: [{name: cert}]}";
    let mut s = format!("{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n  - {{name: a, protocol: HTTPS, port: {a}, hostname: app.example, {tls}}}\n  - {{name: b, protocol: HTTPS, port: {b}, hostname: app.example, {tls}}}\n");
    s.push_str(&tls_secret("default", "cert", &crt, &key));
    s
}

fn ctp(target: &str, body: &str) -> String {
    format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: ClientTrafficPolicy\nmetadata: {{name: tls, namespace: default}}\nspec:\n  targetRefs: [{{group: gateway.networking.k8s.io, kind: Gateway, name: gw{target}}}]\n{body}")
}

/// A client config trusting `pki`, limited to `versions`, offering `alpn`.
fn client(pki: &Pki, versions: &[&'static rustls::SupportedProtocolVersion], alpn: &[&str]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_der.clone()).expect("ca");
    let mut c = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    c.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Arc::new(c)
}

/// One handshake to 127.0.0.1:`port` and a GET over it: (negotiated ALPN, resumed, status).
async fn handshake(port: u16, config: &Arc<rustls::ClientConfig>) -> Result<(String, bool, u16), String> {
    let connector = tokio_rustls::TlsConnector::from(config.clone());
    let name = rustls::pki_types::ServerName::try_from("app.example").map_err(|e| e.to_string())?;
    let fut = async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
        let tls = connector.connect(name, tcp).await.map_err(|e| format!("tls: {e}"))?;
        let (_, conn) = tls.get_ref();
        let alpn = conn.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned()).unwrap_or_default();
        let resumed = conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
        // HTTP/1.1 on the connection (h2 needs no test here: ALPN is the point).
        let status = if alpn == "h2" { 0 } else { send(tls, "GET", "app.example", "/", &[]).await?.status };
        Ok((alpn, resumed, status))
    };
    tokio::time::timeout(Duration::from_secs(10), fut).await.map_err(|_| "timeout".to_string())?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_versions_alpn_and_resumption() {
    let Some(envoy) = envoy() else { return };
    let pki = Pki::new("ctp-ca");
    let b = echo("b").await;
    let (pa, pb) = (free_port(), free_port());
    let mut input = https_gateway(&pki, pa, pb);
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&ctp(", sectionName: a", "  tls:\n    minVersion: \"1.3\"\n    alpnProtocols: [http/1.1]\n    session: {resumption: {stateless: {}}}\n"));
    let _served = serve(&envoy, &input, &[]).await;
    use rustls::version::{TLS12, TLS13};
    let both = [&TLS12, &TLS13];

    // Listener a: TLS 1.3 only; a TLS 1.2 client is refused, a TLS 1.3 one served.
    let old = handshake(pa, &client(&pki, &[&TLS12], &["http/1.1"])).await;
    assert!(old.as_ref().is_err_and(|e| e.starts_with("tls:")), "a TLS 1.2 client was served: {old:?}");
    assert_eq!(handshake(pa, &client(&pki, &[&TLS13], &["http/1.1"])).await, Ok(("http/1.1".into(), false, 200)));
    // ALPN as configured: a client offering h2 first still gets HTTP/1.1.
    let c = client(&pki, &both, &["h2", "http/1.1"]);
    let first = handshake(pa, &c).await.expect("a");
    assert_eq!(first.0, "http/1.1");
    // Stateless resumption on: the second connection of the same client resumes.
    assert!(handshake(pa, &c).await.expect("a again").1, "listener a did not resume the session");

    // Listener b: Envoy Gateway's defaults. TLS 1.2 is served, h2 offered, no resumption.
    assert_eq!(handshake(pb, &client(&pki, &[&TLS12], &["http/1.1"])).await, Ok(("http/1.1".into(), false, 200)));
    let c = client(&pki, &both, &["h2", "http/1.1"]);
    assert_eq!(handshake(pb, &c).await.expect("b").0, "h2");
    assert!(!handshake(pb, &c).await.expect("b again").1, "listener b resumed a session");
}

/// Ciphers, curves and signature algorithms as the CRD's docs name them: Envoy takes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_ciphers_curves_and_signature_algorithms_run() {
    let Some(envoy) = envoy() else { return };
    let pki = Pki::new("ctp-ca");
    let (pa, pb) = (free_port(), free_port());
    let mut input = https_gateway(&pki, pa, pb);
    input.push_str(&ctp("", "  tls:\n    minVersion: \"1.2\"\n    maxVersion: Auto\n    ciphers: [ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-AES256-GCM-SHA384]\n    ecdhCurves: [X25519, P-256]\n    signatureAlgorithms: [ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256]\n"));
    let served = serve(&envoy, &input, &[]).await;
    assert!(served.bootstrap.contains("tls_maximum_protocol_version: TLS_AUTO") && served.bootstrap.contains("- P-256"), "{}", served.bootstrap);
    use rustls::version::TLS12;
    let c = client(&pki, &[&TLS12], &["http/1.1"]);
    assert_eq!(handshake(pa, &c).await.expect("served").2, 404, "no route: Envoy answers 404 over TLS 1.2");
}

#[test]
fn tls_rules_of_the_crd() {
    let pki = Pki::new("ctp-ca");
    let base = https_gateway(&pki, 8443, 9443);
    let check = |body: &str| {
        let (code, _, err) = gatewayc(&["validate", "-f", "-"], &format!("{base}{}", ctp("", body)));
        (code, err)
    };
    let (code, err) = check("  tls: {minVersion: \"1.3\", ciphers: [ECDHE-RSA-AES128-GCM-SHA256]}\n");
    assert!(code == 1 && err.contains("setting ciphers has no effect if the minimum possible TLS version is 1.3"), "{err}");
    let (code, err) = check("  tls: {minVersion: \"1.3\", maxVersion: \"1.2\"}\n");
    assert!(code == 1 && err.contains("minVersion must be smaller or equal to maxVersion"), "{err}");
    // No minimum is 1.2: a maximum of 1.1 is below it.
    let (code, err) = check("  tls: {maxVersion: \"1.1\"}\n");
    assert!(code == 1 && err.contains("minVersion must be smaller or equal to maxVersion"), "{err}");
    let (code, err) = check("  tls: {clientValidation: {mode: Request, allowExpiredCertificate: true}}\n");
    assert!(code == 1 && err.contains("allowExpiredCertificate can only be set when mode is VerifyIfGiven or RequireAndVerify"), "{err}");
    let (code, err) = check("  headers: {xForwardedClientCert: {mode: Sanitize, certDetailsToAdd: [Subject]}}\n");
    assert!(code == 1 && err.contains("certDetailsToAdd can only be set when mode is AppendForward or SanitizeSet"), "{err}");
}

/// [`https_gateway`] with a route on both listeners to a backend at 127.0.0.1:`backend` and
/// the client CA in ConfigMap `client-ca`.
fn mtls_gateway(server: &Pki, clients: &Pki, a: u16, b: u16, backend: u16) -> String {
    let mut input = https_gateway(server, a, b);
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&service("default", "svc", &[backend]));
    input.push_str(&ca_config_map("default", "client-ca", &clients.ca_pem()));
    input
}

fn ctp_named(name: &str, section: &str, body: &str) -> String {
    ctp(&format!(", sectionName: {section}"), body).replace("name: tls,", &format!("name: {name},"))
}

/// tls.clientValidation from a ConfigMap: listener a requires a certificate of the client CA
/// and hands its subject and URI to the backend (XFCC, SanitizeSet); listener b (RequireAny)
/// requires a certificate but not that it chain to the CA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_validation_and_forwarded_client_cert() {
    let Some(envoy) = envoy() else { return };
    let (server, clients, strangers) = (Pki::new("server-ca"), Pki::new("client-ca"), Pki::new("other-ca"));
    let b = echo("b").await;
    let (pa, pb) = (free_port(), free_port());
    let mut input = mtls_gateway(&server, &clients, pa, pb, b.addr.port());
    input.push_str(&ctp_named("verify", "a", "  tls:\n    clientValidation: {caCertificateRefs: [{kind: ConfigMap, name: client-ca}]}\n  headers:\n    xForwardedClientCert: {mode: SanitizeSet, certDetailsToAdd: [Subject, URI]}\n"));
    input.push_str(&ctp_named("any", "b", "  tls:\n    clientValidation: {mode: RequireAny, caCertificateRefs: [{kind: ConfigMap, name: client-ca}]}\n"));
    let _served = serve(&envoy, &input, &[]).await;
    let good = clients.leaf_sans(&["client.example"], &["spiffe://example/client"]);
    let stranger = strangers.leaf(&["stranger.example"]);

    assert!(mtls_get(pa, "app.example", &server.ca_der, None, "/").await.is_err(), "a client without a certificate was served");
    assert!(mtls_get(pa, "app.example", &server.ca_der, Some(&stranger), "/").await.is_err(), "a certificate of another CA was served");
    let r = mtls_get(pa, "app.example", &server.ca_der, Some(&good), "/").await.expect("the client CA's certificate");
    assert_eq!(r.status, 200);
    let xfcc = r.echo()["headers"]["x-forwarded-client-cert"].as_str().unwrap_or_default().to_string();
    assert!(xfcc.contains("URI=spiffe://example/client") && xfcc.contains("Subject="), "{xfcc}");

    assert!(mtls_get(pb, "app.example", &server.ca_der, None, "/").await.is_err(), "RequireAny served a client without a certificate");
    let r = mtls_get(pb, "app.example", &server.ca_der, Some(&stranger), "/").await.expect("RequireAny takes any certificate");
    assert_eq!(r.status, 200);
    // b's default XFCC handling (Sanitize): a client's own header does not reach the backend.
    assert!(r.echo()["headers"].get("x-forwarded-client-cert").is_none(), "{}", r.body);
}

/// A CA reference that does not resolve: the policy is Invalid and its listener fails closed.
#[test]
fn client_validation_without_its_ca_is_invalid() {
    let server = Pki::new("server-ca");
    let mut input = https_gateway(&server, 8443, 9443);
    input.push_str(&ctp_named("verify", "a", "  tls:\n    clientValidation: {caCertificateRefs: [{name: missing}]}\n"));
    let (code, out, err) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("reason: Invalid") && out.contains("TLS: Secret default/missing not found"), "{out}");
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &input);
    assert!(code == 1 && err.contains("policy::invalid") && err.contains("caCertificateRefs/0"), "{err}");
}

/// tls.clientValidation.subjectAltNames on listener a: a certificate of the client CA is
/// served only when one of its names matches (a DNS suffix, or an exact URI); listener b,
/// validating the CA alone, serves all three. A regular expression RE2 refuses makes the
/// policy Invalid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_validation_by_subject_alt_name() {
    let Some(envoy) = envoy() else { return };
    let (server, clients) = (Pki::new("server-ca"), Pki::new("client-ca"));
    let b = echo("b").await;
    let (pa, pb) = (free_port(), free_port());
    let mut input = mtls_gateway(&server, &clients, pa, pb, b.addr.port());
    let sans = "  tls:\n    clientValidation:\n      caCertificateRefs: [{kind: ConfigMap, name: client-ca}]\n      subjectAltNames:\n        dnsNames: [{type: Suffix, value: .good.example}]\n        uris: [{value: \"spiffe://example/ok\"}]\n";
    input.push_str(&ctp_named("sans", "a", sans));
    input.push_str(&ctp_named("ca", "b", "  tls:\n    clientValidation: {caCertificateRefs: [{kind: ConfigMap, name: client-ca}]}\n"));
    let _served = serve(&envoy, &input, &[]).await;
    let by_dns = clients.leaf_sans(&["c.good.example"], &[]);
    let by_uri = clients.leaf_sans(&["c.bad.example"], &["spiffe://example/ok"]);
    let neither = clients.leaf_sans(&["c.bad.example"], &["spiffe://example/other"]);
    for (who, cert, served) in [("dns", &by_dns, true), ("uri", &by_uri, true), ("neither", &neither, false)] {
        let a = mtls_get(pa, "app.example", &server.ca_der, Some(cert), "/").await;
        assert_eq!(a.is_ok(), served, "{who} on a: {a:?}");
        let b = mtls_get(pb, "app.example", &server.ca_der, Some(cert), "/").await;
        assert!(b.is_ok(), "{who} on b: {b:?}");
    }
    let bad = input.replace("{type: Suffix, value: .good.example}", "{type: RegularExpression, value: \"(?=x)\"}");
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &bad);
    assert!(code == 1 && err.contains("TLS: invalid regex") && err.contains("subjectAltNames/dnsNames/0"), "{err}");
}

/// tls.clientValidation.crl on listener a: a client certificate the CA revoked is refused, a
/// sibling it did not revoke is served; listener b, without the revocation list, serves both.
/// A reference to a ConfigMap without `ca.crl` makes the policy Invalid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_validation_refuses_revoked_certificates() {
    let Some(envoy) = envoy() else { return };
    let (server, clients) = (Pki::new("server-ca"), Pki::new("client-ca"));
    let b = echo("b").await;
    let (pa, pb) = (free_port(), free_port());
    let mut input = mtls_gateway(&server, &clients, pa, pb, b.addr.port());
    input.push_str(&format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: revoked, namespace: default}}\ndata:\n  ca.crl: |\n{}", clients.crl_pem(&[41]).lines().map(|l| format!("    {l}\n")).collect::<String>()));
    let refs = "caCertificateRefs: [{kind: ConfigMap, name: client-ca}]";
    input.push_str(&ctp_named("crl", "a", &format!("  tls:\n    clientValidation:\n      {refs}\n      crl: {{refs: [{{kind: ConfigMap, name: revoked}}]}}\n")));
    input.push_str(&ctp_named("ca", "b", &format!("  tls:\n    clientValidation: {{{refs}}}\n")));
    let _served = serve(&envoy, &input, &[]).await;
    let revoked = clients.leaf_numbered(&["revoked.example"], 41);
    let fine = clients.leaf_numbered(&["fine.example"], 42);
    assert!(mtls_get(pa, "app.example", &server.ca_der, Some(&revoked), "/").await.is_err(), "a revoked certificate was served");
    assert_eq!(mtls_get(pa, "app.example", &server.ca_der, Some(&fine), "/").await.expect("not revoked").status, 200);
    for c in [&revoked, &fine] {
        assert_eq!(mtls_get(pb, "app.example", &server.ca_der, Some(c), "/").await.expect("b has no list").status, 200);
    }
    let wrong = input.replace("crl: {refs: [{kind: ConfigMap, name: revoked}]}", "crl: {refs: [{kind: ConfigMap, name: client-ca}]}");
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &wrong);
    assert!(code == 1 && err.contains("ConfigMap default/client-ca has no `ca.crl`") && err.contains("crl/refs/0"), "{err}");
}
