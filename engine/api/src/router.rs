//! The route table. It reads like the Engine API: one line per endpoint.

use axum::extract::State;
use axum::routing::{any, delete, get, post};
use axum::Router;

use crate::error::ApiError;
use crate::handlers::{
    archive, attach, auth, build, container_create, containers, events, exec, images, networks, plugins, stats, swarm,
    system, volumes,
};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/_ping", get(system::ping).head(system::ping))
        .route("/version", get(system::version))
        .route("/info", get(system::info))
        .route("/auth", post(auth::login))
        .route("/system/df", get(system::disk_usage))
        .route("/events", get(events::events))
        .route("/containers/create", post(container_create::create))
        .route("/containers/json", get(containers::list))
        .route("/containers/{id}/json", get(containers::inspect))
        .route("/containers/{id}/start", post(containers::start))
        .route("/containers/{id}/stop", post(containers::stop))
        .route("/containers/{id}/kill", post(containers::kill))
        .route("/containers/{id}/wait", post(containers::wait))
        .route("/containers/{id}/logs", get(attach::logs))
        .route("/containers/{id}/attach", post(attach::attach))
        .route("/containers/{id}/attach/ws", get(attach::attach_ws))
        .route("/containers/{id}/resize", post(attach::resize))
        .route("/containers/{id}/exec", post(exec::create))
        .route("/containers/{id}/restart", post(containers::restart))
        .route("/containers/{id}/pause", post(containers::pause))
        .route("/containers/{id}/unpause", post(containers::unpause))
        .route("/containers/{id}/rename", post(containers::rename))
        .route("/containers/{id}/update", post(containers::update))
        .route("/containers/{id}/top", get(containers::top))
        .route("/containers/prune", post(containers::prune))
        .route("/containers/{id}/stats", get(stats::stats))
        .route("/containers/{id}/archive", get(archive::get).head(archive::head).put(archive::put))
        .route("/containers/{id}/export", get(archive::export))
        .route("/commit", post(images::commit))
        .route("/build", post(build::build))
        .route("/build/prune", post(build::prune))
        .route("/containers/{id}/changes", get(archive::changes))
        .route("/containers/{id}", delete(containers::remove))
        .route("/exec/{id}/start", post(exec::start))
        .route("/exec/{id}/json", get(exec::inspect))
        .route("/exec/{id}/resize", post(exec::resize))
        .route("/networks", get(networks::list))
        .route("/networks/create", post(networks::create))
        .route("/networks/prune", post(networks::prune))
        .route("/networks/{id}", get(networks::inspect).delete(networks::remove))
        .route("/networks/{id}/connect", post(networks::connect))
        .route("/networks/{id}/disconnect", post(networks::disconnect))
        .route("/volumes", get(volumes::list))
        .route("/volumes/create", post(volumes::create))
        .route("/volumes/prune", post(volumes::prune))
        .route("/volumes/{name}", get(volumes::inspect).delete(volumes::remove))
        .route("/images/create", post(images::create))
        .route("/images/json", get(images::list))
        .route("/images/prune", post(images::prune))
        .route("/images/get", get(images::save_many))
        .route("/images/load", post(images::load))
        .route("/images/search", get(images::search))
        .route("/distribution/{*name}", get(images::distribution))
        // Names contain `/`: `{name}/json`, `{name}/history`, `{name}/tag` are split in the handlers.
        .route("/images/{*name}", get(images::get_named).post(images::post_named).delete(images::delete))
        .route("/plugins", get(plugins::list))
        .route("/plugins/privileges", get(plugins::unsupported))
        .route("/plugins/pull", post(plugins::unsupported))
        .route("/plugins/create", post(plugins::unsupported))
        .route("/plugins/{*name}", any(plugins::named))
        .route("/swarm", get(swarm::not_manager))
        .route("/swarm/leave", post(swarm::leave))
        .route("/swarm/init", post(swarm::unsupported))
        .route("/swarm/join", post(swarm::unsupported))
        .route("/swarm/{*rest}", any(swarm::not_manager))
        .route("/nodes", get(swarm::not_manager))
        .route("/nodes/{*rest}", any(swarm::not_manager))
        .route("/services", get(swarm::not_manager))
        .route("/services/{*rest}", any(swarm::not_manager))
        .route("/tasks", get(swarm::not_manager))
        .route("/tasks/{*rest}", any(swarm::not_manager))
        .route("/secrets", get(swarm::not_manager))
        .route("/secrets/{*rest}", any(swarm::not_manager))
        .route("/configs", get(swarm::not_manager))
        .route("/configs/{*rest}", any(swarm::not_manager))
        .fallback(fallback)
        .method_not_allowed_fallback(not_found)
        .with_state(state)
}

/// dockerd answers both unknown paths and wrong methods with this.
async fn not_found() -> ApiError {
    ApiError::not_found("page not found")
}

/// Unknown paths, and the one the table cannot hold: a legacy link's
/// removal, `DELETE /containers/PARENT/ALIAS?link=1`, whose name has a slash
/// (docker-py even sends `/containers//PARENT/ALIAS`).
async fn fallback(
    State(state): State<AppState>,
    method: http::Method,
    uri: http::Uri,
) -> Result<http::StatusCode, ApiError> {
    let link = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .any(|(k, v)| k == "link" && matches!(v.as_ref(), "1" | "true" | "True"));
    let name = uri.path().strip_prefix("/containers/").map(|n| n.trim_matches('/'));
    match (method == http::Method::DELETE && link, name.and_then(|n| n.rsplit_once('/'))) {
        (true, Some((parent, alias))) => {
            state.containers.remove_link(parent, alias)?;
            Ok(http::StatusCode::NO_CONTENT)
        }
        _ => Err(not_found().await),
    }
}
