-- Dependency packages (guide section 11). A dependency is a name within a project; its
-- versions are immutable packages stored in the blob store under their SHA-256.
-- Functions reference versions by id inside their stored spec (the `dependencies`
-- array of function_versions.spec), so no foreign key points here from functions: the
-- store refuses to delete a version that any spec references.
CREATE TABLE dependencies (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL,
    -- Numbers are never reused, even after the highest version was deleted.
    next_version INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    UNIQUE (project_id, name)
);
CREATE TABLE dependency_versions (
    id TEXT PRIMARY KEY,
    dependency_id TEXT NOT NULL REFERENCES dependencies(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    runtime TEXT NOT NULL,
    description TEXT NOT NULL,
    depend_type TEXT NOT NULL,
    source_url TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    md5 TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    UNIQUE (dependency_id, version)
);
CREATE INDEX dependency_versions_by_project ON dependency_versions (project_id);
