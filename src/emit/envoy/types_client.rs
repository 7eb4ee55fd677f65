//! The parts of the Envoy v3 subset we emit that carry a ClientTrafficPolicy: original-IP
//! detection, client certificate details, the PROXY protocol filter, HTTP/1 options and the
//! header case formatter; re-exported by `types`.

use super::types::{StringMatcher, TypedEmpty};
use serde::Serialize;

#[derive(Serialize)]
pub struct IpDetection {
    pub name: &'static str,
    pub typed_config: IpDetectionConfig,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum IpDetectionConfig {
    Xff(XffConfig),
    Header(CustomHeaderConfig),
}

/// The client is an entry of X-Forwarded-For: counted from the right past the trusted hops,
/// or the first (from the right) not from a trusted network.
#[derive(Serialize)]
pub struct XffConfig {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xff_num_trusted_hops: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xff_trusted_cidrs: Option<XffTrustedCidrs>,
    pub skip_xff_append: bool,
}

#[derive(Serialize)]
pub struct XffTrustedCidrs {
    pub cidrs: Vec<CidrRange>,
}

#[derive(Serialize)]
pub struct CidrRange {
    pub address_prefix: String,
    pub prefix_len: u32,
}

#[derive(Serialize)]
pub struct CustomHeaderConfig {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub header_name: String,
    pub allow_extension_to_set_address_as_trusted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_with_status: Option<HttpStatus>,
}

#[derive(Serialize)]
pub struct HttpStatus {
    pub code: u32,
}

/// The parts of the client certificate Envoy adds to `x-forwarded-client-cert`.
#[derive(Serialize)]
pub struct ClientCertDetails {
    pub subject: bool,
    pub cert: bool,
    pub chain: bool,
    pub dns: bool,
    pub uri: bool,
}

#[derive(Serialize)]
pub struct ProxyProtocolConfig {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_requests_without_proxy_protocol: bool,
}

#[derive(Serialize)]
pub struct Http1ProtocolOptions {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub enable_trailers: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub accept_http_10: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_host_for_http_10: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_key_format: Option<HeaderKeyFormat>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignore_http_11_upgrade: Vec<StringMatcher>,
}

/// Header names written as first seen (Envoy's preserve_case formatter).
#[derive(Serialize)]
pub struct HeaderKeyFormat {
    pub stateful_formatter: StatefulFormatter,
}

#[derive(Serialize)]
pub struct StatefulFormatter {
    pub name: &'static str,
    pub typed_config: TypedEmpty,
}

impl HeaderKeyFormat {
    pub fn preserve_case() -> Self {
        HeaderKeyFormat {
            stateful_formatter: StatefulFormatter {
                name: "preserve_case",
                typed_config: TypedEmpty { type_: "type.googleapis.com/envoy.extensions.http.header_formatters.preserve_case.v3.PreserveCaseFormatterConfig" },
            },
        }
    }
}
