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


-- file: orders/checks.sql
-- duplicates scan: duplicates on several key columns: GROUP BY ... HAVING
SELECT
  CASE
    WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL
    THEN '(null)'
    ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR(MAX))
  END AS "_slo_partition",
  COALESCE(SUM("_slo_rows" - 1), 0) AS "m0"
FROM (
  SELECT
    CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS "placed_at",
    COUNT(*) AS "_slo_rows"
  FROM "raw"."orders"
  WHERE
    (
      NOT "customer" IS NULL
    ) AND (
      NOT "sku" IS NULL
    )
  GROUP BY
    CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE),
    "customer",
    "sku"
  HAVING
    COUNT(*) > 1
) AS "d"
GROUP BY
  CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE);

-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL
    THEN '(null)'
    ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR(MAX))
  END AS "_slo_partition",
  COUNT(*) AS "m0",
  COUNT(CASE WHEN "order_id" IS NULL THEN 1 END) AS "m1",
  COUNT(CASE WHEN NOT "customer" IN ('a', 'b') THEN 1 END) AS "m2",
  COUNT(CASE WHEN NOT (
    "customer" ~ '^[a-z]+$'
  ) THEN 1 END) AS "m3",
  COUNT("order_id") - COUNT(DISTINCT "order_id") AS "m4"
FROM "raw"."orders"
GROUP BY
  CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE);

-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL
    THEN '(null)'
    ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR(MAX))
  END AS "_slo_partition",
  COUNT(CASE WHEN (
    "amount" < 0
  ) OR (
    "amount" > 10000
  ) THEN 1 END) AS "m0",
  COUNT(*) AS "m1"
FROM "raw"."orders"
WHERE
  "customer" <> 'test'
GROUP BY
  CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE);

-- query scan: a whole SELECT of its own (assert): the rows it returns
SELECT
  COUNT(*) AS "m0"
FROM (
  WITH "r" AS (
    SELECT
      "order_id",
      SUM("amount") AS "refunded"
    FROM "raw"."refunds" AS "refunds"
    GROUP BY
      "order_id"
  )
  SELECT
    "o"."order_id",
    "o"."amount",
    "r"."refunded",
    ROW_NUMBER() OVER (PARTITION BY "o"."customer" ORDER BY "o"."order_id") AS "nth"
  FROM "raw"."orders" AS "o"
  JOIN "r"
    ON "r"."order_id" = "o"."order_id"
  WHERE
    "r"."refunded" > "o"."amount"
) AS "q";

-- query scan: a whole SELECT of its own (assert): the rows it returns
SELECT
  COUNT(*) AS "m0"
FROM (
  SELECT
    *
  FROM "raw"."orders"
  WHERE
    "amount" < 0
) AS "q";

-- orphans scan: anti-join with the referenced relation
SELECT
  CASE
    WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL
    THEN '(null)'
    ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR(MAX))
  END AS "_slo_partition",
  COUNT(CASE WHEN "amount" > 0 THEN 1 END) AS "m0"
FROM "raw"."orders" AS "t"
WHERE
  (
    NOT "t"."customer" IS NULL
  )
  AND (
    NOT EXISTS(
      SELECT
        1
      FROM "dims"."customers" AS "r"
      WHERE
        "r"."id" = "t"."customer"
    )
  )
GROUP BY
  CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE);


-- file: orders/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."orders" AS
SELECT
  *,
  CAST(NULL AS VARCHAR(MAX)) AS "_slo_violations"
FROM "raw"."orders"
WHERE
  FALSE;

-- file: orders/validated_view.sql
CREATE OR REPLACE VIEW "validated"."orders" AS
SELECT
  *
FROM "raw"."orders";

-- file: refunds/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS "m0",
  COUNT(CASE WHEN NOT (
    "order_id" > 0
  ) THEN 1 END) AS "m1"
FROM "raw"."refunds";


-- file: refunds/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."refunds" AS
SELECT
  *,
  CAST(NULL AS VARCHAR(MAX)) AS "_slo_violations"
FROM "raw"."refunds"
WHERE
  FALSE;

-- file: refunds/validated_view.sql
CREATE OR REPLACE VIEW "validated"."refunds" AS
SELECT
  *
FROM "raw"."refunds";

