-- file: _setup/meta.sql
CREATE SCHEMA IF NOT EXISTS "slo";

CREATE SCHEMA IF NOT EXISTS "validated";

CREATE SCHEMA IF NOT EXISTS "quarantine";

CREATE TABLE IF NOT EXISTS "slo"."runs" (
  "run_id" TEXT,
  "project" TEXT,
  "target" TEXT,
  "started_at" TIMESTAMP,
  "finished_at" TIMESTAMP,
  "status" TEXT,
  "passed" INT,
  "failed" INT,
  "warned" INT,
  "errored" INT
);

CREATE TABLE IF NOT EXISTS "slo"."results" (
  "run_id" TEXT,
  "table_name" TEXT,
  "check_name" TEXT,
  "check_type" TEXT,
  "column_name" TEXT,
  "partition" TEXT,
  "status" TEXT,
  "severity" TEXT,
  "observed_value" DOUBLE PRECISION,
  "observed" TEXT,
  "expected" TEXT,
  "message" TEXT,
  "checked_at" TIMESTAMP,
  "segment" TEXT
);

CREATE TABLE IF NOT EXISTS "slo"."metrics" (
  "run_id" TEXT,
  "table_name" TEXT,
  "metric" TEXT,
  "partition" TEXT,
  "value" DOUBLE PRECISION,
  "measured_at" TIMESTAMP,
  "segment" TEXT
);

CREATE TABLE IF NOT EXISTS "slo"."status" (
  "table_name" TEXT,
  "partition" TEXT,
  "status" TEXT,
  "failed_checks" TEXT,
  "run_id" TEXT,
  "checked_at" TIMESTAMP,
  "fingerprint" TEXT
);

CREATE TABLE IF NOT EXISTS "slo"."check_status" (
  "table_name" TEXT,
  "check_name" TEXT,
  "column_name" TEXT,
  "partition" TEXT,
  "status" TEXT,
  "severity" TEXT,
  "run_id" TEXT,
  "checked_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."alerts" (
  "alert_id" TEXT,
  "run_id" TEXT,
  "trigger_name" TEXT,
  "event" TEXT,
  "table_name" TEXT,
  "checks" TEXT,
  "action_index" INT,
  "action" TEXT,
  "destination" TEXT,
  "delivery" TEXT,
  "attempts" INT,
  "detail" TEXT,
  "payload" TEXT,
  "created_at" TIMESTAMP,
  "delivered_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."mutes" (
  "mute_id" TEXT,
  "selector" TEXT,
  "until" TIMESTAMP,
  "reason" TEXT,
  "created_by" TEXT,
  "created_at" TIMESTAMP,
  "ended_at" TIMESTAMP,
  "ended_by" TEXT
);

CREATE TABLE IF NOT EXISTS "slo"."versions" (
  "table_name" TEXT,
  "version" INT,
  "partition" TEXT,
  "status" TEXT,
  "failed_checks" TEXT,
  "row_count" BIGINT,
  "run_id" TEXT,
  "created_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."published" (
  "table_name" TEXT,
  "partition" TEXT,
  "version" INT,
  "run_id" TEXT,
  "published_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_metrics" (
  "table_name" TEXT,
  "column_name" TEXT,
  "metric" TEXT,
  "partition" TEXT,
  "value" DOUBLE PRECISION,
  "alerted" BOOLEAN,
  "run_id" TEXT,
  "measured_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_summaries" (
  "table_name" TEXT,
  "column_name" TEXT,
  "partition" TEXT,
  "summary" TEXT,
  "run_id" TEXT,
  "measured_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_state" (
  "table_name" TEXT,
  "column_name" TEXT,
  "key" TEXT,
  "value" TEXT,
  "run_id" TEXT,
  "updated_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_alerts" (
  "run_id" TEXT,
  "table_name" TEXT,
  "partition" TEXT,
  "column_name" TEXT,
  "check_name" TEXT,
  "metric" TEXT,
  "severity" TEXT,
  "observed" DOUBLE PRECISION,
  "expected" TEXT,
  "message" TEXT,
  "incident" TEXT,
  "cause" TEXT,
  "created_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_incidents" (
  "run_id" TEXT,
  "table_name" TEXT,
  "partition" TEXT,
  "incident" TEXT,
  "cause" TEXT,
  "columns" TEXT,
  "alerts" INT,
  "severity" TEXT,
  "created_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_incident_events" (
  "run_id" TEXT,
  "table_name" TEXT,
  "incident" TEXT,
  "event" TEXT,
  "partition" TEXT,
  "opened" TEXT,
  "columns" TEXT,
  "cause" TEXT,
  "partitions" INT,
  "severity" TEXT,
  "created_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."monitor_acceptances" (
  "table_name" TEXT,
  "column_name" TEXT,
  "metric" TEXT,
  "from_partition" TEXT,
  "reason" TEXT,
  "accepted_by" TEXT,
  "accepted_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."failed_rows" (
  "run_id" TEXT,
  "table_name" TEXT,
  "check_name" TEXT,
  "partition" TEXT,
  "row_number" INT,
  "row_values" TEXT,
  "created_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."relation_columns" (
  "table_name" TEXT,
  "position" INT,
  "column_name" TEXT,
  "column_type" TEXT,
  "run_id" TEXT,
  "recorded_at" TIMESTAMP
);


-- file: orders/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN "order_date" IS NULL
    THEN '(null)'
    WHEN CAST("order_date" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("order_date" AS TEXT)
    ELSE CAST("order_date" AS TEXT)
  END AS "_slo_partition",
  COUNT(*) AS "m0",
  ABS(SUM("amount") - SUM("amount")) <= 0.01
  AND COUNT(CASE WHEN NOT "status" IN ('placed', 'x''); DROP TABLE raw.t; --') THEN 1 END) = 0 AS "m1",
  AVG(CASE WHEN "amount" > 0 OR (
    NOT TRUE AND "amount" = 0
  ) THEN 1.0 ELSE 0.0 END) AS "m2",
  AVG(CASE WHEN "amount" > 0 OR (
    NOT FALSE AND "amount" = 0
  ) THEN 1.0 ELSE 0.0 END) AS "m3",
  COUNT(CASE WHEN "amount" IS NULL THEN 1 END) AS "m4"
FROM "raw"."orders"
GROUP BY
  "order_date";

-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN "order_date" IS NULL
    THEN '(null)'
    WHEN CAST("order_date" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("order_date" AS TEXT)
    ELSE CAST("order_date" AS TEXT)
  END AS "_slo_partition",
  ABS(SUM("amount") - SUM("amount")) <= 0.01
  AND COUNT(CASE WHEN NOT "status" IN ('placed', 'shipped') THEN 1 END) = 0 AS "m0"
FROM "raw"."orders"
WHERE
  "amount" > 0
GROUP BY
  "order_date";

-- query scan: a whole SELECT of its own (assert): the rows it returns
SELECT
  COUNT(*) AS "m0"
FROM (
  SELECT
    "o"."order_id",
    'it''s refunded twice' AS "why"
  FROM "raw"."orders" AS "o"
  JOIN "raw"."refunds" AS "r"
    ON "r"."order_id" = "o"."order_id"
  GROUP BY
    "o"."order_id"
  HAVING
    COUNT(*) > 1
) AS "q";


-- file: orders/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."orders" AS
SELECT
  *,
  CAST(NULL AS TEXT) AS "_slo_violations"
FROM "raw"."orders"
WHERE
  FALSE;

-- file: orders/validated_view.sql
CREATE OR REPLACE VIEW "validated"."orders" AS
SELECT
  *
FROM "raw"."orders";

