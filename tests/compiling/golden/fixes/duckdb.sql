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


-- file: features/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS "m0"
FROM "raw"."features";

-- alone scan: a simple filter the engine answers from row-group statistics
SELECT
  COUNT(*) AS "m0"
FROM "raw"."features"
WHERE
  (
    "f" IS NULL
  );


-- file: features/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."features" AS
SELECT
  *,
  CAST(NULL AS TEXT) AS "_slo_violations"
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
    ), FALSE) THEN ', not_null_f' ELSE '' END, 3),
    ''
  ) AS "_slo_violations",
  CAST(NULL AS TEXT) AS "_slo_fixed"
FROM "raw"."features";

-- file: predictions/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS "m0"
FROM "raw"."predictions";

-- alone scan: a simple filter the engine answers from row-group statistics
SELECT
  COUNT(*) AS "m0"
FROM "raw"."predictions"
WHERE
  (
    (
      "score" < 0
    ) OR (
      "score" > 1
    )
  );

-- alone scan: a simple filter the engine answers from row-group statistics
SELECT
  COUNT(*) AS "m0"
FROM "raw"."predictions"
WHERE
  (
    "score" IS NULL
  );


-- file: predictions/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."predictions" AS
SELECT
  *,
  SUBSTRING(
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
    SUBSTRING(
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
    SUBSTRING(
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
                THEN ERROR(
                  'slocompile: validated.predictions is blocked by failed SLOs: ' || LISTAGG(
                    COALESCE("partition", 'whole table') || ': ' || "failed_checks", '; '
                    ORDER BY
                      COALESCE("partition", 'whole table') || ': ' || "failed_checks" NULLS FIRST
                  )
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

