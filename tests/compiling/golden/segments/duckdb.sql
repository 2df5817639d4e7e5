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
  "observed_value" DOUBLE,
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
  "value" DOUBLE,
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
  "value" DOUBLE,
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
  "observed" DOUBLE,
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
    WHEN CAST("tier" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("tier" AS TEXT)
    ELSE CAST("tier" AS TEXT)
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
  CAST(NULL AS TEXT) AS "_slo_violations"
FROM "raw"."customers"
WHERE
  FALSE;

-- file: customers/validated_view.sql
CREATE OR REPLACE VIEW "validated"."customers" AS
SELECT
  *
FROM "raw"."customers";

-- file: orders/checks.sql
-- fused scan: distinct counts together, apart from the wide aggregate (memory)
SELECT
  CASE
    WHEN "ds" IS NULL
    THEN '(null)'
    WHEN CAST("ds" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("ds" AS TEXT)
    ELSE CAST("ds" AS TEXT)
  END AS "_slo_partition",
  COUNT("order_id") - COUNT(DISTINCT "order_id") AS "m0"
FROM "raw"."orders"
GROUP BY
  "ds";

-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN "ds" IS NULL
    THEN '(null)'
    WHEN CAST("ds" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("ds" AS TEXT)
    ELSE CAST("ds" AS TEXT)
  END AS "_slo_partition",
  COUNT(*) AS "m0"
FROM "raw"."orders"
GROUP BY
  "ds";

-- segmented scan: group_by: every check with these columns and filter, one scan grouped by them
SELECT
  CASE
    WHEN "ds" IS NULL
    THEN '(null)'
    WHEN CAST("ds" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("ds" AS TEXT)
    ELSE CAST("ds" AS TEXT)
  END AS "_slo_partition",
  CASE
    WHEN "country" IS NULL
    THEN '(null)'
    WHEN CAST("country" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("country" AS TEXT)
    ELSE CAST("country" AS TEXT)
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
    WHEN CAST("ds" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("ds" AS TEXT)
    ELSE CAST("ds" AS TEXT)
  END AS "_slo_partition",
  CASE
    WHEN "country" IS NULL
    THEN '(null)'
    WHEN CAST("country" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("country" AS TEXT)
    ELSE CAST("country" AS TEXT)
  END AS "_slo_segment0",
  CASE
    WHEN "device" IS NULL
    THEN '(null)'
    WHEN CAST("device" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("device" AS TEXT)
    ELSE CAST("device" AS TEXT)
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
    WHEN CAST("country" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("country" AS TEXT)
    ELSE CAST("country" AS TEXT)
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
    WHEN CAST("ds" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("ds" AS TEXT)
    ELSE CAST("ds" AS TEXT)
  END AS "_slo_partition",
  CASE
    WHEN "device" IS NULL
    THEN '(null)'
    WHEN CAST("device" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("device" AS TEXT)
    ELSE CAST("device" AS TEXT)
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
    WHEN CAST("ds" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("ds" AS TEXT)
    ELSE CAST("ds" AS TEXT)
  END AS "_slo_partition",
  CASE
    WHEN "country" IS NULL
    THEN '(null)'
    WHEN CAST("country" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("country" AS TEXT)
    ELSE CAST("country" AS TEXT)
  END AS "_slo_segment0",
  COUNT(*) AS "_slo_rows",
  COUNT(DISTINCT "amount") AS "m0"
FROM "raw"."orders"
WHERE
  "amount" > 0
GROUP BY
  "ds",
  "country";

-- alone scan: a simple filter the engine answers from row-group statistics
SELECT
  CASE
    WHEN "ds" IS NULL
    THEN '(null)'
    WHEN CAST("ds" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("ds" AS TEXT)
    ELSE CAST("ds" AS TEXT)
  END AS "_slo_partition",
  COUNT(*) AS "m0"
FROM "raw"."orders"
WHERE
  (
    "amount" IS NULL
  )
GROUP BY
  "ds";


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

