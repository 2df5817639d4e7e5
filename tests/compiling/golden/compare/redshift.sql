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


-- file: dims/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS "m0",
  COUNT(DISTINCT "label") AS "m1"
FROM "raw"."dims";

-- fused scan: compare: the other relation's metrics, in one scan of it
SELECT
  COUNT(*) AS "m0",
  COUNT(DISTINCT "label") AS "m1"
FROM "raw"."dims_old";

-- key_diff scan: compare: keys present on one side only, one join of both sides' keys
SELECT
  COUNT(CASE WHEN "_slo_side" = 'here' THEN 1 END) AS "m0",
  COUNT(CASE WHEN "_slo_side" = 'there' THEN 1 END) AS "m1"
FROM (
  SELECT
    COALESCE("_slo_a"."code", "_slo_b"."code") AS "code",
    CASE
      WHEN "_slo_b"."code" IS NULL
      THEN 'here'
      WHEN "_slo_a"."code" IS NULL
      THEN 'there'
      ELSE 'both'
    END AS "_slo_side"
  FROM (
    SELECT DISTINCT
      "code" AS "code"
    FROM "raw"."dims"
    WHERE
      NOT "code" IS NULL
  ) AS "_slo_a"
  FULL OUTER JOIN (
    SELECT DISTINCT
      "code" AS "code"
    FROM "raw"."dims_old"
    WHERE
      NOT "code" IS NULL
  ) AS "_slo_b"
    ON "_slo_a"."code" = "_slo_b"."code"
) AS "_slo_k";


-- file: dims/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."dims" AS
SELECT
  *,
  CAST(NULL AS VARCHAR(MAX)) AS "_slo_violations"
FROM "raw"."dims"
WHERE
  FALSE;

-- file: dims/validated_view.sql
CREATE OR REPLACE VIEW "validated"."dims" AS
SELECT
  *
FROM "raw"."dims";

-- file: events/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) IS NULL
    THEN '(null)'
    ELSE CAST(DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) AS VARCHAR(MAX))
  END AS "_slo_partition",
  COUNT(*) AS "m0"
FROM "raw"."events"
GROUP BY
  DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP));

-- fused scan: compare: the other relation's metrics, in one scan of it
SELECT
  CASE
    WHEN DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) IS NULL
    THEN '(null)'
    ELSE CAST(DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) AS VARCHAR(MAX))
  END AS "_slo_partition",
  COUNT(*) AS "m0"
FROM "raw"."events_v2"
GROUP BY
  DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP));

-- key_diff scan: compare: keys present on one side only, one join of both sides' keys
SELECT
  "_slo_partition",
  COUNT(CASE WHEN "_slo_side" = 'here' THEN 1 END) AS "m0",
  COUNT(CASE WHEN "_slo_side" = 'there' THEN 1 END) AS "m1"
FROM (
  SELECT
    COALESCE("_slo_a"."_slo_partition", "_slo_b"."_slo_partition") AS "_slo_partition",
    COALESCE("_slo_a"."event_id", "_slo_b"."event_id") AS "event_id",
    COALESCE("_slo_a"."user_id", "_slo_b"."user_id") AS "user_id",
    CASE
      WHEN "_slo_b"."event_id" IS NULL
      THEN 'here'
      WHEN "_slo_a"."event_id" IS NULL
      THEN 'there'
      ELSE 'both'
    END AS "_slo_side"
  FROM (
    SELECT DISTINCT
      CASE
        WHEN DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) IS NULL
        THEN '(null)'
        ELSE CAST(DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) AS VARCHAR(MAX))
      END AS "_slo_partition",
      "event_id" AS "event_id",
      "user_id" AS "user_id"
    FROM "raw"."events"
    WHERE
      (
        NOT "event_id" IS NULL
      ) AND (
        NOT "user_id" IS NULL
      )
  ) AS "_slo_a"
  FULL OUTER JOIN (
    SELECT DISTINCT
      CASE
        WHEN DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) IS NULL
        THEN '(null)'
        ELSE CAST(DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) AS VARCHAR(MAX))
      END AS "_slo_partition",
      "event_id" AS "event_id",
      "user_id" AS "user_id"
    FROM "raw"."events_v2"
    WHERE
      (
        NOT "event_id" IS NULL
      ) AND (
        NOT "user_id" IS NULL
      )
  ) AS "_slo_b"
    ON (
      "_slo_a"."_slo_partition" = "_slo_b"."_slo_partition"
      AND "_slo_a"."event_id" = "_slo_b"."event_id"
    )
    AND "_slo_a"."user_id" = "_slo_b"."user_id"
) AS "_slo_k"
GROUP BY
  "_slo_partition";


-- file: events/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."events" AS
SELECT
  *,
  CAST(NULL AS VARCHAR(MAX)) AS "_slo_violations"
FROM "raw"."events"
WHERE
  FALSE;

-- file: events/validated_view.sql
CREATE OR REPLACE VIEW "validated"."events" AS
SELECT
  *
FROM "raw"."events";

-- file: events_v2/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS "m0"
FROM "raw"."events_v2";


-- file: events_v2/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."events_v2" AS
SELECT
  *,
  CAST(NULL AS VARCHAR(MAX)) AS "_slo_violations"
FROM "raw"."events_v2"
WHERE
  FALSE;

-- file: events_v2/validated_view.sql
CREATE OR REPLACE VIEW "validated"."events_v2" AS
SELECT
  *
FROM "raw"."events_v2";

-- file: orders/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN "order_date" IS NULL
    THEN '(null)'
    WHEN CAST("order_date" AS VARCHAR(MAX)) LIKE '(%null)'
    THEN '(' || CAST("order_date" AS VARCHAR(MAX))
    ELSE CAST("order_date" AS VARCHAR(MAX))
  END AS "_slo_partition",
  COUNT(*) AS "m0",
  SUM("amount") AS "m1",
  COUNT(DISTINCT "customer") AS "m2"
FROM "raw"."orders"
GROUP BY
  "order_date";

-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN "order_date" IS NULL
    THEN '(null)'
    WHEN CAST("order_date" AS VARCHAR(MAX)) LIKE '(%null)'
    THEN '(' || CAST("order_date" AS VARCHAR(MAX))
    ELSE CAST("order_date" AS VARCHAR(MAX))
  END AS "_slo_partition",
  MAX("amount") AS "m0"
FROM "raw"."orders"
WHERE
  "status" <> 'test'
GROUP BY
  "order_date";

-- fused scan: compare: the other relation's metrics, in one scan of it
SELECT
  CASE
    WHEN "order_date" IS NULL
    THEN '(null)'
    WHEN CAST("order_date" AS VARCHAR(MAX)) LIKE '(%null)'
    THEN '(' || CAST("order_date" AS VARCHAR(MAX))
    ELSE CAST("order_date" AS VARCHAR(MAX))
  END AS "_slo_partition",
  COUNT(*) AS "m0",
  SUM("amount") AS "m1",
  COUNT(DISTINCT "customer") AS "m2"
FROM "legacy"."orders"
GROUP BY
  "order_date";

-- key_diff scan: compare: keys present on one side only, one join of both sides' keys
SELECT
  "_slo_partition",
  COUNT(CASE WHEN "_slo_side" = 'here' THEN 1 END) AS "m0",
  COUNT(CASE WHEN "_slo_side" = 'there' THEN 1 END) AS "m1"
FROM (
  SELECT
    COALESCE("_slo_a"."_slo_partition", "_slo_b"."_slo_partition") AS "_slo_partition",
    COALESCE("_slo_a"."order_id", "_slo_b"."order_id") AS "order_id",
    CASE
      WHEN "_slo_b"."order_id" IS NULL
      THEN 'here'
      WHEN "_slo_a"."order_id" IS NULL
      THEN 'there'
      ELSE 'both'
    END AS "_slo_side"
  FROM (
    SELECT DISTINCT
      CASE
        WHEN "order_date" IS NULL
        THEN '(null)'
        WHEN CAST("order_date" AS VARCHAR(MAX)) LIKE '(%null)'
        THEN '(' || CAST("order_date" AS VARCHAR(MAX))
        ELSE CAST("order_date" AS VARCHAR(MAX))
      END AS "_slo_partition",
      "order_id" AS "order_id"
    FROM "raw"."orders"
    WHERE
      NOT "order_id" IS NULL
  ) AS "_slo_a"
  FULL OUTER JOIN (
    SELECT DISTINCT
      CASE
        WHEN "order_date" IS NULL
        THEN '(null)'
        WHEN CAST("order_date" AS VARCHAR(MAX)) LIKE '(%null)'
        THEN '(' || CAST("order_date" AS VARCHAR(MAX))
        ELSE CAST("order_date" AS VARCHAR(MAX))
      END AS "_slo_partition",
      "order_id" AS "order_id"
    FROM "legacy"."orders"
    WHERE
      NOT "order_id" IS NULL
  ) AS "_slo_b"
    ON "_slo_a"."_slo_partition" = "_slo_b"."_slo_partition"
    AND "_slo_a"."order_id" = "_slo_b"."order_id"
) AS "_slo_k"
GROUP BY
  "_slo_partition";

-- fused scan: compare: the other relation's metrics, in one scan of it
SELECT
  CASE
    WHEN "order_date" IS NULL
    THEN '(null)'
    WHEN CAST("order_date" AS VARCHAR(MAX)) LIKE '(%null)'
    THEN '(' || CAST("order_date" AS VARCHAR(MAX))
    ELSE CAST("order_date" AS VARCHAR(MAX))
  END AS "_slo_partition",
  MAX("amount") AS "m0"
FROM "legacy"."orders"
WHERE
  "status" <> 'test'
GROUP BY
  "order_date";


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

