#!/bin/sh
# The database roles of a production deployment (docs/operations.md, "Database roles"): run
# once by the postgres image on an empty data directory, as its superuser. The migrations find
# the roles here and grant nothing more.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_password="$APEXCHAINX_OWNER_PASSWORD" \
  -v api_password="$APEXCHAINX_API_PASSWORD" \
  -v worker_password="$APEXCHAINX_WORKER_PASSWORD" <<'SQL'
CREATE ROLE apexchainx_app NOLOGIN;
CREATE ROLE apexchainx_system NOLOGIN;
CREATE ROLE apexchainx_app_search NOLOGIN;
CREATE ROLE apexchainx_owner LOGIN PASSWORD :'owner_password'
  IN ROLE apexchainx_app, apexchainx_system, apexchainx_app_search;
CREATE ROLE apexchainx_api LOGIN NOINHERIT PASSWORD :'api_password' IN ROLE apexchainx_app;
CREATE ROLE apexchainx_worker LOGIN NOINHERIT PASSWORD :'worker_password'
  IN ROLE apexchainx_app, apexchainx_system;
ALTER DATABASE :"DBNAME" OWNER TO apexchainx_owner;
ALTER SCHEMA public OWNER TO apexchainx_owner;
REVOKE ALL ON DATABASE :"DBNAME" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"DBNAME" TO apexchainx_owner, apexchainx_api, apexchainx_worker;
SQL
