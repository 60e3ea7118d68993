CREATE TABLE triggers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    function_id TEXT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL,
    package TEXT NOT NULL,
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    type_code TEXT NOT NULL,
    event_type_code TEXT NOT NULL,
    status TEXT NOT NULL,
    event_data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    anchor_ms INTEGER NOT NULL
);
CREATE INDEX triggers_by_function ON triggers (function_id);
