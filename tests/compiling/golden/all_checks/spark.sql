-- file: _setup/meta.sql
CREATE SCHEMA IF NOT EXISTS `slo`;

CREATE SCHEMA IF NOT EXISTS `validated`;

CREATE SCHEMA IF NOT EXISTS `quarantine`;

CREATE TABLE IF NOT EXISTS `slo`.`runs` (
  `run_id` STRING,
  `project` STRING,
  `target` STRING,
  `started_at` TIMESTAMP,
  `finished_at` TIMESTAMP,
  `status` STRING,
  `passed` INT,
  `failed` INT,
  `warned` INT,
  `errored` INT
);

CREATE TABLE IF NOT EXISTS `slo`.`results` (
  `run_id` STRING,
  `table_name` STRING,
  `check_name` STRING,
  `check_type` STRING,
  `column_name` STRING,
  `partition` STRING,
  `status` STRING,
  `severity` STRING,
  `observed_value` DOUBLE,
  `observed` STRING,
  `expected` STRING,
  `message` STRING,
  `checked_at` TIMESTAMP,
  `segment` STRING
);

CREATE TABLE IF NOT EXISTS `slo`.`metrics` (
  `run_id` STRING,
  `table_name` STRING,
  `metric` STRING,
  `partition` STRING,
  `value` DOUBLE,
  `measured_at` TIMESTAMP,
  `segment` STRING
);

CREATE TABLE IF NOT EXISTS `slo`.`status` (
  `table_name` STRING,
  `partition` STRING,
  `status` STRING,
  `failed_checks` STRING,
  `run_id` STRING,
  `checked_at` TIMESTAMP,
  `fingerprint` STRING
);

CREATE TABLE IF NOT EXISTS `slo`.`check_status` (
  `table_name` STRING,
  `check_name` STRING,
  `column_name` STRING,
  `partition` STRING,
  `status` STRING,
  `severity` STRING,
  `run_id` STRING,
  `checked_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `slo`.`alerts` (
  `alert_id` STRING,
  `run_id` STRING,
  `trigger_name` STRING,
  `event` STRING,
  `table_name` STRING,
  `checks` STRING,
  `action_index` INT,
  `action` STRING,
  `destination` STRING,
  `delivery` STRING,
  `attempts` INT,
  `detail` STRING,
  `payload` STRING,
  `created_at` TIMESTAMP,
  `delivered_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `slo`.`mutes` (
  `mute_id` STRING,
  `selector` STRING,
  `until` TIMESTAMP,
  `reason` STRING,
  `created_by` STRING,
  `created_at` TIMESTAMP,
  `ended_at` TIMESTAMP,
  `ended_by` STRING
);

CREATE TABLE IF NOT EXISTS `slo`.`versions` (
  `table_name` STRING,
  `version` INT,
  `partition` STRING,
  `status` STRING,
  `failed_checks` STRING,
  `row_count` BIGINT,
  `run_id` STRING,
  `created_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `slo`.`published` (
  `table_name` STRING,
  `partition` STRING,
  `version` INT,
  `run_id` STRING,
  `published_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `slo`.`monitor_metrics` (
  `table_name` STRING,
  `column_name` STRING,
  `metric` STRING,
  `partition` STRING,
  `value` DOUBLE,
  `alerted` BOOLEAN,
  `run_id` STRING,
  `measured_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `slo`.`monitor_summaries` (
  `table_name` STRING,
  `column_name` STRING,
  `partition` STRING,
  `summary` STRING,
  `run_id` STRING,
  `measured_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `slo`.`monitor_state` (
  `table_name` STRING,
  `column_name` STRING,
  `key` STRING,
  `value` STRING,
  `run_id` STRING,
  `updated_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `slo`.`monitor_alerts` (
  `run_id` STRING,
  `table_name` STRING,
  `partition` STRING,
  `column_name` STRING,
  `check_name` STRING,
  `metric` STRING,
  `severity` STRING,
  `observed` DOUBLE,
  `expected` STRING,
  `message` STRING,
  `incident` STRING,
  `cause` STRING,
  `created_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `slo`.`monitor_incidents` (
  `run_id` STRING,
  `table_name` STRING,
  `partition` STRING,
  `incident` STRING,
  `cause` STRING,
  `columns` STRING,
  `alerts` INT,
  `severity` STRING,
  `created_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `slo`.`monitor_incident_events` (
  `run_id` STRING,
  `table_name` STRING,
  `incident` STRING,
  `event` STRING,
  `partition` STRING,
  `opened` STRING,
  `columns` STRING,
  `cause` STRING,
  `partitions` INT,
  `severity` STRING,
  `created_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `slo`.`monitor_acceptances` (
  `table_name` STRING,
  `column_name` STRING,
  `metric` STRING,
  `from_partition` STRING,
  `reason` STRING,
  `accepted_by` STRING,
  `accepted_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `slo`.`failed_rows` (
  `run_id` STRING,
  `table_name` STRING,
  `check_name` STRING,
  `partition` STRING,
  `row_number` INT,
  `row_values` STRING,
  `created_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `slo`.`relation_columns` (
  `table_name` STRING,
  `position` INT,
  `column_name` STRING,
  `column_type` STRING,
  `run_id` STRING,
  `recorded_at` TIMESTAMP
);


-- file: orders/checks.sql
-- duplicates scan: duplicates on several key columns: GROUP BY ... HAVING
SELECT
  COALESCE(SUM(`_slo_rows` - 1), 0) AS `m0`
FROM (
  SELECT
    COUNT(*) AS `_slo_rows`
  FROM `raw`.`orders`
  WHERE
    (
      NOT `customer` IS NULL
    ) AND (
      NOT `order_date` IS NULL
    )
  GROUP BY
    `customer`,
    `order_date`
  HAVING
    COUNT(*) > 1
) AS `d`;

-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS `m0`,
  COUNT(`order_id`) - COUNT(DISTINCT `order_id`) AS `m1`,
  MAX(`updated_at`) AS `m2`,
  COUNT(*) FILTER(WHERE
    `status` = 'returned') <= 0.1 * COUNT(*) AS `m3`,
  COUNT(CASE WHEN `amount` < 0 THEN 1 END) = 0 AS `m4`,
  COUNT(CASE WHEN `order_id` IS NULL THEN 1 END) AS `m5`,
  COUNT(CASE WHEN `customer` IS NULL THEN 1 END) AS `m6`,
  COUNT(CASE WHEN NOT (
    `customer` RLIKE '^[a-z]+[0-9]*$'
  ) THEN 1 END) AS `m7`,
  COUNT(CASE WHEN NOT `country` IN ('US', 'CN', 'IN') THEN 1 END) AS `m8`,
  COUNT(
    CASE WHEN NOT `status` IN ('placed', 'shipped', 'delivered', 'returned') THEN 1 END
  ) AS `m9`,
  COUNT(CASE WHEN (
    `amount` < 0
  ) OR (
    `amount` > 10000
  ) THEN 1 END) AS `m10`,
  COUNT(CASE WHEN NOT (
    `amount` < 5000 OR `status` <> 'placed'
  ) THEN 1 END) AS `m11`,
  AVG(`amount`) AS `m12`,
  MIN(`amount`) AS `m13`,
  MAX(`amount`) AS `m14`,
  STDDEV_SAMP(`amount`) AS `m15`,
  COUNT(DISTINCT `amount`) AS `m16`
FROM `raw`.`orders`;

-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS `m0`
FROM `raw`.`orders`
WHERE
  `amount` > 0;

-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(`customer`) - COUNT(DISTINCT `customer`) AS `m0`
FROM `raw`.`orders`
WHERE
  `status` <> 'returned';

-- fused scan: metrics sharing one filter share one scan
SELECT
  SUM(`amount`) > 0 AS `m0`,
  COUNT(CASE WHEN `amount` <= 1 THEN 1 END) AS `m1`,
  COUNT(*) AS `m2`
FROM `raw`.`orders`
WHERE
  `status` = 'placed';

-- fused scan: metrics sharing one filter share one scan
SELECT
  AVG(`amount`) AS `m0`
FROM `raw`.`orders`
WHERE
  `status` = 'returned';

-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(DISTINCT `amount`) AS `m0`
FROM `raw`.`orders`
WHERE
  `country` = 'US';

-- orphans scan: anti-join with the referenced relation
SELECT
  COUNT(*) AS `m0`,
  COUNT(CASE WHEN `amount` > 0 THEN 1 END) AS `m1`
FROM `raw`.`orders` AS `t`
WHERE
  (
    NOT `t`.`country` IS NULL
  )
  AND (
    NOT EXISTS(
      SELECT
        1
      FROM `dims`.`countries` AS `r`
      WHERE
        `r`.`code` = `t`.`country`
    )
  );


-- file: orders/quarantine_view.sql
CREATE OR REPLACE VIEW `quarantine`.`orders` AS
SELECT
  *,
  SUBSTRING(
    CASE
      WHEN COALESCE((
        (
          `amount` < 0
        ) OR (
          `amount` > 10000
        )
      ), FALSE)
      THEN ', between_amount'
      ELSE ''
    END,
    3
  ) AS `_slo_violations`
FROM `raw`.`orders`
WHERE
  COALESCE((
    (
      `amount` < 0
    ) OR (
      `amount` > 10000
    )
  ), FALSE);

-- file: orders/validated_view.sql
CREATE OR REPLACE VIEW `validated`.`orders` AS
SELECT
  *
FROM `raw`.`orders`
WHERE
  NOT COALESCE((
    (
      `amount` < 0
    ) OR (
      `amount` > 10000
    )
  ), FALSE);

