//! A typed, signing client of the Stratus (FunctionGraph v2) API, used by the CLI, the
//! tests and the benchmarks. Blocking on purpose: callers are command-line tools.

mod credentials;

pub use credentials::Credentials;

use serde::de::DeserializeOwned;
use std::io::Read;
use std::time::Duration;
use stratus_api_types::*;

/// Failures of a call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error body.
    #[error("{code}: {msg} (HTTP {status})")]
    Api {
        /// HTTP status.
        status: u16,
        /// `error_code`.
        code: String,
        /// `error_msg`.
        msg: String,
    },
    /// The server could not be reached.
    #[error("cannot reach the server: {0}")]
    Transport(String),
    /// The answer was not what the API promises.
    #[error("unexpected answer: {0}")]
    Decode(String),
    /// The credentials are missing or unusable.
    #[error("{0}")]
    Credentials(String),
}

/// Result of a call.
pub type Result<T> = std::result::Result<T, ClientError>;

/// A raw answer.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Response headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Answer {
    /// A header value by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ClientError::Decode(format!("{e}: {}", String::from_utf8_lossy(&self.body)))
        })
    }
}

/// Options of a sync invocation.
#[derive(Debug, Clone, Default)]
pub struct InvokeOptions {
    /// Ask for the log tail.
    pub log: bool,
    /// `X-Cff-Instance-Memory`.
    pub memory: Option<u32>,
}

/// The client.
pub struct Client {
    creds: Credentials,
    agent: ureq::Agent,
}

impl Client {
    /// A client for the given credentials.
    pub fn new(creds: Credentials) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout_read(Duration::from_secs(900))
            .redirects(0)
            .build();
        Client { creds, agent }
    }

    /// The credentials in use.
    pub fn credentials(&self) -> &Credentials {
        &self.creds
    }

    /// The URN of a function's `latest` in the default package (or `package:name`).
    pub fn urn(&self, name: &str) -> String {
        if name.starts_with("urn:") {
            return name.to_string();
        }
        let (package, name) = name.split_once(':').unwrap_or(("default", name));
        format!(
            "urn:fss:{}:{}:function:{package}:{name}",
            self.creds.region, self.creds.project_id
        )
    }

    /// Sends a signed request to `/v2/{project_id}/{rest}` (each part of `rest` already
    /// encoded) and returns the raw answer; error statuses become `ClientError::Api`.
    pub fn call(
        &self,
        method: &str,
        rest: &str,
        query: &[(&str, String)],
        extra_headers: &[(&str, String)],
        body: Option<&[u8]>,
    ) -> Result<Answer> {
        self.call_with_progress(method, rest, query, extra_headers, body, |_, _| {})
    }

    /// Like `call`, reporting upload progress (sent, total) as the body goes out.
    pub fn call_with_progress(
        &self,
        method: &str,
        rest: &str,
        query: &[(&str, String)],
        extra_headers: &[(&str, String)],
        body: Option<&[u8]>,
        progress: impl FnMut(usize, usize),
    ) -> Result<Answer> {
        let base = self.creds.endpoint.trim_end_matches('/');
        let host = base
            .split_once("://")
            .map_or(base, |(_, h)| h)
            .split('/')
            .next()
            .unwrap_or("")
            .to_string();
        let path = format!("/v2/{}/{rest}", self.creds.project_id);
        let mut pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| {
                (
                    stratus_sign::encode_component(k),
                    stratus_sign::encode_component(v),
                )
            })
            .collect();
        pairs.sort();
        let qs = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let mut headers: Vec<(&str, String)> = vec![
            ("Content-Type", "application/json".into()),
            ("Host", host),
            ("X-Project-Id", self.creds.project_id.clone()),
            ("X-Sdk-Date", date),
        ];
        headers.extend(extra_headers.iter().cloned());
        let body = body.unwrap_or(&[]);
        let header_refs: Vec<(&str, &str)> =
            headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let raw = stratus_sign::RawRequest {
            method,
            path: &path,
            query: (!qs.is_empty()).then_some(qs.as_str()),
            headers: &header_refs,
            body,
        };
        let auth = stratus_sign::sign(&raw, &self.creds.access_key, &self.creds.secret_key)
            .map_err(|e| ClientError::Credentials(format!("cannot sign the request: {e}")))?;
        let url = if qs.is_empty() {
            format!("{base}{path}")
        } else {
            format!("{base}{path}?{qs}")
        };
        let mut req = self.agent.request(method, &url).set("Authorization", &auth);
        for (k, v) in &headers {
            if !k.eq_ignore_ascii_case("host") {
                req = req.set(k, v);
            }
        }
        let result = if body.is_empty() {
            req.call()
        } else {
            req = req.set("Content-Length", &body.len().to_string());
            req.send(Progress {
                data: body,
                sent: 0,
                report: progress,
            })
        };
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(ClientError::Transport(e.to_string())),
        };
        let status = resp.status();
        let headers = resp
            .headers_names()
            .into_iter()
            .filter_map(|n| {
                resp.header(&n)
                    .map(|v| (n.to_ascii_lowercase(), v.to_string()))
            })
            .collect();
        let mut bytes = Vec::new();
        resp.into_reader()
            .take(100 * 1024 * 1024)
            .read_to_end(&mut bytes)
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let answer = Answer {
            status,
            headers,
            body: bytes,
        };
        if status >= 400 {
            let (code, msg) = match serde_json::from_slice::<ErrorBody>(&answer.body) {
                Ok(e) => (e.error_code, e.error_msg),
                Err(_) => (
                    status.to_string(),
                    String::from_utf8_lossy(&answer.body).into_owned(),
                ),
            };
            return Err(ClientError::Api { status, code, msg });
        }
        Ok(answer)
    }

    fn fn_path(&self, name: &str, tail: &str) -> String {
        let urn = stratus_sign::encode_component(&self.urn(name));
        if tail.is_empty() {
            format!("fgs/functions/{urn}")
        } else {
            format!("fgs/functions/{urn}/{tail}")
        }
    }

    fn json_body<T: serde::Serialize>(v: &T) -> Result<Vec<u8>> {
        serde_json::to_vec(v).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// Creates a function.
    pub fn create_function(
        &self,
        body: &FunctionBody,
        progress: impl FnMut(usize, usize),
    ) -> Result<FunctionConfig> {
        let bytes = Self::json_body(body)?;
        self.call_with_progress("POST", "fgs/functions", &[], &[], Some(&bytes), progress)?
            .json()
    }

    /// Lists functions.
    pub fn list_functions(&self, marker: usize, maxitems: usize) -> Result<ListFunctionsResponse> {
        self.call(
            "GET",
            "fgs/functions",
            &[
                ("marker", marker.to_string()),
                ("maxitems", maxitems.to_string()),
            ],
            &[],
            None,
        )?
        .json()
    }

    /// Reads a function's configuration.
    pub fn get_config(&self, name: &str) -> Result<FunctionConfig> {
        self.call("GET", &self.fn_path(name, "config"), &[], &[], None)?
            .json()
    }

    /// Updates a function's configuration.
    pub fn update_config(&self, name: &str, body: &FunctionBody) -> Result<FunctionConfig> {
        let bytes = Self::json_body(body)?;
        self.call("PUT", &self.fn_path(name, "config"), &[], &[], Some(&bytes))?
            .json()
    }

    /// Replaces a function's code.
    pub fn update_code(
        &self,
        name: &str,
        body: &CodeBody,
        progress: impl FnMut(usize, usize),
    ) -> Result<FunctionCode> {
        let bytes = Self::json_body(body)?;
        self.call_with_progress(
            "PUT",
            &self.fn_path(name, "code"),
            &[],
            &[],
            Some(&bytes),
            progress,
        )?
        .json()
    }

    /// Reads a function's code information.
    pub fn get_code(&self, name: &str) -> Result<FunctionCode> {
        self.call("GET", &self.fn_path(name, "code"), &[], &[], None)?
            .json()
    }

    /// Sets max instances.
    pub fn set_max_instances(&self, name: &str, n: i64) -> Result<FunctionConfig> {
        let bytes = Self::json_body(&MaxInstanceBody {
            max_instance_num: Some(n),
        })?;
        self.call(
            "PUT",
            &self.fn_path(name, "config-max-instance"),
            &[],
            &[],
            Some(&bytes),
        )?
        .json()
    }

    /// Deletes a function.
    pub fn delete_function(&self, name: &str) -> Result<()> {
        self.call("DELETE", &self.fn_path(name, ""), &[], &[], None)
            .map(|_| ())
    }

    /// Exports a function: (file name, zip bytes).
    pub fn export_function(&self, name: &str) -> Result<(String, Vec<u8>)> {
        let a = self.call("GET", &self.fn_path(name, "export"), &[], &[], None)?;
        let file = a
            .header("content-disposition")
            .and_then(|d| d.split("filename=").nth(1))
            .map(|f| f.trim_matches('"').to_string())
            .unwrap_or_else(|| format!("{name}.zip"));
        Ok((file, a.body))
    }

    /// Invokes synchronously (v1 envelope); returns the envelope and the raw answer.
    pub fn invoke(
        &self,
        name: &str,
        event: &[u8],
        opts: &InvokeOptions,
    ) -> Result<(InvokeResponseV1, Answer)> {
        let mut headers = vec![("X-CFF-Request-Version", "v1".to_string())];
        if opts.log {
            headers.push(("X-Cff-Log-Type", "tail".into()));
        }
        if let Some(m) = opts.memory {
            headers.push(("X-Cff-Instance-Memory", m.to_string()));
        }
        let a = self.call(
            "POST",
            &self.fn_path(name, "invocations"),
            &[],
            &headers,
            Some(event),
        )?;
        Ok((a.json()?, a))
    }

    /// `POST .../invocations-async`: the request id once the event is durable.
    pub fn invoke_async(&self, name: &str, event: &[u8]) -> Result<AsyncInvokeResponse> {
        self.call(
            "POST",
            &self.fn_path(name, "invocations-async"),
            &[],
            &[],
            Some(event),
        )?
        .json()
    }

    /// `GET .../async-invocations` with the API's query parameters.
    pub fn async_invocations(
        &self,
        name: &str,
        query: &[(&str, String)],
    ) -> Result<AsyncInvocationList> {
        self.call(
            "GET",
            &self.fn_path(name, "async-invocations"),
            query,
            &[],
            None,
        )?
        .json()
    }

    /// `POST .../cancel` of a waiting asynchronous request.
    pub fn cancel_async(&self, name: &str, request_id: &str) -> Result<()> {
        let body = serde_json::to_vec(&CancelBody {
            request_id: Some(request_id.to_string()),
            kind: None,
        })
        .map_err(|e| ClientError::Decode(e.to_string()))?;
        self.call("POST", &self.fn_path(name, "cancel"), &[], &[], Some(&body))?;
        Ok(())
    }

    /// `PUT .../async-invoke-config`.
    pub fn put_async_config(&self, name: &str, body: &AsyncConfigBody) -> Result<AsyncConfigView> {
        let body = serde_json::to_vec(body).map_err(|e| ClientError::Decode(e.to_string()))?;
        self.call(
            "PUT",
            &self.fn_path(name, "async-invoke-config"),
            &[],
            &[],
            Some(&body),
        )?
        .json()
    }

    /// `GET .../async-invoke-config`.
    pub fn get_async_config(&self, name: &str) -> Result<AsyncConfigView> {
        self.call(
            "GET",
            &self.fn_path(name, "async-invoke-config"),
            &[],
            &[],
            None,
        )?
        .json()
    }

    /// `DELETE .../async-invoke-config`.
    pub fn delete_async_config(&self, name: &str) -> Result<()> {
        self.call(
            "DELETE",
            &self.fn_path(name, "async-invoke-config"),
            &[],
            &[],
            None,
        )?;
        Ok(())
    }

    /// `POST .../versions`: publishes `latest`.
    pub fn publish_version(&self, name: &str, body: &PublishBody) -> Result<FunctionConfig> {
        let body = serde_json::to_vec(body).map_err(|e| ClientError::Decode(e.to_string()))?;
        self.call(
            "POST",
            &self.fn_path(name, "versions"),
            &[],
            &[],
            Some(&body),
        )?
        .json()
    }

    /// `GET .../versions`.
    pub fn list_versions(&self, name: &str) -> Result<ListVersionsResponse> {
        self.call("GET", &self.fn_path(name, "versions"), &[], &[], None)?
            .json()
    }

    /// `POST .../aliases`.
    pub fn create_alias(&self, name: &str, body: &AliasBody) -> Result<AliasView> {
        let body = serde_json::to_vec(body).map_err(|e| ClientError::Decode(e.to_string()))?;
        self.call(
            "POST",
            &self.fn_path(name, "aliases"),
            &[],
            &[],
            Some(&body),
        )?
        .json()
    }

    /// `PUT .../aliases/{alias}`.
    pub fn update_alias(&self, name: &str, alias: &str, body: &AliasBody) -> Result<AliasView> {
        let body = serde_json::to_vec(body).map_err(|e| ClientError::Decode(e.to_string()))?;
        let path = self.fn_path(
            name,
            &format!("aliases/{}", stratus_sign::encode_component(alias)),
        );
        self.call("PUT", &path, &[], &[], Some(&body))?.json()
    }

    /// `GET .../aliases/{alias}`.
    pub fn get_alias(&self, name: &str, alias: &str) -> Result<AliasView> {
        let path = self.fn_path(
            name,
            &format!("aliases/{}", stratus_sign::encode_component(alias)),
        );
        self.call("GET", &path, &[], &[], None)?.json()
    }

    /// `GET .../aliases` (a bare array).
    pub fn list_aliases(&self, name: &str) -> Result<Vec<AliasView>> {
        self.call("GET", &self.fn_path(name, "aliases"), &[], &[], None)?
            .json()
    }

    /// `DELETE .../aliases/{alias}`.
    pub fn delete_alias(&self, name: &str, alias: &str) -> Result<()> {
        let path = self.fn_path(
            name,
            &format!("aliases/{}", stratus_sign::encode_component(alias)),
        );
        self.call("DELETE", &path, &[], &[], None)?;
        Ok(())
    }

    fn trigger_path(&self, name: &str, tail: &str) -> String {
        let urn = stratus_sign::encode_component(&self.urn(name));
        if tail.is_empty() {
            format!("fgs/triggers/{urn}")
        } else {
            format!("fgs/triggers/{urn}/{tail}")
        }
    }

    /// `POST /apigw/apps`: a new app with its AppKey and AppSecret.
    pub fn create_app(&self, body: &AppBody) -> Result<AppView> {
        let body = serde_json::to_vec(body).map_err(|e| ClientError::Decode(e.to_string()))?;
        self.call("POST", "apigw/apps", &[], &[], Some(&body))?
            .json()
    }

    /// `GET /apigw/apps`.
    pub fn list_apps(&self) -> Result<AppList> {
        self.call("GET", "apigw/apps", &[], &[], None)?.json()
    }

    /// `DELETE /apigw/apps/{id}`.
    pub fn delete_app(&self, id: &str) -> Result<()> {
        self.call(
            "DELETE",
            &format!("apigw/apps/{}", stratus_sign::encode_component(id)),
            &[],
            &[],
            None,
        )?;
        Ok(())
    }

    /// `POST /fgs/triggers/{urn}`.
    pub fn create_trigger(&self, name: &str, body: &TriggerBody) -> Result<TriggerView> {
        let body = serde_json::to_vec(body).map_err(|e| ClientError::Decode(e.to_string()))?;
        self.call("POST", &self.trigger_path(name, ""), &[], &[], Some(&body))?
            .json()
    }

    /// `GET /fgs/triggers/{urn}` (a bare array).
    pub fn list_triggers(&self, name: &str) -> Result<Vec<TriggerView>> {
        self.call("GET", &self.trigger_path(name, ""), &[], &[], None)?
            .json()
    }

    /// `GET /fgs/triggers/{urn}/{type}/{id}`.
    pub fn get_trigger(&self, name: &str, type_code: &str, id: &str) -> Result<TriggerView> {
        self.call(
            "GET",
            &self.trigger_path(name, &format!("{type_code}/{id}")),
            &[],
            &[],
            None,
        )?
        .json()
    }

    /// `PUT /fgs/triggers/{urn}/{type}/{id}`.
    pub fn update_trigger(
        &self,
        name: &str,
        type_code: &str,
        id: &str,
        body: &TriggerUpdateBody,
    ) -> Result<TriggerView> {
        let body = serde_json::to_vec(body).map_err(|e| ClientError::Decode(e.to_string()))?;
        self.call(
            "PUT",
            &self.trigger_path(name, &format!("{type_code}/{id}")),
            &[],
            &[],
            Some(&body),
        )?
        .json()
    }

    /// `DELETE /fgs/triggers/{urn}/{type}/{id}`.
    pub fn delete_trigger(&self, name: &str, type_code: &str, id: &str) -> Result<()> {
        self.call(
            "DELETE",
            &self.trigger_path(name, &format!("{type_code}/{id}")),
            &[],
            &[],
            None,
        )?;
        Ok(())
    }

    /// `POST .../events`: saves a test event; `event` is its JSON text.
    pub fn create_event(&self, name: &str, event_name: &str, event: &[u8]) -> Result<EventRef> {
        let body = Self::json_body(&CreateEventBody {
            name: Some(event_name.to_string()),
            content: Some(b64(event)),
        })?;
        self.call("POST", &self.fn_path(name, "events"), &[], &[], Some(&body))?
            .json()
    }

    /// `GET .../events`: a function's test events.
    pub fn list_events(&self, name: &str) -> Result<EventList> {
        self.call("GET", &self.fn_path(name, "events"), &[], &[], None)?
            .json()
    }

    /// `GET .../events/{event_id}`.
    pub fn get_event(&self, name: &str, event_id: &str) -> Result<EventDetail> {
        let tail = format!("events/{}", stratus_sign::encode_component(event_id));
        self.call("GET", &self.fn_path(name, &tail), &[], &[], None)?
            .json()
    }

    /// `PUT .../events/{event_id}`: replaces a test event's JSON text.
    pub fn update_event(&self, name: &str, event_id: &str, event: &[u8]) -> Result<EventRef> {
        let body = Self::json_body(&UpdateEventBody {
            content: Some(b64(event)),
            name: None,
        })?;
        let tail = format!("events/{}", stratus_sign::encode_component(event_id));
        self.call("PUT", &self.fn_path(name, &tail), &[], &[], Some(&body))?
            .json()
    }

    /// `DELETE .../events/{event_id}`.
    pub fn delete_event(&self, name: &str, event_id: &str) -> Result<()> {
        let tail = format!("events/{}", stratus_sign::encode_component(event_id));
        self.call("DELETE", &self.fn_path(name, &tail), &[], &[], None)?;
        Ok(())
    }

    /// The test event of a function with that name, if there is one.
    pub fn find_event(&self, name: &str, event_name: &str) -> Result<Option<EventSummary>> {
        Ok(self
            .list_events(name)?
            .events
            .into_iter()
            .find(|e| e.name == event_name))
    }

    /// `GET .../fgs/event-templates` (Stratus addition).
    pub fn event_templates(&self) -> Result<EventTemplateList> {
        self.call("GET", "fgs/event-templates", &[], &[], None)?
            .json()
    }

    /// `GET .../fgs/event-templates/{name}` (Stratus addition).
    pub fn event_template(&self, template: &str) -> Result<EventTemplateView> {
        let rest = format!(
            "fgs/event-templates/{}",
            stratus_sign::encode_component(template)
        );
        self.call("GET", &rest, &[], &[], None)?.json()
    }

    /// `GET .../fgs/templates`: every function template.
    pub fn function_templates(&self) -> Result<FunctionTemplateList> {
        self.call("GET", "fgs/templates", &[], &[], None)?.json()
    }

    /// `GET .../fgs/templates/{template_id}`.
    pub fn function_template(&self, id: &str) -> Result<FunctionTemplateView> {
        let rest = format!("fgs/templates/{}", stratus_sign::encode_component(id));
        self.call("GET", &rest, &[], &[], None)?.json()
    }

    /// Reads log lines.
    /// `POST /fgs/functions/import` with an export zip.
    pub fn import_function(
        &self,
        zip: &[u8],
        name: Option<&str>,
        package: Option<&str>,
    ) -> Result<FunctionConfig> {
        use base64::Engine as _;
        let body = serde_json::json!({
            "func_name": name,
            "package": package,
            "file_type": "zip",
            "file_code": base64::engine::general_purpose::STANDARD.encode(zip),
        });
        let bytes = serde_json::to_vec(&body).map_err(|e| ClientError::Decode(e.to_string()))?;
        self.call("POST", "fgs/functions/import", &[], &[], Some(&bytes))?
            .json()
    }

    /// `PUT .../reservedinstances` of a function, version or alias URN.
    pub fn set_reserved(&self, name: &str, body: &ReservedBody) -> Result<ReservedBody> {
        let body = serde_json::to_vec(body).map_err(|e| ClientError::Decode(e.to_string()))?;
        self.call(
            "PUT",
            &self.fn_path(name, "reservedinstances"),
            &[],
            &[],
            Some(&body),
        )?
        .json()
    }

    /// `GET /fgs/functions/reservedinstances?urn=`.
    pub fn reserved_instances(&self, name: &str) -> Result<ReservedListResponse> {
        self.call(
            "GET",
            "fgs/functions/reservedinstances",
            &[("urn", self.urn(name))],
            &[],
            None,
        )?
        .json()
    }

    /// `GET /fgs/functions/reservedinstanceconfigs?function_urn=`.
    pub fn reserved_configs(&self, name: &str) -> Result<ReservedConfigList> {
        self.call(
            "GET",
            "fgs/functions/reservedinstanceconfigs",
            &[("function_urn", self.urn(name))],
            &[],
            None,
        )?
        .json()
    }

    pub fn logs(&self, name: &str, query: &[(&str, String)]) -> Result<LogsResponse> {
        self.call("GET", &self.fn_path(name, "logs"), query, &[], None)?
            .json()
    }
}

/// The JSON text of a test event (`content` is base64 on the wire).
pub fn event_content(e: &EventDetail) -> Result<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(e.content.trim())
        .map_err(|err| ClientError::Decode(format!("test event content is not base64: {err}")))
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Dependency packages (reference section 8.15).
impl Client {
    fn dep_path(dep_id: &str, tail: &str) -> String {
        let id = stratus_sign::encode_component(dep_id);
        format!("fgs/dependencies/{id}/version{tail}")
    }

    /// `POST fgs/dependencies/version`: a new version (version 1 of a new name).
    pub fn create_dependency_version(
        &self,
        body: &CreateDependencyBody,
        progress: impl FnMut(usize, usize),
    ) -> Result<DependencyVersion> {
        let bytes = Self::json_body(body)?;
        self.call_with_progress(
            "POST",
            "fgs/dependencies/version",
            &[],
            &[],
            Some(&bytes),
            progress,
        )?
        .json()
    }

    /// `GET fgs/dependencies` with the API's query parameters (marker, maxitems, name,
    /// runtime, dependency_type, ispublic).
    pub fn list_dependencies(&self, query: &[(&str, String)]) -> Result<ListDependenciesResponse> {
        self.call("GET", "fgs/dependencies", query, &[], None)?
            .json()
    }

    /// `GET fgs/dependencies/{depend_id}/version`.
    pub fn list_dependency_versions(
        &self,
        dep_id: &str,
        marker: usize,
        maxitems: usize,
    ) -> Result<ListDependencyVersionsResponse> {
        self.call(
            "GET",
            &Self::dep_path(dep_id, ""),
            &[
                ("marker", marker.to_string()),
                ("maxitems", maxitems.to_string()),
            ],
            &[],
            None,
        )?
        .json()
    }

    /// `GET fgs/dependencies/{depend_id}/version/{version}`.
    pub fn get_dependency_version(&self, dep_id: &str, version: u32) -> Result<DependencyVersion> {
        self.call(
            "GET",
            &Self::dep_path(dep_id, &format!("/{version}")),
            &[],
            &[],
            None,
        )?
        .json()
    }

    /// `DELETE fgs/dependencies/{depend_id}/version/{version}`.
    pub fn delete_dependency_version(&self, dep_id: &str, version: u32) -> Result<()> {
        self.call(
            "DELETE",
            &Self::dep_path(dep_id, &format!("/{version}")),
            &[],
            &[],
            None,
        )
        .map(|_| ())
    }

    /// The dependency with exactly this name, if the project has one.
    pub fn find_dependency(&self, name: &str) -> Result<Option<DependencySummaryDto>> {
        let mut marker = 0usize;
        loop {
            let page = self.list_dependencies(&[
                ("name", name.to_string()),
                ("marker", marker.to_string()),
                ("maxitems", "400".to_string()),
            ])?;
            if let Some(d) = page.dependencies.iter().find(|d| d.name == name) {
                return Ok(Some(d.clone()));
            }
            if page.dependencies.is_empty() || page.next_marker >= page.count {
                return Ok(None);
            }
            marker = page.next_marker as usize;
        }
    }

    /// Every version of a dependency, oldest first.
    pub fn all_dependency_versions(&self, dep_id: &str) -> Result<Vec<DependencyVersion>> {
        let mut all = Vec::new();
        loop {
            let page = self.list_dependency_versions(dep_id, all.len(), 400)?;
            let n = page.dependencies.len();
            all.extend(page.dependencies);
            if n == 0 || all.len() as i64 >= page.count {
                return Ok(all);
            }
        }
    }

    /// The version `version` of the dependency named `name`.
    pub fn dependency_version_named(&self, name: &str, version: u32) -> Result<DependencyVersion> {
        let Some(dep) = self.find_dependency(name)? else {
            return Err(ClientError::Api {
                status: 404,
                code: "FSS.0404".into(),
                msg: format!("dependency {name:?} does not exist"),
            });
        };
        self.get_dependency_version(&dep.id, version)
    }
}

struct Progress<'a, F: FnMut(usize, usize)> {
    data: &'a [u8],
    sent: usize,
    report: F,
}

impl<F: FnMut(usize, usize)> Read for Progress<'_, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.data.len() - self.sent).min(256 * 1024);
        buf[..n].copy_from_slice(&self.data[self.sent..self.sent + n]);
        self.sent += n;
        (self.report)(self.sent, self.data.len());
        Ok(n)
    }
}
