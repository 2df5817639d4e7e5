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


-- file: payments/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN `paid_on` IS NULL
    THEN '(null)'
    WHEN CAST(`paid_on` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`paid_on` AS STRING)
    ELSE CAST(`paid_on` AS STRING)
  END AS `_slo_partition`,
  COUNT(*) AS `m0`
FROM `raw`.`payments`
GROUP BY
  `paid_on`;

-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN `paid_on` IS NULL
    THEN '(null)'
    WHEN CAST(`paid_on` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`paid_on` AS STRING)
    ELSE CAST(`paid_on` AS STRING)
  END AS `_slo_partition`,
  COUNT(*) AS `m0`,
  COUNT(`payment_id`) - COUNT(DISTINCT `payment_id`) AS `m1`,
  COUNT(CASE WHEN `amount` IS NULL THEN 1 END) AS `m2`,
  AVG(`amount`) AS `m3`,
  COUNT(DISTINCT `amount`) AS `m4`
FROM `raw`.`payments`
WHERE
  `method` = 'card'
GROUP BY
  `paid_on`;

-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN `paid_on` IS NULL
    THEN '(null)'
    WHEN CAST(`paid_on` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`paid_on` AS STRING)
    ELSE CAST(`paid_on` AS STRING)
  END AS `_slo_partition`,
  AVG(`amount`) > 1 AS `m0`
FROM `raw`.`payments`
WHERE
  NOT `amount` IS NULL AND `method` IN ('card', 'cash')
GROUP BY
  `paid_on`;

-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN `paid_on` IS NULL
    THEN '(null)'
    WHEN CAST(`paid_on` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`paid_on` AS STRING)
    ELSE CAST(`paid_on` AS STRING)
  END AS `_slo_partition`,
  COUNT(CASE WHEN `amount` < 0 THEN 1 END) AS `m0`,
  COUNT(*) AS `m1`
FROM `raw`.`payments`
WHERE
  `method` <> 'refund'
GROUP BY
  `paid_on`;


-- file: payments/quarantine_view.sql
CREATE OR REPLACE VIEW `quarantine`.`payments` AS
SELECT
  *,
  SUBSTRING(
    CASE
      WHEN COALESCE((
        `method` <> 'refund'
      ), FALSE)
      AND COALESCE((
        `amount` < 0
      ), FALSE)
      THEN ', between_amount'
      ELSE ''
    END,
    3
  ) AS `_slo_violations`
FROM `raw`.`payments`
WHERE
  COALESCE((
    `method` <> 'refund'
  ), FALSE)
  AND COALESCE((
    `amount` < 0
  ), FALSE);

-- file: payments/validated_view.sql
CREATE OR REPLACE VIEW `validated`.`payments` AS
SELECT
  *
FROM `raw`.`payments`
WHERE
  NOT (
    COALESCE((
      `method` <> 'refund'
    ), FALSE)
    AND COALESCE((
      `amount` < 0
    ), FALSE)
  );

