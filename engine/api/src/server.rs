//! Serving the API on a UNIX socket, with upgrades for hijacked streams and
//! a graceful shutdown.

use std::future::Future;

use axum::extract::Request;
use axum::Router;
use axum::ServiceExt;
use tokio::net::UnixListener;
use tower::Layer;

use crate::version;

/// Serves `routes` on `listener` until `shutdown` resolves and the open
/// requests have finished. Version negotiation wraps the router (rather than
/// being a route layer) so `/v1.NN/` prefixes are stripped before routing.
pub async fn serve(
    listener: UnixListener,
    routes: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = axum::middleware::from_fn(version::negotiate).layer(routes);
    axum::serve(listener, ServiceExt::<Request>::into_make_service(app)).with_graceful_shutdown(shutdown).await
}
