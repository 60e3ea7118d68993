CREATE TABLE async_requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL UNIQUE,
    project_id TEXT NOT NULL,
    function_id TEXT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    package TEXT NOT NULL,
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    memory TEXT,
    payload BLOB NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    accepted_ms INTEGER NOT NULL,
    start_ms INTEGER,
    end_ms INTEGER,
    error_code INTEGER NOT NULL DEFAULT 0,
    error_message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX async_by_function ON async_requests (function_id, accepted_ms);
CREATE INDEX async_pending ON async_requests (status) WHERE status IN ('WAIT', 'RUNNING');
CREATE INDEX async_by_end ON async_requests (end_ms) WHERE end_ms IS NOT NULL;
CREATE TABLE async_configs (
    function_id TEXT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    qualifier TEXT NOT NULL,
    config TEXT NOT NULL,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    PRIMARY KEY (function_id, qualifier)
);
