DROP TABLE eval_results;
DROP TABLE eval_jobs;
DROP TABLE eval_workers;
