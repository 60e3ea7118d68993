//! The HTTP face of Stratus: FunctionGraph v2 routes, AK/SK authentication, error
//! bodies, `/healthz`, and the API gateway listener of APIG triggers. The only crate
//! that knows the public API's HTTP types.

mod apps;
mod asyncs;
mod auth;
mod convert;
mod dependencies;
mod error;
mod events;
mod functions;
mod gateway;
mod import;
mod invoke;
mod logs;
mod reserved;
mod templates;
mod triggers;
mod versions;

pub use error::ApiError;
pub use functions::ConfigJson;
pub use gateway::router as gateway_router;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use stratus_engine::Engine;
use stratus_store::Store;

/// Largest request body read before authentication: a 50 MB package as base64 in JSON.
pub const MAX_BODY: usize = 72 * 1024 * 1024;

/// Shared state of the handlers: one `Arc`, so the per-request clones axum makes (one per
/// `State` extractor and middleware) are a single reference count, not one per engine part.
#[derive(Clone)]
pub struct AppState(Arc<ApiState>);

impl AppState {
    /// Wraps the state.
    pub fn new(state: ApiState) -> Self {
        AppState(Arc::new(state))
    }
}

impl std::ops::Deref for AppState {
    type Target = ApiState;
    fn deref(&self) -> &ApiState {
        &self.0
    }
}

/// What the handlers share.
pub struct ApiState {
    /// The engine.
    pub engine: Engine,
    /// The store (access keys).
    pub store: Arc<dyn Store>,
    /// Allowed difference between `X-Sdk-Date` and the server clock.
    pub clock_skew: Duration,
    /// Put the canonical request into signature errors (debugging clients).
    pub debug_auth: bool,
    /// Serialised function configurations (`GET …/config`).
    pub config_json: ConfigJson,
}

/// The complete router.
pub fn router(state: AppState) -> Router {
    let fgs = Router::new()
        .route(
            "/v2/{project_id}/fgs/functions",
            get(functions::list).post(functions::create),
        )
        .route(
            "/v2/{project_id}/fgs/functions/import",
            post(import::import),
        )
        .route(
            "/v2/{project_id}/fgs/functions/reservedinstances",
            get(reserved::list),
        )
        .route(
            "/v2/{project_id}/fgs/functions/reservedinstanceconfigs",
            get(reserved::configs),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/reservedinstances",
            put(reserved::put),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/instancereports",
            get(reserved::report),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}",
            axum::routing::delete(functions::delete),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/config",
            get(functions::get_config).put(functions::update_config),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/code",
            get(functions::get_code).put(functions::update_code),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/code/package",
            get(functions::download_package),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/config-max-instance",
            put(functions::max_instances),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/export",
            get(functions::export),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/invocations",
            post(invoke::sync),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/logs",
            get(logs::query),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/versions",
            get(versions::list).post(versions::publish),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/aliases",
            get(versions::list_aliases).post(versions::create_alias),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/aliases/{alias_name}",
            get(versions::get_alias)
                .put(versions::update_alias)
                .delete(versions::delete_alias),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/invocations-async",
            post(asyncs::invoke),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/async-invocations",
            get(asyncs::list),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/active-async-invocations",
            get(asyncs::list_active),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/cancel",
            post(asyncs::cancel),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/async-invoke-config",
            get(asyncs::get_config)
                .put(asyncs::put_config)
                .delete(asyncs::delete_config),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/async-invoke-configs",
            get(asyncs::list_configs),
        )
        .route(
            "/v2/{project_id}/fgs/triggers/{function_urn}",
            get(triggers::list)
                .post(triggers::create)
                .delete(triggers::delete_all),
        )
        .route(
            "/v2/{project_id}/fgs/triggers/{function_urn}/{trigger_type_code}/{trigger_id}",
            get(triggers::get)
                .put(triggers::update)
                .delete(triggers::delete),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/events",
            get(events::list).post(events::create),
        )
        .route(
            "/v2/{project_id}/fgs/functions/{function_urn}/events/{event_id}",
            get(events::show).put(events::update).delete(events::delete),
        )
        .route("/v2/{project_id}/fgs/templates", get(templates::list))
        .route(
            "/v2/{project_id}/fgs/templates/{template_id}",
            get(templates::show),
        )
        .route(
            "/v2/{project_id}/fgs/event-templates",
            get(events::list_templates),
        )
        .route(
            "/v2/{project_id}/fgs/event-templates/{name}",
            get(events::show_template),
        )
        .route("/v2/{project_id}/fgs/dependencies", get(dependencies::list))
        .route(
            "/v2/{project_id}/fgs/dependencies/version",
            post(dependencies::create),
        )
        .route(
            "/v2/{project_id}/fgs/dependencies/{depend_id}/version",
            get(dependencies::versions),
        )
        .route(
            "/v2/{project_id}/fgs/dependencies/{depend_id}/version/{version}",
            get(dependencies::show).delete(dependencies::delete),
        )
        .route(
            "/v2/{project_id}/fgs/dependencies/{depend_id}/version/{version}/package",
            get(dependencies::package),
        )
        .route(
            "/v2/{project_id}/apigw/apps",
            get(apps::list).post(apps::create),
        )
        .route(
            "/v2/{project_id}/apigw/apps/{app_id}",
            axum::routing::delete(apps::delete),
        )
        .fallback(error::not_found_route)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/healthz/prewarm",
            get(
                |axum::extract::State(s): axum::extract::State<AppState>| async move {
                    axum::Json(s.engine.invoker.prewarm_status())
                },
            ),
        )
        .merge(fgs)
        .layer(DefaultBodyLimit::disable())
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error::panic_response,
        ))
        .layer(axum::middleware::from_fn(error::request_id))
        .with_state(state)
}
