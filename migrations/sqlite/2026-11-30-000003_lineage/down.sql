DROP TABLE lineage_counts;
DROP TABLE lineage_closure;
DROP TABLE lineage_edges;
DROP TABLE commit_weight_files;
DROP TABLE commit_scans;
DROP TABLE tensors;
DROP TABLE weight_files;
ALTER TABLE repos DROP COLUMN lineage_tags;
