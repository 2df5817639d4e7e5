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


-- file: user_features/checks.sql
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
  COUNT(CASE WHEN `user_id` IS NULL THEN 1 END) AS `m1`,
  COUNT(CASE WHEN (
    `age` < 0
  ) OR (
    `age` > 120
  ) THEN 1 END) AS `m2`,
  COUNT(CASE WHEN `age` IS NULL THEN 1 END) AS `m3`,
  COUNT(`user_id`) - COUNT(DISTINCT `user_id`) AS `m4`
FROM `raw`.`user_features`
GROUP BY
  `ds`;

-- fused scan: metrics sharing one filter share one scan
SELECT
  MAX(`ds`) AS `m0`
FROM `raw`.`user_features`;


-- file: user_features/quarantine_view.sql
CREATE OR REPLACE VIEW `quarantine`.`user_features` AS
SELECT
  *,
  SUBSTRING(
    CASE
      WHEN COALESCE((
        (
          `age` < 0
        ) OR (
          `age` > 120
        )
      ), FALSE)
      THEN ', between_age'
      ELSE ''
    END || CASE WHEN COALESCE((
      `age` IS NULL
    ), FALSE) THEN ', not_null_age' ELSE '' END,
    3
  ) AS `_slo_violations`
FROM `raw`.`user_features`
WHERE
  COALESCE((
    (
      `age` < 0
    ) OR (
      `age` > 120
    )
  ), FALSE)
  OR COALESCE((
    `age` IS NULL
  ), FALSE);

-- file: user_features/validated_view.sql
CREATE OR REPLACE VIEW `validated`.`user_features` AS
SELECT
  *
FROM (
  SELECT
    `_slo_raw`.*
  FROM `raw`.`user_features` AS `_slo_raw`
  INNER JOIN (
    SELECT
      `_slo_now`.`ds`
    FROM (
      SELECT
        `ds`,
        CAST(COUNT(*) AS STRING) || ':' || CAST(COALESCE(
          SUM(
            CAST(FARM_FINGERPRINT(TO_JSON_STRING(STRUCT(`user_id`, `age`, `ds`))) AS BIGNUMERIC)
          ),
          0
        ) AS STRING) AS `_slo_content`
      FROM `raw`.`user_features`
      GROUP BY
        `ds`
    ) AS `_slo_now`
    LEFT JOIN (
      SELECT DISTINCT
        `partition`,
        SUBSTRING(`fingerprint`, 18) AS `_slo_content`
      FROM `slo`.`status`
      WHERE
        `table_name` = 'user_features'
    ) AS `_slo_checked`
      ON `_slo_checked`.`partition` = CASE
        WHEN `_slo_now`.`ds` IS NULL
        THEN '(null)'
        WHEN CAST(`_slo_now`.`ds` AS STRING) LIKE '(%null)'
        THEN '(' || CAST(`_slo_now`.`ds` AS STRING)
        ELSE CAST(`_slo_now`.`ds` AS STRING)
      END
    WHERE
      CASE
        WHEN `_slo_checked`.`partition` IS NULL
        THEN ERROR(
          'slocompile: validated.user_features is blocked: partition ' || CASE
            WHEN `_slo_now`.`ds` IS NULL
            THEN '(null)'
            WHEN CAST(`_slo_now`.`ds` AS STRING) LIKE '(%null)'
            THEN '(' || CAST(`_slo_now`.`ds` AS STRING)
            ELSE CAST(`_slo_now`.`ds` AS STRING)
          END || ' has not been checked yet (build to check it)'
        ) = 0
        WHEN `_slo_checked`.`_slo_content` IS NULL
        OR `_slo_checked`.`_slo_content` <> `_slo_now`.`_slo_content`
        THEN ERROR(
          'slocompile: validated.user_features is blocked: partition ' || CASE
            WHEN `_slo_now`.`ds` IS NULL
            THEN '(null)'
            WHEN CAST(`_slo_now`.`ds` AS STRING) LIKE '(%null)'
            THEN '(' || CAST(`_slo_now`.`ds` AS STRING)
            ELSE CAST(`_slo_now`.`ds` AS STRING)
          END || ' changed since it was checked (build again to check it)'
        ) = 0
        ELSE TRUE
      END
  ) AS `_slo_ok`
    ON `_slo_raw`.`ds` = `_slo_ok`.`ds`
  UNION ALL
  SELECT
    *
  FROM `raw`.`user_features`
  WHERE
    `ds` IS NULL
    AND (
      EXISTS(
        SELECT
          1
        FROM (
          SELECT
            `_slo_now`.`ds`
          FROM (
            SELECT
              `ds`,
              CAST(COUNT(*) AS STRING) || ':' || CAST(COALESCE(
                SUM(
                  CAST(FARM_FINGERPRINT(TO_JSON_STRING(STRUCT(`user_id`, `age`, `ds`))) AS BIGNUMERIC)
                ),
                0
              ) AS STRING) AS `_slo_content`
            FROM `raw`.`user_features`
            GROUP BY
              `ds`
          ) AS `_slo_now`
          LEFT JOIN (
            SELECT DISTINCT
              `partition`,
              SUBSTRING(`fingerprint`, 18) AS `_slo_content`
            FROM `slo`.`status`
            WHERE
              `table_name` = 'user_features'
          ) AS `_slo_checked`
            ON `_slo_checked`.`partition` = CASE
              WHEN `_slo_now`.`ds` IS NULL
              THEN '(null)'
              WHEN CAST(`_slo_now`.`ds` AS STRING) LIKE '(%null)'
              THEN '(' || CAST(`_slo_now`.`ds` AS STRING)
              ELSE CAST(`_slo_now`.`ds` AS STRING)
            END
          WHERE
            CASE
              WHEN `_slo_checked`.`partition` IS NULL
              THEN ERROR(
                'slocompile: validated.user_features is blocked: partition ' || CASE
                  WHEN `_slo_now`.`ds` IS NULL
                  THEN '(null)'
                  WHEN CAST(`_slo_now`.`ds` AS STRING) LIKE '(%null)'
                  THEN '(' || CAST(`_slo_now`.`ds` AS STRING)
                  ELSE CAST(`_slo_now`.`ds` AS STRING)
                END || ' has not been checked yet (build to check it)'
              ) = 0
              WHEN `_slo_checked`.`_slo_content` IS NULL
              OR `_slo_checked`.`_slo_content` <> `_slo_now`.`_slo_content`
              THEN ERROR(
                'slocompile: validated.user_features is blocked: partition ' || CASE
                  WHEN `_slo_now`.`ds` IS NULL
                  THEN '(null)'
                  WHEN CAST(`_slo_now`.`ds` AS STRING) LIKE '(%null)'
                  THEN '(' || CAST(`_slo_now`.`ds` AS STRING)
                  ELSE CAST(`_slo_now`.`ds` AS STRING)
                END || ' changed since it was checked (build again to check it)'
              ) = 0
              ELSE TRUE
            END
        ) AS `_slo_ok`
        WHERE
          `_slo_ok`.`ds` IS NULL
          AND (
            EXISTS(
              SELECT
                1
              FROM `slo`.`status`
              WHERE
                `table_name` = 'user_features' AND `partition` = '(null)'
            )
          )
      )
    )
) AS `_slo_verified`
WHERE
  (
    (
      NOT COALESCE((
        (
          `age` < 0
        ) OR (
          `age` > 120
        )
      ), FALSE)
    )
    AND (
      NOT COALESCE((
        `age` IS NULL
      ), FALSE)
    )
  )
  AND (
    (
      SELECT
        CASE
          WHEN COUNT(*) > 0
          THEN ERROR(
            'slocompile: validated.user_features is blocked by failed SLOs: ' || STRING_AGG(
              COALESCE(`partition`, 'whole table') || ': ' || `failed_checks`, '; '
              ORDER BY
                COALESCE(`partition`, 'whole table') || ': ' || `failed_checks`
            )
          ) = 0
          ELSE TRUE
        END
      FROM `slo`.`status`
      WHERE
        `table_name` = 'user_features' AND `status` = 'fail'
    )
  );

