//! The accept loop: HTTP/1.1 with keep-alive on each connection (hyper), plus the means to reset a
//! connection on purpose.

use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::router;
use crate::state::App;

/// Serves until `shutdown` turns true.
pub async fn serve(listener: TcpListener, app: Arc<App>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => { tokio::spawn(connection(stream, app.clone())); }
                // Out of file descriptors or similar: back off briefly rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            _ = shutdown.changed() => return,
        }
    }
}

async fn connection(stream: TcpStream, app: Arc<App>) {
    let _ = stream.set_nodelay(true);
    // A second descriptor of the same socket: after SO_LINGER 0 is set on it, the last close sends RST.
    let resetter = reset_handle(&stream);
    let service = service_fn(move |req| {
        let app = app.clone();
        let resetter = resetter.clone();
        async move {
            let result = router::handle(&app, req).await;
            if result.is_err() {
                if let Some(sock) = &resetter {
                    let _ = sock.set_linger(Some(Duration::ZERO));
                }
            }
            result
        }
    });
    let _ = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

#[cfg(unix)]
fn reset_handle(stream: &TcpStream) -> Option<Arc<socket2::Socket>> {
    use std::os::fd::AsFd;
    let fd = stream.as_fd().try_clone_to_owned().ok()?;
    Some(Arc::new(socket2::Socket::from(fd)))
}

#[cfg(not(unix))]
fn reset_handle(_stream: &TcpStream) -> Option<Arc<socket2::Socket>> {
    None // the connection is still dropped without an answer, with FIN instead of RST
}
