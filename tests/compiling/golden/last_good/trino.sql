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
  "passed" INTEGER,
  "failed" INTEGER,
  "warned" INTEGER,
  "errored" INTEGER
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
  "action_index" INTEGER,
  "action" VARCHAR,
  "destination" VARCHAR,
  "delivery" VARCHAR,
  "attempts" INTEGER,
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
  "version" INTEGER,
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
  "version" INTEGER,
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
  "alerts" INTEGER,
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
  "partitions" INTEGER,
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
  "row_number" INTEGER,
  "row_values" VARCHAR,
  "created_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "slo"."relation_columns" (
  "table_name" VARCHAR,
  "position" INTEGER,
  "column_name" VARCHAR,
  "column_type" VARCHAR,
  "run_id" VARCHAR,
  "recorded_at" TIMESTAMP
);


-- file: events/checks.sql
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
  COUNT(CASE WHEN NOT "kind" IN ('a', 'b') THEN 1 END) AS "m1"
FROM "raw"."events"
GROUP BY
  "ds";


-- file: events/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."events" AS
SELECT
  *,
  SUBSTR(
    CASE
      WHEN COALESCE((
        NOT "kind" IN ('a', 'b')
      ), FALSE)
      THEN ', accepted_values_kind'
      ELSE ''
    END,
    3
  ) AS "_slo_violations"
FROM "slo_versions"."events" AS "_v"
WHERE
  COALESCE((
    NOT "kind" IN ('a', 'b')
  ), FALSE)
  AND (
    (
      SELECT
        CASE
          WHEN COUNT(*) = 0
          THEN FAIL(
            'slocompile: validated.events has no version that passed its SLOs yet (gate last_good); published versions: ' || CAST(COUNT(*) AS VARCHAR)
          ) = 0
          ELSE TRUE
        END
      FROM "slo"."published" AS "_p"
      WHERE
        "_p"."table_name" = 'events'
    )
    AND EXISTS(
      SELECT
        1
      FROM "slo"."published" AS "_p"
      WHERE
        (
          "_p"."table_name" = 'events' AND "_p"."version" = "_v"."_slo_version"
        )
        AND "_p"."partition" = CASE
          WHEN "_v"."ds" IS NULL
          THEN '(null)'
          WHEN CAST("_v"."ds" AS VARCHAR) LIKE '(%null)'
          THEN '(' || CAST("_v"."ds" AS VARCHAR)
          ELSE CAST("_v"."ds" AS VARCHAR)
        END
    )
  );

-- file: events/validated_view.sql
CREATE OR REPLACE VIEW "validated"."events" AS
SELECT
  "_slo_fix0_0" AS "kind",
  "ds",
  "_slo_version"
FROM (
  SELECT
    *,
    COALESCE("kind", 'a') AS "_slo_fix0_0"
  FROM "slo_versions"."events" AS "_v"
  WHERE
    (
      NOT COALESCE((
        NOT "kind" IN ('a', 'b')
      ), FALSE)
    )
    AND (
      (
        SELECT
          CASE
            WHEN COUNT(*) = 0
            THEN FAIL(
              'slocompile: validated.events has no version that passed its SLOs yet (gate last_good); published versions: ' || CAST(COUNT(*) AS VARCHAR)
            ) = 0
            ELSE TRUE
          END
        FROM "slo"."published" AS "_p"
        WHERE
          "_p"."table_name" = 'events'
      )
      AND EXISTS(
        SELECT
          1
        FROM "slo"."published" AS "_p"
        WHERE
          (
            "_p"."table_name" = 'events' AND "_p"."version" = "_v"."_slo_version"
          )
          AND "_p"."partition" = CASE
            WHEN "_v"."ds" IS NULL
            THEN '(null)'
            WHEN CAST("_v"."ds" AS VARCHAR) LIKE '(%null)'
            THEN '(' || CAST("_v"."ds" AS VARCHAR)
            ELSE CAST("_v"."ds" AS VARCHAR)
          END
      )
    )
) AS "_slo_row";

-- file: orders/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS "m0",
  COUNT(CASE WHEN "amount" < 0 THEN 1 END) AS "m1"
FROM "raw"."orders";


-- file: orders/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."orders" AS
SELECT
  *,
  SUBSTR(
    CASE WHEN COALESCE((
      "amount" < 0
    ), FALSE) THEN ', between_amount' ELSE '' END,
    3
  ) AS "_slo_violations"
FROM "slo_versions"."orders" AS "_v"
WHERE
  COALESCE((
    "amount" < 0
  ), FALSE)
  AND (
    (
      SELECT
        CASE
          WHEN COUNT(*) = 0
          THEN FAIL(
            'slocompile: validated.orders has no version that passed its SLOs yet (gate last_good); published versions: ' || CAST(COUNT(*) AS VARCHAR)
          ) = 0
          ELSE TRUE
        END
      FROM "slo"."published" AS "_p"
      WHERE
        "_p"."table_name" = 'orders'
    )
    AND EXISTS(
      SELECT
        1
      FROM "slo"."published" AS "_p"
      WHERE
        (
          "_p"."table_name" = 'orders' AND "_p"."version" = "_v"."_slo_version"
        )
        AND "_p"."partition" IS NULL
    )
  );

-- file: orders/validated_view.sql
CREATE OR REPLACE VIEW "validated"."orders" AS
SELECT
  *
FROM "slo_versions"."orders" AS "_v"
WHERE
  (
    NOT COALESCE((
      "amount" < 0
    ), FALSE)
  )
  AND (
    (
      SELECT
        CASE
          WHEN COUNT(*) = 0
          THEN FAIL(
            'slocompile: validated.orders has no version that passed its SLOs yet (gate last_good); published versions: ' || CAST(COUNT(*) AS VARCHAR)
          ) = 0
          ELSE TRUE
        END
      FROM "slo"."published" AS "_p"
      WHERE
        "_p"."table_name" = 'orders'
    )
    AND EXISTS(
      SELECT
        1
      FROM "slo"."published" AS "_p"
      WHERE
        (
          "_p"."table_name" = 'orders' AND "_p"."version" = "_v"."_slo_version"
        )
        AND "_p"."partition" IS NULL
    )
  );

