//! Function templates: `GET .../fgs/templates` and `GET .../fgs/templates/{template_id}`.

use crate::error::ApiError;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::Json;
use base64::Engine as _;
use std::collections::HashMap;
use stratus_api_types::{
    FunctionTemplateList, FunctionTemplateView, TemplateDetail, TriggerMetadata,
};
use stratus_engine::{FunctionTemplate, FUNCTION_TEMPLATES};

fn view(t: &FunctionTemplate) -> Result<FunctionTemplateView, ApiError> {
    let package = t.package().map_err(ApiError::internal)?;
    Ok(FunctionTemplateView {
        id: t.name.to_string(),
        kind: 1,
        title: t.title.to_string(),
        template_name: t.name.to_string(),
        description: t.description.to_string(),
        runtime: t.runtime.to_string(),
        handler: t.handler.to_string(),
        code_type: "zip".into(),
        code: base64::engine::general_purpose::STANDARD.encode(package),
        timeout: i64::from(t.timeout),
        memory_size: i64::from(t.memory_size),
        trigger_metadata_list: t
            .trigger
            .iter()
            .map(|tr| TriggerMetadata {
                trigger_name: format!("{}-{}", tr.trigger_type.to_ascii_lowercase(), t.name),
                trigger_type: tr.trigger_type.to_string(),
                event_type: tr.event_type.to_string(),
                event_data: "{}".into(),
            })
            .collect(),
        temp_detail: TemplateDetail {
            input: t.test_event.to_string(),
            output: String::new(),
            warning: String::new(),
        },
        user_data: String::new(),
        encrypted_user_data: String::new(),
        dependencies: Vec::new(),
        scene: t.scene.to_string(),
        service: t.service.to_string(),
    })
}

fn number(q: &HashMap<String, String>, field: &str) -> Result<Option<usize>, ApiError> {
    match q.get(field).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "FSS.1001",
                format!("invalid {field} {s:?}: must be a non-negative integer"),
            )
        }),
    }
}

/// `GET /v2/{project_id}/fgs/templates`: filters `runtime`, `scene`, `service` and
/// `ispublic` (every built-in template is public), paged by `marker` and `maxitems`.
pub async fn list(
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<FunctionTemplateList>, ApiError> {
    let marker = number(&q, "marker")?.unwrap_or(0);
    let maxitems = match number(&q, "maxitems")? {
        None | Some(0) => FUNCTION_TEMPLATES.len(),
        Some(n) => n,
    };
    let wanted = |field: &str, value: &str| {
        q.get(field)
            .filter(|s| !s.is_empty())
            .is_none_or(|w| w.eq_ignore_ascii_case(value))
    };
    let public = match q.get("ispublic").map(|s| s.trim().to_ascii_lowercase()) {
        None => true,
        Some(s) if s.is_empty() || s == "true" => true,
        Some(s) if s == "false" => false,
        Some(s) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "FSS.1001",
                format!("invalid ispublic {s:?}: must be true or false"),
            ))
        }
    };
    let matching: Vec<&FunctionTemplate> = FUNCTION_TEMPLATES
        .iter()
        .filter(|t| {
            public
                && wanted("runtime", t.runtime)
                && wanted("scene", t.scene)
                && wanted("service", t.service)
        })
        .collect();
    let page = matching
        .iter()
        .skip(marker)
        .take(maxitems)
        .map(|t| view(t))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(FunctionTemplateList {
        next_marker: (marker + page.len()).min(matching.len()) as i64,
        func_templates: page,
    }))
}

/// `GET /v2/{project_id}/fgs/templates/{template_id}`.
pub async fn show(
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<FunctionTemplateView>, ApiError> {
    match stratus_engine::function_template(&id) {
        Some(t) => Ok(Json(view(t)?)),
        None => {
            let names: Vec<&str> = FUNCTION_TEMPLATES.iter().map(|t| t.name).collect();
            Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "FSS.0404",
                format!(
                    "there is no function template {id:?}; the templates are {}",
                    names.join(", ")
                ),
            ))
        }
    }
}
