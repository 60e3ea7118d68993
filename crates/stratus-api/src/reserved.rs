//! Reserved-instance routes.

use crate::auth::Principal;
use crate::error::ApiError;
use crate::functions::{json_body, parse_urn};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use bytes::Bytes;
use std::collections::HashMap;
use stratus_api_types::{
    CronConfigBody, FuncReservedInstance, PageInfo, ReservedBody, ReservedConfigList,
    ReservedConfigView, ReservedListResponse, TacticsConfigBody,
};
use stratus_engine::{ReservedConfig, ReservedInput, ReservedPolicy};
use stratus_store::FunctionKey;
use stratus_types::Urn;

fn tactics(p: &ReservedPolicy) -> TacticsConfigBody {
    TacticsConfigBody {
        cron_configs: Some(
            p.cron_configs
                .iter()
                .map(|c| CronConfigBody {
                    name: Some(c.name.clone()),
                    cron: Some(c.cron.clone()),
                    count: Some(i64::from(c.count)),
                    start_time: Some(c.start_time),
                    expired_time: Some(c.expired_time),
                })
                .collect(),
        ),
        metric_configs: Some(Vec::new()),
    }
}

/// `PUT .../{function_urn}/reservedinstances` (a version or alias URN; `count` 0 removes
/// the policy).
pub async fn put(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<ReservedBody>, ApiError> {
    let urn = parse_urn(&who.project_id, &urn)?;
    let body: ReservedBody = json_body(&body)?;
    let t = body.tactics_config.clone().unwrap_or_default();
    let input = ReservedInput {
        count: body.count,
        idle_mode: body.idle_mode,
        cron_configs: t
            .cron_configs
            .unwrap_or_default()
            .into_iter()
            .map(|c| (c.name, c.cron, c.count, c.start_time, c.expired_time))
            .collect(),
        has_metric_rules: t.metric_configs.is_some_and(|m| !m.is_empty()),
    };
    let c = state
        .engine
        .reserved
        .put(&who.project_id, &urn, &input)
        .await?;
    Ok(Json(ReservedBody {
        count: Some(i64::from(c.policy.count)),
        idle_mode: Some(c.policy.idle_mode),
        tactics_config: Some(tactics(&c.policy)),
    }))
}

fn page(q: &HashMap<String, String>) -> Result<(usize, usize), ApiError> {
    let num = |k: &str, d: usize| -> Result<usize, ApiError> {
        match q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => Ok(d),
            Some(s) => s.parse().map_err(|_| {
                ApiError::bad_request(format!("invalid {k}: {s:?} is not a non-negative integer"))
            }),
        }
    };
    let limit = match num("limit", 100)? {
        0 => 100,
        n => n.min(500),
    };
    Ok((num("marker", 0)?, limit))
}

/// The function a `urn` / `function_urn` query names, if any.
async fn function_filter(
    state: &AppState,
    who: &Principal,
    raw: Option<&String>,
) -> Result<Option<String>, ApiError> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(None);
    };
    let urn = parse_urn(&who.project_id, raw.trim())?;
    let key = FunctionKey {
        project_id: urn.project_id.clone(),
        package: urn.package.clone(),
        name: urn.name.clone(),
    };
    Ok(Some(state.engine.functions.get(&key).await?.id.clone()))
}

fn qualified(c: &ReservedConfig) -> String {
    format!("{}:{}", c.function_urn, c.qualifier)
}

fn mine(state: &AppState, who: &Principal, f: Option<&str>) -> Vec<(String, ReservedConfig)> {
    state
        .engine
        .reserved
        .configs_with_ids(f)
        .into_iter()
        .filter(|(_, c)| Urn::parse(&c.function_urn).is_ok_and(|u| u.project_id == who.project_id))
        .collect()
}

/// `GET /fgs/functions/reservedinstances?urn=`: reserved instances alive per qualifier.
pub async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(_): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<ReservedListResponse>, ApiError> {
    let f = function_filter(&state, &who, q.get("urn")).await?;
    let (marker, limit) = page(&q)?;
    let all = mine(&state, &who, f.as_deref());
    let items: Vec<FuncReservedInstance> = all
        .iter()
        .skip(marker)
        .take(limit)
        .map(|(fid, c)| FuncReservedInstance {
            func_urn: qualified(c),
            count: state.engine.reserved.live(fid, &c.qualifier) as i64,
        })
        .collect();
    Ok(Json(ReservedListResponse {
        page_info: PageInfo {
            next_marker: (marker + items.len()) as i64,
            previous_marker: marker as i64,
            current_count: items.len() as i64,
        },
        reservedinstances: items,
        count: all.len(),
    }))
}

/// `GET /fgs/functions/reservedinstanceconfigs?function_urn=`.
pub async fn configs(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(_): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<ReservedConfigList>, ApiError> {
    let f = function_filter(&state, &who, q.get("function_urn")).await?;
    let (marker, limit) = page(&q)?;
    let all = mine(&state, &who, f.as_deref());
    let items: Vec<ReservedConfigView> = all
        .iter()
        .skip(marker)
        .take(limit)
        .map(|(_, c)| ReservedConfigView {
            function_urn: c.function_urn.clone(),
            qualifier_type: if c.qualifier.starts_with('!') {
                "alias"
            } else {
                "version"
            }
            .into(),
            qualifier_name: c.qualifier.trim_start_matches('!').to_string(),
            min_count: i64::from(c.policy.count),
            idle_mode: c.policy.idle_mode,
            tactics_config: tactics(&c.policy),
        })
        .collect();
    Ok(Json(ReservedConfigList {
        page_info: PageInfo {
            next_marker: (marker + items.len()) as i64,
            previous_marker: marker as i64,
            current_count: items.len() as i64,
        },
        reserved_instances: items,
        count: all.len(),
    }))
}

/// `GET .../{func_urn}/instancereports`: instances and reserved instances
/// (`reservedinstancenum`) over the last hour, one point a minute, the current one last;
/// the keys are camel-case, as the SDK model maps them.
pub async fn report(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Some(fid) = function_filter(&state, &who, Some(&urn)).await? else {
        return Err(ApiError::bad_request("invalid func_urn: it is required"));
    };
    let points = state.engine.reserved.report(&fid);
    let series = |pick: fn(&(i64, usize, usize)) -> usize| -> Vec<serde_json::Value> {
        points
            .iter()
            .map(|p| serde_json::json!({"timestamp": p.0, "value": pick(p) as f64}))
            .collect()
    };
    Ok(Json(serde_json::json!({
        "instanceNum": series(|p| p.1),
        "reservedInstanceNum": series(|p| p.2),
    })))
}
