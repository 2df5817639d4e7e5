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


-- file: events/checks.sql
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
FROM "raw"."events"
GROUP BY
  "ds";

-- value_counts scan: checked once per distinct value, not once per row
SELECT
  CASE
    WHEN "ds" IS NULL
    THEN '(null)'
    WHEN CAST("ds" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("ds" AS TEXT)
    ELSE CAST("ds" AS TEXT)
  END AS "_slo_partition",
  COALESCE(SUM(CASE WHEN NOT "kind" IN ('a', 'b') THEN "_slo_rows" END), 0) AS "m0"
FROM (
  SELECT
    "ds",
    "kind",
    COUNT(*) AS "_slo_rows"
  FROM "raw"."events"
  GROUP BY
    "ds",
    "kind"
) AS "v"
GROUP BY
  "ds";


-- file: events/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."events" AS
SELECT
  *,
  SUBSTRING(
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
          THEN ERROR(
            'slocompile: validated.events has no version that passed its SLOs yet (gate last_good); published versions: ' || CAST(COUNT(*) AS TEXT)
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
          WHEN CAST("_v"."ds" AS TEXT) LIKE '(%null)'
          THEN '(' || CAST("_v"."ds" AS TEXT)
          ELSE CAST("_v"."ds" AS TEXT)
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
            THEN ERROR(
              'slocompile: validated.events has no version that passed its SLOs yet (gate last_good); published versions: ' || CAST(COUNT(*) AS TEXT)
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
            WHEN CAST("_v"."ds" AS TEXT) LIKE '(%null)'
            THEN '(' || CAST("_v"."ds" AS TEXT)
            ELSE CAST("_v"."ds" AS TEXT)
          END
      )
    )
) AS "_slo_row";

-- file: orders/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS "m0"
FROM "raw"."orders";

-- alone scan: a simple filter the engine answers from row-group statistics
SELECT
  COUNT(*) AS "m0"
FROM "raw"."orders"
WHERE
  (
    "amount" < 0
  );


-- file: orders/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."orders" AS
SELECT
  *,
  SUBSTRING(
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
          THEN ERROR(
            'slocompile: validated.orders has no version that passed its SLOs yet (gate last_good); published versions: ' || CAST(COUNT(*) AS TEXT)
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
          THEN ERROR(
            'slocompile: validated.orders has no version that passed its SLOs yet (gate last_good); published versions: ' || CAST(COUNT(*) AS TEXT)
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

