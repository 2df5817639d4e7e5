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


-- file: events/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR) IS NULL
    THEN '(null)'
    ELSE CAST(DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR) AS STRING)
  END AS `_slo_partition`,
  COUNT(*) AS `m0`,
  COUNT(CASE WHEN NOT `kind` IN ('click', 'view') THEN 1 END) AS `m1`,
  COUNT(`event_id`) - COUNT(DISTINCT `event_id`) AS `m2`
FROM `raw`.`events`
GROUP BY
  DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR);


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
      WHEN DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR) IS NULL
      THEN '(null)'
      ELSE CAST(DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR) AS STRING)
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
      `_slo_now`.`event_ts`
    FROM (
      SELECT
        DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR) AS `event_ts`,
        CAST(COUNT(*) AS STRING) || ':' || CAST(COALESCE(
          SUM(
            CAST(FARM_FINGERPRINT(TO_JSON_STRING(STRUCT(`kind`, `event_ts`, `event_id`))) AS BIGNUMERIC)
          ),
          0
        ) AS STRING) AS `_slo_content`
      FROM `raw`.`events`
      GROUP BY
        DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR)
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
        WHEN `_slo_now`.`event_ts` IS NULL
        THEN '(null)'
        ELSE CAST(`_slo_now`.`event_ts` AS STRING)
      END
      AND `_slo_checked`.`_slo_content` = `_slo_now`.`_slo_content`
  ) AS `_slo_ok`
    ON DATETIME_TRUNC(CAST(`_slo_raw`.`event_ts` AS DATETIME), HOUR) = `_slo_ok`.`event_ts`
  UNION ALL
  SELECT
    *
  FROM `raw`.`events`
  WHERE
    `event_ts` IS NULL
    AND (
      EXISTS(
        SELECT
          1
        FROM (
          SELECT
            `_slo_now`.`event_ts`
          FROM (
            SELECT
              DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR) AS `event_ts`,
              CAST(COUNT(*) AS STRING) || ':' || CAST(COALESCE(
                SUM(
                  CAST(FARM_FINGERPRINT(TO_JSON_STRING(STRUCT(`kind`, `event_ts`, `event_id`))) AS BIGNUMERIC)
                ),
                0
              ) AS STRING) AS `_slo_content`
            FROM `raw`.`events`
            GROUP BY
              DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR)
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
              WHEN `_slo_now`.`event_ts` IS NULL
              THEN '(null)'
              ELSE CAST(`_slo_now`.`event_ts` AS STRING)
            END
            AND `_slo_checked`.`_slo_content` = `_slo_now`.`_slo_content`
        ) AS `_slo_ok`
        WHERE
          `_slo_ok`.`event_ts` IS NULL
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
      WHEN DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR) IS NULL
      THEN '(null)'
      ELSE CAST(DATETIME_TRUNC(CAST(`event_ts` AS DATETIME), HOUR) AS STRING)
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

-- file: monthly/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN CAST(DATETIME_TRUNC(CAST(`billed_on` AS DATETIME), MONTH) AS DATE) IS NULL
    THEN '(null)'
    ELSE CAST(CAST(DATETIME_TRUNC(CAST(`billed_on` AS DATETIME), MONTH) AS DATE) AS STRING)
  END AS `_slo_partition`,
  COUNT(*) AS `m0`,
  COUNT(CASE WHEN `amount` IS NULL THEN 1 END) AS `m1`
FROM `raw`.`monthly`
GROUP BY
  CAST(DATETIME_TRUNC(CAST(`billed_on` AS DATETIME), MONTH) AS DATE);


-- file: monthly/quarantine_view.sql
CREATE OR REPLACE VIEW `quarantine`.`monthly` AS
SELECT
  *,
  CAST(NULL AS STRING) AS `_slo_violations`
FROM `raw`.`monthly`
WHERE
  FALSE;

-- file: monthly/validated_view.sql
CREATE OR REPLACE VIEW `validated`.`monthly` AS
SELECT
  *
FROM (
  SELECT
    `_slo_raw`.*
  FROM `raw`.`monthly` AS `_slo_raw`
  INNER JOIN (
    SELECT
      `_slo_now`.`billed_on`
    FROM (
      SELECT
        CAST(DATETIME_TRUNC(CAST(`billed_on` AS DATETIME), MONTH) AS DATE) AS `billed_on`,
        CAST(COUNT(*) AS STRING) || ':' || CAST(COALESCE(
          SUM(
            CAST(FARM_FINGERPRINT(TO_JSON_STRING(STRUCT(`amount`, `billed_on`))) AS BIGNUMERIC)
          ),
          0
        ) AS STRING) AS `_slo_content`
      FROM `raw`.`monthly`
      GROUP BY
        CAST(DATETIME_TRUNC(CAST(`billed_on` AS DATETIME), MONTH) AS DATE)
    ) AS `_slo_now`
    LEFT JOIN (
      SELECT DISTINCT
        `partition`,
        SUBSTRING(`fingerprint`, 18) AS `_slo_content`
      FROM `slo`.`status`
      WHERE
        `table_name` = 'monthly'
    ) AS `_slo_checked`
      ON `_slo_checked`.`partition` = CASE
        WHEN `_slo_now`.`billed_on` IS NULL
        THEN '(null)'
        ELSE CAST(`_slo_now`.`billed_on` AS STRING)
      END
    WHERE
      CASE
        WHEN `_slo_checked`.`partition` IS NULL
        THEN ERROR(
          'slocompile: validated.monthly is blocked: partition ' || CASE
            WHEN `_slo_now`.`billed_on` IS NULL
            THEN '(null)'
            ELSE CAST(`_slo_now`.`billed_on` AS STRING)
          END || ' has not been checked yet (build to check it)'
        ) = 0
        WHEN `_slo_checked`.`_slo_content` IS NULL
        OR `_slo_checked`.`_slo_content` <> `_slo_now`.`_slo_content`
        THEN ERROR(
          'slocompile: validated.monthly is blocked: partition ' || CASE
            WHEN `_slo_now`.`billed_on` IS NULL
            THEN '(null)'
            ELSE CAST(`_slo_now`.`billed_on` AS STRING)
          END || ' changed since it was checked (build again to check it)'
        ) = 0
        ELSE TRUE
      END
  ) AS `_slo_ok`
    ON CAST(DATETIME_TRUNC(CAST(`_slo_raw`.`billed_on` AS DATETIME), MONTH) AS DATE) = `_slo_ok`.`billed_on`
  UNION ALL
  SELECT
    *
  FROM `raw`.`monthly`
  WHERE
    `billed_on` IS NULL
    AND (
      EXISTS(
        SELECT
          1
        FROM (
          SELECT
            `_slo_now`.`billed_on`
          FROM (
            SELECT
              CAST(DATETIME_TRUNC(CAST(`billed_on` AS DATETIME), MONTH) AS DATE) AS `billed_on`,
              CAST(COUNT(*) AS STRING) || ':' || CAST(COALESCE(
                SUM(
                  CAST(FARM_FINGERPRINT(TO_JSON_STRING(STRUCT(`amount`, `billed_on`))) AS BIGNUMERIC)
                ),
                0
              ) AS STRING) AS `_slo_content`
            FROM `raw`.`monthly`
            GROUP BY
              CAST(DATETIME_TRUNC(CAST(`billed_on` AS DATETIME), MONTH) AS DATE)
          ) AS `_slo_now`
          LEFT JOIN (
            SELECT DISTINCT
              `partition`,
              SUBSTRING(`fingerprint`, 18) AS `_slo_content`
            FROM `slo`.`status`
            WHERE
              `table_name` = 'monthly'
          ) AS `_slo_checked`
            ON `_slo_checked`.`partition` = CASE
              WHEN `_slo_now`.`billed_on` IS NULL
              THEN '(null)'
              ELSE CAST(`_slo_now`.`billed_on` AS STRING)
            END
          WHERE
            CASE
              WHEN `_slo_checked`.`partition` IS NULL
              THEN ERROR(
                'slocompile: validated.monthly is blocked: partition ' || CASE
                  WHEN `_slo_now`.`billed_on` IS NULL
                  THEN '(null)'
                  ELSE CAST(`_slo_now`.`billed_on` AS STRING)
                END || ' has not been checked yet (build to check it)'
              ) = 0
              WHEN `_slo_checked`.`_slo_content` IS NULL
              OR `_slo_checked`.`_slo_content` <> `_slo_now`.`_slo_content`
              THEN ERROR(
                'slocompile: validated.monthly is blocked: partition ' || CASE
                  WHEN `_slo_now`.`billed_on` IS NULL
                  THEN '(null)'
                  ELSE CAST(`_slo_now`.`billed_on` AS STRING)
                END || ' changed since it was checked (build again to check it)'
              ) = 0
              ELSE TRUE
            END
        ) AS `_slo_ok`
        WHERE
          `_slo_ok`.`billed_on` IS NULL
          AND (
            EXISTS(
              SELECT
                1
              FROM `slo`.`status`
              WHERE
                `table_name` = 'monthly' AND `partition` = '(null)'
            )
          )
      )
    )
) AS `_slo_verified`
WHERE
  (
    SELECT
      CASE
        WHEN COUNT(*) > 0
        THEN ERROR(
          'slocompile: validated.monthly is blocked by failed SLOs: ' || STRING_AGG(
            COALESCE(`partition`, 'whole table') || ': ' || `failed_checks`, '; '
            ORDER BY
              COALESCE(`partition`, 'whole table') || ': ' || `failed_checks`
          )
        ) = 0
        ELSE TRUE
      END
    FROM `slo`.`status`
    WHERE
      `table_name` = 'monthly' AND `status` = 'fail'
  );

-- file: weekly/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN CAST(DATETIME_TRUNC(CAST(`loaded_at` AS DATETIME), ISOWEEK) AS DATE) IS NULL
    THEN '(null)'
    ELSE CAST(CAST(DATETIME_TRUNC(CAST(`loaded_at` AS DATETIME), ISOWEEK) AS DATE) AS STRING)
  END AS `_slo_partition`,
  COUNT(*) AS `m0`,
  COUNT(`user_id`) - COUNT(DISTINCT `user_id`) AS `m1`
FROM `raw`.`weekly`
GROUP BY
  CAST(DATETIME_TRUNC(CAST(`loaded_at` AS DATETIME), ISOWEEK) AS DATE);


-- file: weekly/quarantine_view.sql
CREATE OR REPLACE VIEW `quarantine`.`weekly` AS
SELECT
  *,
  CAST(NULL AS STRING) AS `_slo_violations`
FROM `slo_versions`.`weekly` AS `_v`
WHERE
  FALSE
  AND (
    (
      SELECT
        CASE
          WHEN COUNT(*) = 0
          THEN ERROR(
            'slocompile: validated.weekly has no version that passed its SLOs yet (gate last_good); published versions: ' || CAST(COUNT(*) AS STRING)
          ) = 0
          ELSE TRUE
        END
      FROM `slo`.`published` AS `_p`
      WHERE
        `_p`.`table_name` = 'weekly'
    )
    AND EXISTS(
      SELECT
        1
      FROM `slo`.`published` AS `_p`
      WHERE
        (
          `_p`.`table_name` = 'weekly' AND `_p`.`version` = `_v`.`_slo_version`
        )
        AND `_p`.`partition` = CASE
          WHEN CAST(DATETIME_TRUNC(CAST(`_v`.`loaded_at` AS DATETIME), ISOWEEK) AS DATE) IS NULL
          THEN '(null)'
          ELSE CAST(CAST(DATETIME_TRUNC(CAST(`_v`.`loaded_at` AS DATETIME), ISOWEEK) AS DATE) AS STRING)
        END
    )
  );

-- file: weekly/validated_view.sql
CREATE OR REPLACE VIEW `validated`.`weekly` AS
SELECT
  *
FROM `slo_versions`.`weekly` AS `_v`
WHERE
  (
    SELECT
      CASE
        WHEN COUNT(*) = 0
        THEN ERROR(
          'slocompile: validated.weekly has no version that passed its SLOs yet (gate last_good); published versions: ' || CAST(COUNT(*) AS STRING)
        ) = 0
        ELSE TRUE
      END
    FROM `slo`.`published` AS `_p`
    WHERE
      `_p`.`table_name` = 'weekly'
  )
  AND EXISTS(
    SELECT
      1
    FROM `slo`.`published` AS `_p`
    WHERE
      (
        `_p`.`table_name` = 'weekly' AND `_p`.`version` = `_v`.`_slo_version`
      )
      AND `_p`.`partition` = CASE
        WHEN CAST(DATETIME_TRUNC(CAST(`_v`.`loaded_at` AS DATETIME), ISOWEEK) AS DATE) IS NULL
        THEN '(null)'
        ELSE CAST(CAST(DATETIME_TRUNC(CAST(`_v`.`loaded_at` AS DATETIME), ISOWEEK) AS DATE) AS STRING)
      END
  );

