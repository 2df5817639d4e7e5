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


-- file: user_features/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN "ds" IS NULL
    THEN '(null)'
    WHEN CAST("ds" AS VARCHAR(MAX)) LIKE '(%null)'
    THEN '(' || CAST("ds" AS VARCHAR(MAX))
    ELSE CAST("ds" AS VARCHAR(MAX))
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
  SUBSTRING(CASE
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
  ), FALSE) THEN ', not_null_age' ELSE '' END FROM 3) AS "_slo_violations"
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
        CAST(COUNT(*) AS VARCHAR(MAX)) || ':' || CAST(COALESCE(
          SUM(
            CAST(STRTOL(
              SUBSTRING(MD5(
                COALESCE('v' || CAST("user_id" AS VARCHAR(MAX)), 'n') || '|' || COALESCE('v' || CAST("age" AS VARCHAR(MAX)), 'n') || '|' || COALESCE('v' || CAST("ds" AS VARCHAR(MAX)), 'n')
              ) FROM 1 FOR 15),
              16
            ) AS DECIMAL(38, 0))
          ),
          0
        ) AS VARCHAR(MAX)) AS "_slo_content"
      FROM "raw"."user_features"
      GROUP BY
        "ds"
    ) AS "_slo_now"
    LEFT JOIN (
      SELECT DISTINCT
        "partition",
        SUBSTRING("fingerprint" FROM 18) AS "_slo_content"
      FROM "slo"."status"
      WHERE
        "table_name" = 'user_features'
    ) AS "_slo_checked"
      ON "_slo_checked"."partition" = CASE
        WHEN "_slo_now"."ds" IS NULL
        THEN '(null)'
        WHEN CAST("_slo_now"."ds" AS VARCHAR(MAX)) LIKE '(%null)'
        THEN '(' || CAST("_slo_now"."ds" AS VARCHAR(MAX))
        ELSE CAST("_slo_now"."ds" AS VARCHAR(MAX))
      END
    WHERE
      CASE
        WHEN "_slo_checked"."partition" IS NULL
        THEN CAST('slocompile: validated.user_features is blocked: partition ' || CASE
          WHEN "_slo_now"."ds" IS NULL
          THEN '(null)'
          WHEN CAST("_slo_now"."ds" AS VARCHAR(MAX)) LIKE '(%null)'
          THEN '(' || CAST("_slo_now"."ds" AS VARCHAR(MAX))
          ELSE CAST("_slo_now"."ds" AS VARCHAR(MAX))
        END || ' has not been checked yet (build to check it)' AS INTEGER) = 0
        WHEN "_slo_checked"."_slo_content" IS NULL
        OR "_slo_checked"."_slo_content" <> "_slo_now"."_slo_content"
        THEN CAST('slocompile: validated.user_features is blocked: partition ' || CASE
          WHEN "_slo_now"."ds" IS NULL
          THEN '(null)'
          WHEN CAST("_slo_now"."ds" AS VARCHAR(MAX)) LIKE '(%null)'
          THEN '(' || CAST("_slo_now"."ds" AS VARCHAR(MAX))
          ELSE CAST("_slo_now"."ds" AS VARCHAR(MAX))
        END || ' changed since it was checked (build again to check it)' AS INTEGER) = 0
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
              CAST(COUNT(*) AS VARCHAR(MAX)) || ':' || CAST(COALESCE(
                SUM(
                  CAST(STRTOL(
                    SUBSTRING(MD5(
                      COALESCE('v' || CAST("user_id" AS VARCHAR(MAX)), 'n') || '|' || COALESCE('v' || CAST("age" AS VARCHAR(MAX)), 'n') || '|' || COALESCE('v' || CAST("ds" AS VARCHAR(MAX)), 'n')
                    ) FROM 1 FOR 15),
                    16
                  ) AS DECIMAL(38, 0))
                ),
                0
              ) AS VARCHAR(MAX)) AS "_slo_content"
            FROM "raw"."user_features"
            GROUP BY
              "ds"
          ) AS "_slo_now"
          LEFT JOIN (
            SELECT DISTINCT
              "partition",
              SUBSTRING("fingerprint" FROM 18) AS "_slo_content"
            FROM "slo"."status"
            WHERE
              "table_name" = 'user_features'
          ) AS "_slo_checked"
            ON "_slo_checked"."partition" = CASE
              WHEN "_slo_now"."ds" IS NULL
              THEN '(null)'
              WHEN CAST("_slo_now"."ds" AS VARCHAR(MAX)) LIKE '(%null)'
              THEN '(' || CAST("_slo_now"."ds" AS VARCHAR(MAX))
              ELSE CAST("_slo_now"."ds" AS VARCHAR(MAX))
            END
          WHERE
            CASE
              WHEN "_slo_checked"."partition" IS NULL
              THEN CAST('slocompile: validated.user_features is blocked: partition ' || CASE
                WHEN "_slo_now"."ds" IS NULL
                THEN '(null)'
                WHEN CAST("_slo_now"."ds" AS VARCHAR(MAX)) LIKE '(%null)'
                THEN '(' || CAST("_slo_now"."ds" AS VARCHAR(MAX))
                ELSE CAST("_slo_now"."ds" AS VARCHAR(MAX))
              END || ' has not been checked yet (build to check it)' AS INTEGER) = 0
              WHEN "_slo_checked"."_slo_content" IS NULL
              OR "_slo_checked"."_slo_content" <> "_slo_now"."_slo_content"
              THEN CAST('slocompile: validated.user_features is blocked: partition ' || CASE
                WHEN "_slo_now"."ds" IS NULL
                THEN '(null)'
                WHEN CAST("_slo_now"."ds" AS VARCHAR(MAX)) LIKE '(%null)'
                THEN '(' || CAST("_slo_now"."ds" AS VARCHAR(MAX))
                ELSE CAST("_slo_now"."ds" AS VARCHAR(MAX))
              END || ' changed since it was checked (build again to check it)' AS INTEGER) = 0
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
            COALESCE("partition", 'whole table') || ': ' || "failed_checks" NULLS FIRST) AS INTEGER) = 0
          ELSE TRUE
        END
      FROM "slo"."status"
      WHERE
        "table_name" = 'user_features' AND "status" = 'fail'
    )
  );

