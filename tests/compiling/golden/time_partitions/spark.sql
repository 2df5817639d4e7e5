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


-- file: events/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN DATE_TRUNC('HOUR', CAST(`event_ts` AS TIMESTAMP)) IS NULL
    THEN '(null)'
    ELSE CAST(DATE_TRUNC('HOUR', CAST(`event_ts` AS TIMESTAMP)) AS STRING)
  END AS `_slo_partition`,
  COUNT(*) AS `m0`,
  COUNT(CASE WHEN NOT `kind` IN ('click', 'view') THEN 1 END) AS `m1`,
  COUNT(`event_id`) - COUNT(DISTINCT `event_id`) AS `m2`
FROM `raw`.`events`
GROUP BY
  DATE_TRUNC('HOUR', CAST(`event_ts` AS TIMESTAMP));


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
      WHEN DATE_TRUNC('HOUR', CAST(`event_ts` AS TIMESTAMP)) IS NULL
      THEN '(null)'
      ELSE CAST(DATE_TRUNC('HOUR', CAST(`event_ts` AS TIMESTAMP)) AS STRING)
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
        DATE_TRUNC('HOUR', CAST(`event_ts` AS TIMESTAMP)) AS `event_ts`,
        CAST(COUNT(*) AS STRING) || ':' || CAST(COALESCE(SUM(CAST(XXHASH64(`kind`, `event_ts`, `event_id`) AS DECIMAL(20, 0))), 0) AS STRING) AS `_slo_content`
      FROM `raw`.`events`
      GROUP BY
        DATE_TRUNC('HOUR', CAST(`event_ts` AS TIMESTAMP))
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
    ON DATE_TRUNC('HOUR', CAST(`_slo_raw`.`event_ts` AS TIMESTAMP)) = `_slo_ok`.`event_ts`
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
              DATE_TRUNC('HOUR', CAST(`event_ts` AS TIMESTAMP)) AS `event_ts`,
              CAST(COUNT(*) AS STRING) || ':' || CAST(COALESCE(SUM(CAST(XXHASH64(`kind`, `event_ts`, `event_id`) AS DECIMAL(20, 0))), 0) AS STRING) AS `_slo_content`
            FROM `raw`.`events`
            GROUP BY
              DATE_TRUNC('HOUR', CAST(`event_ts` AS TIMESTAMP))
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
      WHEN DATE_TRUNC('HOUR', CAST(`event_ts` AS TIMESTAMP)) IS NULL
      THEN '(null)'
      ELSE CAST(DATE_TRUNC('HOUR', CAST(`event_ts` AS TIMESTAMP)) AS STRING)
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
    WHEN CAST(DATE_TRUNC('MONTH', CAST(`billed_on` AS TIMESTAMP)) AS DATE) IS NULL
    THEN '(null)'
    ELSE CAST(CAST(DATE_TRUNC('MONTH', CAST(`billed_on` AS TIMESTAMP)) AS DATE) AS STRING)
  END AS `_slo_partition`,
  COUNT(*) AS `m0`,
  COUNT(CASE WHEN `amount` IS NULL THEN 1 END) AS `m1`
FROM `raw`.`monthly`
GROUP BY
  CAST(DATE_TRUNC('MONTH', CAST(`billed_on` AS TIMESTAMP)) AS DATE);


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
        CAST(DATE_TRUNC('MONTH', CAST(`billed_on` AS TIMESTAMP)) AS DATE) AS `billed_on`,
        CAST(COUNT(*) AS STRING) || ':' || CAST(COALESCE(SUM(CAST(XXHASH64(`amount`, `billed_on`) AS DECIMAL(20, 0))), 0) AS STRING) AS `_slo_content`
      FROM `raw`.`monthly`
      GROUP BY
        CAST(DATE_TRUNC('MONTH', CAST(`billed_on` AS TIMESTAMP)) AS DATE)
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
        THEN RAISE_ERROR(
          'slocompile: validated.monthly is blocked: partition ' || CASE
            WHEN `_slo_now`.`billed_on` IS NULL
            THEN '(null)'
            ELSE CAST(`_slo_now`.`billed_on` AS STRING)
          END || ' has not been checked yet (build to check it)'
        ) = 0
        WHEN `_slo_checked`.`_slo_content` IS NULL
        OR `_slo_checked`.`_slo_content` <> `_slo_now`.`_slo_content`
        THEN RAISE_ERROR(
          'slocompile: validated.monthly is blocked: partition ' || CASE
            WHEN `_slo_now`.`billed_on` IS NULL
            THEN '(null)'
            ELSE CAST(`_slo_now`.`billed_on` AS STRING)
          END || ' changed since it was checked (build again to check it)'
        ) = 0
        ELSE TRUE
      END
  ) AS `_slo_ok`
    ON CAST(DATE_TRUNC('MONTH', CAST(`_slo_raw`.`billed_on` AS TIMESTAMP)) AS DATE) = `_slo_ok`.`billed_on`
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
              CAST(DATE_TRUNC('MONTH', CAST(`billed_on` AS TIMESTAMP)) AS DATE) AS `billed_on`,
              CAST(COUNT(*) AS STRING) || ':' || CAST(COALESCE(SUM(CAST(XXHASH64(`amount`, `billed_on`) AS DECIMAL(20, 0))), 0) AS STRING) AS `_slo_content`
            FROM `raw`.`monthly`
            GROUP BY
              CAST(DATE_TRUNC('MONTH', CAST(`billed_on` AS TIMESTAMP)) AS DATE)
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
              THEN RAISE_ERROR(
                'slocompile: validated.monthly is blocked: partition ' || CASE
                  WHEN `_slo_now`.`billed_on` IS NULL
                  THEN '(null)'
                  ELSE CAST(`_slo_now`.`billed_on` AS STRING)
                END || ' has not been checked yet (build to check it)'
              ) = 0
              WHEN `_slo_checked`.`_slo_content` IS NULL
              OR `_slo_checked`.`_slo_content` <> `_slo_now`.`_slo_content`
              THEN RAISE_ERROR(
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
        THEN RAISE_ERROR(
          'slocompile: validated.monthly is blocked by failed SLOs: ' || LISTAGG(COALESCE(`partition`, 'whole table') || ': ' || `failed_checks`, '; ') WITHIN GROUP (ORDER BY
            COALESCE(`partition`, 'whole table') || ': ' || `failed_checks`)
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
    WHEN CAST(DATE_TRUNC('WEEK', CAST(`loaded_at` AS TIMESTAMP)) AS DATE) IS NULL
    THEN '(null)'
    ELSE CAST(CAST(DATE_TRUNC('WEEK', CAST(`loaded_at` AS TIMESTAMP)) AS DATE) AS STRING)
  END AS `_slo_partition`,
  COUNT(*) AS `m0`,
  COUNT(`user_id`) - COUNT(DISTINCT `user_id`) AS `m1`
FROM `raw`.`weekly`
GROUP BY
  CAST(DATE_TRUNC('WEEK', CAST(`loaded_at` AS TIMESTAMP)) AS DATE);


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
          THEN RAISE_ERROR(
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
          WHEN CAST(DATE_TRUNC('WEEK', CAST(`_v`.`loaded_at` AS TIMESTAMP)) AS DATE) IS NULL
          THEN '(null)'
          ELSE CAST(CAST(DATE_TRUNC('WEEK', CAST(`_v`.`loaded_at` AS TIMESTAMP)) AS DATE) AS STRING)
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
        THEN RAISE_ERROR(
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
        WHEN CAST(DATE_TRUNC('WEEK', CAST(`_v`.`loaded_at` AS TIMESTAMP)) AS DATE) IS NULL
        THEN '(null)'
        ELSE CAST(CAST(DATE_TRUNC('WEEK', CAST(`_v`.`loaded_at` AS TIMESTAMP)) AS DATE) AS STRING)
      END
  );

