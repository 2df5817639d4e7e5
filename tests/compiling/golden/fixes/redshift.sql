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


-- file: features/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS "m0",
  COUNT(CASE WHEN "f" IS NULL THEN 1 END) AS "m1"
FROM "raw"."features";


-- file: features/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."features" AS
SELECT
  *,
  CAST(NULL AS VARCHAR(MAX)) AS "_slo_violations"
FROM "raw"."features"
WHERE
  FALSE;

-- file: features/validated_view.sql
CREATE OR REPLACE VIEW "validated"."features" AS
SELECT
  *,
  NOT (
    COALESCE((
      "f" IS NULL
    ), FALSE)
  ) AS "_slo_ok",
  NULLIF(
    SUBSTRING(CASE WHEN COALESCE((
      "f" IS NULL
    ), FALSE) THEN ', not_null_f' ELSE '' END FROM 3),
    ''
  ) AS "_slo_violations",
  CAST(NULL AS VARCHAR(MAX)) AS "_slo_fixed"
FROM "raw"."features";

-- file: predictions/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS "m0",
  COUNT(CASE WHEN (
    "score" < 0
  ) OR (
    "score" > 1
  ) THEN 1 END) AS "m1",
  COUNT(CASE WHEN "score" IS NULL THEN 1 END) AS "m2"
FROM "raw"."predictions";


-- file: predictions/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."predictions" AS
SELECT
  *,
  SUBSTRING(CASE WHEN COALESCE((
    "score" IS NULL
  ), FALSE) THEN ', not_null_score' ELSE '' END FROM 3) AS "_slo_violations"
FROM "raw"."predictions"
WHERE
  COALESCE((
    "score" IS NULL
  ), FALSE);

-- file: predictions/validated_view.sql
CREATE OR REPLACE VIEW "validated"."predictions" AS
SELECT
  "_slo_fix0_2" AS "score",
  "_slo_fix1_0" AS "baseline_score",
  "_slo_fix2_1" AS "label",
  "_slo_fix3_0" AS "day",
  "model_version",
  NOT (
    (
      (
        (
          COALESCE((
            (
              "score" < 0
            ) OR (
              "score" > 1
            )
          ), FALSE)
          OR (
            NOT (
              (
                "score" IS NULL AND "_slo_fix0_2" IS NULL
              )
              OR COALESCE((
                "score" = "_slo_fix0_2"
              ), FALSE)
            )
          )
        )
        OR (
          NOT (
            (
              "baseline_score" IS NULL AND "_slo_fix1_0" IS NULL
            )
            OR COALESCE((
              "baseline_score" = "_slo_fix1_0"
            ), FALSE)
          )
        )
      )
      OR (
        NOT (
          (
            "label" IS NULL AND "_slo_fix2_1" IS NULL
          )
          OR COALESCE((
            "label" = "_slo_fix2_1"
          ), FALSE)
        )
      )
    )
    OR (
      NOT (
        (
          "day" IS NULL AND "_slo_fix3_0" IS NULL
        )
        OR COALESCE((
          "day" = "_slo_fix3_0"
        ), FALSE)
      )
    )
  ) AS "_slo_ok",
  NULLIF(
    SUBSTRING(CASE
      WHEN COALESCE((
        (
          "score" < 0
        ) OR (
          "score" > 1
        )
      ), FALSE)
      THEN ', between_score'
      ELSE ''
    END FROM 3),
    ''
  ) AS "_slo_violations",
  NULLIF(
    SUBSTRING(CASE
      WHEN NOT (
        (
          "score" IS NULL AND "_slo_fix0_2" IS NULL
        )
        OR COALESCE((
          "score" = "_slo_fix0_2"
        ), FALSE)
      )
      THEN ', score'
      ELSE ''
    END || CASE
      WHEN NOT (
        (
          "baseline_score" IS NULL AND "_slo_fix1_0" IS NULL
        )
        OR COALESCE((
          "baseline_score" = "_slo_fix1_0"
        ), FALSE)
      )
      THEN ', baseline_score'
      ELSE ''
    END || CASE
      WHEN NOT (
        (
          "label" IS NULL AND "_slo_fix2_1" IS NULL
        )
        OR COALESCE((
          "label" = "_slo_fix2_1"
        ), FALSE)
      )
      THEN ', label'
      ELSE ''
    END || CASE
      WHEN NOT (
        (
          "day" IS NULL AND "_slo_fix3_0" IS NULL
        )
        OR COALESCE((
          "day" = "_slo_fix3_0"
        ), FALSE)
      )
      THEN ', day'
      ELSE ''
    END FROM 3),
    ''
  ) AS "_slo_fixed"
FROM (
  SELECT
    *,
    COALESCE("_slo_fix0_1", 0.5) AS "_slo_fix0_2"
  FROM (
    SELECT
      *,
      CASE
        WHEN "_slo_fix0_0" < 0
        THEN 0
        WHEN "_slo_fix0_0" > 1
        THEN 1
        ELSE "_slo_fix0_0"
      END AS "_slo_fix0_1",
      CASE
        WHEN COALESCE((
          "_slo_fix2_0" = 'x'
        ), FALSE)
        THEN NULL
        ELSE "_slo_fix2_0"
      END AS "_slo_fix2_1"
    FROM (
      SELECT
        *,
        CASE
          WHEN COALESCE(
            (
              (
                EXISTS(
                  SELECT
                    1
                  FROM "slo"."status" AS "_slo_s"
                  WHERE
                    "_slo_s"."table_name" = 'features' AND "_slo_s"."status" = 'fail'
                )
              )
              AND "model_version" <> 'v0'
            ),
            FALSE
          )
          THEN "baseline_score"
          ELSE "score"
        END AS "_slo_fix0_0",
        CASE WHEN "baseline_score" < 0 THEN 0 ELSE "baseline_score" END AS "_slo_fix1_0",
        COALESCE("label", 'it\'s unknown') AS "_slo_fix2_0",
        CASE
          WHEN "day" < CAST('2024-01-01' AS DATE)
          THEN CAST('2024-01-01' AS DATE)
          WHEN "day" > CAST('2030-12-31' AS DATE)
          THEN CAST('2030-12-31' AS DATE)
          ELSE "day"
        END AS "_slo_fix3_0"
      FROM "raw"."predictions"
      WHERE
        (
          NOT COALESCE((
            "score" IS NULL
          ), FALSE)
        )
        AND (
          (
            SELECT
              CASE
                WHEN COUNT(*) > 0
                THEN CAST('slocompile: validated.predictions is blocked by failed SLOs: ' || LISTAGG(COALESCE("partition", 'whole table') || ': ' || "failed_checks", '; ') WITHIN GROUP (ORDER BY
                  COALESCE("partition", 'whole table') || ': ' || "failed_checks" NULLS FIRST) AS INTEGER) = 0
                ELSE TRUE
              END
            FROM "slo"."status"
            WHERE
              "table_name" = 'predictions' AND "status" = 'fail'
          )
        )
    ) AS "_slo_row1"
  ) AS "_slo_row2"
) AS "_slo_row";

