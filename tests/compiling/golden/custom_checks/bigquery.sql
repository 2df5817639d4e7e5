-- file: _setup/meta.sql
CREATE SCHEMA IF NOT EXISTS `slo`;

CREATE SCHEMA IF NOT EXISTS `validated`;

CREATE SCHEMA IF NOT EXISTS `quarantine`;

CREATE TABLE IF NOT EXISTS `slo`.`runs` (
  `run_id` STRING,
  `project` STRING,
  `target` STRING,
  `started_at` DATETIME,
  `finished_at` DATETIME,
  `status` STRING,
  `passed` INT64,
  `failed` INT64,
  `warned` INT64,
  `errored` INT64
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
  `observed_value` FLOAT64,
  `observed` STRING,
  `expected` STRING,
  `message` STRING,
  `checked_at` DATETIME,
  `segment` STRING
);

CREATE TABLE IF NOT EXISTS `slo`.`metrics` (
  `run_id` STRING,
  `table_name` STRING,
  `metric` STRING,
  `partition` STRING,
  `value` FLOAT64,
  `measured_at` DATETIME,
  `segment` STRING
);

CREATE TABLE IF NOT EXISTS `slo`.`status` (
  `table_name` STRING,
  `partition` STRING,
  `status` STRING,
  `failed_checks` STRING,
  `run_id` STRING,
  `checked_at` DATETIME,
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
  `checked_at` DATETIME
);

CREATE TABLE IF NOT EXISTS `slo`.`alerts` (
  `alert_id` STRING,
  `run_id` STRING,
  `trigger_name` STRING,
  `event` STRING,
  `table_name` STRING,
  `checks` STRING,
  `action_index` INT64,
  `action` STRING,
  `destination` STRING,
  `delivery` STRING,
  `attempts` INT64,
  `detail` STRING,
  `payload` STRING,
  `created_at` DATETIME,
  `delivered_at` DATETIME
);

CREATE TABLE IF NOT EXISTS `slo`.`mutes` (
  `mute_id` STRING,
  `selector` STRING,
  `until` DATETIME,
  `reason` STRING,
  `created_by` STRING,
  `created_at` DATETIME,
  `ended_at` DATETIME,
  `ended_by` STRING
);

CREATE TABLE IF NOT EXISTS `slo`.`versions` (
  `table_name` STRING,
  `version` INT64,
  `partition` STRING,
  `status` STRING,
  `failed_checks` STRING,
  `row_count` INT64,
  `run_id` STRING,
  `created_at` DATETIME
);

CREATE TABLE IF NOT EXISTS `slo`.`published` (
  `table_name` STRING,
  `partition` STRING,
  `version` INT64,
  `run_id` STRING,
  `published_at` DATETIME
);

CREATE TABLE IF NOT EXISTS `slo`.`monitor_metrics` (
  `table_name` STRING,
  `column_name` STRING,
  `metric` STRING,
  `partition` STRING,
  `value` FLOAT64,
  `alerted` BOOL,
  `run_id` STRING,
  `measured_at` DATETIME
);

CREATE TABLE IF NOT EXISTS `slo`.`monitor_summaries` (
  `table_name` STRING,
  `column_name` STRING,
  `partition` STRING,
  `summary` STRING,
  `run_id` STRING,
  `measured_at` DATETIME
);

CREATE TABLE IF NOT EXISTS `slo`.`monitor_state` (
  `table_name` STRING,
  `column_name` STRING,
  `key` STRING,
  `value` STRING,
  `run_id` STRING,
  `updated_at` DATETIME
);

CREATE TABLE IF NOT EXISTS `slo`.`monitor_alerts` (
  `run_id` STRING,
  `table_name` STRING,
  `partition` STRING,
  `column_name` STRING,
  `check_name` STRING,
  `metric` STRING,
  `severity` STRING,
  `observed` FLOAT64,
  `expected` STRING,
  `message` STRING,
  `incident` STRING,
  `cause` STRING,
  `created_at` DATETIME
);

CREATE TABLE IF NOT EXISTS `slo`.`monitor_incidents` (
  `run_id` STRING,
  `table_name` STRING,
  `partition` STRING,
  `incident` STRING,
  `cause` STRING,
  `columns` STRING,
  `alerts` INT64,
  `severity` STRING,
  `created_at` DATETIME
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
  `partitions` INT64,
  `severity` STRING,
  `created_at` DATETIME
);

CREATE TABLE IF NOT EXISTS `slo`.`monitor_acceptances` (
  `table_name` STRING,
  `column_name` STRING,
  `metric` STRING,
  `from_partition` STRING,
  `reason` STRING,
  `accepted_by` STRING,
  `accepted_at` DATETIME
);

CREATE TABLE IF NOT EXISTS `slo`.`failed_rows` (
  `run_id` STRING,
  `table_name` STRING,
  `check_name` STRING,
  `partition` STRING,
  `row_number` INT64,
  `row_values` STRING,
  `created_at` DATETIME
);

CREATE TABLE IF NOT EXISTS `slo`.`relation_columns` (
  `table_name` STRING,
  `position` INT64,
  `column_name` STRING,
  `column_type` STRING,
  `run_id` STRING,
  `recorded_at` DATETIME
);


-- file: orders/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN `order_date` IS NULL
    THEN '(null)'
    WHEN CAST(`order_date` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`order_date` AS STRING)
    ELSE CAST(`order_date` AS STRING)
  END AS `_slo_partition`,
  COUNT(*) AS `m0`,
  ABS(SUM(`amount`) - SUM(`amount`)) <= 0.01
  AND COUNT(CASE WHEN NOT `status` IN ('placed', 'x\'); DROP TABLE raw.t; --') THEN 1 END) = 0 AS `m1`,
  AVG(CASE WHEN `amount` > 0 OR (
    NOT TRUE AND `amount` = 0
  ) THEN 1.0 ELSE 0.0 END) AS `m2`,
  AVG(CASE WHEN `amount` > 0 OR (
    NOT FALSE AND `amount` = 0
  ) THEN 1.0 ELSE 0.0 END) AS `m3`,
  COUNT(CASE WHEN `amount` IS NULL THEN 1 END) AS `m4`
FROM `raw`.`orders`
GROUP BY
  `order_date`;

-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN `order_date` IS NULL
    THEN '(null)'
    WHEN CAST(`order_date` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`order_date` AS STRING)
    ELSE CAST(`order_date` AS STRING)
  END AS `_slo_partition`,
  ABS(SUM(`amount`) - SUM(`amount`)) <= 0.01
  AND COUNT(CASE WHEN NOT `status` IN ('placed', 'shipped') THEN 1 END) = 0 AS `m0`
FROM `raw`.`orders`
WHERE
  `amount` > 0
GROUP BY
  `order_date`;

-- query scan: a whole SELECT of its own (assert): the rows it returns
SELECT
  COUNT(*) AS `m0`
FROM (
  SELECT
    `o`.`order_id`,
    'it\'s refunded twice' AS `why`
  FROM `raw`.`orders` AS `o`
  JOIN `raw`.`refunds` AS `r`
    ON `r`.`order_id` = `o`.`order_id`
  GROUP BY
    `o`.`order_id`
  HAVING
    COUNT(*) > 1
) AS `q`;


-- file: orders/quarantine_view.sql
CREATE OR REPLACE VIEW `quarantine`.`orders` AS
SELECT
  *,
  CAST(NULL AS STRING) AS `_slo_violations`
FROM `raw`.`orders`
WHERE
  FALSE;

-- file: orders/validated_view.sql
CREATE OR REPLACE VIEW `validated`.`orders` AS
SELECT
  *
FROM `raw`.`orders`;

