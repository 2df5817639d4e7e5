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
  CAST(NULL AS VARCHAR) AS "_slo_violations"
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
    SUBSTR(CASE WHEN COALESCE((
      "f" IS NULL
    ), FALSE) THEN ', not_null_f' ELSE '' END, 3),
    ''
  ) AS "_slo_violations",
  CAST(NULL AS VARCHAR) AS "_slo_fixed"
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
  SUBSTR(
    CASE WHEN COALESCE((
      "score" IS NULL
    ), FALSE) THEN ', not_null_score' ELSE '' END,
    3
  ) AS "_slo_violations"
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
    SUBSTR(
      CASE
        WHEN COALESCE((
          (
            "score" < 0
          ) OR (
            "score" > 1
          )
        ), FALSE)
        THEN ', between_score'
        ELSE ''
      END,
      3
    ),
    ''
  ) AS "_slo_violations",
  NULLIF(
    SUBSTR(
      CASE
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
      END,
      3
    ),
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
        COALESCE("label", 'it''s unknown') AS "_slo_fix2_0",
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
                THEN FAIL(
                  'slocompile: validated.predictions is blocked by failed SLOs: ' || LISTAGG(COALESCE("partition", 'whole table') || ': ' || "failed_checks", '; ') WITHIN GROUP (ORDER BY
                    COALESCE("partition", 'whole table') || ': ' || "failed_checks" NULLS FIRST)
                ) = 0
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

