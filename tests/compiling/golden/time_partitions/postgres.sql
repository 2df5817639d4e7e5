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
  "observed_value" DOUBLE PRECISION,
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
  "value" DOUBLE PRECISION,
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
  "value" DOUBLE PRECISION,
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
  "observed" DOUBLE PRECISION,
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
    WHEN DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) IS NULL
    THEN '(null)'
    ELSE CAST(DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) AS TEXT)
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
  SUBSTRING(CASE
    WHEN COALESCE((
      NOT "kind" IN ('click', 'view')
    ), FALSE)
    THEN ', accepted_values_kind'
    ELSE ''
  END FROM 3) AS "_slo_violations"
FROM "raw"."events"
WHERE
  COALESCE((
    NOT "kind" IN ('click', 'view')
  ), FALSE)
  AND (
    CASE
      WHEN DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) IS NULL
      THEN '(null)'
      ELSE CAST(DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) AS TEXT)
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
        CAST(COUNT(*) AS TEXT) || ':' || CAST(COALESCE(SUM(HASHTEXTEXTENDED(CAST(ROW("kind", "event_ts", "event_id") AS TEXT), 0)), 0) AS TEXT) AS "_slo_content"
      FROM "raw"."events"
      GROUP BY
        DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP))
    ) AS "_slo_now"
    INNER JOIN (
      SELECT DISTINCT
        "partition",
        SUBSTRING("fingerprint" FROM 18) AS "_slo_content"
      FROM "slo"."status"
      WHERE
        "table_name" = 'events' AND "status" = 'pass'
    ) AS "_slo_checked"
      ON "_slo_checked"."partition" = CASE
        WHEN "_slo_now"."event_ts" IS NULL
        THEN '(null)'
        ELSE CAST("_slo_now"."event_ts" AS TEXT)
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
              CAST(COUNT(*) AS TEXT) || ':' || CAST(COALESCE(SUM(HASHTEXTEXTENDED(CAST(ROW("kind", "event_ts", "event_id") AS TEXT), 0)), 0) AS TEXT) AS "_slo_content"
            FROM "raw"."events"
            GROUP BY
              DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP))
          ) AS "_slo_now"
          INNER JOIN (
            SELECT DISTINCT
              "partition",
              SUBSTRING("fingerprint" FROM 18) AS "_slo_content"
            FROM "slo"."status"
            WHERE
              "table_name" = 'events' AND "status" = 'pass'
          ) AS "_slo_checked"
            ON "_slo_checked"."partition" = CASE
              WHEN "_slo_now"."event_ts" IS NULL
              THEN '(null)'
              ELSE CAST("_slo_now"."event_ts" AS TEXT)
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
      ELSE CAST(DATE_TRUNC('HOUR', CAST("event_ts" AS TIMESTAMP)) AS TEXT)
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
    ELSE CAST(CAST(DATE_TRUNC('MONTH', CAST("billed_on" AS TIMESTAMP)) AS DATE) AS TEXT)
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
  CAST(NULL AS TEXT) AS "_slo_violations"
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
        CAST(COUNT(*) AS TEXT) || ':' || CAST(COALESCE(SUM(HASHTEXTEXTENDED(CAST(ROW("amount", "billed_on") AS TEXT), 0)), 0) AS TEXT) AS "_slo_content"
      FROM "raw"."monthly"
      GROUP BY
        CAST(DATE_TRUNC('MONTH', CAST("billed_on" AS TIMESTAMP)) AS DATE)
    ) AS "_slo_now"
    LEFT JOIN (
      SELECT DISTINCT
        "partition",
        SUBSTRING("fingerprint" FROM 18) AS "_slo_content"
      FROM "slo"."status"
      WHERE
        "table_name" = 'monthly'
    ) AS "_slo_checked"
      ON "_slo_checked"."partition" = CASE
        WHEN "_slo_now"."billed_on" IS NULL
        THEN '(null)'
        ELSE CAST("_slo_now"."billed_on" AS TEXT)
      END
    WHERE
      CASE
        WHEN "_slo_checked"."partition" IS NULL
        THEN CAST('slocompile: validated.monthly is blocked: partition ' || CASE
          WHEN "_slo_now"."billed_on" IS NULL
          THEN '(null)'
          ELSE CAST("_slo_now"."billed_on" AS TEXT)
        END || ' has not been checked yet (build to check it)' AS INT) = 0
        WHEN "_slo_checked"."_slo_content" IS NULL
        OR "_slo_checked"."_slo_content" <> "_slo_now"."_slo_content"
        THEN CAST('slocompile: validated.monthly is blocked: partition ' || CASE
          WHEN "_slo_now"."billed_on" IS NULL
          THEN '(null)'
          ELSE CAST("_slo_now"."billed_on" AS TEXT)
        END || ' changed since it was checked (build again to check it)' AS INT) = 0
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
              CAST(COUNT(*) AS TEXT) || ':' || CAST(COALESCE(SUM(HASHTEXTEXTENDED(CAST(ROW("amount", "billed_on") AS TEXT), 0)), 0) AS TEXT) AS "_slo_content"
            FROM "raw"."monthly"
            GROUP BY
              CAST(DATE_TRUNC('MONTH', CAST("billed_on" AS TIMESTAMP)) AS DATE)
          ) AS "_slo_now"
          LEFT JOIN (
            SELECT DISTINCT
              "partition",
              SUBSTRING("fingerprint" FROM 18) AS "_slo_content"
            FROM "slo"."status"
            WHERE
              "table_name" = 'monthly'
          ) AS "_slo_checked"
            ON "_slo_checked"."partition" = CASE
              WHEN "_slo_now"."billed_on" IS NULL
              THEN '(null)'
              ELSE CAST("_slo_now"."billed_on" AS TEXT)
            END
          WHERE
            CASE
              WHEN "_slo_checked"."partition" IS NULL
              THEN CAST('slocompile: validated.monthly is blocked: partition ' || CASE
                WHEN "_slo_now"."billed_on" IS NULL
                THEN '(null)'
                ELSE CAST("_slo_now"."billed_on" AS TEXT)
              END || ' has not been checked yet (build to check it)' AS INT) = 0
              WHEN "_slo_checked"."_slo_content" IS NULL
              OR "_slo_checked"."_slo_content" <> "_slo_now"."_slo_content"
              THEN CAST('slocompile: validated.monthly is blocked: partition ' || CASE
                WHEN "_slo_now"."billed_on" IS NULL
                THEN '(null)'
                ELSE CAST("_slo_now"."billed_on" AS TEXT)
              END || ' changed since it was checked (build again to check it)' AS INT) = 0
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
        THEN CAST('slocompile: validated.monthly is blocked by failed SLOs: ' || STRING_AGG(
          COALESCE("partition", 'whole table') || ': ' || "failed_checks", '; '
          ORDER BY
            COALESCE("partition", 'whole table') || ': ' || "failed_checks" NULLS FIRST
        ) AS INT) = 0
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
    ELSE CAST(CAST(DATE_TRUNC('WEEK', CAST("loaded_at" AS TIMESTAMP)) AS DATE) AS TEXT)
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
  CAST(NULL AS TEXT) AS "_slo_violations"
FROM "slo_versions"."weekly" AS "_v"
WHERE
  FALSE
  AND (
    (
      SELECT
        CASE
          WHEN COUNT(*) = 0
          THEN CAST('slocompile: validated.weekly has no version that passed its SLOs yet (gate last_good); published versions: ' || CAST(COUNT(*) AS TEXT) AS INT) = 0
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
          ELSE CAST(CAST(DATE_TRUNC('WEEK', CAST("_v"."loaded_at" AS TIMESTAMP)) AS DATE) AS TEXT)
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
        THEN CAST('slocompile: validated.weekly has no version that passed its SLOs yet (gate last_good); published versions: ' || CAST(COUNT(*) AS TEXT) AS INT) = 0
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
        ELSE CAST(CAST(DATE_TRUNC('WEEK', CAST("_v"."loaded_at" AS TIMESTAMP)) AS DATE) AS TEXT)
      END
  );

