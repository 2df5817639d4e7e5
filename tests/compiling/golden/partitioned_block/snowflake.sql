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


-- file: user_features/checks.sql
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
  COUNT(CASE WHEN "user_id" IS NULL THEN 1 END) AS "m1",
  COUNT(CASE WHEN (
    "age" < 0
  ) OR (
    "age" > 120
  ) THEN 1 END) AS "m2",
  COUNT(CASE WHEN "age" IS NULL THEN 1 END) AS "m3",
  COUNT("user_id") - COUNT(DISTINCT "user_id") AS "m4"
FROM "raw"."user_features"
GROUP BY
  "ds";

-- fused scan: metrics sharing one filter share one scan
SELECT
  MAX("ds") AS "m0"
FROM "raw"."user_features";


-- file: user_features/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."user_features" AS
SELECT
  *,
  SUBSTRING(
    CASE
      WHEN COALESCE((
        (
          "age" < 0
        ) OR (
          "age" > 120
        )
      ), FALSE)
      THEN ', between_age'
      ELSE ''
    END || CASE WHEN COALESCE((
      "age" IS NULL
    ), FALSE) THEN ', not_null_age' ELSE '' END,
    3
  ) AS "_slo_violations"
FROM "raw"."user_features"
WHERE
  COALESCE((
    (
      "age" < 0
    ) OR (
      "age" > 120
    )
  ), FALSE)
  OR COALESCE((
    "age" IS NULL
  ), FALSE);

-- file: user_features/validated_view.sql
CREATE OR REPLACE VIEW "validated"."user_features" AS
SELECT
  *
FROM (
  SELECT
    "_slo_raw".*
  FROM "raw"."user_features" AS "_slo_raw"
  INNER JOIN (
    SELECT
      "_slo_now"."ds"
    FROM (
      SELECT
        "ds",
        CAST(COUNT(*) AS VARCHAR) || ':' || CAST(COALESCE(SUM(HASH("user_id", "age", "ds")), 0) AS VARCHAR) AS "_slo_content"
      FROM "raw"."user_features"
      GROUP BY
        "ds"
    ) AS "_slo_now"
    LEFT JOIN (
      SELECT DISTINCT
        "partition",
        SUBSTRING("fingerprint", 18) AS "_slo_content"
      FROM "slo"."status"
      WHERE
        "table_name" = 'user_features'
    ) AS "_slo_checked"
      ON "_slo_checked"."partition" = CASE
        WHEN "_slo_now"."ds" IS NULL
        THEN '(null)'
        WHEN CAST("_slo_now"."ds" AS VARCHAR) LIKE '(%null)'
        THEN '(' || CAST("_slo_now"."ds" AS VARCHAR)
        ELSE CAST("_slo_now"."ds" AS VARCHAR)
      END
    WHERE
      CASE
        WHEN "_slo_checked"."partition" IS NULL
        THEN CAST('slocompile: validated.user_features is blocked: partition ' || CASE
          WHEN "_slo_now"."ds" IS NULL
          THEN '(null)'
          WHEN CAST("_slo_now"."ds" AS VARCHAR) LIKE '(%null)'
          THEN '(' || CAST("_slo_now"."ds" AS VARCHAR)
          ELSE CAST("_slo_now"."ds" AS VARCHAR)
        END || ' has not been checked yet (build to check it)' AS INT) = 0
        WHEN "_slo_checked"."_slo_content" IS NULL
        OR "_slo_checked"."_slo_content" <> "_slo_now"."_slo_content"
        THEN CAST('slocompile: validated.user_features is blocked: partition ' || CASE
          WHEN "_slo_now"."ds" IS NULL
          THEN '(null)'
          WHEN CAST("_slo_now"."ds" AS VARCHAR) LIKE '(%null)'
          THEN '(' || CAST("_slo_now"."ds" AS VARCHAR)
          ELSE CAST("_slo_now"."ds" AS VARCHAR)
        END || ' changed since it was checked (build again to check it)' AS INT) = 0
        ELSE TRUE
      END
  ) AS "_slo_ok"
    ON "_slo_raw"."ds" = "_slo_ok"."ds"
  UNION ALL
  SELECT
    *
  FROM "raw"."user_features"
  WHERE
    "ds" IS NULL
    AND (
      EXISTS(
        SELECT
          1
        FROM (
          SELECT
            "_slo_now"."ds"
          FROM (
            SELECT
              "ds",
              CAST(COUNT(*) AS VARCHAR) || ':' || CAST(COALESCE(SUM(HASH("user_id", "age", "ds")), 0) AS VARCHAR) AS "_slo_content"
            FROM "raw"."user_features"
            GROUP BY
              "ds"
          ) AS "_slo_now"
          LEFT JOIN (
            SELECT DISTINCT
              "partition",
              SUBSTRING("fingerprint", 18) AS "_slo_content"
            FROM "slo"."status"
            WHERE
              "table_name" = 'user_features'
          ) AS "_slo_checked"
            ON "_slo_checked"."partition" = CASE
              WHEN "_slo_now"."ds" IS NULL
              THEN '(null)'
              WHEN CAST("_slo_now"."ds" AS VARCHAR) LIKE '(%null)'
              THEN '(' || CAST("_slo_now"."ds" AS VARCHAR)
              ELSE CAST("_slo_now"."ds" AS VARCHAR)
            END
          WHERE
            CASE
              WHEN "_slo_checked"."partition" IS NULL
              THEN CAST('slocompile: validated.user_features is blocked: partition ' || CASE
                WHEN "_slo_now"."ds" IS NULL
                THEN '(null)'
                WHEN CAST("_slo_now"."ds" AS VARCHAR) LIKE '(%null)'
                THEN '(' || CAST("_slo_now"."ds" AS VARCHAR)
                ELSE CAST("_slo_now"."ds" AS VARCHAR)
              END || ' has not been checked yet (build to check it)' AS INT) = 0
              WHEN "_slo_checked"."_slo_content" IS NULL
              OR "_slo_checked"."_slo_content" <> "_slo_now"."_slo_content"
              THEN CAST('slocompile: validated.user_features is blocked: partition ' || CASE
                WHEN "_slo_now"."ds" IS NULL
                THEN '(null)'
                WHEN CAST("_slo_now"."ds" AS VARCHAR) LIKE '(%null)'
                THEN '(' || CAST("_slo_now"."ds" AS VARCHAR)
                ELSE CAST("_slo_now"."ds" AS VARCHAR)
              END || ' changed since it was checked (build again to check it)' AS INT) = 0
              ELSE TRUE
            END
        ) AS "_slo_ok"
        WHERE
          "_slo_ok"."ds" IS NULL
          AND (
            EXISTS(
              SELECT
                1
              FROM "slo"."status"
              WHERE
                "table_name" = 'user_features' AND "partition" = '(null)'
            )
          )
      )
    )
) AS "_slo_verified"
WHERE
  (
    (
      NOT COALESCE((
        (
          "age" < 0
        ) OR (
          "age" > 120
        )
      ), FALSE)
    )
    AND (
      NOT COALESCE((
        "age" IS NULL
      ), FALSE)
    )
  )
  AND (
    (
      SELECT
        CASE
          WHEN COUNT(*) > 0
          THEN CAST('slocompile: validated.user_features is blocked by failed SLOs: ' || LISTAGG(COALESCE("partition", 'whole table') || ': ' || "failed_checks", '; ') WITHIN GROUP (ORDER BY
            COALESCE("partition", 'whole table') || ': ' || "failed_checks" NULLS FIRST) AS INT) = 0
          ELSE TRUE
        END
      FROM "slo"."status"
      WHERE
        "table_name" = 'user_features' AND "status" = 'fail'
    )
  );

