-- file: Order__Items____0b387d/checks.sql
-- duplicates scan: duplicates on several key columns: GROUP BY ... HAVING
SELECT
  CASE
    WHEN "group" IS NULL
    THEN '(null)'
    WHEN CAST("group" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("group" AS TEXT)
    ELSE CAST("group" AS TEXT)
  END AS "_slo_partition",
  COALESCE(SUM("_slo_rows" - 1), 0) AS "m0"
FROM (
  SELECT
    "group",
    COUNT(*) AS "_slo_rows"
  FROM "raw"."Order Items"
  WHERE
    (
      NOT "select" IS NULL
    ) AND (
      NOT "naïve" IS NULL
    )
  GROUP BY
    "group",
    "select",
    "naïve"
  HAVING
    COUNT(*) > 1
) AS "d"
GROUP BY
  "group";

-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN "group" IS NULL
    THEN '(null)'
    WHEN CAST("group" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("group" AS TEXT)
    ELSE CAST("group" AS TEXT)
  END AS "_slo_partition",
  COUNT(*) AS "m0",
  COUNT(DISTINCT "select") > 0 AS "m1",
  COUNT(CASE WHEN (
    "naïve" < -1.5
  ) OR (
    "naïve" > '1e6'
  ) THEN 1 END) AS "m2",
  COUNT(
    CASE
      WHEN NOT "we""ird\col" IN (
        'it''s',
        'say "hi"',
        'back\slash',
        'new
line',
        'x''); DROP TABLE raw.t; --',
        'naïve ☃'
      )
      THEN 1
    END
  ) AS "m3",
  COUNT(CASE WHEN NOT (
    "we""ird\col" ~ '^\d+\\$'
  ) THEN 1 END) AS "m4",
  COUNT(CASE WHEN NOT (
    "we""ird\col" <> 'it''s'
  ) THEN 1 END) AS "m5",
  COUNT("Order Id") - COUNT(DISTINCT "Order Id") AS "m6"
FROM "raw"."Order Items"
GROUP BY
  "group";

-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN "group" IS NULL
    THEN '(null)'
    WHEN CAST("group" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("group" AS TEXT)
    ELSE CAST("group" AS TEXT)
  END AS "_slo_partition",
  COUNT(CASE WHEN "select" IS NULL THEN 1 END) AS "m0",
  COUNT(*) AS "m1"
FROM "raw"."Order Items"
WHERE
  "Order Id" > 0
GROUP BY
  "group";

-- orphans scan: anti-join with the referenced relation
SELECT
  CASE
    WHEN "group" IS NULL
    THEN '(null)'
    WHEN CAST("group" AS TEXT) LIKE '(%null)'
    THEN '(' || CAST("group" AS TEXT)
    ELSE CAST("group" AS TEXT)
  END AS "_slo_partition",
  COUNT(*) AS "m0"
FROM "raw"."Order Items" AS "t"
WHERE
  (
    NOT "t"."we""ird\col" IS NULL
  )
  AND (
    NOT EXISTS(
      SELECT
        1
      FROM "dims"."Codes ✓" AS "r"
      WHERE
        "r"."cödé" = "t"."we""ird\col"
    )
  )
GROUP BY
  "group";


-- file: Order__Items____0b387d/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."Order ""Items"" ✓" AS
SELECT
  *,
  SUBSTRING(CASE
    WHEN COALESCE((
      "Order Id" > 0
    ), FALSE) AND COALESCE((
      "select" IS NULL
    ), FALSE)
    THEN ', not_null_select'
    ELSE ''
  END || CASE
    WHEN COALESCE((
      (
        "naïve" < -1.5
      ) OR (
        "naïve" > '1e6'
      )
    ), FALSE)
    THEN ', between_na_ve'
    ELSE ''
  END || CASE
    WHEN COALESCE(
      (
        NOT "we""ird\col" IN (
          'it''s',
          'say "hi"',
          'back\slash',
          'new
line',
          'x''); DROP TABLE raw.t; --',
          'naïve ☃'
        )
      ),
      FALSE
    )
    THEN ', accepted_values_we_ird_col'
    ELSE ''
  END FROM 3) AS "_slo_violations"
FROM "raw"."Order Items"
WHERE
  (
    (
      COALESCE((
        "Order Id" > 0
      ), FALSE) AND COALESCE((
        "select" IS NULL
      ), FALSE)
    )
    OR COALESCE((
      (
        "naïve" < -1.5
      ) OR (
        "naïve" > '1e6'
      )
    ), FALSE)
  )
  OR COALESCE(
    (
      NOT "we""ird\col" IN (
        'it''s',
        'say "hi"',
        'back\slash',
        'new
line',
        'x''); DROP TABLE raw.t; --',
        'naïve ☃'
      )
    ),
    FALSE
  );

-- file: Order__Items____0b387d/validated_view.sql
CREATE OR REPLACE VIEW "validated"."Order ""Items"" ✓" AS
SELECT
  *
FROM (
  SELECT
    "_slo_raw".*
  FROM "raw"."Order Items" AS "_slo_raw"
  INNER JOIN (
    SELECT
      "_slo_now"."group"
    FROM (
      SELECT
        "group",
        CAST(COUNT(*) AS TEXT) || ':' || CAST(COALESCE(
          SUM(
            HASHTEXTEXTENDED(CAST(ROW("select", "naïve", "we""ird\col", "Order Id", "group") AS TEXT), 0)
          ),
          0
        ) AS TEXT) AS "_slo_content"
      FROM "raw"."Order Items"
      GROUP BY
        "group"
    ) AS "_slo_now"
    LEFT JOIN (
      SELECT DISTINCT
        "partition",
        SUBSTRING("fingerprint" FROM 18) AS "_slo_content"
      FROM "slo"."status"
      WHERE
        "table_name" = 'Order "Items" ✓'
    ) AS "_slo_checked"
      ON "_slo_checked"."partition" = CASE
        WHEN "_slo_now"."group" IS NULL
        THEN '(null)'
        WHEN CAST("_slo_now"."group" AS TEXT) LIKE '(%null)'
        THEN '(' || CAST("_slo_now"."group" AS TEXT)
        ELSE CAST("_slo_now"."group" AS TEXT)
      END
    WHERE
      CASE
        WHEN "_slo_checked"."partition" IS NULL
        THEN CAST('slocompile: validated.Order "Items" ✓ is blocked: partition ' || CASE
          WHEN "_slo_now"."group" IS NULL
          THEN '(null)'
          WHEN CAST("_slo_now"."group" AS TEXT) LIKE '(%null)'
          THEN '(' || CAST("_slo_now"."group" AS TEXT)
          ELSE CAST("_slo_now"."group" AS TEXT)
        END || ' has not been checked yet (build to check it)' AS INT) = 0
        WHEN "_slo_checked"."_slo_content" IS NULL
        OR "_slo_checked"."_slo_content" <> "_slo_now"."_slo_content"
        THEN CAST('slocompile: validated.Order "Items" ✓ is blocked: partition ' || CASE
          WHEN "_slo_now"."group" IS NULL
          THEN '(null)'
          WHEN CAST("_slo_now"."group" AS TEXT) LIKE '(%null)'
          THEN '(' || CAST("_slo_now"."group" AS TEXT)
          ELSE CAST("_slo_now"."group" AS TEXT)
        END || ' changed since it was checked (build again to check it)' AS INT) = 0
        ELSE TRUE
      END
  ) AS "_slo_ok"
    ON "_slo_raw"."group" = "_slo_ok"."group"
  UNION ALL
  SELECT
    *
  FROM "raw"."Order Items"
  WHERE
    "group" IS NULL
    AND (
      EXISTS(
        SELECT
          1
        FROM (
          SELECT
            "_slo_now"."group"
          FROM (
            SELECT
              "group",
              CAST(COUNT(*) AS TEXT) || ':' || CAST(COALESCE(
                SUM(
                  HASHTEXTEXTENDED(CAST(ROW("select", "naïve", "we""ird\col", "Order Id", "group") AS TEXT), 0)
                ),
                0
              ) AS TEXT) AS "_slo_content"
            FROM "raw"."Order Items"
            GROUP BY
              "group"
          ) AS "_slo_now"
          LEFT JOIN (
            SELECT DISTINCT
              "partition",
              SUBSTRING("fingerprint" FROM 18) AS "_slo_content"
            FROM "slo"."status"
            WHERE
              "table_name" = 'Order "Items" ✓'
          ) AS "_slo_checked"
            ON "_slo_checked"."partition" = CASE
              WHEN "_slo_now"."group" IS NULL
              THEN '(null)'
              WHEN CAST("_slo_now"."group" AS TEXT) LIKE '(%null)'
              THEN '(' || CAST("_slo_now"."group" AS TEXT)
              ELSE CAST("_slo_now"."group" AS TEXT)
            END
          WHERE
            CASE
              WHEN "_slo_checked"."partition" IS NULL
              THEN CAST('slocompile: validated.Order "Items" ✓ is blocked: partition ' || CASE
                WHEN "_slo_now"."group" IS NULL
                THEN '(null)'
                WHEN CAST("_slo_now"."group" AS TEXT) LIKE '(%null)'
                THEN '(' || CAST("_slo_now"."group" AS TEXT)
                ELSE CAST("_slo_now"."group" AS TEXT)
              END || ' has not been checked yet (build to check it)' AS INT) = 0
              WHEN "_slo_checked"."_slo_content" IS NULL
              OR "_slo_checked"."_slo_content" <> "_slo_now"."_slo_content"
              THEN CAST('slocompile: validated.Order "Items" ✓ is blocked: partition ' || CASE
                WHEN "_slo_now"."group" IS NULL
                THEN '(null)'
                WHEN CAST("_slo_now"."group" AS TEXT) LIKE '(%null)'
                THEN '(' || CAST("_slo_now"."group" AS TEXT)
                ELSE CAST("_slo_now"."group" AS TEXT)
              END || ' changed since it was checked (build again to check it)' AS INT) = 0
              ELSE TRUE
            END
        ) AS "_slo_ok"
        WHERE
          "_slo_ok"."group" IS NULL
          AND (
            EXISTS(
              SELECT
                1
              FROM "slo"."status"
              WHERE
                "table_name" = 'Order "Items" ✓' AND "partition" = '(null)'
            )
          )
      )
    )
) AS "_slo_verified"
WHERE
  (
    (
      (
        NOT (
          COALESCE((
            "Order Id" > 0
          ), FALSE) AND COALESCE((
            "select" IS NULL
          ), FALSE)
        )
      )
      AND (
        NOT COALESCE((
          (
            "naïve" < -1.5
          ) OR (
            "naïve" > '1e6'
          )
        ), FALSE)
      )
    )
    AND (
      NOT COALESCE(
        (
          NOT "we""ird\col" IN (
            'it''s',
            'say "hi"',
            'back\slash',
            'new
line',
            'x''); DROP TABLE raw.t; --',
            'naïve ☃'
          )
        ),
        FALSE
      )
    )
  )
  AND (
    (
      SELECT
        CASE
          WHEN COUNT(*) > 0
          THEN CAST('slocompile: validated.Order "Items" ✓ is blocked by failed SLOs: ' || STRING_AGG(
            COALESCE("partition", 'whole table') || ': ' || "failed_checks", '; '
            ORDER BY
              COALESCE("partition", 'whole table') || ': ' || "failed_checks" NULLS FIRST
          ) AS INT) = 0
          ELSE TRUE
        END
      FROM "slo"."status"
      WHERE
        "table_name" = 'Order "Items" ✓' AND "status" = 'fail'
    )
  );

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


