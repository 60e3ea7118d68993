//! The built-in function templates (guide sections 2.3 and 4.3): code and settings a new
//! function can start from, each with the event template to test it with.

use crate::event_templates::{event_template, EventTemplate};

/// The trigger a template is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateTrigger {
    /// Trigger type code, e.g. `APIG`, `TIMER`, `OBS`.
    pub trigger_type: &'static str,
    /// Event type, e.g. `APIG`, `MessageCreated`, `ObjectCreated`.
    pub event_type: &'static str,
}

/// One function template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionTemplate {
    /// Name, also the template's id.
    pub name: &'static str,
    /// Short title.
    pub title: &'static str,
    /// What the function does.
    pub description: &'static str,
    /// Runtime id.
    pub runtime: &'static str,
    /// Handler.
    pub handler: &'static str,
    /// Memory, MB.
    pub memory_size: u32,
    /// Timeout, seconds.
    pub timeout: u32,
    /// Use case: `hello-world`, `web-api`, `scheduled-job`, `file-processing`.
    pub scene: &'static str,
    /// The service the function works with.
    pub service: &'static str,
    /// The trigger it is written for, if any.
    pub trigger: Option<TemplateTrigger>,
    /// Name of the event template to test it with.
    pub test_event: &'static str,
    /// The code: (path, content, mode).
    pub files: &'static [(&'static str, &'static str, u32)],
}

impl FunctionTemplate {
    /// The code package, a zip.
    pub fn package(&self) -> anyhow::Result<Vec<u8>> {
        let files: Vec<(String, Vec<u8>, u32)> = self
            .files
            .iter()
            .map(|(p, c, m)| (p.to_string(), c.as_bytes().to_vec(), *m))
            .collect();
        Ok(stratus_package::zip_files(&files)?)
    }

    /// The event template to test the function with.
    pub fn test_event(&self) -> Option<&'static EventTemplate> {
        event_template(self.test_event)
    }
}

const PY: u32 = 0o644;

/// Every function template.
pub const FUNCTION_TEMPLATES: &[FunctionTemplate] = &[
    FunctionTemplate {
        name: "hello-python",
        title: "Hello world (Python)",
        description: "Greets the caller and logs the event it was given",
        runtime: "Python3.9",
        handler: "index.handler",
        memory_size: 128,
        timeout: 3,
        scene: "hello-world",
        service: "FunctionGraph",
        trigger: None,
        test_event: "blank-template",
        files: &[(
            "index.py",
            include_str!("../templates/functions/hello-python/index.py"),
            PY,
        )],
    },
    FunctionTemplate {
        name: "hello-nodejs",
        title: "Hello world (Node.js)",
        description: "Greets the caller and logs the event it was given",
        runtime: "Node.js18.15",
        handler: "index.handler",
        memory_size: 128,
        timeout: 3,
        scene: "hello-world",
        service: "FunctionGraph",
        trigger: None,
        test_event: "blank-template",
        files: &[(
            "index.js",
            include_str!("../templates/functions/hello-nodejs/index.js"),
            PY,
        )],
    },
    FunctionTemplate {
        name: "hello-custom",
        title: "Hello world (custom runtime)",
        description: "A bash bootstrap that answers events through the runtime API",
        runtime: "Custom",
        handler: "bootstrap",
        memory_size: 128,
        timeout: 3,
        scene: "hello-world",
        service: "FunctionGraph",
        trigger: None,
        test_event: "blank-template",
        files: &[(
            "bootstrap",
            include_str!("../templates/functions/hello-custom/bootstrap"),
            0o755,
        )],
    },
    FunctionTemplate {
        name: "context-class-introduction-python",
        title: "Context object (Python)",
        description: "Returns and logs what the context object tells about the invocation",
        runtime: "Python3.9",
        handler: "index.handler",
        memory_size: 128,
        timeout: 3,
        scene: "hello-world",
        service: "FunctionGraph",
        trigger: None,
        test_event: "blank-template",
        files: &[(
            "index.py",
            include_str!("../templates/functions/context-class-introduction-python/index.py"),
            PY,
        )],
    },
    FunctionTemplate {
        name: "apig-responder-python",
        title: "API Gateway responder (Python)",
        description: "Answers HTTP requests from an APIG trigger with a JSON body",
        runtime: "Python3.9",
        handler: "index.handler",
        memory_size: 128,
        timeout: 3,
        scene: "web-api",
        service: "APIG",
        trigger: Some(TemplateTrigger {
            trigger_type: "APIG",
            event_type: "APIG",
        }),
        test_event: "apig-event-template",
        files: &[(
            "index.py",
            include_str!("../templates/functions/apig-responder-python/index.py"),
            PY,
        )],
    },
    FunctionTemplate {
        name: "timer-job-python",
        title: "Scheduled job (Python)",
        description: "Runs on a timer trigger and reads its parameters from user_event",
        runtime: "Python3.9",
        handler: "index.handler",
        memory_size: 128,
        timeout: 30,
        scene: "scheduled-job",
        service: "Timer",
        trigger: Some(TemplateTrigger {
            trigger_type: "TIMER",
            event_type: "MessageCreated",
        }),
        test_event: "timer-event-template",
        files: &[(
            "index.py",
            include_str!("../templates/functions/timer-job-python/index.py"),
            PY,
        )],
    },
    FunctionTemplate {
        name: "obs-processor-python",
        title: "Object storage processor (Python)",
        description: "Handles object storage notifications, one record per uploaded object",
        runtime: "Python3.9",
        handler: "index.handler",
        memory_size: 256,
        timeout: 60,
        scene: "file-processing",
        service: "OBS",
        trigger: Some(TemplateTrigger {
            trigger_type: "OBS",
            event_type: "ObjectCreated",
        }),
        test_event: "obs-event-template",
        files: &[(
            "index.py",
            include_str!("../templates/functions/obs-processor-python/index.py"),
            PY,
        )],
    },
];

/// The template of that name.
pub fn function_template(name: &str) -> Option<&'static FunctionTemplate> {
    FUNCTION_TEMPLATES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stratus_types::{name, FunctionSpec, Runtime};

    #[test]
    fn every_template_is_a_valid_function() {
        let mut names = std::collections::HashSet::new();
        for t in FUNCTION_TEMPLATES {
            assert!(names.insert(t.name), "{} twice", t.name);
            name::check_function_name(t.name).unwrap();
            let runtime = Runtime::parse(t.runtime).unwrap();
            assert!(
                t.test_event().is_some(),
                "{}: no event {}",
                t.name,
                t.test_event
            );
            let package = t.package().unwrap();
            let manifest =
                stratus_package::inspect(&package, &stratus_package::Limits::default()).unwrap();
            assert_eq!(manifest.entries, t.files.len(), "{}", t.name);
            for (path, _, _) in t.files {
                assert!(manifest.contains(path), "{}: {path}", t.name);
            }
            let spec = FunctionSpec {
                memory_size: t.memory_size,
                timeout: t.timeout,
                handler: t.handler.into(),
                runtime: runtime.id().into(),
                ..test_spec()
            };
            spec.validate().unwrap();
        }
        for kind in ["Python3.9", "Node.js18.15", "Custom"] {
            assert!(
                FUNCTION_TEMPLATES
                    .iter()
                    .any(|t| t.runtime == kind && t.scene == "hello-world"),
                "a hello world for {kind}"
            );
        }
        for service in ["APIG", "Timer", "OBS"] {
            assert!(FUNCTION_TEMPLATES.iter().any(|t| t.service == service));
        }
        assert!(function_template("hello-python").is_some());
        assert!(function_template("no-such-template").is_none());
    }

    fn test_spec() -> FunctionSpec {
        FunctionSpec {
            name: "t".into(),
            package: "default".into(),
            runtime: "Python3.9".into(),
            handler: "index.handler".into(),
            memory_size: 128,
            timeout: 3,
            description: String::new(),
            user_data: Default::default(),
            encrypted_user_data: Default::default(),
            initializer_handler: String::new(),
            initializer_timeout: 3,
            pre_stop_handler: String::new(),
            pre_stop_timeout: 3,
            ephemeral_storage: 512,
            enable_dynamic_memory: false,
            strategy: Default::default(),
            code: Default::default(),
            func_type: "v2".into(),
            extras: Default::default(),
            last_modified: String::new(),
            version_description: String::new(),
            dependencies: Default::default(),
        }
    }
}
