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


-- file: dims/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS `m0`,
  COUNT(DISTINCT `label`) AS `m1`
FROM `raw`.`dims`;

-- fused scan: compare: the other relation's metrics, in one scan of it
SELECT
  COUNT(*) AS `m0`,
  COUNT(DISTINCT `label`) AS `m1`
FROM `raw`.`dims_old`;

-- key_diff scan: compare: keys present on one side only, one join of both sides' keys
SELECT
  COUNT(CASE WHEN `_slo_side` = 'here' THEN 1 END) AS `m0`,
  COUNT(CASE WHEN `_slo_side` = 'there' THEN 1 END) AS `m1`
FROM (
  SELECT
    COALESCE(`_slo_a`.`code`, `_slo_b`.`code`) AS `code`,
    CASE
      WHEN `_slo_b`.`code` IS NULL
      THEN 'here'
      WHEN `_slo_a`.`code` IS NULL
      THEN 'there'
      ELSE 'both'
    END AS `_slo_side`
  FROM (
    SELECT DISTINCT
      `code` AS `code`
    FROM `raw`.`dims`
    WHERE
      NOT `code` IS NULL
  ) AS `_slo_a`
  FULL OUTER JOIN (
    SELECT DISTINCT
      `code` AS `code`
    FROM `raw`.`dims_old`
    WHERE
      NOT `code` IS NULL
  ) AS `_slo_b`
    ON `_slo_a`.`code` = `_slo_b`.`code`
) AS `_slo_k`;


-- file: dims/quarantine_view.sql
CREATE OR REPLACE VIEW `quarantine`.`dims` AS
SELECT
  *,
  CAST(NULL AS STRING) AS `_slo_violations`
FROM `raw`.`dims`
WHERE
  FALSE;

-- file: dims/validated_view.sql
CREATE OR REPLACE VIEW `validated`.`dims` AS
SELECT
  *
FROM `raw`.`dims`;

-- file: events/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR) IS NULL
    THEN '(null)'
    ELSE CAST(DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR) AS STRING)
  END AS `_slo_partition`,
  COUNT(*) AS `m0`
FROM `raw`.`events`
GROUP BY
  DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR);

-- fused scan: compare: the other relation's metrics, in one scan of it
SELECT
  CASE
    WHEN DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR) IS NULL
    THEN '(null)'
    ELSE CAST(DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR) AS STRING)
  END AS `_slo_partition`,
  COUNT(*) AS `m0`
FROM `raw`.`events_v2`
GROUP BY
  DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR);

-- key_diff scan: compare: keys present on one side only, one join of both sides' keys
SELECT
  `_slo_partition`,
  COUNT(CASE WHEN `_slo_side` = 'here' THEN 1 END) AS `m0`,
  COUNT(CASE WHEN `_slo_side` = 'there' THEN 1 END) AS `m1`
FROM (
  SELECT
    COALESCE(`_slo_a`.`_slo_partition`, `_slo_b`.`_slo_partition`) AS `_slo_partition`,
    COALESCE(`_slo_a`.`event_id`, `_slo_b`.`event_id`) AS `event_id`,
    COALESCE(`_slo_a`.`user_id`, `_slo_b`.`user_id`) AS `user_id`,
    CASE
      WHEN `_slo_b`.`event_id` IS NULL
      THEN 'here'
      WHEN `_slo_a`.`event_id` IS NULL
      THEN 'there'
      ELSE 'both'
    END AS `_slo_side`
  FROM (
    SELECT DISTINCT
      CASE
        WHEN DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR) IS NULL
        THEN '(null)'
        ELSE CAST(DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR) AS STRING)
      END AS `_slo_partition`,
      `event_id` AS `event_id`,
      `user_id` AS `user_id`
    FROM `raw`.`events`
    WHERE
      (
        NOT `event_id` IS NULL
      ) AND (
        NOT `user_id` IS NULL
      )
  ) AS `_slo_a`
  FULL OUTER JOIN (
    SELECT DISTINCT
      CASE
        WHEN DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR) IS NULL
        THEN '(null)'
        ELSE CAST(DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR) AS STRING)
      END AS `_slo_partition`,
      `event_id` AS `event_id`,
      `user_id` AS `user_id`
    FROM `raw`.`events_v2`
    WHERE
      (
        NOT `event_id` IS NULL
      ) AND (
        NOT `user_id` IS NULL
      )
  ) AS `_slo_b`
    ON (
      `_slo_a`.`_slo_partition` = `_slo_b`.`_slo_partition`
      AND `_slo_a`.`event_id` = `_slo_b`.`event_id`
    )
    AND `_slo_a`.`user_id` = `_slo_b`.`user_id`
) AS `_slo_k`
GROUP BY
  `_slo_partition`;


-- file: events/quarantine_view.sql
CREATE OR REPLACE VIEW `quarantine`.`events` AS
SELECT
  *,
  CAST(NULL AS STRING) AS `_slo_violations`
FROM `raw`.`events`
WHERE
  FALSE;

-- file: events/validated_view.sql
CREATE OR REPLACE VIEW `validated`.`events` AS
SELECT
  *
FROM `raw`.`events`;

-- file: events_v2/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS `m0`
FROM `raw`.`events_v2`;


-- file: events_v2/quarantine_view.sql
CREATE OR REPLACE VIEW `quarantine`.`events_v2` AS
SELECT
  *,
  CAST(NULL AS STRING) AS `_slo_violations`
FROM `raw`.`events_v2`
WHERE
  FALSE;

-- file: events_v2/validated_view.sql
CREATE OR REPLACE VIEW `validated`.`events_v2` AS
SELECT
  *
FROM `raw`.`events_v2`;

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
  SUM(`amount`) AS `m1`,
  COUNT(DISTINCT `customer`) AS `m2`
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
  MAX(`amount`) AS `m0`
FROM `raw`.`orders`
WHERE
  `status` <> 'test'
GROUP BY
  `order_date`;

-- fused scan: compare: the other relation's metrics, in one scan of it
SELECT
  CASE
    WHEN `order_date` IS NULL
    THEN '(null)'
    WHEN CAST(`order_date` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`order_date` AS STRING)
    ELSE CAST(`order_date` AS STRING)
  END AS `_slo_partition`,
  COUNT(*) AS `m0`,
  SUM(`amount`) AS `m1`,
  COUNT(DISTINCT `customer`) AS `m2`
FROM `legacy`.`orders`
GROUP BY
  `order_date`;

-- key_diff scan: compare: keys present on one side only, one join of both sides' keys
SELECT
  `_slo_partition`,
  COUNT(CASE WHEN `_slo_side` = 'here' THEN 1 END) AS `m0`,
  COUNT(CASE WHEN `_slo_side` = 'there' THEN 1 END) AS `m1`
FROM (
  SELECT
    COALESCE(`_slo_a`.`_slo_partition`, `_slo_b`.`_slo_partition`) AS `_slo_partition`,
    COALESCE(`_slo_a`.`order_id`, `_slo_b`.`order_id`) AS `order_id`,
    CASE
      WHEN `_slo_b`.`order_id` IS NULL
      THEN 'here'
      WHEN `_slo_a`.`order_id` IS NULL
      THEN 'there'
      ELSE 'both'
    END AS `_slo_side`
  FROM (
    SELECT DISTINCT
      CASE
        WHEN `order_date` IS NULL
        THEN '(null)'
        WHEN CAST(`order_date` AS STRING) LIKE '(%null)'
        THEN '(' || CAST(`order_date` AS STRING)
        ELSE CAST(`order_date` AS STRING)
      END AS `_slo_partition`,
      `order_id` AS `order_id`
    FROM `raw`.`orders`
    WHERE
      NOT `order_id` IS NULL
  ) AS `_slo_a`
  FULL OUTER JOIN (
    SELECT DISTINCT
      CASE
        WHEN `order_date` IS NULL
        THEN '(null)'
        WHEN CAST(`order_date` AS STRING) LIKE '(%null)'
        THEN '(' || CAST(`order_date` AS STRING)
        ELSE CAST(`order_date` AS STRING)
      END AS `_slo_partition`,
      `order_id` AS `order_id`
    FROM `legacy`.`orders`
    WHERE
      NOT `order_id` IS NULL
  ) AS `_slo_b`
    ON `_slo_a`.`_slo_partition` = `_slo_b`.`_slo_partition`
    AND `_slo_a`.`order_id` = `_slo_b`.`order_id`
) AS `_slo_k`
GROUP BY
  `_slo_partition`;

-- fused scan: compare: the other relation's metrics, in one scan of it
SELECT
  CASE
    WHEN `order_date` IS NULL
    THEN '(null)'
    WHEN CAST(`order_date` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`order_date` AS STRING)
    ELSE CAST(`order_date` AS STRING)
  END AS `_slo_partition`,
  MAX(`amount`) AS `m0`
FROM `legacy`.`orders`
WHERE
  `status` <> 'test'
GROUP BY
  `order_date`;


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

