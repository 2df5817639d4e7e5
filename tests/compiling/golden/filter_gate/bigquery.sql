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
  COUNT(`code`) - COUNT(DISTINCT `code`) AS `m1`
FROM `raw`.`dims`;


-- file: dims/quarantine_view.sql
CREATE OR REPLACE VIEW `quarantine`.`dims` AS
SELECT
  *,
  CAST(NULL AS STRING) AS `_slo_violations`
FROM `raw`.`dims`
WHERE
  FALSE
  AND (
    EXISTS(
      SELECT
        1
      FROM `slo`.`status`
      WHERE
        `table_name` = 'dims' AND `status` = 'pass'
    )
    AND NOT EXISTS(
      SELECT
        1
      FROM `slo`.`status`
      WHERE
        `table_name` = 'dims' AND `status` = 'fail' AND `partition` IS NULL
    )
  );

-- file: dims/validated_view.sql
CREATE OR REPLACE VIEW `validated`.`dims` AS
SELECT
  *
FROM `raw`.`dims`
WHERE
  EXISTS(
    SELECT
      1
    FROM `slo`.`status`
    WHERE
      `table_name` = 'dims' AND `status` = 'pass'
  )
  AND NOT EXISTS(
    SELECT
      1
    FROM `slo`.`status`
    WHERE
      `table_name` = 'dims' AND `status` = 'fail' AND `partition` IS NULL
  );

-- file: events/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN `event_date` IS NULL
    THEN '(null)'
    WHEN CAST(`event_date` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`event_date` AS STRING)
    ELSE CAST(`event_date` AS STRING)
  END AS `_slo_partition`,
  COUNT(*) AS `m0`,
  COUNT(CASE WHEN NOT `kind` IN ('click', 'view') THEN 1 END) AS `m1`
FROM `raw`.`events`
GROUP BY
  `event_date`;


-- file: events/quarantine_view.sql
CREATE OR REPLACE VIEW `quarantine`.`events` AS
SELECT
  *,
  SUBSTRING(
    CASE
      WHEN COALESCE((
        NOT `kind` IN ('click', 'view')
      ), FALSE)
      THEN ', accepted_values_kind'
      ELSE ''
    END,
    3
  ) AS `_slo_violations`
FROM `raw`.`events`
WHERE
  COALESCE((
    NOT `kind` IN ('click', 'view')
  ), FALSE)
  AND (
    CASE
      WHEN `event_date` IS NULL
      THEN '(null)'
      WHEN CAST(`event_date` AS STRING) LIKE '(%null)'
      THEN '(' || CAST(`event_date` AS STRING)
      ELSE CAST(`event_date` AS STRING)
    END IN (
      SELECT
        `partition`
      FROM `slo`.`status`
      WHERE
        `table_name` = 'events' AND `status` = 'pass'
    )
    AND NOT EXISTS(
      SELECT
        1
      FROM `slo`.`status`
      WHERE
        `table_name` = 'events' AND `status` = 'fail' AND `partition` IS NULL
    )
  );

-- file: events/validated_view.sql
CREATE OR REPLACE VIEW `validated`.`events` AS
SELECT
  *
FROM (
  SELECT
    `_slo_raw`.*
  FROM `raw`.`events` AS `_slo_raw`
  INNER JOIN (
    SELECT
      `_slo_now`.`event_date`
    FROM (
      SELECT
        `event_date`,
        CAST(COUNT(*) AS STRING) || ':' || CAST(COALESCE(
          SUM(
            CAST(FARM_FINGERPRINT(TO_JSON_STRING(STRUCT(`kind`, `event_date`))) AS BIGNUMERIC)
          ),
          0
        ) AS STRING) AS `_slo_content`
      FROM `raw`.`events`
      GROUP BY
        `event_date`
    ) AS `_slo_now`
    INNER JOIN (
      SELECT DISTINCT
        `partition`,
        SUBSTRING(`fingerprint`, 18) AS `_slo_content`
      FROM `slo`.`status`
      WHERE
        `table_name` = 'events' AND `status` = 'pass'
    ) AS `_slo_checked`
      ON `_slo_checked`.`partition` = CASE
        WHEN `_slo_now`.`event_date` IS NULL
        THEN '(null)'
        WHEN CAST(`_slo_now`.`event_date` AS STRING) LIKE '(%null)'
        THEN '(' || CAST(`_slo_now`.`event_date` AS STRING)
        ELSE CAST(`_slo_now`.`event_date` AS STRING)
      END
      AND `_slo_checked`.`_slo_content` = `_slo_now`.`_slo_content`
  ) AS `_slo_ok`
    ON `_slo_raw`.`event_date` = `_slo_ok`.`event_date`
  UNION ALL
  SELECT
    *
  FROM `raw`.`events`
  WHERE
    `event_date` IS NULL
    AND (
      EXISTS(
        SELECT
          1
        FROM (
          SELECT
            `_slo_now`.`event_date`
          FROM (
            SELECT
              `event_date`,
              CAST(COUNT(*) AS STRING) || ':' || CAST(COALESCE(
                SUM(
                  CAST(FARM_FINGERPRINT(TO_JSON_STRING(STRUCT(`kind`, `event_date`))) AS BIGNUMERIC)
                ),
                0
              ) AS STRING) AS `_slo_content`
            FROM `raw`.`events`
            GROUP BY
              `event_date`
          ) AS `_slo_now`
          INNER JOIN (
            SELECT DISTINCT
              `partition`,
              SUBSTRING(`fingerprint`, 18) AS `_slo_content`
            FROM `slo`.`status`
            WHERE
              `table_name` = 'events' AND `status` = 'pass'
          ) AS `_slo_checked`
            ON `_slo_checked`.`partition` = CASE
              WHEN `_slo_now`.`event_date` IS NULL
              THEN '(null)'
              WHEN CAST(`_slo_now`.`event_date` AS STRING) LIKE '(%null)'
              THEN '(' || CAST(`_slo_now`.`event_date` AS STRING)
              ELSE CAST(`_slo_now`.`event_date` AS STRING)
            END
            AND `_slo_checked`.`_slo_content` = `_slo_now`.`_slo_content`
        ) AS `_slo_ok`
        WHERE
          `_slo_ok`.`event_date` IS NULL
          AND (
            EXISTS(
              SELECT
                1
              FROM `slo`.`status`
              WHERE
                `table_name` = 'events' AND `partition` = '(null)' AND `status` = 'pass'
            )
          )
      )
    )
) AS `_slo_verified`
WHERE
  (
    NOT COALESCE((
      NOT `kind` IN ('click', 'view')
    ), FALSE)
  )
  AND (
    CASE
      WHEN `event_date` IS NULL
      THEN '(null)'
      WHEN CAST(`event_date` AS STRING) LIKE '(%null)'
      THEN '(' || CAST(`event_date` AS STRING)
      ELSE CAST(`event_date` AS STRING)
    END IN (
      SELECT
        `partition`
      FROM `slo`.`status`
      WHERE
        `table_name` = 'events' AND `status` = 'pass'
    )
    AND NOT EXISTS(
      SELECT
        1
      FROM `slo`.`status`
      WHERE
        `table_name` = 'events' AND `status` = 'fail' AND `partition` IS NULL
    )
  );

