//! Use cases of the platform: deploying functions (create, update, delete, code),
//! invoking them (pools of instances, the runtime API, logs), saved test events and the
//! built-in event and function templates. Composes the store, the
//! sandbox and the scheduler; knows no HTTP of the public API and no SQL.

mod apps;
mod bridge;
mod code;
mod config;
mod dependencies;
mod error;
mod event_templates;
mod function_templates;
mod functions;
mod idle;
mod image_fn;
mod image_gc;
mod instance;
mod invoke;
mod logs;
mod materialize;
mod mounts;
mod pools;
mod precompile;
mod prewarm;
mod queue;
mod reserved;
mod shims;
mod test_events;
mod triggers;
mod versions;

pub use apps::{AppInput, Apps};
pub use code::{CodeUpload, ExportContents};
pub use config::EngineConfig;
pub use dependencies::{Dependencies, DependencyError, DependencyUpload};
pub use error::{DeployError, InvokeError};
pub use event_templates::{event_template, EventTemplate, EVENT_TEMPLATES};
pub use function_templates::{
    function_template, FunctionTemplate, TemplateTrigger, FUNCTION_TEMPLATES,
};
pub use functions::{ExportParts, ExportedFunction, FunctionDraft, Functions, EXPORT_MAX};
pub use invoke::{Cause, FunctionError, InvokeRequest, InvokeResult, InvokeType, Invoker};
pub use logs::{LogSink, Logs};
pub use queue::policy::{AsyncPolicy, Destination, DestinationInput, PolicyInput};
pub use queue::{qualifier_text, AsyncConfig, AsyncQueue, CancelError};
pub use reserved::{CronPolicy, Reserved, ReservedConfig, ReservedInput, ReservedPolicy};
pub use test_events::{check_content as check_test_event_content, TestEventError, TestEvents};
pub use triggers::apig::{Api, ApiAuth, Gateway, RouteMatch};
pub use triggers::{TriggerInput, TriggerKind, Triggers, ACTIVE, DISABLED};
pub use versions::{AliasInput, Catalog, Published, Versions};

use std::sync::Arc;
use stratus_sandbox::Sandbox;
use stratus_store::{BlobStore, Store};

/// The assembled engine.
#[derive(Clone)]
pub struct Engine {
    /// Function management.
    pub functions: Functions,
    /// Invocation.
    pub invoker: Invoker,
    /// Log queries.
    pub logs: Logs,
    /// Asynchronous invocation.
    pub queue: AsyncQueue,
    /// Versions and aliases.
    pub versions: Versions,
    /// Triggers.
    pub triggers: Triggers,
    /// Saved test events.
    pub test_events: TestEvents,
    /// Dependency packages.
    pub dependencies: Dependencies,
    /// Reserved instances.
    pub reserved: Reserved,
    /// The APIs that API gateway triggers publish.
    pub gateway: Gateway,
    /// App keys (App authentication of API gateway triggers).
    pub apps: Apps,
}

impl Engine {
    /// Wires the engine from its parts and starts its background tasks (log writer,
    /// idle reaper). Must run inside a Tokio runtime.
    pub async fn start(
        config: EngineConfig,
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        sandbox: Arc<dyn Sandbox>,
    ) -> anyhow::Result<Engine> {
        let config = Arc::new(config);
        let shims = shims::write_shims(&config.data_dir)?;
        shims::precompile_python(&shims, &config.python);
        let sink = LogSink::start(store.clone(), config.log_retention, config.log_max_lines);
        let materializer = materialize::Materializer::new(
            config.data_dir.join("code"),
            blobs.clone(),
            Some(config.python.clone()),
        );
        let functions = Functions::new(config.clone(), store.clone(), blobs.clone());
        functions.collect_garbage().await;
        let versions = Versions::new(store.clone(), functions.clone());
        let invoker = Invoker::start(
            config.clone(),
            functions.clone(),
            versions.clone(),
            sandbox,
            materializer,
            sink.clone(),
            shims,
        );
        let queue = AsyncQueue::start(
            config.clone(),
            store.clone(),
            invoker.clone(),
            functions.clone(),
        )
        .await?;
        let timer = triggers::timer::TimerKind::start(queue.clone(), &config.region);
        let dependencies = Dependencies::new(config.clone(), store.clone(), functions.clone());
        let reserved = Reserved::start(
            store.clone(),
            invoker.clone(),
            versions.clone(),
            &config.region,
        )
        .await?;
        let (apig, gateway) = triggers::apig::ApigKind::new(&config.gateway_url, &config.region);
        let triggers = Triggers::start(store.clone(), invoker.clone(), vec![timer, apig]).await?;
        Ok(Engine {
            reserved,
            triggers,
            test_events: TestEvents::new(store.clone(), functions.clone()),
            dependencies,
            gateway,
            apps: Apps::new(store.clone()),
            functions,
            invoker,
            logs: Logs::new(store, sink),
            queue,
            versions,
        })
    }

    /// Stops every instance.
    pub async fn shutdown(&self) {
        self.queue.shutdown();
        self.invoker.shutdown().await;
    }
}
