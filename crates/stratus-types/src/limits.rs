//! Platform limits from the FunctionGraph guide (tables 1-4 and 1-5), as defaults.

/// Memory sizes (MB) a function or a dynamic-memory call may use.
pub const MEMORY_SIZES: &[u32] = &[
    128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 8192, 10240,
];
/// Smallest and largest execution timeout, seconds.
pub const TIMEOUT_RANGE: (u32, u32) = (3, 259_200);
/// Smallest and largest initializer timeout, seconds.
pub const INITIALIZER_TIMEOUT_RANGE: (u32, u32) = (1, 300);
/// Smallest and largest pre-stop timeout, seconds.
pub const PRE_STOP_TIMEOUT_RANGE: (u32, u32) = (1, 90);
/// Longest description.
pub const DESCRIPTION_MAX: usize = 512;
/// Total characters of all environment variables (keys and values).
pub const ENV_TOTAL_MAX: usize = 4096;
/// Functions per project.
pub const FUNCTIONS_PER_PROJECT: usize = 400;
/// Code package size accepted through the API, bytes.
pub const CODE_PACKAGE_MAX: u64 = 50 * 1024 * 1024;
/// Unpacked code size, bytes.
pub const CODE_UNPACKED_MAX: u64 = 1500 * 1024 * 1024;
/// Files in one code package.
pub const CODE_ENTRIES_MAX: usize = 20_000;
/// Requests one instance may serve at once.
pub const CONCURRENT_NUM_RANGE: (u32, u32) = (1, 1000);
/// Highest explicit max-instances value (-1 means unlimited, 0 disables).
pub const MAX_INSTANCES_MAX: i32 = 1000;
/// Default max instances of a new function.
pub const DEFAULT_MAX_INSTANCES: i32 = 400;
/// Ephemeral storage (/tmp) sizes, MB.
pub const EPHEMERAL_STORAGE_RANGE: (u32, u32) = (512, 10_240);
/// Synchronous request and response payload, bytes.
pub const SYNC_PAYLOAD_MAX: usize = 6 * 1024 * 1024;
/// Asynchronous request payload, bytes.
pub const ASYNC_PAYLOAD_MAX: usize = 256 * 1024;
/// Bytes of the log tail returned with an invocation.
pub const LOG_TAIL_BYTES: usize = 2048;
/// Saved test events per function (guide section 6).
pub const TEST_EVENTS_PER_FUNCTION: usize = 10;
/// Longest test event name (guide table 6-1).
pub const TEST_EVENT_NAME_MAX: usize = 25;
/// Largest test event content (the JSON text), bytes.
pub const TEST_EVENT_CONTENT_MAX: usize = 4096;
/// Default concurrent executions per project.
pub const PROJECT_CONCURRENCY: usize = 100;

/// CPU share in millicores for a memory size: a base of 200 plus 100 per 128 MB.
pub fn cpu_for_memory(memory_mb: u32) -> u32 {
    200 + memory_mb / 128 * 100
}

/// Published versions per function (guide 5.9).
pub const VERSIONS_PER_FUNCTION: usize = 10;
/// Aliases per function (guide 5.10).
pub const ALIASES_PER_FUNCTION: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_follows_memory() {
        assert_eq!(cpu_for_memory(128), 300);
        assert_eq!(cpu_for_memory(512), 600);
    }
}
