-- Run once by the postgres container on first start: the five casesync
-- databases and Airflow's metadata database, each owned by its own role.
CREATE ROLE casesync LOGIN PASSWORD 'casesync';
CREATE ROLE airflow LOGIN PASSWORD 'airflow';
CREATE DATABASE nova OWNER casesync;
CREATE DATABASE gcms OWNER casesync;
CREATE DATABASE ncms OWNER casesync;
CREATE DATABASE control OWNER casesync;
CREATE DATABASE ground_truth OWNER casesync;
CREATE DATABASE airflow OWNER airflow;
