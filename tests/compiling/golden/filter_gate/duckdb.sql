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


-- file: dims/checks.sql
-- fused scan: distinct counts together, apart from the wide aggregate (memory)
SELECT
  COUNT("code") - COUNT(DISTINCT "code") AS "m0"
FROM "raw"."dims";

-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS "m0"
FROM "raw"."dims";


-- file: dims/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."dims" AS
SELECT
  *,
  CAST(NULL AS TEXT) AS "_slo_violations"
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
    WHEN CAST("event_date" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("event_date" AS TEXT)
    ELSE CAST("event_date" AS TEXT)
  END AS "_slo_partition",
  COUNT(*) AS "m0"
FROM "raw"."events"
GROUP BY
  "event_date";

-- value_counts scan: checked once per distinct value, not once per row
SELECT
  CASE
    WHEN "event_date" IS NULL
    THEN '(null)'
    WHEN CAST("event_date" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("event_date" AS TEXT)
    ELSE CAST("event_date" AS TEXT)
  END AS "_slo_partition",
  COALESCE(SUM(CASE WHEN NOT "kind" IN ('click', 'view') THEN "_slo_rows" END), 0) AS "m0"
FROM (
  SELECT
    "event_date",
    "kind",
    COUNT(*) AS "_slo_rows"
  FROM "raw"."events"
  GROUP BY
    "event_date",
    "kind"
) AS "v"
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
      WHEN CAST("event_date" AS TEXT) LIKE '(%null)'
      THEN '(' || CAST("event_date" AS TEXT)
      ELSE CAST("event_date" AS TEXT)
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
        CAST(COUNT(*) AS TEXT) || ':' || CAST(COALESCE(SUM(HASH("kind", "event_date")), 0) AS TEXT) AS "_slo_content"
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
        WHEN CAST("_slo_now"."event_date" AS TEXT) LIKE '(%null)'
        THEN '(' || CAST("_slo_now"."event_date" AS TEXT)
        ELSE CAST("_slo_now"."event_date" AS TEXT)
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
              CAST(COUNT(*) AS TEXT) || ':' || CAST(COALESCE(SUM(HASH("kind", "event_date")), 0) AS TEXT) AS "_slo_content"
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
              WHEN CAST("_slo_now"."event_date" AS TEXT) LIKE '(%null)'
              THEN '(' || CAST("_slo_now"."event_date" AS TEXT)
              ELSE CAST("_slo_now"."event_date" AS TEXT)
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
      WHEN CAST("event_date" AS TEXT) LIKE '(%null)'
      THEN '(' || CAST("event_date" AS TEXT)
      ELSE CAST("event_date" AS TEXT)
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

