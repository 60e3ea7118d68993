CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE access_keys (
    access_key TEXT PRIMARY KEY,
    secret_key TEXT NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects(id),
    root INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE functions (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    package TEXT NOT NULL,
    name TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (project_id, package, name)
);
CREATE TABLE function_versions (
    function_id TEXT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    spec TEXT NOT NULL,
    code_sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (function_id, version)
);
CREATE TABLE logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL,
    package TEXT NOT NULL,
    function TEXT NOT NULL,
    version TEXT NOT NULL,
    request_id TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    level TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX logs_by_function ON logs (project_id, package, function, seq);
CREATE INDEX logs_by_request ON logs (request_id);
CREATE INDEX logs_by_time ON logs (time_ms);
