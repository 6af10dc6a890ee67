-- Search: the card body (markdown after the front matter, at most 64 KiB) so the index can be
-- rebuilt from the database alone, and the change log every serve process follows to keep its
-- own index current (a crash loses no update: the index stores the last position it applied).
ALTER TABLE repos ADD COLUMN card_body TEXT;

CREATE TABLE search_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX search_changes_created ON search_changes (created_at);
