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


-- file: customers/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS `m0`
FROM `raw`.`customers`;

-- segmented scan: group_by: every check with these columns and filter, one scan grouped by them
SELECT
  CASE
    WHEN `tier` IS NULL
    THEN '(null)'
    WHEN CAST(`tier` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`tier` AS STRING)
    ELSE CAST(`tier` AS STRING)
  END AS `_slo_segment0`,
  COUNT(*) AS `_slo_rows`,
  COUNT(*) AS `m0`,
  AVG(`age`) AS `m1`
FROM `raw`.`customers`
GROUP BY
  `tier`;


-- file: customers/quarantine_view.sql
CREATE OR REPLACE VIEW `quarantine`.`customers` AS
SELECT
  *,
  CAST(NULL AS STRING) AS `_slo_violations`
FROM `raw`.`customers`
WHERE
  FALSE;

-- file: customers/validated_view.sql
CREATE OR REPLACE VIEW `validated`.`customers` AS
SELECT
  *
FROM `raw`.`customers`;

-- file: orders/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN `ds` IS NULL
    THEN '(null)'
    WHEN CAST(`ds` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`ds` AS STRING)
    ELSE CAST(`ds` AS STRING)
  END AS `_slo_partition`,
  COUNT(*) AS `m0`,
  COUNT(CASE WHEN `amount` IS NULL THEN 1 END) AS `m1`,
  COUNT(`order_id`) - COUNT(DISTINCT `order_id`) AS `m2`
FROM `raw`.`orders`
GROUP BY
  `ds`;

-- segmented scan: group_by: every check with these columns and filter, one scan grouped by them
SELECT
  CASE
    WHEN `ds` IS NULL
    THEN '(null)'
    WHEN CAST(`ds` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`ds` AS STRING)
    ELSE CAST(`ds` AS STRING)
  END AS `_slo_partition`,
  CASE
    WHEN `country` IS NULL
    THEN '(null)'
    WHEN CAST(`country` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`country` AS STRING)
    ELSE CAST(`country` AS STRING)
  END AS `_slo_segment0`,
  COUNT(*) AS `_slo_rows`,
  COUNT(*) AS `m0`,
  SUM(`amount`) > 0 AS `m1`,
  AVG(`amount`) AS `m2`,
  COUNT(CASE WHEN (
    `amount` < 0
  ) OR (
    `amount` > 1000
  ) THEN 1 END) AS `m3`
FROM `raw`.`orders`
GROUP BY
  `ds`,
  `country`;

-- segmented scan: group_by: every check with these columns and filter, one scan grouped by them
SELECT
  CASE
    WHEN `ds` IS NULL
    THEN '(null)'
    WHEN CAST(`ds` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`ds` AS STRING)
    ELSE CAST(`ds` AS STRING)
  END AS `_slo_partition`,
  CASE
    WHEN `country` IS NULL
    THEN '(null)'
    WHEN CAST(`country` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`country` AS STRING)
    ELSE CAST(`country` AS STRING)
  END AS `_slo_segment0`,
  CASE
    WHEN `device` IS NULL
    THEN '(null)'
    WHEN CAST(`device` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`device` AS STRING)
    ELSE CAST(`device` AS STRING)
  END AS `_slo_segment1`,
  COUNT(*) AS `_slo_rows`,
  COUNT(*) AS `m0`
FROM `raw`.`orders`
GROUP BY
  `ds`,
  `country`,
  `device`;

-- segmented scan: group_by: every check with these columns and filter, one scan grouped by them
SELECT
  CASE
    WHEN `country` IS NULL
    THEN '(null)'
    WHEN CAST(`country` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`country` AS STRING)
    ELSE CAST(`country` AS STRING)
  END AS `_slo_segment0`,
  COUNT(*) AS `_slo_rows`,
  MAX(`updated_at`) AS `m0`
FROM `raw`.`orders`
GROUP BY
  `country`;

-- segmented scan: group_by: every check with these columns and filter, one scan grouped by them
SELECT
  CASE
    WHEN `ds` IS NULL
    THEN '(null)'
    WHEN CAST(`ds` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`ds` AS STRING)
    ELSE CAST(`ds` AS STRING)
  END AS `_slo_partition`,
  CASE
    WHEN `device` IS NULL
    THEN '(null)'
    WHEN CAST(`device` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`device` AS STRING)
    ELSE CAST(`device` AS STRING)
  END AS `_slo_segment0`,
  COUNT(*) AS `_slo_rows`,
  COUNT(CASE WHEN `country` IS NULL THEN 1 END) AS `m0`,
  COUNT(*) AS `m1`
FROM `raw`.`orders`
GROUP BY
  `ds`,
  `device`;

-- segmented scan: group_by: every check with these columns and filter, one scan grouped by them
SELECT
  CASE
    WHEN `ds` IS NULL
    THEN '(null)'
    WHEN CAST(`ds` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`ds` AS STRING)
    ELSE CAST(`ds` AS STRING)
  END AS `_slo_partition`,
  CASE
    WHEN `country` IS NULL
    THEN '(null)'
    WHEN CAST(`country` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`country` AS STRING)
    ELSE CAST(`country` AS STRING)
  END AS `_slo_segment0`,
  COUNT(*) AS `_slo_rows`,
  COUNT(DISTINCT `amount`) AS `m0`
FROM `raw`.`orders`
WHERE
  `amount` > 0
GROUP BY
  `ds`,
  `country`;


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

