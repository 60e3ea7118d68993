//! JSON types of the configuration fields Stratus stores without modelling them (VPC,
//! custom image, log config, GPU, ...). They are echoed back in responses, so a value of
//! the wrong type would reach the SDK, which converts every value to its model type
//! (reference section 5). Each known key is checked against the SDK model (sections 8.1,
//! 8.2, 8.5 and the sub-object tables); unknown keys are left alone.

use serde_json::Value;

/// The JSON type a field must have. `null` is accepted everywhere (the field is absent).
#[derive(Debug)]
enum Shape {
    /// A JSON string.
    Str,
    /// A JSON integer.
    Int,
    /// `true` or `false`.
    Bool,
    /// An object whose listed keys have the given shapes (other keys are not checked).
    Obj(&'static [(&'static str, Shape)]),
    /// An object of string values.
    StrMap,
    /// An array whose items have the shape.
    Array(&'static Shape),
}

use Shape::*;

const FUNC_VPC: &[(&str, Shape)] = &[
    ("domain_id", Str),
    ("namespace", Str),
    ("vpc_name", Str),
    ("vpc_id", Str),
    ("subnet_name", Str),
    ("subnet_id", Str),
    ("cidr", Str),
    ("gateway", Str),
    ("security_groups", Array(&Str)),
    ("is_safety", Bool),
];

const CUSTOM_IMAGE: &[(&str, Shape)] = &[
    ("enabled", Bool),
    ("image", Str),
    ("command", Str),
    ("args", Str),
    ("working_dir", Str),
    ("uid", Str),
    ("gid", Str),
    ("is_public", Bool),
];

const MOUNT_CONFIG: &[(&str, Shape)] = &[
    (
        "mount_user",
        Obj(&[("user_id", Int), ("user_group_id", Int)]),
    ),
    (
        "func_mounts",
        Array(&Obj(&[
            ("mount_type", Str),
            ("mount_resource", Str),
            ("mount_share_path", Str),
            ("local_mount_path", Str),
        ])),
    ),
];

const LOG_CONFIG: &[(&str, Shape)] = &[
    ("group_name", Str),
    ("group_id", Str),
    ("stream_name", Str),
    ("stream_id", Str),
];

const NETWORK_CONTROLLER: &[(&str, Shape)] = &[
    ("disable_public_network", Bool),
    (
        "trigger_access_vpcs",
        Array(&Obj(&[("vpc_name", Str), ("vpc_id", Str)])),
    ),
];

const DEPENDENCY: &[(&str, Shape)] = &[
    ("id", Str),
    ("owner", Str),
    ("link", Str),
    ("runtime", Str),
    ("etag", Str),
    ("size", Int),
    ("name", Str),
    ("description", Str),
    ("file_name", Str),
    ("version", Int),
    ("dep_id", Str),
    ("last_modified", Int),
];

/// Top-level keys of the create / update-config bodies and of the configuration
/// responses (which clients send back on a read-modify-write) that `FunctionBody` does not
/// model itself.
const FIELDS: &[(&str, Shape)] = &[
    // Request fields (sections 8.1 and 8.5); `depend_version_list` is modelled.
    ("func_vpc", Obj(FUNC_VPC)),
    ("gpu_memory", Int),
    ("gpu_type", Str),
    ("custom_image", Obj(CUSTOM_IMAGE)),
    ("xrole", Str),
    ("app_xrole", Str),
    ("mount_config", Obj(MOUNT_CONFIG)),
    ("enterprise_project_id", Str),
    ("log_config", Obj(LOG_CONFIG)),
    ("network_controller", Obj(NETWORK_CONTROLLER)),
    ("is_stateful_function", Bool),
    ("enable_lts_log", Bool),
    ("lts_custom_tag", StrMap),
    ("user_data_encrypt_kms_key_id", Str),
    ("code_encrypt_kms_key_id", Str),
    ("domain_names", Str),
    ("tags", Str),
    ("peering_cidr", Str),
    ("extend_config", Str),
    ("enable_auth_in_header", Bool),
    ("restore_hook_handler", Str),
    ("restore_hook_timeout", Int),
    ("heartbeat_handler", Str),
    ("enable_class_isolation", Bool),
    // Response fields (section 8.2).
    ("func_id", Str),
    ("resource_id", Str),
    ("func_urn", Str),
    ("domain_id", Str),
    ("namespace", Str),
    ("project_name", Str),
    ("cpu", Int),
    ("code_size", Int),
    ("digest", Str),
    ("version", Str),
    ("image_name", Str),
    ("last_modified", Str),
    ("long_time", Bool),
    ("log_group_id", Str),
    ("log_stream_id", Str),
    ("enable_cloud_debug", Str),
    ("is_bridge_function", Bool),
    ("reserved_instance_idle_mode", Bool),
    ("apig_route_enable", Bool),
    ("allow_ephemeral_storage", Bool),
    ("is_return_stream", Bool),
    ("reserved_instance_count", Int),
    ("func_vpc_id", Str),
    ("fail_count", Int),
    ("bind_bridge_funcUrns", Array(&Str)),
    ("version_description", Str),
    ("concurrency", Int),
    ("concurrent_num", Int),
    ("dependencies", Array(&Obj(DEPENDENCY))),
    ("function_async_config", Obj(&[])),
];

/// Checks the JSON type of every known key among a body's unmodelled fields. The error
/// names the field: `invalid field func_vpc: expected an object, got 5`.
pub fn check_extra_types<'a>(
    fields: impl IntoIterator<Item = (&'a String, &'a Value)>,
) -> Result<(), String> {
    for (key, value) in fields {
        if let Some((_, shape)) = FIELDS.iter().find(|(k, _)| k == key) {
            check(key, shape, value)?;
        }
    }
    Ok(())
}

fn check(path: &str, shape: &Shape, value: &Value) -> Result<(), String> {
    if value.is_null() {
        return Ok(());
    }
    let ok = match shape {
        Str => value.is_string(),
        Int => value.is_i64() || value.is_u64(),
        Bool => value.is_boolean(),
        StrMap => match value.as_object() {
            Some(map) => {
                for (k, v) in map {
                    check(&format!("{path}.{k}"), &Str, v)?;
                }
                true
            }
            None => false,
        },
        Obj(fields) => match value.as_object() {
            Some(map) => {
                for (k, inner) in fields.iter() {
                    if let Some(v) = map.get(*k) {
                        check(&format!("{path}.{k}"), inner, v)?;
                    }
                }
                true
            }
            None => false,
        },
        Array(item) => match value.as_array() {
            Some(items) => {
                for (i, v) in items.iter().enumerate() {
                    check(&format!("{path}[{i}]"), item, v)?;
                }
                true
            }
            None => false,
        },
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid field {path}: expected {}, got {}",
            expected(shape),
            shown(value)
        ))
    }
}

fn expected(shape: &Shape) -> &'static str {
    match shape {
        Str => "a string",
        Int => "an integer",
        Bool => "true or false",
        Obj(_) => "an object",
        StrMap => "an object of strings",
        Array(_) => "an array",
    }
}

/// The offending value, cut short when long.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}...", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_body(body: Value) -> Result<(), String> {
        let map = body.as_object().cloned().unwrap_or_default();
        check_extra_types(&map)
    }

    #[test]
    fn well_typed_fields_pass() {
        let body = json!({
            "func_vpc": {"vpc_id": "v", "subnet_id": "s", "security_groups": ["g"], "is_safety": false},
            "custom_image": {"enabled": true, "image": "swr/x:1", "uid": "1003"},
            "log_config": {"group_id": "g", "stream_id": "s"},
            "gpu_memory": 1024,
            "gpu_type": "T4",
            "xrole": "agency",
            "lts_custom_tag": {"team": "a"},
            "network_controller": {"disable_public_network": true, "trigger_access_vpcs": [{"vpc_id": "v"}]},
            "mount_config": {"mount_user": {"user_id": -1, "user_group_id": -1}, "func_mounts": []},
            "is_stateful_function": false,
            "enterprise_project_id": null,
            "something_new": {"any": ["thing", 1]},
        });
        assert_eq!(check_body(body), Ok(()));
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        for (body, needle) in [
            (
                json!({"func_vpc": 5}),
                "invalid field func_vpc: expected an object, got 5",
            ),
            (
                json!({"custom_image": "img"}),
                "invalid field custom_image: expected an object",
            ),
            (
                json!({"log_config": []}),
                "invalid field log_config: expected an object",
            ),
            (
                json!({"gpu_memory": "1024"}),
                "invalid field gpu_memory: expected an integer",
            ),
            (
                json!({"gpu_memory": 1.5}),
                "invalid field gpu_memory: expected an integer",
            ),
            (
                json!({"xrole": 1}),
                "invalid field xrole: expected a string",
            ),
            (
                json!({"is_stateful_function": "false"}),
                "invalid field is_stateful_function: expected true or false",
            ),
            (
                json!({"lts_custom_tag": {"a": 1}}),
                "invalid field lts_custom_tag.a: expected a string",
            ),
            (
                json!({"func_vpc": {"security_groups": "g"}}),
                "invalid field func_vpc.security_groups: expected an array",
            ),
            (
                json!({"func_vpc": {"security_groups": [1]}}),
                "invalid field func_vpc.security_groups[0]: expected a string",
            ),
            (
                json!({"custom_image": {"enabled": "yes"}}),
                "invalid field custom_image.enabled",
            ),
            (
                json!({"network_controller": {"trigger_access_vpcs": [{"vpc_id": 3}]}}),
                "invalid field network_controller.trigger_access_vpcs[0].vpc_id",
            ),
            (
                json!({"mount_config": {"mount_user": {"user_id": "1003"}}}),
                "invalid field mount_config.mount_user.user_id: expected an integer",
            ),
        ] {
            let err = check_body(body.clone()).err().unwrap_or_default();
            assert!(err.starts_with(needle), "{body}: {err}");
        }
    }
}
