-- Lineage: tensor manifests of weight files, per-commit scans, the edges of the model DAG, its
-- transitive closure and maintained descendant counts.

-- Tags derived from the current lineage edges (base_model:<id>, base_model:<relation>:<id>),
-- a JSON array; listings and model_info merge them with the card's tags.
ALTER TABLE repos ADD COLUMN lineage_tags TEXT;

-- One row per distinct weight file content ("sha256:<hex>" for LFS objects, "git:<hex>" for
-- git blobs): manifests are content-addressed, so a fork or re-upload never rescans bytes.
CREATE TABLE weight_files (
    oid TEXT PRIMARY KEY NOT NULL,
    format TEXT NOT NULL,
    size BIGINT NOT NULL,
    tensor_count BIGINT NOT NULL,
    parameter_count BIGINT NOT NULL,
    dtypes TEXT NOT NULL,
    metadata TEXT NOT NULL,
    error TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE tensors (
    file_oid TEXT NOT NULL REFERENCES weight_files (oid) ON DELETE CASCADE,
    name TEXT NOT NULL,
    dtype TEXT NOT NULL,
    shape TEXT NOT NULL,
    begin_offset BIGINT NOT NULL,
    end_offset BIGINT NOT NULL,
    hash TEXT NOT NULL,
    sample TEXT,
    PRIMARY KEY (file_oid, name)
);
CREATE INDEX tensors_hash ON tensors (hash);

-- The lineage scan of one commit of a repo's default branch: queued by the commit, done by the
-- scanner (any serve process), with its warnings and the commit's parameter summary.
CREATE TABLE commit_scans (
    repo_id BIGINT NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    commit_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done')),
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_at TIMESTAMP,
    summary TEXT,
    warnings TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    PRIMARY KEY (repo_id, commit_id)
);
CREATE INDEX commit_scans_state ON commit_scans (state, created_at);

CREATE TABLE commit_weight_files (
    repo_id BIGINT NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    commit_id TEXT NOT NULL,
    path TEXT NOT NULL,
    file_oid TEXT NOT NULL REFERENCES weight_files (oid),
    PRIMARY KEY (repo_id, commit_id, path)
);
CREATE INDEX commit_weight_files_file ON commit_weight_files (file_oid);

-- child repo@commit -> parent repo@commit. parent_repo_id becomes NULL when the parent is
-- deleted; the edge and the declared name stay so the child's page still shows it.
CREATE TABLE lineage_edges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    child_repo_id BIGINT NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    child_commit TEXT NOT NULL,
    parent_repo_id BIGINT REFERENCES repos (id) ON DELETE SET NULL,
    parent_name TEXT NOT NULL,
    parent_commit TEXT,
    relation TEXT NOT NULL,
    source TEXT NOT NULL,
    relation_stated BOOLEAN NOT NULL,
    position INTEGER NOT NULL,
    merge_weight DOUBLE,
    merge_base BOOLEAN NOT NULL DEFAULT FALSE,
    recipe TEXT,
    verification TEXT NOT NULL,
    evidence TEXT NOT NULL,
    is_current BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX lineage_edges_child ON lineage_edges (child_repo_id, is_current);
CREATE INDEX lineage_edges_parent ON lineage_edges (parent_repo_id, is_current);

-- Transitive closure of the current edges (no self rows): depth is the shortest path length;
-- relation and private are the descendant's, so pages, filters and visibility need no join.
CREATE TABLE lineage_closure (
    ancestor_id BIGINT NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    descendant_id BIGINT NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    depth INTEGER NOT NULL,
    relation TEXT NOT NULL,
    private BOOLEAN NOT NULL,
    PRIMARY KEY (ancestor_id, descendant_id)
);
CREATE INDEX lineage_closure_page ON lineage_closure (ancestor_id, depth, descendant_id);
CREATE INDEX lineage_closure_relation ON lineage_closure (ancestor_id, relation, depth, descendant_id);
CREATE INDEX lineage_closure_private ON lineage_closure (ancestor_id, private);
CREATE INDEX lineage_closure_up ON lineage_closure (descendant_id, depth);

-- Public children and descendants of each repo per relation, maintained with the closure so
-- counts never need a traversal. Private descendants are counted per request for those who
-- may see them.
CREATE TABLE lineage_counts (
    repo_id BIGINT NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    relation TEXT NOT NULL,
    children BIGINT NOT NULL DEFAULT 0,
    descendants BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (repo_id, relation)
);
