DROP TABLE lfs_objects;
DROP TABLE repos;
