-- file: _setup/meta.sql
CREATE SCHEMA IF NOT EXISTS "slo";

CREATE SCHEMA IF NOT EXISTS "validated";

CREATE SCHEMA IF NOT EXISTS "quarantine";

CREATE TABLE IF NOT EXISTS "slo"."runs" (
  "run_id" VARCHAR,
  "project" VARCHAR,
  "target" VARCHAR,
  "started_at" TIMESTAMP,
  "finished_at" TIMESTAMP,
  "status" VARCHAR,
  "passed" INT,
  "failed" INT,
  "warned" INT,
  "errored" INT
);

CREATE TABLE IF NOT EXISTS "slo"."results" (
  "run_id" VARCHAR,
  "table_name" VARCHAR,
  "check_name" VARCHAR,
  "check_type" VARCHAR,
  "column_name" VARCHAR,
  "partition" VARCHAR,
  "status" VARCHAR,
  "severity" VARCHAR,
  "observed_value" DOUBLE,
  "observed" VARCHAR,
  "expected" VARCHAR,
  "message" VARCHAR,
  "checked_at" TIMESTAMP,
  "segment" VARCHAR
);

CREATE TABLE IF NOT EXISTS "slo"."metrics" (
  "run_id" VARCHAR,
  "table_name" VARCHAR,
  "metric" VARCHAR,
  "partition" VARCHAR,
  "value" DOUBLE,
  "measured_at" TIMESTAMP,
  "segment" VARCHAR
);

CREATE TABLE IF NOT EXISTS "slo"."status" (
  "table_name" VARCHAR,
  "partition" VARCHAR,
  "status" VARCHAR,
  "failed_checks" VARCHAR,
  "run_id" VARCHAR,
  "checked_at" TIMESTAMP,
  "fingerprint" VARCHAR
);

CREATE TABLE IF NOT EXISTS "slo"."check_status" (
  "table_name" VARCHAR,
  "check_name" VARCHAR,
  "column_name" VARCHAR,
  "partition" VARCHAR,
  "status" VARCHAR,
  "severity" VARCHAR,
  "run_id" VARCHAR,
  "checked_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."alerts" (
  "alert_id" VARCHAR,
  "run_id" VARCHAR,
  "trigger_name" VARCHAR,
  "event" VARCHAR,
  "table_name" VARCHAR,
  "checks" VARCHAR,
  "action_index" INT,
  "action" VARCHAR,
  "destination" VARCHAR,
  "delivery" VARCHAR,
  "attempts" INT,
  "detail" VARCHAR,
  "payload" VARCHAR,
  "created_at" TIMESTAMP,
  "delivered_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."mutes" (
  "mute_id" VARCHAR,
  "selector" VARCHAR,
  "until" TIMESTAMP,
  "reason" VARCHAR,
  "created_by" VARCHAR,
  "created_at" TIMESTAMP,
  "ended_at" TIMESTAMP,
  "ended_by" VARCHAR
);

CREATE TABLE IF NOT EXISTS "slo"."versions" (
  "table_name" VARCHAR,
  "version" INT,
  "partition" VARCHAR,
  "status" VARCHAR,
  "failed_checks" VARCHAR,
  "row_count" BIGINT,
  "run_id" VARCHAR,
  "created_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."published" (
  "table_name" VARCHAR,
  "partition" VARCHAR,
  "version" INT,
  "run_id" VARCHAR,
  "published_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_metrics" (
  "table_name" VARCHAR,
  "column_name" VARCHAR,
  "metric" VARCHAR,
  "partition" VARCHAR,
  "value" DOUBLE,
  "alerted" BOOLEAN,
  "run_id" VARCHAR,
  "measured_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_summaries" (
  "table_name" VARCHAR,
  "column_name" VARCHAR,
  "partition" VARCHAR,
  "summary" VARCHAR,
  "run_id" VARCHAR,
  "measured_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_state" (
  "table_name" VARCHAR,
  "column_name" VARCHAR,
  "key" VARCHAR,
  "value" VARCHAR,
  "run_id" VARCHAR,
  "updated_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_alerts" (
  "run_id" VARCHAR,
  "table_name" VARCHAR,
  "partition" VARCHAR,
  "column_name" VARCHAR,
  "check_name" VARCHAR,
  "metric" VARCHAR,
  "severity" VARCHAR,
  "observed" DOUBLE,
  "expected" VARCHAR,
  "message" VARCHAR,
  "incident" VARCHAR,
  "cause" VARCHAR,
  "created_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_incidents" (
  "run_id" VARCHAR,
  "table_name" VARCHAR,
  "partition" VARCHAR,
  "incident" VARCHAR,
  "cause" VARCHAR,
  "columns" VARCHAR,
  "alerts" INT,
  "severity" VARCHAR,
  "created_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_incident_events" (
  "run_id" VARCHAR,
  "table_name" VARCHAR,
  "incident" VARCHAR,
  "event" VARCHAR,
  "partition" VARCHAR,
  "opened" VARCHAR,
  "columns" VARCHAR,
  "cause" VARCHAR,
  "partitions" INT,
  "severity" VARCHAR,
  "created_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_acceptances" (
  "table_name" VARCHAR,
  "column_name" VARCHAR,
  "metric" VARCHAR,
  "from_partition" VARCHAR,
  "reason" VARCHAR,
  "accepted_by" VARCHAR,
  "accepted_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."failed_rows" (
  "run_id" VARCHAR,
  "table_name" VARCHAR,
  "check_name" VARCHAR,
  "partition" VARCHAR,
  "row_number" INT,
  "row_values" VARCHAR,
  "created_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."relation_columns" (
  "table_name" VARCHAR,
  "position" INT,
  "column_name" VARCHAR,
  "column_type" VARCHAR,
  "run_id" VARCHAR,
  "recorded_at" TIMESTAMP
);


-- file: scores/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS "m0",
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
    "score") AS "m1"
FROM "raw"."scores";

-- fused scan: metrics sharing one filter share one scan
SELECT
  PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY
    "score") AS "m0"
FROM "raw"."scores"
WHERE
  NOT "score" IS NULL;


-- file: scores/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."scores" AS
SELECT
  *,
  CAST(NULL AS VARCHAR) AS "_slo_violations"
FROM "raw"."scores"
WHERE
  FALSE;

-- file: scores/validated_view.sql
CREATE OR REPLACE VIEW "validated"."scores" AS
SELECT
  *
FROM "raw"."scores";

