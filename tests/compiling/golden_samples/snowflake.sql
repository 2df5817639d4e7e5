-- orders.unique_customer_sku
SELECT CASE WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL THEN '(null)' ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR) END AS "_slo_partition", "customer" AS "customer", "sku" AS "sku", COUNT(*) AS "_slo_rows" FROM "raw"."orders" WHERE ((CASE WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL THEN '(null)' ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR) END IN ('2026-01-02', '(null)')) AND (NOT "customer" IS NULL)) AND (NOT "sku" IS NULL) GROUP BY CASE WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL THEN '(null)' ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR) END, "customer", "sku" HAVING COUNT(*) > 1 ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3 NULLS FIRST, 4 NULLS FIRST LIMIT 7;

-- orders.relationship_customer
SELECT CASE WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL THEN '(null)' ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR) END AS "_slo_partition", "order_id" AS "order_id", "customer" AS "customer" FROM "raw"."orders" AS "_slo_t" WHERE (("amount" > 0) AND (CASE WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL THEN '(null)' ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR) END IN ('2026-01-02', '(null)'))) AND (NOT "customer" IS NULL AND NOT EXISTS(SELECT 1 FROM "dims"."customers" AS "_slo_r" WHERE "_slo_r"."id" = "_slo_t"."customer")) ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3 NULLS FIRST LIMIT 7;

-- orders.refunds_match
SELECT * FROM (WITH "r" AS (SELECT "order_id", SUM("amount") AS "refunded" FROM "raw"."refunds" AS "refunds" GROUP BY "order_id") SELECT "o"."order_id", "o"."amount", "r"."refunded", ROW_NUMBER() OVER (PARTITION BY "o"."customer" ORDER BY "o"."order_id") AS "nth" FROM "raw"."orders" AS "o" JOIN "r" ON "r"."order_id" = "o"."order_id" WHERE "r"."refunded" > "o"."amount") AS "_slo_q" ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3 NULLS FIRST, 4 NULLS FIRST LIMIT 7;

-- orders.assert
SELECT * FROM (SELECT * FROM "raw"."orders" WHERE "amount" < 0) AS "_slo_q" LIMIT 7;

-- orders.not_null_order_id
SELECT CASE WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL THEN '(null)' ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR) END AS "_slo_partition", "order_id" AS "order_id" FROM "raw"."orders" WHERE "order_id" IS NULL AND (CASE WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL THEN '(null)' ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR) END IN ('2026-01-02', '(null)')) ORDER BY 1 NULLS FIRST, 2 NULLS FIRST LIMIT 7;

-- orders.between_amount
SELECT CASE WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL THEN '(null)' ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR) END AS "_slo_partition", "order_id" AS "order_id", "amount" AS "amount" FROM "raw"."orders" WHERE (("customer" <> 'test') AND (("amount" < 0) OR ("amount" > 10000))) AND (CASE WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL THEN '(null)' ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR) END IN ('2026-01-02', '(null)')) ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3 NULLS FIRST LIMIT 7;

-- orders.accepted_values_customer
SELECT CASE WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL THEN '(null)' ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR) END AS "_slo_partition", "order_id" AS "order_id", "customer" AS "customer" FROM "raw"."orders" WHERE (CASE WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL THEN '(null)' ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR) END IN ('2026-01-02', '(null)')) AND (NOT "customer" IN ('a', 'b')) ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3 NULLS FIRST LIMIT 7;

-- orders.matches_customer
SELECT CASE WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL THEN '(null)' ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR) END AS "_slo_partition", "order_id" AS "order_id", "customer" AS "customer" FROM "raw"."orders" WHERE (NOT (REGEXP_INSTR("customer", '^[a-z]+$') > 0)) AND (CASE WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL THEN '(null)' ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR) END IN ('2026-01-02', '(null)')) ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3 NULLS FIRST LIMIT 7;

-- orders.key
SELECT CASE WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL THEN '(null)' ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR) END AS "_slo_partition", "order_id" AS "order_id", COUNT(*) AS "_slo_rows" FROM "raw"."orders" WHERE (CASE WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL THEN '(null)' ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR) END IN ('2026-01-02', '(null)')) AND (NOT "order_id" IS NULL) GROUP BY CASE WHEN CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) IS NULL THEN '(null)' ELSE CAST(CAST(DATE_TRUNC('DAY', CAST("placed_at" AS TIMESTAMP)) AS DATE) AS VARCHAR) END, "order_id" HAVING COUNT(*) > 1 ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3 NULLS FIRST LIMIT 7;

-- refunds.expression_order_id
SELECT "order_id" AS "order_id" FROM "raw"."refunds" WHERE NOT ("order_id" > 0) ORDER BY 1 NULLS FIRST LIMIT 7;
