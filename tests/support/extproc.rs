//! An external processor for the tests (envoy.service.ext_proc.v3.ExternalProcessor, one
//! bidirectional stream per HTTP request) on 127.0.0.1: records the request and response
//! headers it is sent; to the request it adds `x-processed: <name>` and replaces
//! `x-rewrite` with `rewritten`; to the response it adds `x-processed-response: <name>`. Body
//! and trailer messages are answered unchanged. Messages are decoded by hand (protobuf field
//! numbers from Envoy's ext_proc proto).

use super::grpc::{GrpcBackend, Raw, Seen, proto_bytes, put_len, serve_h2};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

/// The headers of an HttpHeaders message (headers=1: HeaderMap, headers=1: HeaderValue
/// {key=1, value=2, raw_value=3}).
fn headers(http_headers: &[u8]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for map in proto_bytes(http_headers, 1) {
        for hv in proto_bytes(map, 1) {
            let key = proto_bytes(hv, 1).first().map(|k| String::from_utf8_lossy(k).into_owned());
            let value = proto_bytes(hv, 3).first().or(proto_bytes(hv, 2).first()).map(|v| String::from_utf8_lossy(v).into_owned());
            if let (Some(k), Some(v)) = (key, value) {
                out.insert(k, v);
            }
        }
    }
    out
}

/// A CommonResponse that sets `set` (HeaderMutation set_headers=1: HeaderValueOption
/// {header=1: HeaderValue{key=1, raw_value=3}}).
fn common(set: &[(&str, &str)]) -> Vec<u8> {
    let mut mutation = Vec::new();
    for (k, v) in set {
        let mut hv = Vec::new();
        put_len(&mut hv, 1, k.as_bytes());
        put_len(&mut hv, 3, v.as_bytes());
        let mut opt = Vec::new();
        put_len(&mut opt, 1, &hv);
        put_len(&mut mutation, 1, &opt);
    }
    let mut out = Vec::new();
    if !set.is_empty() {
        put_len(&mut out, 2, &mutation);
    }
    out
}

/// The answer to one ProcessingRequest: its oneof field (request_headers=2,
/// response_headers=3, request_body=4, response_body=5, request_trailers=6,
/// response_trailers=7) answered in the matching ProcessingResponse field (one lower), with a
/// HeadersResponse/BodyResponse (response=1: CommonResponse) or an empty TrailersResponse.
fn answer(name: &str, msg: &[u8], seen: &Mutex<Vec<Seen>>) -> Option<Vec<u8>> {
    let (field, inner) = (2..=7u64).find_map(|f| proto_bytes(msg, f).first().map(|b| (f, *b)))?;
    let set: Vec<(&str, &str)> = match field {
        2 => vec![("x-processed", name), ("x-rewrite", "rewritten")],
        3 => vec![("x-processed-response", name)],
        _ => vec![],
    };
    if field <= 3
        && let Ok(mut s) = seen.lock()
    {
        s.push(Seen { path: if field == 2 { "request_headers".into() } else { "response_headers".into() }, headers: headers(inner) });
    }
    let mut body = Vec::new();
    if field <= 5 {
        put_len(&mut body, 1, &common(&set));
    }
    let mut out = Vec::new();
    put_len(&mut out, field - 1, &body);
    Some(out)
}

struct Process {
    name: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl tonic::server::StreamingService<Vec<u8>> for Process {
    type Response = Vec<u8>;
    type ResponseStream = ReceiverStream<Result<Vec<u8>, Status>>;
    type Future = std::future::Ready<Result<Response<Self::ResponseStream>, Status>>;
    fn call(&mut self, req: Request<Streaming<Vec<u8>>>) -> Self::Future {
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        let (name, seen) = (self.name.clone(), self.seen.clone());
        let mut incoming = req.into_inner();
        tokio::spawn(async move {
            while let Ok(Some(msg)) = incoming.message().await {
                let Some(reply) = answer(&name, &msg, &seen) else { break };
                if tx.send(Ok(reply)).await.is_err() {
                    break;
                }
            }
        });
        std::future::ready(Ok(Response::new(ReceiverStream::new(rx))))
    }
}

/// Start the processor named `name`; `calls()` lists the header messages it was sent
/// (`path` is `request_headers` or `response_headers`).
pub async fn ext_processor(name: &str) -> GrpcBackend {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let (name, seen2) = (name.to_string(), seen.clone());
    let (addr, task) = serve_h2(move |req| {
        let p = Process { name: name.clone(), seen: seen2.clone() };
        async move { tonic::server::Grpc::new(Raw).streaming(p, req).await }
    })
    .await;
    GrpcBackend::new(addr, seen, task)
}
