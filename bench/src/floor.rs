//! The physical floor of the API path: a minimal hyper HTTP/1.1 server on loopback that
//! answers every request with `200 ok`. It runs on its own multi-threaded tokio runtime with
//! as many workers as `stratus serve` uses (one per CPU), so the only difference from the
//! real server is everything Stratus does per request.

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;

/// A running floor server; stops on drop.
pub struct Floor {
    /// Its address.
    pub addr: SocketAddr,
    rt: Option<tokio::runtime::Runtime>,
}

impl Floor {
    /// Starts the server on `127.0.0.1:0`.
    pub fn start() -> anyhow::Result<Floor> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("bench-floor")
            .build()?;
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        rt.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = service_fn(|_req: Request<hyper::body::Incoming>| async {
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Floor { addr, rt: Some(rt) })
    }

    /// The bare request target for this server.
    pub fn target(&self) -> crate::client::Bare {
        crate::client::Bare {
            host: self.addr.to_string(),
        }
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}
