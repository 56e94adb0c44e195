//! Swarm mode, which Berth does not run: answered as dockerd answers on a
//! node outside any swarm (503), so clients that tidy up with
//! `swarm leave --force` or probe `/swarm` carry on.

use http::StatusCode;

use crate::error::ApiError;

const NOT_MANAGER: &str = "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" \
                           to connect this node to swarm and try again.";

/// `/swarm`, `/nodes`, `/services`, `/tasks`, `/secrets`, `/configs` and everything below them.
pub async fn not_manager() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, NOT_MANAGER)
}

/// `POST /swarm/leave`.
pub async fn leave() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "This node is not part of a swarm")
}

/// `POST /swarm/init`, `/swarm/join`.
pub async fn unsupported() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "swarm mode is not supported by Berth")
}
