//! SecurityPolicy JWT authentication through a real Envoy, with tokens signed in the test:
//! local key sets (inline and from a ConfigMap), a remote one served on loopback, claims to
//! headers, optional tokens, and authorization by claims and scopes.

mod support;

use serde_json::json;
use support::jwt::*;
use support::policy::*;
use support::*;

const GW: &str = "{group: gateway.networking.k8s.io, kind: Gateway, name: gw}";

/// Gateway `gw` on `port` with route `app` (/) to an echo backend, and `extra`.
async fn served(envoy: &std::path::Path, port: u16, extra: &[String]) -> (Echo, Served) {
    let b = echo("b").await;
    let mut input = http_gateway(port);
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    for e in extra {
        input.push_str(e);
    }
    let s = serve(envoy, &input, &[]).await;
    (b, s)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn with_token(port: u16, token: Option<&str>) -> Reply {
    let auth = token.map(bearer);
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    request(port, "GET", "app", "/", &headers).await.expect("request")
}

fn claims(iss: &str, aud: &str, exp: i64) -> serde_json::Value {
    json!({"iss": iss, "aud": aud, "sub": "alice", "exp": exp, "groups": ["admin", "dev"], "scope": "read write"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_jwks_lets_in_valid_tokens_only_and_forwards_claims() {
    let Some(envoy) = envoy() else { return };
    let (key, other) = (Signer::new("k1"), Signer::new("k1"));
    let port = free_port();
    let body = format!(
        "  jwt:\n    providers:\n    - name: test\n      issuer: https://issuer.test\n      audiences: [api]\n      localJWKS: {{type: Inline, inline: {:?}}}\n      claimToHeaders: [{{header: x-sub, claim: sub}}]\n",
        key.jwks()
    );
    let (_b, _s) = served(&envoy, port, &[security_policy("jwt", "2025-01-01T00:00:00Z", GW, &body)]).await;
    let ok = with_token(port, Some(&key.token(claims("https://issuer.test", "api", at(600))))).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.echo()["headers"]["x-sub"], "alice");
    for (what, token) in [
        ("expired", key.token(claims("https://issuer.test", "api", at(-600)))),
        ("wrong issuer", key.token(claims("https://other.test", "api", at(600)))),
        ("signed by another key", other.token(claims("https://issuer.test", "api", at(600)))),
        ("not a token", "abc.def.ghi".to_string()),
    ] {
        assert_eq!(with_token(port, Some(&token)).await.status, 401, "{what}");
    }
    assert_eq!(with_token(port, None).await.status, 401, "no token");
    // A token for another audience is authentic but not for this API: Envoy (and so Envoy
    // Gateway) answers 403 "Audiences in Jwt are not allowed".
    let other_audience = with_token(port, Some(&key.token(claims("https://issuer.test", "web", at(600))))).await;
    assert_eq!((other_audience.status, other_audience.body.as_str()), (403, "Audiences in Jwt are not allowed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_jwks_on_loopback_and_a_configmap_key_set() {
    let Some(envoy) = envoy() else { return };
    let (remote, local) = (Signer::new("r1"), Signer::new("c1"));
    let (addr, hits) = jwks_server(remote.jwks()).await;
    let port = free_port();
    let providers = format!(
        "  jwt:\n    providers:\n    - name: remote\n      issuer: https://remote.test\n      remoteJWKS: {{uri: \"http://{addr}/jwks\"}}\n    - name: local\n      issuer: https://local.test\n      localJWKS: {{type: ValueRef, valueRef: {{group: \"\", kind: ConfigMap, name: keys}}}}\n"
    );
    let cm = format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: keys, namespace: default}}\ndata:\n  jwks: {:?}\n", local.jwks());
    let (_b, _s) = served(&envoy, port, &[cm, security_policy("jwt", "2025-01-01T00:00:00Z", GW, &providers)]).await;
    let token = |s: &Signer, iss: &str| s.token(json!({"iss": iss, "sub": "bob", "exp": at(600)}));
    assert_eq!(with_token(port, Some(&token(&remote, "https://remote.test"))).await.status, 200);
    assert!(hits.load(std::sync::atomic::Ordering::SeqCst) >= 1, "Envoy fetched the key set");
    assert_eq!(with_token(port, Some(&token(&local, "https://local.test"))).await.status, 200);
    // Each provider checks its own issuer's tokens with its own keys.
    assert_eq!(with_token(port, Some(&token(&local, "https://remote.test"))).await.status, 401);
    assert_eq!(with_token(port, Some(&token(&remote, "https://local.test"))).await.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_tokens_and_authorization_by_claims_and_scopes() {
    let Some(envoy) = envoy() else { return };
    let key = Signer::new("k1");
    let port = free_port();
    let body = format!(
        "  jwt:\n    optional: true\n    providers:\n    - name: idp\n      localJWKS: {{type: Inline, inline: {:?}}}\n  authorization:\n    defaultAction: Deny\n    rules:\n    - {{name: admins, action: Allow, principal: {{jwt: {{provider: idp, claims: [{{name: groups, valueType: StringArray, values: [admin]}}]}}}}}}\n    - {{name: readers, action: Allow, principal: {{jwt: {{provider: idp, scopes: [read], claims: [{{name: org.name, values: [acme]}}]}}}}}}\n",
        key.jwks()
    );
    let (_b, _s) = served(&envoy, port, &[security_policy("jwt", "2025-01-01T00:00:00Z", GW, &body)]).await;
    let status = |claims: serde_json::Value| {
        let t = key.token(claims);
        async move { with_token(port, Some(&t)).await.status }
    };
    let exp = at(600);
    assert_eq!(status(json!({"exp": exp, "groups": ["dev", "admin"]})).await, 200);
    assert_eq!(status(json!({"exp": exp, "groups": ["dev"]})).await, 403);
    // Scopes are a space-separated claim; nested claims by dots.
    assert_eq!(status(json!({"exp": exp, "scope": "write read", "org": {"name": "acme"}})).await, 200);
    assert_eq!(status(json!({"exp": exp, "scope": "write", "org": {"name": "acme"}})).await, 403);
    assert_eq!(status(json!({"exp": exp, "scope": "read", "org": {"name": "other"}})).await, 403);
    // Optional: no token passes authentication (and authorization denies it here); an invalid
    // token never passes.
    assert_eq!(with_token(port, None).await.status, 403);
    assert_eq!(with_token(port, Some(&key.token(json!({"exp": at(-600), "groups": ["admin"]})))).await.status, 401);
}

/// What Envoy Gateway refuses when it translates a JWT policy: its routes answer 500 and the
/// status says why.
#[test]
fn untranslatable_jwt_settings_in_status() {
    for (body, msg) in [
        ("  jwt: {providers: [{name: p, remoteJWKS: {uri: \"ftp://keys.test/jwks\"}}]}\n", "JWT: invalid remote JWKS URI: ftp://keys.test/jwks"),
        ("  jwt: {providers: [{name: p, localJWKS: {type: Inline, inline: \"{}\"}}, {name: p, localJWKS: {type: Inline, inline: \"{}\"}}]}\n", "JWT: provider name p must be unique"),
        ("  jwt: {providers: [{name: p, localJWKS: {type: ValueRef, valueRef: {group: \"\", kind: ConfigMap, name: none}}}]}\n", "JWT: local JWKS ConfigMap default/none not found"),
    ] {
        let mut input = http_gateway(8080);
        input.push_str(&route("app", "/", "svc"));
        input.push_str(&security_policy("p", "2025-01-01T00:00:00Z", GW, body));
        let (code, out, err) = gatewayc(&["status", "-f", "-"], &input);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(msg) && out.contains("reason: Invalid"), "{body}: {out}");
        let (_, bootstrap, _) = gatewayc(&["translate", "-f", "-"], &input);
        assert!(bootstrap.contains("status: 500"), "{bootstrap}");
    }
}

/// A remote key set fetched through backendRefs (an Envoy Gateway Backend on loopback): the
/// URI's host does not resolve, so the keys can only come through the Backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_jwks_through_a_backend() {
    let Some(envoy) = envoy() else { return };
    let key = Signer::new("b1");
    let (addr, hits) = jwks_server(key.jwks()).await;
    let port = free_port();
    let b = echo("b").await;
    let mut input = http_gateway(port);
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: Backend\nmetadata: {{name: idp, namespace: default}}\nspec:\n  endpoints: [{{ip: {{address: 127.0.0.1, port: {}}}}}]\n", addr.port()));
    let body = "  jwt:\n    providers:\n    - name: idp\n      remoteJWKS:\n        uri: http://keys.idp.invalid/jwks\n        backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: idp}]\n";
    input.push_str(&security_policy("jwt", "2025-01-01T00:00:00Z", GW, body));
    let s = serve(&envoy, &input, &["--allow-loopback-backends"]).await;
    assert!(s.bootstrap.contains("securitypolicy/default/jwt/jwks/idp"), "{}", s.bootstrap);
    let token = key.token(json!({"sub": "carol", "exp": at(600)}));
    assert_eq!(with_token(port, Some(&token)).await.status, 200);
    assert!(hits.load(std::sync::atomic::Ordering::SeqCst) >= 1, "Envoy fetched the key set through the Backend");
    assert_eq!(with_token(port, None).await.status, 401);
}
