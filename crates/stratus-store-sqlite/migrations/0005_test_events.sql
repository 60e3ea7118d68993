-- Saved test events (guide section 6): at most 10 per function, names unique within
-- the function; they go with the function when it is deleted.
CREATE TABLE IF NOT EXISTS test_events (
    id TEXT PRIMARY KEY,
    function_id TEXT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    UNIQUE (function_id, name)
);
CREATE INDEX IF NOT EXISTS test_events_by_function ON test_events (function_id, created_ms);
