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


-- file: payments/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN "paid_on" IS NULL
    THEN '(null)'
    WHEN CAST("paid_on" AS VARCHAR(MAX)) LIKE '(%null)'
    THEN '(' || CAST("paid_on" AS VARCHAR(MAX))
    ELSE CAST("paid_on" AS VARCHAR(MAX))
  END AS "_slo_partition",
  COUNT(*) AS "m0"
FROM "raw"."payments"
GROUP BY
  "paid_on";

-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN "paid_on" IS NULL
    THEN '(null)'
    WHEN CAST("paid_on" AS VARCHAR(MAX)) LIKE '(%null)'
    THEN '(' || CAST("paid_on" AS VARCHAR(MAX))
    ELSE CAST("paid_on" AS VARCHAR(MAX))
  END AS "_slo_partition",
  COUNT(*) AS "m0",
  COUNT("payment_id") - COUNT(DISTINCT "payment_id") AS "m1",
  COUNT(CASE WHEN "amount" IS NULL THEN 1 END) AS "m2",
  AVG("amount") AS "m3",
  COUNT(DISTINCT "amount") AS "m4"
FROM "raw"."payments"
WHERE
  "method" = 'card'
GROUP BY
  "paid_on";

-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN "paid_on" IS NULL
    THEN '(null)'
    WHEN CAST("paid_on" AS VARCHAR(MAX)) LIKE '(%null)'
    THEN '(' || CAST("paid_on" AS VARCHAR(MAX))
    ELSE CAST("paid_on" AS VARCHAR(MAX))
  END AS "_slo_partition",
  AVG("amount") > 1 AS "m0"
FROM "raw"."payments"
WHERE
  NOT "amount" IS NULL AND "method" IN ('card', 'cash')
GROUP BY
  "paid_on";

-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN "paid_on" IS NULL
    THEN '(null)'
    WHEN CAST("paid_on" AS VARCHAR(MAX)) LIKE '(%null)'
    THEN '(' || CAST("paid_on" AS VARCHAR(MAX))
    ELSE CAST("paid_on" AS VARCHAR(MAX))
  END AS "_slo_partition",
  COUNT(CASE WHEN "amount" < 0 THEN 1 END) AS "m0",
  COUNT(*) AS "m1"
FROM "raw"."payments"
WHERE
  "method" <> 'refund'
GROUP BY
  "paid_on";


-- file: payments/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."payments" AS
SELECT
  *,
  SUBSTRING(CASE
    WHEN COALESCE((
      "method" <> 'refund'
    ), FALSE)
    AND COALESCE((
      "amount" < 0
    ), FALSE)
    THEN ', between_amount'
    ELSE ''
  END FROM 3) AS "_slo_violations"
FROM "raw"."payments"
WHERE
  COALESCE((
    "method" <> 'refund'
  ), FALSE)
  AND COALESCE((
    "amount" < 0
  ), FALSE);

-- file: payments/validated_view.sql
CREATE OR REPLACE VIEW "validated"."payments" AS
SELECT
  *
FROM "raw"."payments"
WHERE
  NOT (
    COALESCE((
      "method" <> 'refund'
    ), FALSE)
    AND COALESCE((
      "amount" < 0
    ), FALSE)
  );

