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


-- file: customers/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS "m0"
FROM "raw"."customers";

-- segmented scan: group_by: every check with these columns and filter, one scan grouped by them
SELECT
  CASE
    WHEN "tier" IS NULL
    THEN '(null)'
    WHEN CAST("tier" AS VARCHAR) LIKE '(%null)'
    THEN '(' || CAST("tier" AS VARCHAR)
    ELSE CAST("tier" AS VARCHAR)
  END AS "_slo_segment0",
  COUNT(*) AS "_slo_rows",
  COUNT(*) AS "m0",
  AVG("age") AS "m1"
FROM "raw"."customers"
GROUP BY
  "tier";


-- file: customers/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."customers" AS
SELECT
  *,
  CAST(NULL AS VARCHAR) AS "_slo_violations"
FROM "raw"."customers"
WHERE
  FALSE;

-- file: customers/validated_view.sql
CREATE OR REPLACE VIEW "validated"."customers" AS
SELECT
  *
FROM "raw"."customers";

-- file: orders/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN "ds" IS NULL
    THEN '(null)'
    WHEN CAST("ds" AS VARCHAR) LIKE '(%null)'
    THEN '(' || CAST("ds" AS VARCHAR)
    ELSE CAST("ds" AS VARCHAR)
  END AS "_slo_partition",
  COUNT(*) AS "m0",
  COUNT(CASE WHEN "amount" IS NULL THEN 1 END) AS "m1",
  COUNT("order_id") - COUNT(DISTINCT "order_id") AS "m2"
FROM "raw"."orders"
GROUP BY
  "ds";

-- segmented scan: group_by: every check with these columns and filter, one scan grouped by them
SELECT
  CASE
    WHEN "ds" IS NULL
    THEN '(null)'
    WHEN CAST("ds" AS VARCHAR) LIKE '(%null)'
    THEN '(' || CAST("ds" AS VARCHAR)
    ELSE CAST("ds" AS VARCHAR)
  END AS "_slo_partition",
  CASE
    WHEN "country" IS NULL
    THEN '(null)'
    WHEN CAST("country" AS VARCHAR) LIKE '(%null)'
    THEN '(' || CAST("country" AS VARCHAR)
    ELSE CAST("country" AS VARCHAR)
  END AS "_slo_segment0",
  COUNT(*) AS "_slo_rows",
  COUNT(*) AS "m0",
  SUM("amount") > 0 AS "m1",
  AVG("amount") AS "m2",
  COUNT(CASE WHEN (
    "amount" < 0
  ) OR (
    "amount" > 1000
  ) THEN 1 END) AS "m3"
FROM "raw"."orders"
GROUP BY
  "ds",
  "country";

-- segmented scan: group_by: every check with these columns and filter, one scan grouped by them
SELECT
  CASE
    WHEN "ds" IS NULL
    THEN '(null)'
    WHEN CAST("ds" AS VARCHAR) LIKE '(%null)'
    THEN '(' || CAST("ds" AS VARCHAR)
    ELSE CAST("ds" AS VARCHAR)
  END AS "_slo_partition",
  CASE
    WHEN "country" IS NULL
    THEN '(null)'
    WHEN CAST("country" AS VARCHAR) LIKE '(%null)'
    THEN '(' || CAST("country" AS VARCHAR)
    ELSE CAST("country" AS VARCHAR)
  END AS "_slo_segment0",
  CASE
    WHEN "device" IS NULL
    THEN '(null)'
    WHEN CAST("device" AS VARCHAR) LIKE '(%null)'
    THEN '(' || CAST("device" AS VARCHAR)
    ELSE CAST("device" AS VARCHAR)
  END AS "_slo_segment1",
  COUNT(*) AS "_slo_rows",
  COUNT(*) AS "m0"
FROM "raw"."orders"
GROUP BY
  "ds",
  "country",
  "device";

-- segmented scan: group_by: every check with these columns and filter, one scan grouped by them
SELECT
  CASE
    WHEN "country" IS NULL
    THEN '(null)'
    WHEN CAST("country" AS VARCHAR) LIKE '(%null)'
    THEN '(' || CAST("country" AS VARCHAR)
    ELSE CAST("country" AS VARCHAR)
  END AS "_slo_segment0",
  COUNT(*) AS "_slo_rows",
  MAX("updated_at") AS "m0"
FROM "raw"."orders"
GROUP BY
  "country";

-- segmented scan: group_by: every check with these columns and filter, one scan grouped by them
SELECT
  CASE
    WHEN "ds" IS NULL
    THEN '(null)'
    WHEN CAST("ds" AS VARCHAR) LIKE '(%null)'
    THEN '(' || CAST("ds" AS VARCHAR)
    ELSE CAST("ds" AS VARCHAR)
  END AS "_slo_partition",
  CASE
    WHEN "device" IS NULL
    THEN '(null)'
    WHEN CAST("device" AS VARCHAR) LIKE '(%null)'
    THEN '(' || CAST("device" AS VARCHAR)
    ELSE CAST("device" AS VARCHAR)
  END AS "_slo_segment0",
  COUNT(*) AS "_slo_rows",
  COUNT(CASE WHEN "country" IS NULL THEN 1 END) AS "m0",
  COUNT(*) AS "m1"
FROM "raw"."orders"
GROUP BY
  "ds",
  "device";

-- segmented scan: group_by: every check with these columns and filter, one scan grouped by them
SELECT
  CASE
    WHEN "ds" IS NULL
    THEN '(null)'
    WHEN CAST("ds" AS VARCHAR) LIKE '(%null)'
    THEN '(' || CAST("ds" AS VARCHAR)
    ELSE CAST("ds" AS VARCHAR)
  END AS "_slo_partition",
  CASE
    WHEN "country" IS NULL
    THEN '(null)'
    WHEN CAST("country" AS VARCHAR) LIKE '(%null)'
    THEN '(' || CAST("country" AS VARCHAR)
    ELSE CAST("country" AS VARCHAR)
  END AS "_slo_segment0",
  COUNT(*) AS "_slo_rows",
  COUNT(DISTINCT "amount") AS "m0"
FROM "raw"."orders"
WHERE
  "amount" > 0
GROUP BY
  "ds",
  "country";


-- file: orders/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."orders" AS
SELECT
  *,
  CAST(NULL AS VARCHAR) AS "_slo_violations"
FROM "raw"."orders"
WHERE
  FALSE;

-- file: orders/validated_view.sql
CREATE OR REPLACE VIEW "validated"."orders" AS
SELECT
  *
FROM "raw"."orders";

