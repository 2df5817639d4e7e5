-- file: Order__Items____0b387d/checks.sql
-- duplicates scan: duplicates on several key columns: GROUP BY ... HAVING
SELECT
  CASE
    WHEN "group" IS NULL
    THEN '(null)'
    WHEN CAST("group" AS VARCHAR(MAX)) LIKE '(%null)'
    THEN '(' || CAST("group" AS VARCHAR(MAX))
    ELSE CAST("group" AS VARCHAR(MAX))
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
    WHEN CAST("group" AS VARCHAR(MAX)) LIKE '(%null)'
    THEN '(' || CAST("group" AS VARCHAR(MAX))
    ELSE CAST("group" AS VARCHAR(MAX))
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
        'it\'s',
        'say "hi"',
        'back\\slash',
        'new\nline',
        'x\'); DROP TABLE raw.t; --',
        'naïve ☃'
      )
      THEN 1
    END
  ) AS "m3",
  COUNT(CASE WHEN NOT (
    "we""ird\col" ~ '^\\d+\\\\$'
  ) THEN 1 END) AS "m4",
  COUNT(CASE WHEN NOT (
    "we""ird\col" <> 'it\'s'
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
    WHEN CAST("group" AS VARCHAR(MAX)) LIKE '(%null)'
    THEN '(' || CAST("group" AS VARCHAR(MAX))
    ELSE CAST("group" AS VARCHAR(MAX))
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
    WHEN CAST("group" AS VARCHAR(MAX)) LIKE '(%null)'
    THEN '(' || CAST("group" AS VARCHAR(MAX))
    ELSE CAST("group" AS VARCHAR(MAX))
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
          'it\'s',
          'say "hi"',
          'back\\slash',
          'new\nline',
          'x\'); DROP TABLE raw.t; --',
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
        'it\'s',
        'say "hi"',
        'back\\slash',
        'new\nline',
        'x\'); DROP TABLE raw.t; --',
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
        CAST(COUNT(*) AS VARCHAR(MAX)) || ':' || CAST(COALESCE(
          SUM(
            CAST(STRTOL(
              SUBSTRING(MD5(
                COALESCE('v' || CAST("select" AS VARCHAR(MAX)), 'n') || '|' || COALESCE('v' || CAST("naïve" AS VARCHAR(MAX)), 'n') || '|' || COALESCE('v' || CAST("we""ird\col" AS VARCHAR(MAX)), 'n') || '|' || COALESCE('v' || CAST("Order Id" AS VARCHAR(MAX)), 'n') || '|' || COALESCE('v' || CAST("group" AS VARCHAR(MAX)), 'n')
              ) FROM 1 FOR 15),
              16
            ) AS DECIMAL(38, 0))
          ),
          0
        ) AS VARCHAR(MAX)) AS "_slo_content"
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
        WHEN CAST("_slo_now"."group" AS VARCHAR(MAX)) LIKE '(%null)'
        THEN '(' || CAST("_slo_now"."group" AS VARCHAR(MAX))
        ELSE CAST("_slo_now"."group" AS VARCHAR(MAX))
      END
    WHERE
      CASE
        WHEN "_slo_checked"."partition" IS NULL
        THEN CAST('slocompile: validated.Order "Items" ✓ is blocked: partition ' || CASE
          WHEN "_slo_now"."group" IS NULL
          THEN '(null)'
          WHEN CAST("_slo_now"."group" AS VARCHAR(MAX)) LIKE '(%null)'
          THEN '(' || CAST("_slo_now"."group" AS VARCHAR(MAX))
          ELSE CAST("_slo_now"."group" AS VARCHAR(MAX))
        END || ' has not been checked yet (build to check it)' AS INTEGER) = 0
        WHEN "_slo_checked"."_slo_content" IS NULL
        OR "_slo_checked"."_slo_content" <> "_slo_now"."_slo_content"
        THEN CAST('slocompile: validated.Order "Items" ✓ is blocked: partition ' || CASE
          WHEN "_slo_now"."group" IS NULL
          THEN '(null)'
          WHEN CAST("_slo_now"."group" AS VARCHAR(MAX)) LIKE '(%null)'
          THEN '(' || CAST("_slo_now"."group" AS VARCHAR(MAX))
          ELSE CAST("_slo_now"."group" AS VARCHAR(MAX))
        END || ' changed since it was checked (build again to check it)' AS INTEGER) = 0
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
              CAST(COUNT(*) AS VARCHAR(MAX)) || ':' || CAST(COALESCE(
                SUM(
                  CAST(STRTOL(
                    SUBSTRING(MD5(
                      COALESCE('v' || CAST("select" AS VARCHAR(MAX)), 'n') || '|' || COALESCE('v' || CAST("naïve" AS VARCHAR(MAX)), 'n') || '|' || COALESCE('v' || CAST("we""ird\col" AS VARCHAR(MAX)), 'n') || '|' || COALESCE('v' || CAST("Order Id" AS VARCHAR(MAX)), 'n') || '|' || COALESCE('v' || CAST("group" AS VARCHAR(MAX)), 'n')
                    ) FROM 1 FOR 15),
                    16
                  ) AS DECIMAL(38, 0))
                ),
                0
              ) AS VARCHAR(MAX)) AS "_slo_content"
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
              WHEN CAST("_slo_now"."group" AS VARCHAR(MAX)) LIKE '(%null)'
              THEN '(' || CAST("_slo_now"."group" AS VARCHAR(MAX))
              ELSE CAST("_slo_now"."group" AS VARCHAR(MAX))
            END
          WHERE
            CASE
              WHEN "_slo_checked"."partition" IS NULL
              THEN CAST('slocompile: validated.Order "Items" ✓ is blocked: partition ' || CASE
                WHEN "_slo_now"."group" IS NULL
                THEN '(null)'
                WHEN CAST("_slo_now"."group" AS VARCHAR(MAX)) LIKE '(%null)'
                THEN '(' || CAST("_slo_now"."group" AS VARCHAR(MAX))
                ELSE CAST("_slo_now"."group" AS VARCHAR(MAX))
              END || ' has not been checked yet (build to check it)' AS INTEGER) = 0
              WHEN "_slo_checked"."_slo_content" IS NULL
              OR "_slo_checked"."_slo_content" <> "_slo_now"."_slo_content"
              THEN CAST('slocompile: validated.Order "Items" ✓ is blocked: partition ' || CASE
                WHEN "_slo_now"."group" IS NULL
                THEN '(null)'
                WHEN CAST("_slo_now"."group" AS VARCHAR(MAX)) LIKE '(%null)'
                THEN '(' || CAST("_slo_now"."group" AS VARCHAR(MAX))
                ELSE CAST("_slo_now"."group" AS VARCHAR(MAX))
              END || ' changed since it was checked (build again to check it)' AS INTEGER) = 0
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
            'it\'s',
            'say "hi"',
            'back\\slash',
            'new\nline',
            'x\'); DROP TABLE raw.t; --',
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
          THEN CAST('slocompile: validated.Order "Items" ✓ is blocked by failed SLOs: ' || LISTAGG(COALESCE("partition", 'whole table') || ': ' || "failed_checks", '; ') WITHIN GROUP (ORDER BY
            COALESCE("partition", 'whole table') || ': ' || "failed_checks" NULLS FIRST) AS INTEGER) = 0
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


