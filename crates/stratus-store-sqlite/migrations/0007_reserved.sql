CREATE TABLE reserved_configs (
    function_id TEXT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    qualifier TEXT NOT NULL,
    config TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (function_id, qualifier)
);
