DROP TABLE search_changes;
ALTER TABLE repos DROP COLUMN card_body;
