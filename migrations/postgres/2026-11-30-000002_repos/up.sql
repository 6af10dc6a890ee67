-- Model and dataset repos. The files and history live in a bare git repository named by `id`;
-- this row holds ownership, visibility and the metadata listings need without opening git.
CREATE TABLE repos (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('model', 'dataset')),
    owner_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    private BOOLEAN NOT NULL DEFAULT FALSE,
    default_branch TEXT NOT NULL DEFAULT 'main',
    downloads BIGINT NOT NULL DEFAULT 0,
    likes BIGINT NOT NULL DEFAULT 0,
    head_commit TEXT,
    card_data TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (kind, owner_id, name_key)
);
CREATE INDEX repos_owner ON repos (owner_id);

-- LFS objects stored from inline commit content, with the git blob id the content would have had
-- as a regular file (preupload answers it so unchanged files make no commit).
CREATE TABLE lfs_objects (
    oid TEXT PRIMARY KEY NOT NULL,
    size BIGINT NOT NULL,
    git_oid TEXT,
    created_at TIMESTAMP NOT NULL
);
