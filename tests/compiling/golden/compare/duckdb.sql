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


-- file: dims/checks.sql
-- fused scan: distinct counts together, apart from the wide aggregate (memory)
SELECT
  COUNT(DISTINCT "label") AS "m0"
FROM "raw"."dims";

-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS "m0"
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
  CAST(NULL AS TEXT) AS "_slo_violations"
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
    ELSE CAST(DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) AS TEXT)
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
    ELSE CAST(DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) AS TEXT)
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
        ELSE CAST(DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) AS TEXT)
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
        ELSE CAST(DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) AS TEXT)
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
  CAST(NULL AS TEXT) AS "_slo_violations"
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
  CAST(NULL AS TEXT) AS "_slo_violations"
FROM "raw"."events_v2"
WHERE
  FALSE;

-- file: events_v2/validated_view.sql
CREATE OR REPLACE VIEW "validated"."events_v2" AS
SELECT
  *
FROM "raw"."events_v2";

-- file: orders/checks.sql
-- fused scan: distinct counts together, apart from the wide aggregate (memory)
SELECT
  CASE
    WHEN "order_date" IS NULL
    THEN '(null)'
    WHEN CAST("order_date" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("order_date" AS TEXT)
    ELSE CAST("order_date" AS TEXT)
  END AS "_slo_partition",
  COUNT(DISTINCT "customer") AS "m0"
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
  COUNT(*) AS "m0",
  SUM("amount") AS "m1"
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
    WHEN CAST("order_date" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("order_date" AS TEXT)
    ELSE CAST("order_date" AS TEXT)
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
        WHEN CAST("order_date" AS TEXT) LIKE '(%null)'
        THEN '(' || CAST("order_date" AS TEXT)
        ELSE CAST("order_date" AS TEXT)
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
        WHEN CAST("order_date" AS TEXT) LIKE '(%null)'
        THEN '(' || CAST("order_date" AS TEXT)
        ELSE CAST("order_date" AS TEXT)
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
    WHEN CAST("order_date" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("order_date" AS TEXT)
    ELSE CAST("order_date" AS TEXT)
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
  CAST(NULL AS TEXT) AS "_slo_violations"
FROM "raw"."orders"
WHERE
  FALSE;

-- file: orders/validated_view.sql
CREATE OR REPLACE VIEW "validated"."orders" AS
SELECT
  *
FROM "raw"."orders";

