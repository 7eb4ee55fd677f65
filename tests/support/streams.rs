//! Raw TCP, UDP and TLS backends and clients for the stream route kinds: each backend names
//! itself, so a client knows where its connection went.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use super::free_port;

/// A TCP backend: greets each connection with its name and a newline, then echoes.
pub async fn tcp_backend(name: &str) -> SocketAddr {
    let name = name.to_string();
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let name = name.clone();
            tokio::spawn(async move {
                if s.write_all(format!("{name}\n").as_bytes()).await.is_err() {
                    return;
                }
                let mut buf = [0u8; 1024];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// A TLS backend with its own certificate: after the handshake, greets with its name.
pub async fn tls_backend(name: &str, cert_pem: &str, key_pem: &str) -> SocketAddr {
    let name = name.to_string();
    let certs: Vec<_> = rustls_pemfile_certs(cert_pem);
    let key = rustls::pki_types::PrivateKeyDer::try_from(pem_der(key_pem)).expect("key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let acceptor = acceptor.clone();
            let name = name.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(s).await {
                    let _ = tls.write_all(format!("{name}\n").as_bytes()).await;
                    let _ = tls.flush().await;
                    let mut buf = [0u8; 64];
                    let _ = tls.read(&mut buf).await;
                }
            });
        }
    });
    addr
}

pub fn pem_der(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).expect("pem base64")
}

pub fn rustls_pemfile_certs(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    pem.split("-----END CERTIFICATE-----").filter(|b| b.contains("BEGIN CERTIFICATE")).map(|b| pem_der(b).into()).collect()
}

/// A UDP backend: answers each datagram with its name.
pub async fn udp_backend(name: &str) -> SocketAddr {
    let name = name.to_string();
    let s = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
    let addr = s.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((_, from)) = s.recv_from(&mut buf).await {
            let _ = s.send_to(name.as_bytes(), from).await;
        }
    });
    addr
}

/// A port free for both TCP and UDP on 127.0.0.1.
pub fn free_tcp_udp_port() -> u16 {
    loop {
        let p = free_port();
        if std::net::UdpSocket::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
}

/// The greeting of the backend a plain TCP connection reaches; Err if the connection is
/// refused or closed without one.
pub async fn tcp_greeting(port: u16) -> Result<String, String> {
    let fut = async {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
        let name = read_line(&mut s).await?;
        s.write_all(b"ping").await.map_err(|e| e.to_string())?;
        let mut echo = [0u8; 4];
        s.read_exact(&mut echo).await.map_err(|e| e.to_string())?;
        if &echo != b"ping" {
            return Err("no echo".into());
        }
        Ok(name)
    };
    tokio::time::timeout(Duration::from_secs(5), fut).await.map_err(|_| "timeout".to_string())?
}

pub async fn read_line<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Result<String, String> {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    loop {
        match s.read(&mut b).await {
            Ok(0) => return Err("closed".into()),
            Ok(_) if b[0] == b'\n' => return Ok(String::from_utf8_lossy(&line).into_owned()),
            Ok(_) => line.push(b[0]),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// TLS to Envoy with `sni`, trusting only `ca`: (the greeting, the DER of the certificate the
/// client was shown).
pub async fn tls_greeting(port: u16, sni: &str, ca: &rustls::pki_types::CertificateDer<'static>) -> Result<(String, Vec<u8>), String> {
    tls_greeting_as(port, sni, ca, None).await
}

/// [`tls_greeting`], presenting `client` (certificate PEM, key PEM) when given.
pub async fn tls_greeting_as(port: u16, sni: &str, ca: &rustls::pki_types::CertificateDer<'static>, client: Option<&(String, String)>) -> Result<(String, Vec<u8>), String> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).map_err(|e| e.to_string())?;
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    let config = match client {
        Some((crt, key)) => {
            let chain = rustls::pki_types::CertificateDer::pem_slice_iter(crt.as_bytes()).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
            let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|e| e.to_string())?;
            builder.with_client_auth_cert(chain, key).map_err(|e| e.to_string())?
        }
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls::pki_types::ServerName::try_from(sni.to_string()).map_err(|e| e.to_string())?;
    let fut = async {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
        let mut tls = connector.connect(name, tcp).await.map_err(|e| format!("tls: {e}"))?;
        let shown = tls.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| c.to_vec()).unwrap_or_default();
        let greeting = read_line(&mut tls).await?;
        Ok((greeting, shown))
    };
    tokio::time::timeout(Duration::from_secs(5), fut).await.map_err(|_| "timeout".to_string())?
}

