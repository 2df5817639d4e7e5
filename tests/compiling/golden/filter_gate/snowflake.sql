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


-- file: dims/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS "m0",
  COUNT("code") - COUNT(DISTINCT "code") AS "m1"
FROM "raw"."dims";


-- file: dims/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."dims" AS
SELECT
  *,
  CAST(NULL AS VARCHAR) AS "_slo_violations"
FROM "raw"."dims"
WHERE
  FALSE
  AND (
    EXISTS(
      SELECT
        1
      FROM "slo"."status"
      WHERE
        "table_name" = 'dims' AND "status" = 'pass'
    )
    AND NOT EXISTS(
      SELECT
        1
      FROM "slo"."status"
      WHERE
        "table_name" = 'dims' AND "status" = 'fail' AND "partition" IS NULL
    )
  );

-- file: dims/validated_view.sql
CREATE OR REPLACE VIEW "validated"."dims" AS
SELECT
  *
FROM "raw"."dims"
WHERE
  EXISTS(
    SELECT
      1
    FROM "slo"."status"
    WHERE
      "table_name" = 'dims' AND "status" = 'pass'
  )
  AND NOT EXISTS(
    SELECT
      1
    FROM "slo"."status"
    WHERE
      "table_name" = 'dims' AND "status" = 'fail' AND "partition" IS NULL
  );

-- file: events/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN "event_date" IS NULL
    THEN '(null)'
    WHEN CAST("event_date" AS VARCHAR) LIKE '(%null)'
    THEN '(' || CAST("event_date" AS VARCHAR)
    ELSE CAST("event_date" AS VARCHAR)
  END AS "_slo_partition",
  COUNT(*) AS "m0",
  COUNT(CASE WHEN NOT "kind" IN ('click', 'view') THEN 1 END) AS "m1"
FROM "raw"."events"
GROUP BY
  "event_date";


-- file: events/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."events" AS
SELECT
  *,
  SUBSTRING(
    CASE
      WHEN COALESCE((
        NOT "kind" IN ('click', 'view')
      ), FALSE)
      THEN ', accepted_values_kind'
      ELSE ''
    END,
    3
  ) AS "_slo_violations"
FROM "raw"."events"
WHERE
  COALESCE((
    NOT "kind" IN ('click', 'view')
  ), FALSE)
  AND (
    CASE
      WHEN "event_date" IS NULL
      THEN '(null)'
      WHEN CAST("event_date" AS VARCHAR) LIKE '(%null)'
      THEN '(' || CAST("event_date" AS VARCHAR)
      ELSE CAST("event_date" AS VARCHAR)
    END IN (
      SELECT
        "partition"
      FROM "slo"."status"
      WHERE
        "table_name" = 'events' AND "status" = 'pass'
    )
    AND NOT EXISTS(
      SELECT
        1
      FROM "slo"."status"
      WHERE
        "table_name" = 'events' AND "status" = 'fail' AND "partition" IS NULL
    )
  );

-- file: events/validated_view.sql
CREATE OR REPLACE VIEW "validated"."events" AS
SELECT
  *
FROM (
  SELECT
    "_slo_raw".*
  FROM "raw"."events" AS "_slo_raw"
  INNER JOIN (
    SELECT
      "_slo_now"."event_date"
    FROM (
      SELECT
        "event_date",
        CAST(COUNT(*) AS VARCHAR) || ':' || CAST(COALESCE(SUM(HASH("kind", "event_date")), 0) AS VARCHAR) AS "_slo_content"
      FROM "raw"."events"
      GROUP BY
        "event_date"
    ) AS "_slo_now"
    INNER JOIN (
      SELECT DISTINCT
        "partition",
        SUBSTRING("fingerprint", 18) AS "_slo_content"
      FROM "slo"."status"
      WHERE
        "table_name" = 'events' AND "status" = 'pass'
    ) AS "_slo_checked"
      ON "_slo_checked"."partition" = CASE
        WHEN "_slo_now"."event_date" IS NULL
        THEN '(null)'
        WHEN CAST("_slo_now"."event_date" AS VARCHAR) LIKE '(%null)'
        THEN '(' || CAST("_slo_now"."event_date" AS VARCHAR)
        ELSE CAST("_slo_now"."event_date" AS VARCHAR)
      END
      AND "_slo_checked"."_slo_content" = "_slo_now"."_slo_content"
  ) AS "_slo_ok"
    ON "_slo_raw"."event_date" = "_slo_ok"."event_date"
  UNION ALL
  SELECT
    *
  FROM "raw"."events"
  WHERE
    "event_date" IS NULL
    AND (
      EXISTS(
        SELECT
          1
        FROM (
          SELECT
            "_slo_now"."event_date"
          FROM (
            SELECT
              "event_date",
              CAST(COUNT(*) AS VARCHAR) || ':' || CAST(COALESCE(SUM(HASH("kind", "event_date")), 0) AS VARCHAR) AS "_slo_content"
            FROM "raw"."events"
            GROUP BY
              "event_date"
          ) AS "_slo_now"
          INNER JOIN (
            SELECT DISTINCT
              "partition",
              SUBSTRING("fingerprint", 18) AS "_slo_content"
            FROM "slo"."status"
            WHERE
              "table_name" = 'events' AND "status" = 'pass'
          ) AS "_slo_checked"
            ON "_slo_checked"."partition" = CASE
              WHEN "_slo_now"."event_date" IS NULL
              THEN '(null)'
              WHEN CAST("_slo_now"."event_date" AS VARCHAR) LIKE '(%null)'
              THEN '(' || CAST("_slo_now"."event_date" AS VARCHAR)
              ELSE CAST("_slo_now"."event_date" AS VARCHAR)
            END
            AND "_slo_checked"."_slo_content" = "_slo_now"."_slo_content"
        ) AS "_slo_ok"
        WHERE
          "_slo_ok"."event_date" IS NULL
          AND (
            EXISTS(
              SELECT
                1
              FROM "slo"."status"
              WHERE
                "table_name" = 'events' AND "partition" = '(null)' AND "status" = 'pass'
            )
          )
      )
    )
) AS "_slo_verified"
WHERE
  (
    NOT COALESCE((
      NOT "kind" IN ('click', 'view')
    ), FALSE)
  )
  AND (
    CASE
      WHEN "event_date" IS NULL
      THEN '(null)'
      WHEN CAST("event_date" AS VARCHAR) LIKE '(%null)'
      THEN '(' || CAST("event_date" AS VARCHAR)
      ELSE CAST("event_date" AS VARCHAR)
    END IN (
      SELECT
        "partition"
      FROM "slo"."status"
      WHERE
        "table_name" = 'events' AND "status" = 'pass'
    )
    AND NOT EXISTS(
      SELECT
        1
      FROM "slo"."status"
      WHERE
        "table_name" = 'events' AND "status" = 'fail' AND "partition" IS NULL
    )
  );

