//! A rate-limit service for the tests: Envoy's gRPC `RateLimitService/ShouldRateLimit`, with
//! the messages decoded and encoded by hand (a few protobuf fields), counting each descriptor
//! as envoyproxy/ratelimit does by the configuration files gatewayc wrote (read with
//! gatewayc's YAML loader): a descriptor walks the tree entry by entry (a node with a value
//! matches that value, one without matches any value and counts each apart), and the leaf's
//! `requests_per_unit` is how many it may have (the tests stay within one unit of time).

use super::grpc::Raw;
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tonic::{Request, Response, Status};

/// One descriptor entry Envoy sent.
pub type Entry = (String, String);
/// Every request's (domain, descriptors), in arrival order.
pub type Seen = Arc<Mutex<Vec<(String, Vec<Vec<Entry>>)>>>;

pub struct RateLimitService {
    pub addr: SocketAddr,
    pub seen: Seen,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RateLimitService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The domains of the configuration files under `dir` (their descriptor trees).
pub fn load_config(dir: &std::path::Path) -> HashMap<String, Value> {
    let input = gatewayc::source::Input::parse(dir.to_str().expect("utf-8 path"));
    let loaded = gatewayc::source::load(&[input], &mut std::io::empty());
    assert!(loaded.diagnostics.is_empty(), "ratelimit config does not parse: {:?}", loaded.diagnostics);
    let mut domains = HashMap::new();
    for d in loaded.documents {
        let domain = d.value["domain"].as_str().expect("domain").to_string();
        domains.insert(domain, d.value["descriptors"].clone());
    }
    assert!(!domains.is_empty(), "no ratelimit configuration under {}", dir.display());
    domains
}

fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i)?;
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The length-delimited and varint fields of one message: (field number, bytes or value).
fn fields(b: &[u8]) -> Vec<(u64, Result<&[u8], u64>)> {
    let (mut out, mut i) = (Vec::new(), 0);
    while i < b.len() {
        let Some(tag) = varint(b, &mut i) else { break };
        match tag & 7 {
            0 => match varint(b, &mut i) {
                Some(v) => out.push((tag >> 3, Err(v))),
                None => break,
            },
            2 => {
                let Some(len) = varint(b, &mut i) else { break };
                let end = i + len as usize;
                let Some(body) = b.get(i..end) else { break };
                out.push((tag >> 3, Ok(body)));
                i = end;
            }
            _ => break,
        }
    }
    out
}

/// RateLimitRequest: domain (1), descriptors (2: entries (1: key 1, value 2)).
fn decode(b: &[u8]) -> (String, Vec<Vec<Entry>>) {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let (mut domain, mut descriptors) = (String::new(), Vec::new());
    for (n, v) in fields(b) {
        match (n, v) {
            (1, Ok(d)) => domain = text(d),
            (2, Ok(d)) => {
                let entries = fields(d)
                    .into_iter()
                    .filter_map(|(n, v)| (n == 1).then_some(v).and_then(Result::ok))
                    .map(|e| {
                        let (mut k, mut v) = (String::new(), String::new());
                        for (n, f) in fields(e) {
                            match (n, f) {
                                (1, Ok(x)) => k = text(x),
                                (2, Ok(x)) => v = text(x),
                                _ => {}
                            }
                        }
                        (k, v)
                    })
                    .collect();
                descriptors.push(entries);
            }
            _ => {}
        }
    }
    (domain, descriptors)
}

/// The limit of one descriptor and the counter it counts in, if the tree has it.
fn limit(tree: &Value, entries: &[Entry]) -> Option<(u64, bool, String)> {
    let mut nodes = tree.as_array()?;
    let mut counter = String::new();
    let mut found = None;
    for (i, (k, v)) in entries.iter().enumerate() {
        let node = nodes
            .iter()
            .find(|n| n["key"] == k.as_str() && n["value"].as_str() == Some(v))
            .or_else(|| nodes.iter().find(|n| n["key"] == k.as_str() && n.get("value").is_none()))?;
        counter.push_str(&format!("{k}={v};"));
        if i + 1 == entries.len() {
            let l = &node["rate_limit"];
            found = Some((l["requests_per_unit"].as_u64()?, node["shadow_mode"].as_bool().unwrap_or(false), counter.clone()));
        } else {
            nodes = node["descriptors"].as_array()?;
        }
    }
    found
}

struct Check {
    config: Arc<HashMap<String, Value>>,
    counts: Arc<Mutex<HashMap<(String, String), u64>>>,
    seen: Seen,
}

impl tonic::server::UnaryService<Vec<u8>> for Check {
    type Response = Vec<u8>;
    type Future = std::future::Ready<Result<Response<Vec<u8>>, Status>>;
    fn call(&mut self, req: Request<Vec<u8>>) -> Self::Future {
        let (domain, descriptors) = decode(req.get_ref());
        let mut over = false;
        if let (Some(tree), Ok(mut counts)) = (self.config.get(&domain), self.counts.lock()) {
            for d in &descriptors {
                if let Some((max, shadow, counter)) = limit(tree, d) {
                    let n = counts.entry((domain.clone(), counter)).or_insert(0);
                    *n += 1;
                    over |= *n > max && !shadow;
                }
            }
        }
        if let Ok(mut s) = self.seen.lock() {
            s.push((domain, descriptors));
        }
        // RateLimitResponse.overall_code (1): OK = 1, OVER_LIMIT = 2.
        std::future::ready(Ok(Response::new(vec![0x08, if over { 2 } else { 1 }])))
    }
}

/// Start the service on `listener` (bound before gatewayc is told its address) with the
/// configuration under `dir`.
pub async fn rate_limit_service(listener: TcpListener, dir: &std::path::Path) -> RateLimitService {
    let config = Arc::new(load_config(dir));
    let counts: Arc<Mutex<HashMap<(String, String), u64>>> = Arc::default();
    let seen: Seen = Arc::default();
    let seen2 = seen.clone();
    let (addr, task) = super::grpc::serve_h2_on(listener, move |req| {
        let check = Check { config: config.clone(), counts: counts.clone(), seen: seen2.clone() };
        async move { tonic::server::Grpc::new(Raw).unary(check, req).await }
    });
    RateLimitService { addr, seen, task }
}
