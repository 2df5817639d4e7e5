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


-- file: orders/checks.sql
-- duplicates scan: duplicates on several key columns: GROUP BY ... HAVING
SELECT
  COALESCE(SUM("_slo_rows" - 1), 0) AS "m0"
FROM (
  SELECT
    COUNT(*) AS "_slo_rows"
  FROM "raw"."orders"
  WHERE
    (
      NOT "customer" IS NULL
    ) AND (
      NOT "order_date" IS NULL
    )
  GROUP BY
    "customer",
    "order_date"
  HAVING
    COUNT(*) > 1
) AS "d";

-- fused scan: distinct counts together, apart from the wide aggregate (memory)
SELECT
  COUNT("order_id") - COUNT(DISTINCT "order_id") AS "m0",
  COUNT(DISTINCT "amount") AS "m1"
FROM "raw"."orders";

-- fused scan: distinct counts together, apart from the wide aggregate (memory)
SELECT
  COUNT("customer") - COUNT(DISTINCT "customer") AS "m0"
FROM "raw"."orders"
WHERE
  "status" <> 'returned';

-- fused scan: distinct counts together, apart from the wide aggregate (memory)
SELECT
  COUNT(DISTINCT "amount") AS "m0"
FROM "raw"."orders"
WHERE
  "country" = 'US';

-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS "m0",
  COUNT(*) FILTER(WHERE
    "status" = 'returned') <= 0.1 * COUNT(*) AS "m1",
  COUNT(CASE WHEN "amount" < 0 THEN 1 END) = 0 AS "m2",
  COUNT(CASE WHEN NOT (
    REGEXP_MATCHES("customer", '^[a-z]+[0-9]*$')
  ) THEN 1 END) AS "m3",
  AVG("amount") AS "m4",
  STDDEV_SAMP("amount") AS "m5"
FROM "raw"."orders";

-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS "m0"
FROM "raw"."orders"
WHERE
  "amount" > 0;

-- fused scan: metrics sharing one filter share one scan
SELECT
  SUM("amount") > 0 AS "m0",
  COUNT(CASE WHEN "amount" <= 1 THEN 1 END) AS "m1",
  COUNT(*) AS "m2"
FROM "raw"."orders"
WHERE
  "status" = 'placed';

-- fused scan: metrics sharing one filter share one scan
SELECT
  AVG("amount") AS "m0"
FROM "raw"."orders"
WHERE
  "status" = 'returned';

-- fused scan: min/max answered from row-group statistics
SELECT
  MAX("updated_at") AS "m0"
FROM "raw"."orders";

-- value_counts scan: checked once per distinct value, not once per row
SELECT
  COALESCE(SUM(CASE WHEN NOT "country" IN ('US', 'CN', 'IN') THEN "_slo_rows" END), 0) AS "m0"
FROM (
  SELECT
    "country",
    COUNT(*) AS "_slo_rows"
  FROM "raw"."orders"
  GROUP BY
    "country"
) AS "v";

-- value_counts scan: checked once per distinct value, not once per row
SELECT
  COALESCE(
    SUM(
      CASE
        WHEN NOT "status" IN ('placed', 'shipped', 'delivered', 'returned')
        THEN "_slo_rows"
      END
    ),
    0
  ) AS "m0"
FROM (
  SELECT
    "status",
    COUNT(*) AS "_slo_rows"
  FROM "raw"."orders"
  GROUP BY
    "status"
) AS "v";

-- fused scan: min/max answered from row-group statistics
SELECT
  MIN("amount") AS "m0"
FROM "raw"."orders";

-- fused scan: min/max answered from row-group statistics
SELECT
  MAX("amount") AS "m0"
FROM "raw"."orders";

-- alone scan: a simple filter the engine answers from row-group statistics
SELECT
  COUNT(*) AS "m0"
FROM "raw"."orders"
WHERE
  (
    "order_id" IS NULL
  );

-- alone scan: a simple filter the engine answers from row-group statistics
SELECT
  COUNT(*) AS "m0"
FROM "raw"."orders"
WHERE
  (
    "customer" IS NULL
  );

-- alone scan: a simple filter the engine answers from row-group statistics
SELECT
  COUNT(*) AS "m0"
FROM "raw"."orders"
WHERE
  (
    (
      "amount" < 0
    ) OR (
      "amount" > 10000
    )
  );

-- alone scan: a simple filter the engine answers from row-group statistics
SELECT
  COUNT(*) AS "m0"
FROM "raw"."orders"
WHERE
  (
    NOT (
      "amount" < 5000 OR "status" <> 'placed'
    )
  );

-- orphans scan: anti-join with the referenced relation
SELECT
  COUNT(*) AS "m0",
  COUNT(CASE WHEN "amount" > 0 THEN 1 END) AS "m1"
FROM "raw"."orders" AS "t"
WHERE
  (
    NOT "t"."country" IS NULL
  )
  AND (
    NOT EXISTS(
      SELECT
        1
      FROM "dims"."countries" AS "r"
      WHERE
        "r"."code" = "t"."country"
    )
  );


-- file: orders/quarantine_view.sql
CREATE OR REPLACE VIEW "quarantine"."orders" AS
SELECT
  *,
  SUBSTRING(
    CASE
      WHEN COALESCE((
        (
          "amount" < 0
        ) OR (
          "amount" > 10000
        )
      ), FALSE)
      THEN ', between_amount'
      ELSE ''
    END,
    3
  ) AS "_slo_violations"
FROM "raw"."orders"
WHERE
  COALESCE((
    (
      "amount" < 0
    ) OR (
      "amount" > 10000
    )
  ), FALSE);

-- file: orders/validated_view.sql
CREATE OR REPLACE VIEW "validated"."orders" AS
SELECT
  *
FROM "raw"."orders"
WHERE
  NOT COALESCE((
    (
      "amount" < 0
    ) OR (
      "amount" > 10000
    )
  ), FALSE);

