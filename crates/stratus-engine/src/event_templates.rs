//! The built-in event templates (guide table 6-2): ready-made events in the shapes the
//! platform's triggers deliver (`spec/runtime-and-events.md` section 4), to test a
//! function with or to start a saved test event from.

/// One event template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTemplate {
    /// Name as the console lists it, e.g. `apig-event-template`.
    pub name: &'static str,
    /// What the event simulates.
    pub description: &'static str,
    /// The event as JSON text.
    pub content: &'static str,
}

/// Every event template, in the order of the guide's table.
pub const EVENT_TEMPLATES: &[EventTemplate] = &[
    EventTemplate {
        name: "blank-template",
        description: "An empty event to fill in: {\"key\": \"value\"}",
        content: include_str!("../templates/events/blank-template.json"),
    },
    EventTemplate {
        name: "apig-event-template",
        description: "Simulates an API Gateway (APIG) request to trigger your function",
        content: include_str!("../templates/events/apig-event-template.json"),
    },
    EventTemplate {
        name: "dis-event-template",
        description: "Simulates a DIS stream event to trigger your function",
        content: include_str!("../templates/events/dis-event-template.json"),
    },
    EventTemplate {
        name: "smn-event-template",
        description: "Simulates an SMN topic message to trigger your function",
        content: include_str!("../templates/events/smn-event-template.json"),
    },
    EventTemplate {
        name: "obs-event-template",
        description: "Simulates an OBS object event to trigger your function",
        content: include_str!("../templates/events/obs-event-template.json"),
    },
    EventTemplate {
        name: "timer-event-template",
        description: "Simulates a timer event to trigger your function",
        content: include_str!("../templates/events/timer-event-template.json"),
    },
    EventTemplate {
        name: "lts-event-template",
        description: "Simulates an LTS log subscription event to trigger your function",
        content: include_str!("../templates/events/lts-event-template.json"),
    },
    EventTemplate {
        name: "cts-event-template",
        description: "Simulates a CTS audit trace event to trigger your function",
        content: include_str!("../templates/events/cts-event-template.json"),
    },
    EventTemplate {
        name: "dds-event-template",
        description: "Simulates a DDS change stream event to trigger your function",
        content: include_str!("../templates/events/dds-event-template.json"),
    },
    EventTemplate {
        name: "dms-event-template",
        description: "Simulates a DMS for Kafka event to trigger your function",
        content: include_str!("../templates/events/dms-event-template.json"),
    },
    EventTemplate {
        name: "kafka-event-template",
        description: "Simulates a Kafka event to trigger your function",
        content: include_str!("../templates/events/kafka-event-template.json"),
    },
    EventTemplate {
        name: "rabbitmq-event-template",
        description: "Simulates a RabbitMQ event to trigger your function",
        content: include_str!("../templates/events/rabbitmq-event-template.json"),
    },
    EventTemplate {
        name: "gaussmongo-event-template",
        description: "Simulates a GaussDB(for Mongo) event to trigger your function",
        content: include_str!("../templates/events/gaussmongo-event-template.json"),
    },
    EventTemplate {
        name: "login-security-template",
        description: "Input of a login security analysis function: sshd log lines delivered by LTS",
        content: include_str!("../templates/events/login-security-template.json"),
    },
    EventTemplate {
        name: "porn-image-analysis",
        description: "Input of an image moderation function: an image uploaded to OBS",
        content: include_str!("../templates/events/porn-image-analysis.json"),
    },
    EventTemplate {
        name: "voice-analyse",
        description: "Input of a voice analysis function: a recording uploaded to OBS",
        content: include_str!("../templates/events/voice-analyse.json"),
    },
    EventTemplate {
        name: "image-tag",
        description: "Input of an image tagging function: a photo uploaded to OBS",
        content: include_str!("../templates/events/image-tag.json"),
    },
];

/// The template of that name.
pub fn event_template(name: &str) -> Option<&'static EventTemplate> {
    EVENT_TEMPLATES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use serde_json::Value;
    use stratus_types::limits::TEST_EVENT_CONTENT_MAX;

    fn json(name: &str) -> Value {
        serde_json::from_str(event_template(name).unwrap().content).unwrap()
    }

    fn b64(s: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD.decode(s).unwrap()
    }

    #[test]
    fn the_catalogue_has_the_guides_names_and_every_template_can_be_saved() {
        // Table 6-2 of the guide, plus dms-event-template from the console list.
        let guide = [
            "blank-template",
            "apig-event-template",
            "dis-event-template",
            "smn-event-template",
            "obs-event-template",
            "timer-event-template",
            "lts-event-template",
            "cts-event-template",
            "dds-event-template",
            "kafka-event-template",
            "rabbitmq-event-template",
            "gaussmongo-event-template",
            "login-security-template",
            "porn-image-analysis",
            "voice-analyse",
            "image-tag",
            "dms-event-template",
        ];
        for name in guide {
            let t = event_template(name).unwrap_or_else(|| panic!("{name} is missing"));
            assert!(
                t.content.len() <= TEST_EVENT_CONTENT_MAX,
                "{name} is too large to save as a test event"
            );
            let v: Value = serde_json::from_str(t.content).unwrap();
            assert!(v.is_object(), "{name}");
            assert!(!t.description.is_empty());
        }
        assert_eq!(EVENT_TEMPLATES.len(), guide.len());
        assert_eq!(json("blank-template"), serde_json::json!({"key": "value"}));
    }

    #[test]
    fn apig_and_timer_events_have_the_trigger_shapes() {
        let apig = json("apig-event-template");
        assert_eq!(apig["httpMethod"], "POST");
        assert_eq!(apig["isBase64Encoded"], true);
        assert_eq!(apig["requestContext"]["stage"], "RELEASE");
        let body: Value = serde_json::from_slice(&b64(apig["body"].as_str().unwrap())).unwrap();
        assert_eq!(body["message"], "hello");
        for (k, _) in apig["headers"].as_object().unwrap() {
            assert_eq!(
                k,
                &k.to_ascii_lowercase(),
                "APIG header names are lower case"
            );
        }

        let timer = json("timer-event-template");
        assert_eq!(timer["trigger_type"], "TIMER");
        assert_eq!(timer["version"], "v1.0");
        assert!(
            timer["user_event"].is_string(),
            "user_event is passed as a string"
        );
        assert!(chrono::DateTime::parse_from_rfc3339(timer["time"].as_str().unwrap()).is_ok());
    }

    #[test]
    fn object_storage_events_are_s3_records_with_encoded_keys() {
        for name in [
            "obs-event-template",
            "porn-image-analysis",
            "voice-analyse",
            "image-tag",
        ] {
            let v = json(name);
            let r = &v["Records"][0];
            assert!(r["eventName"]
                .as_str()
                .unwrap()
                .starts_with("ObjectCreated:"));
            assert_eq!(r["s3"]["object"]["versionId"], "null", "{name}");
            assert!(r["s3"]["object"]["size"].is_u64(), "{name}");
            assert!(r["s3"]["bucket"]["ownerIdentity"]["PrincipalId"].is_string());
            assert!(r["s3"]["object"]["key"].as_str().unwrap().contains("%2F"));
        }
    }

    #[test]
    fn log_events_carry_base64_json_with_a_json_encoded_log_list() {
        for name in ["lts-event-template", "login-security-template"] {
            let v = json(name);
            let doc: Value =
                serde_json::from_slice(&b64(v["lts"]["data"].as_str().unwrap())).unwrap();
            let logs: Value = serde_json::from_str(doc["logs"].as_str().unwrap()).unwrap();
            let first = &logs[0];
            assert!(
                first["message"].is_string() && first["time"].is_i64(),
                "{name}"
            );
            assert_eq!(first["line_no"], 1);
            assert!(doc["log_group_id"].is_string() && doc["log_topic_id"].is_string());
        }
        let login = json("login-security-template");
        let doc: Value =
            serde_json::from_slice(&b64(login["lts"]["data"].as_str().unwrap())).unwrap();
        assert!(doc["logs"].as_str().unwrap().contains("Failed password"));
    }

    #[test]
    fn message_and_stream_events_have_their_shapes() {
        for (name, kind) in [
            ("kafka-event-template", "KAFKA"),
            ("dms-event-template", "KAFKA"),
            ("rabbitmq-event-template", "RABBITMQ"),
        ] {
            let v = json(name);
            assert_eq!(v["trigger_type"], kind, "{name}");
            assert!(v["event_time"].is_i64(), "{name}: Unix seconds");
            assert!(v["records"][0]["messages"][0].is_string(), "{name}");
        }
        let smn = json("smn-event-template");
        assert_eq!(smn["record"][0]["event_source"], "smn");
        assert!(smn["record"][0]["smn"]["message_attributes"].is_null());
        let dis = json("dis-event-template");
        let first = &dis["Message"]["records"][0];
        assert_eq!(b64(first["data"].as_str().unwrap()), b"welcome");
        assert!(first["sequence_number"].is_string());
        let cts = json("cts-event-template");
        assert!(
            cts["cts"]["time"].as_i64().unwrap() > 1_000_000_000_000,
            "ms"
        );
        assert_eq!(cts["cts"]["trace_type"], "ConsoleAction");
        for (name, key) in [
            ("dds-event-template", "dds"),
            ("gaussmongo-event-template", "gaussmongo"),
        ] {
            let r = &json(name)["records"][0];
            let ns: Value = serde_json::from_str(r[key]["ns"].as_str().unwrap()).unwrap();
            assert!(ns["db"].is_string(), "{name}");
            let doc: Value =
                serde_json::from_str(r[key]["full_document"].as_str().unwrap()).unwrap();
            assert!(doc["_id"]["$oid"].is_string(), "{name}");
        }
    }
}
