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
    WHEN DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) IS NULL
    THEN '(null)'
    ELSE CAST(DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) AS VARCHAR)
  END AS "_slo_partition",
  COUNT(*) AS "m0",
  COUNT(CASE WHEN NOT "kind" IN ('click', 'view') THEN 1 END) AS "m1",
  COUNT("event_id") - COUNT(DISTINCT "event_id") AS "m2"
FROM "raw"."events"
GROUP BY
  DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP));


-- file: events/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."events" AS
SELECT
  *,
  SUBSTR(
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
      WHEN DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) IS NULL
      THEN '(null)'
      ELSE CAST(DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) AS VARCHAR)
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
      "_slo_now"."event_ts"
    FROM (
      SELECT
        DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) AS "event_ts",
        CAST(COUNT(*) AS VARCHAR) || ':' || CAST(COALESCE(
          SUM(
            CAST(FROM_BIG_ENDIAN_64(
              XXHASH64(TO_UTF8(JSON_FORMAT(CAST(ROW("kind", "event_ts", "event_id") AS JSON))))
            ) AS DECIMAL(38, 0))
          ),
          0
        ) AS VARCHAR) AS "_slo_content"
      FROM "raw"."events"
      GROUP BY
        DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP))
    ) AS "_slo_now"
    INNER JOIN (
      SELECT DISTINCT
        "partition",
        SUBSTR("fingerprint", 18) AS "_slo_content"
      FROM "slo"."status"
      WHERE
        "table_name" = 'events' AND "status" = 'pass'
    ) AS "_slo_checked"
      ON "_slo_checked"."partition" = CASE
        WHEN "_slo_now"."event_ts" IS NULL
        THEN '(null)'
        ELSE CAST("_slo_now"."event_ts" AS VARCHAR)
      END
      AND "_slo_checked"."_slo_content" = "_slo_now"."_slo_content"
  ) AS "_slo_ok"
    ON DATE_TRUNC('HOUR', CAST("_slo_raw"."event_ts" AS TIMESTAMP)) = "_slo_ok"."event_ts"
  UNION ALL
  SELECT
    *
  FROM "raw"."events"
  WHERE
    "event_ts" IS NULL
    AND (
      EXISTS(
        SELECT
          1
        FROM (
          SELECT
            "_slo_now"."event_ts"
          FROM (
            SELECT
              DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) AS "event_ts",
              CAST(COUNT(*) AS VARCHAR) || ':' || CAST(COALESCE(
                SUM(
                  CAST(FROM_BIG_ENDIAN_64(
                    XXHASH64(TO_UTF8(JSON_FORMAT(CAST(ROW("kind", "event_ts", "event_id") AS JSON))))
                  ) AS DECIMAL(38, 0))
                ),
                0
              ) AS VARCHAR) AS "_slo_content"
            FROM "raw"."events"
            GROUP BY
              DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP))
          ) AS "_slo_now"
          INNER JOIN (
            SELECT DISTINCT
              "partition",
              SUBSTR("fingerprint", 18) AS "_slo_content"
            FROM "slo"."status"
            WHERE
              "table_name" = 'events' AND "status" = 'pass'
          ) AS "_slo_checked"
            ON "_slo_checked"."partition" = CASE
              WHEN "_slo_now"."event_ts" IS NULL
              THEN '(null)'
              ELSE CAST("_slo_now"."event_ts" AS VARCHAR)
            END
            AND "_slo_checked"."_slo_content" = "_slo_now"."_slo_content"
        ) AS "_slo_ok"
        WHERE
          "_slo_ok"."event_ts" IS NULL
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
      WHEN DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) IS NULL
      THEN '(null)'
      ELSE CAST(DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) AS VARCHAR)
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

-- file: monthly/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN CAST(DATE_TRUNC('MONTH', CAST("billed_on" AS TIMESTAMP)) AS DATE) IS NULL
    THEN '(null)'
    ELSE CAST(CAST(DATE_TRUNC('MONTH', CAST("billed_on" AS TIMESTAMP)) AS DATE) AS VARCHAR)
  END AS "_slo_partition",
  COUNT(*) AS "m0",
  COUNT(CASE WHEN "amount" IS NULL THEN 1 END) AS "m1"
FROM "raw"."monthly"
GROUP BY
  CAST(DATE_TRUNC('MONTH', CAST("billed_on" AS TIMESTAMP)) AS DATE);


-- file: monthly/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."monthly" AS
SELECT
  *,
  CAST(NULL AS VARCHAR) AS "_slo_violations"
FROM "raw"."monthly"
WHERE
  FALSE;

-- file: monthly/validated_view.sql
CREATE OR REPLACE VIEW "validated"."monthly" AS
SELECT
  *
FROM (
  SELECT
    "_slo_raw".*
  FROM "raw"."monthly" AS "_slo_raw"
  INNER JOIN (
    SELECT
      "_slo_now"."billed_on"
    FROM (
      SELECT
        CAST(DATE_TRUNC('MONTH', CAST("billed_on" AS TIMESTAMP)) AS DATE) AS "billed_on",
        CAST(COUNT(*) AS VARCHAR) || ':' || CAST(COALESCE(
          SUM(
            CAST(FROM_BIG_ENDIAN_64(XXHASH64(TO_UTF8(JSON_FORMAT(CAST(ROW("amount", "billed_on") AS JSON))))) AS DECIMAL(38, 0))
          ),
          0
        ) AS VARCHAR) AS "_slo_content"
      FROM "raw"."monthly"
      GROUP BY
        CAST(DATE_TRUNC('MONTH', CAST("billed_on" AS TIMESTAMP)) AS DATE)
    ) AS "_slo_now"
    LEFT JOIN (
      SELECT DISTINCT
        "partition",
        SUBSTR("fingerprint", 18) AS "_slo_content"
      FROM "slo"."status"
      WHERE
        "table_name" = 'monthly'
    ) AS "_slo_checked"
      ON "_slo_checked"."partition" = CASE
        WHEN "_slo_now"."billed_on" IS NULL
        THEN '(null)'
        ELSE CAST("_slo_now"."billed_on" AS VARCHAR)
      END
    WHERE
      CASE
        WHEN "_slo_checked"."partition" IS NULL
        THEN FAIL(
          'slocompile: validated.monthly is blocked: partition ' || CASE
            WHEN "_slo_now"."billed_on" IS NULL
            THEN '(null)'
            ELSE CAST("_slo_now"."billed_on" AS VARCHAR)
          END || ' has not been checked yet (build to check it)'
        ) = 0
        WHEN "_slo_checked"."_slo_content" IS NULL
        OR "_slo_checked"."_slo_content" <> "_slo_now"."_slo_content"
        THEN FAIL(
          'slocompile: validated.monthly is blocked: partition ' || CASE
            WHEN "_slo_now"."billed_on" IS NULL
            THEN '(null)'
            ELSE CAST("_slo_now"."billed_on" AS VARCHAR)
          END || ' changed since it was checked (build again to check it)'
        ) = 0
        ELSE TRUE
      END
  ) AS "_slo_ok"
    ON CAST(DATE_TRUNC('MONTH', CAST("_slo_raw"."billed_on" AS TIMESTAMP)) AS DATE) = "_slo_ok"."billed_on"
  UNION ALL
  SELECT
    *
  FROM "raw"."monthly"
  WHERE
    "billed_on" IS NULL
    AND (
      EXISTS(
        SELECT
          1
        FROM (
          SELECT
            "_slo_now"."billed_on"
          FROM (
            SELECT
              CAST(DATE_TRUNC('MONTH', CAST("billed_on" AS TIMESTAMP)) AS DATE) AS "billed_on",
              CAST(COUNT(*) AS VARCHAR) || ':' || CAST(COALESCE(
                SUM(
                  CAST(FROM_BIG_ENDIAN_64(XXHASH64(TO_UTF8(JSON_FORMAT(CAST(ROW("amount", "billed_on") AS JSON))))) AS DECIMAL(38, 0))
                ),
                0
              ) AS VARCHAR) AS "_slo_content"
            FROM "raw"."monthly"
            GROUP BY
              CAST(DATE_TRUNC('MONTH', CAST("billed_on" AS TIMESTAMP)) AS DATE)
          ) AS "_slo_now"
          LEFT JOIN (
            SELECT DISTINCT
              "partition",
              SUBSTR("fingerprint", 18) AS "_slo_content"
            FROM "slo"."status"
            WHERE
              "table_name" = 'monthly'
          ) AS "_slo_checked"
            ON "_slo_checked"."partition" = CASE
              WHEN "_slo_now"."billed_on" IS NULL
              THEN '(null)'
              ELSE CAST("_slo_now"."billed_on" AS VARCHAR)
            END
          WHERE
            CASE
              WHEN "_slo_checked"."partition" IS NULL
              THEN FAIL(
                'slocompile: validated.monthly is blocked: partition ' || CASE
                  WHEN "_slo_now"."billed_on" IS NULL
                  THEN '(null)'
                  ELSE CAST("_slo_now"."billed_on" AS VARCHAR)
                END || ' has not been checked yet (build to check it)'
              ) = 0
              WHEN "_slo_checked"."_slo_content" IS NULL
              OR "_slo_checked"."_slo_content" <> "_slo_now"."_slo_content"
              THEN FAIL(
                'slocompile: validated.monthly is blocked: partition ' || CASE
                  WHEN "_slo_now"."billed_on" IS NULL
                  THEN '(null)'
                  ELSE CAST("_slo_now"."billed_on" AS VARCHAR)
                END || ' changed since it was checked (build again to check it)'
              ) = 0
              ELSE TRUE
            END
        ) AS "_slo_ok"
        WHERE
          "_slo_ok"."billed_on" IS NULL
          AND (
            EXISTS(
              SELECT
                1
              FROM "slo"."status"
              WHERE
                "table_name" = 'monthly' AND "partition" = '(null)'
            )
          )
      )
    )
) AS "_slo_verified"
WHERE
  (
    SELECT
      CASE
        WHEN COUNT(*) > 0
        THEN FAIL(
          'slocompile: validated.monthly is blocked by failed SLOs: ' || LISTAGG(COALESCE("partition", 'whole table') || ': ' || "failed_checks", '; ') WITHIN GROUP (ORDER BY
            COALESCE("partition", 'whole table') || ': ' || "failed_checks" NULLS FIRST)
        ) = 0
        ELSE TRUE
      END
    FROM "slo"."status"
    WHERE
      "table_name" = 'monthly' AND "status" = 'fail'
  );

-- file: weekly/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN CAST(DATE_TRUNC('WEEK', CAST("loaded_at" AS TIMESTAMP)) AS DATE) IS NULL
    THEN '(null)'
    ELSE CAST(CAST(DATE_TRUNC('WEEK', CAST("loaded_at" AS TIMESTAMP)) AS DATE) AS VARCHAR)
  END AS "_slo_partition",
  COUNT(*) AS "m0",
  COUNT("user_id") - COUNT(DISTINCT "user_id") AS "m1"
FROM "raw"."weekly"
GROUP BY
  CAST(DATE_TRUNC('WEEK', CAST("loaded_at" AS TIMESTAMP)) AS DATE);


-- file: weekly/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."weekly" AS
SELECT
  *,
  CAST(NULL AS VARCHAR) AS "_slo_violations"
FROM "slo_versions"."weekly" AS "_v"
WHERE
  FALSE
  AND (
    (
      SELECT
        CASE
          WHEN COUNT(*) = 0
          THEN FAIL(
            'slocompile: validated.weekly has no version that passed its SLOs yet (gate last_good); published versions: ' || CAST(COUNT(*) AS VARCHAR)
          ) = 0
          ELSE TRUE
        END
      FROM "slo"."published" AS "_p"
      WHERE
        "_p"."table_name" = 'weekly'
    )
    AND EXISTS(
      SELECT
        1
      FROM "slo"."published" AS "_p"
      WHERE
        (
          "_p"."table_name" = 'weekly' AND "_p"."version" = "_v"."_slo_version"
        )
        AND "_p"."partition" = CASE
          WHEN CAST(DATE_TRUNC('WEEK', CAST("_v"."loaded_at" AS TIMESTAMP)) AS DATE) IS NULL
          THEN '(null)'
          ELSE CAST(CAST(DATE_TRUNC('WEEK', CAST("_v"."loaded_at" AS TIMESTAMP)) AS DATE) AS VARCHAR)
        END
    )
  );

-- file: weekly/validated_view.sql
CREATE OR REPLACE VIEW "validated"."weekly" AS
SELECT
  *
FROM "slo_versions"."weekly" AS "_v"
WHERE
  (
    SELECT
      CASE
        WHEN COUNT(*) = 0
        THEN FAIL(
          'slocompile: validated.weekly has no version that passed its SLOs yet (gate last_good); published versions: ' || CAST(COUNT(*) AS VARCHAR)
        ) = 0
        ELSE TRUE
      END
    FROM "slo"."published" AS "_p"
    WHERE
      "_p"."table_name" = 'weekly'
  )
  AND EXISTS(
    SELECT
      1
    FROM "slo"."published" AS "_p"
    WHERE
      (
        "_p"."table_name" = 'weekly' AND "_p"."version" = "_v"."_slo_version"
      )
      AND "_p"."partition" = CASE
        WHEN CAST(DATE_TRUNC('WEEK', CAST("_v"."loaded_at" AS TIMESTAMP)) AS DATE) IS NULL
        THEN '(null)'
        ELSE CAST(CAST(DATE_TRUNC('WEEK', CAST("_v"."loaded_at" AS TIMESTAMP)) AS DATE) AS VARCHAR)
      END
  );

