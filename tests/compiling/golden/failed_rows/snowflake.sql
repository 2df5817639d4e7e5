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


-- file: orders/checks.sql
-- duplicates scan: duplicates on several key columns: GROUP BY ... HAVING
SELECT
  CASE
    WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL
    THEN '(null)'
    ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR)
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
    ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR)
  END AS "_slo_partition",
  COUNT(*) AS "m0",
  COUNT(CASE WHEN "order_id" IS NULL THEN 1 END) AS "m1",
  COUNT(CASE WHEN NOT "customer" IN ('a', 'b') THEN 1 END) AS "m2",
  COUNT(CASE WHEN NOT (
    REGEXP_INSTR("customer", '^[a-z]+$') > 0
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
    ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR)
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
    ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR)
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
  CAST(NULL AS VARCHAR) AS "_slo_violations"
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
  CAST(NULL AS VARCHAR) AS "_slo_violations"
FROM "raw"."refunds"
WHERE
  FALSE;

-- file: refunds/validated_view.sql
CREATE OR REPLACE VIEW "validated"."refunds" AS
SELECT
  *
FROM "raw"."refunds";

