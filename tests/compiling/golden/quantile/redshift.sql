-- file: _setup/meta.sql
CREATE SCHEMA IF NOT EXISTS "slo";

CREATE SCHEMA IF NOT EXISTS "validated";

CREATE SCHEMA IF NOT EXISTS "quarantine";

CREATE TABLE IF NOT EXISTS "slo"."runs" (
  "run_id" VARCHAR(MAX),
  "project" VARCHAR(MAX),
  "target" VARCHAR(MAX),
  "started_at" TIMESTAMP,
  "finished_at" TIMESTAMP,
  "status" VARCHAR(MAX),
  "passed" INTEGER,
  "failed" INTEGER,
  "warned" INTEGER,
  "errored" INTEGER
);

CREATE TABLE IF NOT EXISTS "slo"."results" (
  "run_id" VARCHAR(MAX),
  "table_name" VARCHAR(MAX),
  "check_name" VARCHAR(MAX),
  "check_type" VARCHAR(MAX),
  "column_name" VARCHAR(MAX),
  "partition" VARCHAR(MAX),
  "status" VARCHAR(MAX),
  "severity" VARCHAR(MAX),
  "observed_value" DOUBLE PRECISION,
  "observed" VARCHAR(MAX),
  "expected" VARCHAR(MAX),
  "message" VARCHAR(MAX),
  "checked_at" TIMESTAMP,
  "segment" VARCHAR(MAX)
);

CREATE TABLE IF NOT EXISTS "slo"."metrics" (
  "run_id" VARCHAR(MAX),
  "table_name" VARCHAR(MAX),
  "metric" VARCHAR(MAX),
  "partition" VARCHAR(MAX),
  "value" DOUBLE PRECISION,
  "measured_at" TIMESTAMP,
  "segment" VARCHAR(MAX)
);

CREATE TABLE IF NOT EXISTS "slo"."status" (
  "table_name" VARCHAR(MAX),
  "partition" VARCHAR(MAX),
  "status" VARCHAR(MAX),
  "failed_checks" VARCHAR(MAX),
  "run_id" VARCHAR(MAX),
  "checked_at" TIMESTAMP,
  "fingerprint" VARCHAR(MAX)
);

CREATE TABLE IF NOT EXISTS "slo"."check_status" (
  "table_name" VARCHAR(MAX),
  "check_name" VARCHAR(MAX),
  "column_name" VARCHAR(MAX),
  "partition" VARCHAR(MAX),
  "status" VARCHAR(MAX),
  "severity" VARCHAR(MAX),
  "run_id" VARCHAR(MAX),
  "checked_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."alerts" (
  "alert_id" VARCHAR(MAX),
  "run_id" VARCHAR(MAX),
  "trigger_name" VARCHAR(MAX),
  "event" VARCHAR(MAX),
  "table_name" VARCHAR(MAX),
  "checks" VARCHAR(MAX),
  "action_index" INTEGER,
  "action" VARCHAR(MAX),
  "destination" VARCHAR(MAX),
  "delivery" VARCHAR(MAX),
  "attempts" INTEGER,
  "detail" VARCHAR(MAX),
  "payload" VARCHAR(MAX),
  "created_at" TIMESTAMP,
  "delivered_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."mutes" (
  "mute_id" VARCHAR(MAX),
  "selector" VARCHAR(MAX),
  "until" TIMESTAMP,
  "reason" VARCHAR(MAX),
  "created_by" VARCHAR(MAX),
  "created_at" TIMESTAMP,
  "ended_at" TIMESTAMP,
  "ended_by" VARCHAR(MAX)
);

CREATE TABLE IF NOT EXISTS "slo"."versions" (
  "table_name" VARCHAR(MAX),
  "version" INTEGER,
  "partition" VARCHAR(MAX),
  "status" VARCHAR(MAX),
  "failed_checks" VARCHAR(MAX),
  "row_count" BIGINT,
  "run_id" VARCHAR(MAX),
  "created_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."published" (
  "table_name" VARCHAR(MAX),
  "partition" VARCHAR(MAX),
  "version" INTEGER,
  "run_id" VARCHAR(MAX),
  "published_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_metrics" (
  "table_name" VARCHAR(MAX),
  "column_name" VARCHAR(MAX),
  "metric" VARCHAR(MAX),
  "partition" VARCHAR(MAX),
  "value" DOUBLE PRECISION,
  "alerted" BOOLEAN,
  "run_id" VARCHAR(MAX),
  "measured_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_summaries" (
  "table_name" VARCHAR(MAX),
  "column_name" VARCHAR(MAX),
  "partition" VARCHAR(MAX),
  "summary" VARCHAR(MAX),
  "run_id" VARCHAR(MAX),
  "measured_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_state" (
  "table_name" VARCHAR(MAX),
  "column_name" VARCHAR(MAX),
  "key" VARCHAR(MAX),
  "value" VARCHAR(MAX),
  "run_id" VARCHAR(MAX),
  "updated_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_alerts" (
  "run_id" VARCHAR(MAX),
  "table_name" VARCHAR(MAX),
  "partition" VARCHAR(MAX),
  "column_name" VARCHAR(MAX),
  "check_name" VARCHAR(MAX),
  "metric" VARCHAR(MAX),
  "severity" VARCHAR(MAX),
  "observed" DOUBLE PRECISION,
  "expected" VARCHAR(MAX),
  "message" VARCHAR(MAX),
  "incident" VARCHAR(MAX),
  "cause" VARCHAR(MAX),
  "created_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_incidents" (
  "run_id" VARCHAR(MAX),
  "table_name" VARCHAR(MAX),
  "partition" VARCHAR(MAX),
  "incident" VARCHAR(MAX),
  "cause" VARCHAR(MAX),
  "columns" VARCHAR(MAX),
  "alerts" INTEGER,
  "severity" VARCHAR(MAX),
  "created_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_incident_events" (
  "run_id" VARCHAR(MAX),
  "table_name" VARCHAR(MAX),
  "incident" VARCHAR(MAX),
  "event" VARCHAR(MAX),
  "partition" VARCHAR(MAX),
  "opened" VARCHAR(MAX),
  "columns" VARCHAR(MAX),
  "cause" VARCHAR(MAX),
  "partitions" INTEGER,
  "severity" VARCHAR(MAX),
  "created_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_acceptances" (
  "table_name" VARCHAR(MAX),
  "column_name" VARCHAR(MAX),
  "metric" VARCHAR(MAX),
  "from_partition" VARCHAR(MAX),
  "reason" VARCHAR(MAX),
  "accepted_by" VARCHAR(MAX),
  "accepted_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."failed_rows" (
  "run_id" VARCHAR(MAX),
  "table_name" VARCHAR(MAX),
  "check_name" VARCHAR(MAX),
  "partition" VARCHAR(MAX),
  "row_number" INTEGER,
  "row_values" VARCHAR(MAX),
  "created_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."relation_columns" (
  "table_name" VARCHAR(MAX),
  "position" INTEGER,
  "column_name" VARCHAR(MAX),
  "column_type" VARCHAR(MAX),
  "run_id" VARCHAR(MAX),
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
  CAST(NULL AS VARCHAR(MAX)) AS "_slo_violations"
FROM "raw"."scores"
WHERE
  FALSE;

-- file: scores/validated_view.sql
CREATE OR REPLACE VIEW "validated"."scores" AS
SELECT
  *
FROM "raw"."scores";

