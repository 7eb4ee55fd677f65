//! SecurityPolicy OIDC through a real Envoy: a browser without a session is sent to the
//! provider, the callback's code is exchanged at a token endpoint served on loopback (found
//! by host name, as Envoy Gateway requires), and the session cookies then let it through with
//! the access token forwarded to the backend.

mod support;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::sync::{Arc, Mutex};
use support::policy::*;
use support::*;

/// A token endpoint on 127.0.0.1 answering every request with tokens; records the requests'
/// Authorization header and body.
async fn token_endpoint() -> (u16, Arc<Mutex<Vec<(String, String)>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = listener.accept().await else { return };
            let log = log.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let log = log.clone();
                    async move {
                        let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                        let body = req.into_body().collect().await.map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned()).unwrap_or_default();
                        log.lock().expect("lock").push((auth, body));
                        let tokens = serde_json::json!({"access_token": "at-123", "id_token": "id.token.x", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-1"});
                        Ok::<_, hyper::Error>(hyper::Response::builder().header("content-type", "application/json").body(Full::new(Bytes::from(tokens.to_string()))).expect("response"))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(s), svc).await;
            });
        }
    });
    (port, seen)
}

/// One GET to Envoy with `cookies`: (status, Location, the cookies set: name=value).
async fn get(port: u16, path: &str, cookies: &[String], headers: &[(&str, &str)]) -> (u16, String, Vec<String>, String) {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(conn);
    let mut b = hyper::Request::builder().method("GET").uri(path).header("host", "app");
    if !cookies.is_empty() {
        b = b.header("cookie", cookies.join("; "));
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = tokio::time::timeout(std::time::Duration::from_secs(10), sender.send_request(b.body(Full::new(Bytes::new())).expect("request"))).await.expect("in time").expect("response");
    let status = resp.status().as_u16();
    let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let set: Vec<String> = resp.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(|c| c.split(';').next().unwrap_or("").to_string()).filter(|c| !c.ends_with("=deleted")).collect();
    let body = resp.into_body().collect().await.map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned()).unwrap_or_default();
    (status, location, set, body)
}

/// Gateway `gw` on `port`, route `app` to `b`, and the client's Secret `client`.
fn app_with_client(port: u16, b: &Echo) -> String {
    let mut input = http_gateway(port);
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&opaque_secret("client", &[("client-secret", "s3cr3t"), ("client-id", "my-client")]));
    input
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_login_through_the_provider_then_the_session() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let (token_port, tokens) = token_endpoint().await;
    let port = free_port();
    let mut input = app_with_client(port, &b);
    let body = format!(
        "  oidc:\n    provider:\n      issuer: https://idp.test\n      authorizationEndpoint: https://idp.test/authorize\n      tokenEndpoint: http://localhost:{token_port}/token\n      endSessionEndpoint: https://idp.test/end\n    clientIDRef: {{name: client}}\n    clientSecret: {{name: client}}\n    scopes: [email]\n    resources: [\"https://api.test\"]\n    forwardAccessToken: true\n    logoutPath: /signout\n    defaultTokenTTL: 30m\n    defaultRefreshTokenTTL: 24h\n    csrfTokenTTL: 5m\n    cookieConfig: {{sameSite: Strict}}\n    cookieNames: {{accessToken: my-access}}\n    denyRedirect: {{headers: [{{name: x-requested-with, value: XMLHttpRequest}}]}}\n"
    );
    input.push_str(&security_policy("login", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}", &body));
    let served = serve(&envoy, &input, &[]).await;
    assert!(!served.bootstrap.contains("client_id: s3cr3t"));
    // No session: to the provider, with the client, scopes, the callback and a state.
    let (status, location, nonce, _) = get(port, "/page?x=1", &[], &[]).await;
    assert_eq!(status, 302, "{location}");
    assert!(location.starts_with("https://idp.test/authorize?"), "{location}");
    for part in ["client_id=my-client", "scope=openid%20email", "redirect_uri=http%3A%2F%2Fapp%2Foauth2%2Fcallback", "response_type=code", "resource=https%3A%2F%2Fapi.test"] {
        assert!(location.contains(part), "{part}: {location}");
    }
    let state = location.split("state=").nth(1).and_then(|s| s.split('&').next()).expect("state").to_string();
    // A script's request is refused rather than redirected.
    assert_eq!(get(port, "/page", &[], &[("x-requested-with", "XMLHttpRequest")]).await.0, 401);
    // The provider sends the browser back with a code: Envoy exchanges it, sets the session.
    let (status, location, session, _) = get(port, &format!("/oauth2/callback?code=abc&state={state}"), &nonce, &[]).await;
    assert_eq!((status, location.as_str()), (302, "http://app/page?x=1"), "{session:?}");
    let exchanged = tokens.lock().expect("lock").clone();
    let (auth, form) = exchanged.first().cloned().expect("a token request");
    use base64::Engine;
    assert_eq!(auth, format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("my-client:s3cr3t")));
    assert!(form.contains("grant_type=authorization_code") && form.contains("code=abc"), "{form}");
    // With the session the request passes, the access token forwarded.
    let (status, _, _, body) = get(port, "/page?x=1", &session, &[]).await;
    assert_eq!(status, 200, "{body}");
    let echoed: serde_json::Value = serde_json::from_str(&body).expect("echo");
    assert_eq!(echoed["headers"]["authorization"], "Bearer at-123");
    assert!(session.iter().any(|c| c.starts_with("my-access=")), "the access token's cookie is named as asked: {session:?}");
    // Logging out ends the session at the provider.
    let (status, location, _, _) = get(port, "/signout", &session, &[]).await;
    assert_eq!(status, 302);
    assert!(location.starts_with("https://idp.test/end"), "{location}");
    // A session whose signature is forged is not one (without a refresh token to renew it).
    let forged: Vec<String> = session.iter().filter(|c| !c.starts_with("RefreshToken")).map(|c| if c.starts_with("OauthHMAC") { format!("{}=Zm9yZ2Vk", c.split('=').next().unwrap_or_default()) } else { c.clone() }).collect();
    assert_eq!(get(port, "/page", &forged, &[]).await.0, 302);
    // With the refresh token, Envoy renews the session at the token endpoint.
    let renewed: Vec<String> = session.iter().map(|c| if c.starts_with("OauthHMAC") { format!("{}=Zm9yZ2Vk", c.split('=').next().unwrap_or_default()) } else { c.clone() }).collect();
    assert_eq!(get(port, "/page", &renewed, &[]).await.0, 200);
    assert!(tokens.lock().expect("lock").iter().any(|(_, form)| form.contains("grant_type=refresh_token") && form.contains("refresh_token=rt-1")), "{:?}", tokens.lock().expect("lock"));
}

/// The token endpoint reached through the provider's backendRefs (an Envoy Gateway Backend on
/// loopback): its URL's host does not resolve, so the code can only be exchanged there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_endpoint_through_a_backend() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let (token_port, tokens) = token_endpoint().await;
    let port = free_port();
    let mut input = app_with_client(port, &b);
    input.push_str(&format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: Backend\nmetadata: {{name: idp, namespace: default}}\nspec:\n  endpoints: [{{ip: {{address: 127.0.0.1, port: {token_port}}}}}]\n"));
    let body = "  oidc:\n    provider:\n      issuer: https://idp.test\n      authorizationEndpoint: https://idp.test/authorize\n      tokenEndpoint: http://token.idp.invalid/token\n      backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: idp}]\n    clientIDRef: {name: client}\n    clientSecret: {name: client}\n";
    input.push_str(&security_policy("login", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}", body));
    let _served = serve(&envoy, &input, &["--allow-loopback-backends"]).await;
    let (status, location, nonce, _) = get(port, "/page", &[], &[]).await;
    assert_eq!(status, 302, "{location}");
    let state = location.split("state=").nth(1).and_then(|s| s.split('&').next()).expect("state").to_string();
    let (status, location, session, _) = get(port, &format!("/oauth2/callback?code=abc&state={state}"), &nonce, &[]).await;
    assert_eq!((status, location.as_str()), (302, "http://app/page"), "{session:?}");
    assert!(tokens.lock().expect("lock").iter().any(|(_, form)| form.contains("code=abc")), "the code was exchanged through the Backend");
    assert_eq!(get(port, "/page", &session, &[]).await.0, 200);
}

#[test]
fn oidc_needs_its_endpoints_offline() {
    let mut input = http_gateway(8080);
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&opaque_secret("client", &[("client-secret", "s3cr3t")]));
    let body = "  oidc: {provider: {issuer: \"https://idp.test\"}, clientID: c, clientSecret: {name: client}}\n";
    input.push_str(&security_policy("login", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}", body));
    let (_, out, _) = gatewayc(&["status", "-f", "-"], &input);
    assert!(out.contains("OIDC: provider.authorizationEndpoint and provider.tokenEndpoint must both be set") && !out.contains("s3cr3t"), "{out}");
    let ip = input.replace("provider: {issuer: \"https://idp.test\"}", "provider: {issuer: \"https://idp.test\", authorizationEndpoint: \"https://idp.test/a\", tokenEndpoint: \"https://10.0.0.1/token\"}");
    let (_, out, _) = gatewayc(&["status", "-f", "-"], &ip);
    assert!(out.contains("OIDC: token endpoint URL must be a domain name: https://10.0.0.1/token"), "{out}");
}
