//! gRPC for the tests: a server (tonic's unary handler over hyper's HTTP/2, cleartext) that
//! answers any method with what it saw, and a tonic client. Messages are raw bytes (a codec
//! of our own, no protobuf): the reply is JSON naming the backend, the method path and the
//! request metadata.

use bytes::Buf;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Request, Response, Status};

/// Messages as bytes, unchanged.
#[derive(Clone, Copy, Default)]
pub struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// What one call carried to a backend.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    /// Request headers, lowercased names, first value.
    pub headers: BTreeMap<String, String>,
}

/// A gRPC server on 127.0.0.1; stops when dropped.
pub struct GrpcBackend {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for GrpcBackend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl GrpcBackend {
    pub fn new(addr: SocketAddr, seen: Arc<Mutex<Vec<Seen>>>, task: tokio::task::JoinHandle<()>) -> GrpcBackend {
        GrpcBackend { addr, seen, task }
    }
    pub fn calls(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
    /// Wait (bounded) until `n` calls have arrived.
    pub async fn wait_for_calls(&self, n: usize, max: Duration) -> bool {
        let end = Instant::now() + max;
        while Instant::now() < end {
            if self.calls().len() >= n {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }
}

/// One call's handler: answers with the backend's name, the path and the metadata.
struct Answer {
    name: String,
    path: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl tonic::server::UnaryService<Vec<u8>> for Answer {
    type Response = Vec<u8>;
    type Future = std::future::Ready<Result<Response<Vec<u8>>, Status>>;
    fn call(&mut self, req: Request<Vec<u8>>) -> Self::Future {
        let headers: BTreeMap<String, String> = req
            .metadata()
            .clone()
            .into_headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        if let Ok(mut s) = self.seen.lock() {
            s.push(Seen { path: self.path.clone(), headers: headers.clone() });
        }
        let body = serde_json::json!({
            "backend": self.name,
            "path": self.path,
            "headers": headers,
            "message": String::from_utf8_lossy(req.get_ref()),
        });
        let mut resp = Response::new(body.to_string().into_bytes());
        resp.metadata_mut().insert("x-backend-name", self.name.parse().unwrap_or_else(|_| tonic::metadata::MetadataValue::from_static("?")));
        std::future::ready(Ok(resp))
    }
}

/// Start a gRPC backend named `name` (HTTP/2 with prior knowledge, as Envoy's h2c clusters
/// speak it).
pub async fn grpc_backend(name: &str) -> GrpcBackend {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let (name, seen2) = (name.to_string(), seen.clone());
    let (addr, task) = serve_h2(move |req| {
        let answer = Answer { name: name.clone(), path: req.uri().path().to_string(), seen: seen2.clone() };
        async move { tonic::server::Grpc::new(Raw).unary(answer, req).await }
    })
    .await;
    GrpcBackend { addr, seen, task }
}

/// Serve gRPC on a free port of 127.0.0.1, HTTP/2 with prior knowledge (as Envoy's h2c
/// clusters speak it): each request to `handle`. Stops when the task is aborted.
pub async fn serve_h2<F, Fut>(handle: F) -> (SocketAddr, tokio::task::JoinHandle<()>)
where
    F: Fn(hyper::Request<hyper::body::Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = http::Response<tonic::body::Body>> + Send + 'static,
{
    serve_h2_on(TcpListener::bind("127.0.0.1:0").await.expect("bind grpc server"), handle)
}

/// [`serve_h2`] on a listener bound already.
pub fn serve_h2_on<F, Fut>(listener: TcpListener, handle: F) -> (SocketAddr, tokio::task::JoinHandle<()>)
where
    F: Fn(hyper::Request<hyper::body::Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = http::Response<tonic::body::Body>> + Send + 'static,
{
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            // Headers, message and trailers are separate writes: without this, Nagle holds
            // the later ones for the peer's delayed ACK (about 40 ms a call).
            let _ = stream.set_nodelay(true);
            let handle = handle.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let reply = handle(req);
                    async move { Ok::<_, std::convert::Infallible>(reply.await) }
                });
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    (addr, task)
}

/// A gRPC client to Envoy on 127.0.0.1:`port`, sending `:authority` `host`.
pub async fn grpc_client(port: u16, host: &str) -> tonic::client::Grpc<tonic::transport::Channel> {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("endpoint")
        .origin(format!("http://{host}").parse().expect("origin"))
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10));
    let channel = endpoint.connect().await.expect("connect to envoy");
    tonic::client::Grpc::new(channel)
}

/// A gRPC client over TLS to Envoy on 127.0.0.1:`port`: SNI and `:authority` `host`, the
/// server certificate checked against `ca_pem`, HTTP/2 chosen by ALPN.
pub async fn grpc_tls_client(port: u16, host: &str, ca_pem: &str) -> tonic::client::Grpc<tonic::transport::Channel> {
    let tls = tonic::transport::ClientTlsConfig::new().ca_certificate(tonic::transport::Certificate::from_pem(ca_pem)).domain_name(host);
    let endpoint = tonic::transport::Endpoint::from_shared(format!("https://127.0.0.1:{port}"))
        .expect("endpoint")
        .origin(format!("https://{host}").parse().expect("origin"))
        .tls_config(tls)
        .expect("tls config")
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10));
    let channel = endpoint.connect().await.expect("connect to envoy over TLS");
    tonic::client::Grpc::new(channel)
}

/// The reply of one unary call: the backend's JSON and the response metadata.
pub struct GrpcReply {
    pub body: serde_json::Value,
    pub metadata: tonic::metadata::MetadataMap,
}

impl GrpcReply {
    pub fn backend(&self) -> String {
        self.body["backend"].as_str().unwrap_or_default().to_string()
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.body["headers"][name].as_str().map(str::to_string)
    }
    pub fn meta(&self, name: &str) -> Option<String> {
        self.metadata.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }
    /// Every value of a response metadata key, in order.
    pub fn meta_all(&self, name: &str) -> Vec<String> {
        self.metadata.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect()
    }
}

/// Call `path` (`/service/method`) with `metadata`; the gRPC status on failure.
pub async fn call(client: &mut tonic::client::Grpc<tonic::transport::Channel>, path: &str, metadata: &[(&'static str, &str)]) -> Result<GrpcReply, Status> {
    let md: Vec<(String, &str)> = metadata.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    call_with(client, path, &md).await
}

/// [`call`] with metadata names known only at run time.
pub async fn call_with(client: &mut tonic::client::Grpc<tonic::transport::Channel>, path: &str, metadata: &[(String, &str)]) -> Result<GrpcReply, Status> {
    client.ready().await.map_err(|e| Status::unavailable(e.to_string()))?;
    let mut req = Request::new(b"ping".to_vec());
    for (k, v) in metadata {
        let key = tonic::metadata::MetadataKey::from_bytes(k.as_bytes()).map_err(|_| Status::internal("bad metadata key"))?;
        req.metadata_mut().append(key, v.parse().map_err(|_| Status::internal("bad metadata"))?);
    }
    let path = http::uri::PathAndQuery::try_from(path).map_err(|e| Status::internal(e.to_string()))?;
    let resp = client.unary(req, path, Raw).await?;
    let metadata = resp.metadata().clone();
    let body = serde_json::from_slice(resp.get_ref()).map_err(|e| Status::internal(e.to_string()))?;
    Ok(GrpcReply { body, metadata })
}

/// The fields of a protobuf message: (number, wire type, varint value or bytes).
fn proto_fields(mut b: &[u8]) -> Vec<(u64, u8, u64, &[u8])> {
    fn varint(b: &mut &[u8]) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = b.split_first()?;
            *b = rest;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    let mut out = Vec::new();
    while let Some(key) = varint(&mut b) {
        let (num, wire) = (key >> 3, (key & 7) as u8);
        match wire {
            0 => match varint(&mut b) {
                Some(v) => out.push((num, 0, v, &[][..])),
                None => break,
            },
            2 => {
                let Some(len) = varint(&mut b).and_then(|l| usize::try_from(l).ok()).filter(|l| *l <= b.len()) else { break };
                let (data, rest) = b.split_at(len);
                out.push((num, 2, 0, data));
                b = rest;
            }
            1 if b.len() >= 8 => b = &b[8..],
            5 if b.len() >= 4 => b = &b[4..],
            _ => break,
        }
    }
    out
}

pub fn proto_bytes(b: &[u8], num: u64) -> Vec<&[u8]> {
    proto_fields(b).into_iter().filter(|(n, w, _, _)| *n == num && *w == 2).map(|(_, _, _, d)| d).collect()
}

/// The request headers of an ext_authz CheckRequest (attributes.request.http.headers).
pub fn check_request_headers(msg: &[u8]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for attrs in proto_bytes(msg, 1) {
        for req in proto_bytes(attrs, 4) {
            for http in proto_bytes(req, 2) {
                for entry in proto_bytes(http, 3) {
                    let (k, v) = (proto_bytes(entry, 1), proto_bytes(entry, 2));
                    if let (Some(k), Some(v)) = (k.first(), v.first()) {
                        out.insert(String::from_utf8_lossy(k).into_owned(), String::from_utf8_lossy(v).into_owned());
                    }
                }
            }
        }
    }
    out
}

pub fn put_len(out: &mut Vec<u8>, num: u64, data: &[u8]) {
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    varint(out, (num << 3) | 2);
    varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

/// An ext_authz CheckResponse: OK with `headers` for the upstream request, or
/// PERMISSION_DENIED (code 7).
pub fn check_response(allow: bool, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    if allow {
        let mut ok = Vec::new();
        for (k, v) in headers {
            let mut hv = Vec::new();
            put_len(&mut hv, 1, k.as_bytes());
            put_len(&mut hv, 2, v.as_bytes());
            let mut opt = Vec::new();
            put_len(&mut opt, 1, &hv);
            put_len(&mut ok, 2, &opt);
        }
        put_len(&mut out, 1, &[]);
        put_len(&mut out, 3, &ok);
    } else {
        put_len(&mut out, 1, &[0x08, 7]);
        put_len(&mut out, 2, &[]);
    }
    out
}

struct Authorize {
    seen: Arc<Mutex<Vec<Seen>>>,
    path: String,
}

impl tonic::server::UnaryService<Vec<u8>> for Authorize {
    type Response = Vec<u8>;
    type Future = std::future::Ready<Result<Response<Vec<u8>>, Status>>;
    fn call(&mut self, req: Request<Vec<u8>>) -> Self::Future {
        let headers = check_request_headers(req.get_ref());
        let allow = headers.get("x-allow").is_some_and(|v| v == "yes");
        let user = headers.get("x-user").cloned().unwrap_or_else(|| "nobody".into());
        if let Ok(mut s) = self.seen.lock() {
            s.push(Seen { path: self.path.clone(), headers });
        }
        std::future::ready(Ok(Response::new(check_response(allow, &[("x-auth-user", &user)]))))
    }
}

/// A gRPC ext_authz service (envoy.service.auth.v3.Authorization) on 127.0.0.1: allows
/// requests whose `x-allow` header is `yes`, adding `x-auth-user` from their `x-user`; denies
/// the rest. Records each check (the method path and the request's headers).
pub async fn grpc_authorizer() -> GrpcBackend {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let seen2 = seen.clone();
    let (addr, task) = serve_h2(move |req| {
        let a = Authorize { seen: seen2.clone(), path: req.uri().path().to_string() };
        async move { tonic::server::Grpc::new(Raw).unary(a, req).await }
    })
    .await;
    GrpcBackend { addr, seen, task }
}

/// An OpenTelemetry collector (OTLP over gRPC) on 127.0.0.1: records each export's method
/// path and message (protobuf bytes, unparsed) and answers with an empty response.
/// Each export's (method path, message bytes).
pub type Exports = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

pub struct Collector {
    pub addr: SocketAddr,
    pub received: Exports,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Export {
    received: Exports,
    path: String,
}

impl tonic::server::UnaryService<Vec<u8>> for Export {
    type Response = Vec<u8>;
    type Future = std::future::Ready<Result<Response<Vec<u8>>, Status>>;
    fn call(&mut self, req: Request<Vec<u8>>) -> Self::Future {
        if let Ok(mut r) = self.received.lock() {
            r.push((self.path.clone(), req.into_inner()));
        }
        std::future::ready(Ok(Response::new(Vec::new())))
    }
}

pub async fn otlp_collector() -> Collector {
    let received: Exports = Arc::default();
    let r2 = received.clone();
    let (addr, task) = serve_h2(move |req| {
        let e = Export { received: r2.clone(), path: req.uri().path().to_string() };
        async move { tonic::server::Grpc::new(Raw).unary(e, req).await }
    })
    .await;
    Collector { addr, received, task }
}

/// A span of an OTLP trace export: its name, kind (2 server, 3 client) and string attributes.
#[derive(Debug, Clone)]
pub struct Span {
    pub name: String,
    pub kind: u64,
    pub attributes: BTreeMap<String, String>,
}

/// The string attributes of a KeyValue list (field `num` of `msg`).
fn string_attributes(msg: &[u8], num: u64) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for kv in proto_bytes(msg, num) {
        let (k, v) = (proto_bytes(kv, 1), proto_bytes(kv, 2));
        if let (Some(k), Some(v)) = (k.first(), v.first())
            && let Some(s) = proto_bytes(v, 1).first()
        {
            out.insert(String::from_utf8_lossy(k).into_owned(), String::from_utf8_lossy(s).into_owned());
        }
    }
    out
}

/// The resource attributes and spans of an ExportTraceServiceRequest.
pub fn otlp_spans(msg: &[u8]) -> Vec<(BTreeMap<String, String>, Span)> {
    let mut out = Vec::new();
    for rs in proto_bytes(msg, 1) {
        let resource = proto_bytes(rs, 1).first().map(|r| string_attributes(r, 1)).unwrap_or_default();
        for ss in proto_bytes(rs, 2) {
            for span in proto_bytes(ss, 2) {
                let fields = proto_fields(span);
                let name = fields.iter().find(|f| f.0 == 5 && f.1 == 2).map(|f| String::from_utf8_lossy(f.3).into_owned()).unwrap_or_default();
                let kind = fields.iter().find(|f| f.0 == 6 && f.1 == 0).map_or(0, |f| f.2);
                out.push((resource.clone(), Span { name, kind, attributes: string_attributes(span, 9) }));
            }
        }
    }
    out
}
