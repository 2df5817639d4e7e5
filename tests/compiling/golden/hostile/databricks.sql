-- file: Order__Items____0b387d/checks.sql
-- duplicates scan: duplicates on several key columns: GROUP BY ... HAVING
SELECT
  CASE
    WHEN `group` IS NULL
    THEN '(null)'
    WHEN CAST(`group` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`group` AS STRING)
    ELSE CAST(`group` AS STRING)
  END AS `_slo_partition`,
  COALESCE(SUM(`_slo_rows` - 1), 0) AS `m0`
FROM (
  SELECT
    `group`,
    COUNT(*) AS `_slo_rows`
  FROM `raw`.`Order Items`
  WHERE
    (
      NOT `select` IS NULL
    ) AND (
      NOT `naïve` IS NULL
    )
  GROUP BY
    `group`,
    `select`,
    `naïve`
  HAVING
    COUNT(*) > 1
) AS `d`
GROUP BY
  `group`;

-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN `group` IS NULL
    THEN '(null)'
    WHEN CAST(`group` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`group` AS STRING)
    ELSE CAST(`group` AS STRING)
  END AS `_slo_partition`,
  COUNT(*) AS `m0`,
  COUNT(DISTINCT `select`) > 0 AS `m1`,
  COUNT(CASE WHEN (
    `naïve` < -1.5
  ) OR (
    `naïve` > '1e6'
  ) THEN 1 END) AS `m2`,
  COUNT(
    CASE
      WHEN NOT `we"ird\col` IN (
        'it\'s',
        'say "hi"',
        'back\\slash',
        'new\nline',
        'x\'); DROP TABLE raw.t; --',
        'naïve ☃'
      )
      THEN 1
    END
  ) AS `m3`,
  COUNT(CASE WHEN NOT (
    REGEXP_LIKE(`we"ird\col`, '^\\d+\\\\$')
  ) THEN 1 END) AS `m4`,
  COUNT(CASE WHEN NOT (
    `we"ird\col` <> 'it\'s'
  ) THEN 1 END) AS `m5`,
  COUNT(`Order Id`) - COUNT(DISTINCT `Order Id`) AS `m6`
FROM `raw`.`Order Items`
GROUP BY
  `group`;

-- fused scan: metrics sharing one filter share one scan
SELECT
  CASE
    WHEN `group` IS NULL
    THEN '(null)'
    WHEN CAST(`group` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`group` AS STRING)
    ELSE CAST(`group` AS STRING)
  END AS `_slo_partition`,
  COUNT(CASE WHEN `select` IS NULL THEN 1 END) AS `m0`,
  COUNT(*) AS `m1`
FROM `raw`.`Order Items`
WHERE
  `Order Id` > 0
GROUP BY
  `group`;

-- orphans scan: anti-join with the referenced relation
SELECT
  CASE
    WHEN `group` IS NULL
    THEN '(null)'
    WHEN CAST(`group` AS STRING) LIKE '(%null)'
    THEN '(' || CAST(`group` AS STRING)
    ELSE CAST(`group` AS STRING)
  END AS `_slo_partition`,
  COUNT(*) AS `m0`
FROM `raw`.`Order Items` AS `t`
WHERE
  (
    NOT `t`.`we"ird\col` IS NULL
  )
  AND (
    NOT EXISTS(
      SELECT
        1
      FROM `dims`.`Codes ✓` AS `r`
      WHERE
        `r`.`cödé` = `t`.`we"ird\col`
    )
  )
GROUP BY
  `group`;


-- file: Order__Items____0b387d/quarantine_view.sql
CREATE OR REPLACE VIEW `quarantine`.`Order "Items" ✓` AS
SELECT
  *,
  SUBSTRING(
    CASE
      WHEN COALESCE((
        `Order Id` > 0
      ), FALSE) AND COALESCE((
        `select` IS NULL
      ), FALSE)
      THEN ', not_null_select'
      ELSE ''
    END || CASE
      WHEN COALESCE((
        (
          `naïve` < -1.5
        ) OR (
          `naïve` > '1e6'
        )
      ), FALSE)
      THEN ', between_na_ve'
      ELSE ''
    END || CASE
      WHEN COALESCE(
        (
          NOT `we"ird\col` IN (
            'it\'s',
            'say "hi"',
            'back\\slash',
            'new\nline',
            'x\'); DROP TABLE raw.t; --',
            'naïve ☃'
          )
        ),
        FALSE
      )
      THEN ', accepted_values_we_ird_col'
      ELSE ''
    END,
    3
  ) AS `_slo_violations`
FROM `raw`.`Order Items`
WHERE
  (
    (
      COALESCE((
        `Order Id` > 0
      ), FALSE) AND COALESCE((
        `select` IS NULL
      ), FALSE)
    )
    OR COALESCE((
      (
        `naïve` < -1.5
      ) OR (
        `naïve` > '1e6'
      )
    ), FALSE)
  )
  OR COALESCE(
    (
      NOT `we"ird\col` IN (
        'it\'s',
        'say "hi"',
        'back\\slash',
        'new\nline',
        'x\'); DROP TABLE raw.t; --',
        'naïve ☃'
      )
    ),
    FALSE
  );

-- file: Order__Items____0b387d/validated_view.sql
CREATE OR REPLACE VIEW `validated`.`Order "Items" ✓` AS
SELECT
  *
FROM (
  SELECT
    `_slo_raw`.*
  FROM `raw`.`Order Items` AS `_slo_raw`
  INNER JOIN (
    SELECT
      `_slo_now`.`group`
    FROM (
      SELECT
        `group`,
        CAST(COUNT(*) AS STRING) || ':' || CAST(COALESCE(
          SUM(
            CAST(XXHASH64(`select`, `naïve`, `we"ird\col`, `Order Id`, `group`) AS DECIMAL(20, 0))
          ),
          0
        ) AS STRING) AS `_slo_content`
      FROM `raw`.`Order Items`
      GROUP BY
        `group`
    ) AS `_slo_now`
    LEFT JOIN (
      SELECT DISTINCT
        `partition`,
        SUBSTRING(`fingerprint`, 18) AS `_slo_content`
      FROM `slo`.`status`
      WHERE
        `table_name` = 'Order "Items" ✓'
    ) AS `_slo_checked`
      ON `_slo_checked`.`partition` = CASE
        WHEN `_slo_now`.`group` IS NULL
        THEN '(null)'
        WHEN CAST(`_slo_now`.`group` AS STRING) LIKE '(%null)'
        THEN '(' || CAST(`_slo_now`.`group` AS STRING)
        ELSE CAST(`_slo_now`.`group` AS STRING)
      END
    WHERE
      CASE
        WHEN `_slo_checked`.`partition` IS NULL
        THEN RAISE_ERROR(
          'slocompile: validated.Order "Items" ✓ is blocked: partition ' || CASE
            WHEN `_slo_now`.`group` IS NULL
            THEN '(null)'
            WHEN CAST(`_slo_now`.`group` AS STRING) LIKE '(%null)'
            THEN '(' || CAST(`_slo_now`.`group` AS STRING)
            ELSE CAST(`_slo_now`.`group` AS STRING)
          END || ' has not been checked yet (build to check it)'
        ) = 0
        WHEN `_slo_checked`.`_slo_content` IS NULL
        OR `_slo_checked`.`_slo_content` <> `_slo_now`.`_slo_content`
        THEN RAISE_ERROR(
          'slocompile: validated.Order "Items" ✓ is blocked: partition ' || CASE
            WHEN `_slo_now`.`group` IS NULL
            THEN '(null)'
            WHEN CAST(`_slo_now`.`group` AS STRING) LIKE '(%null)'
            THEN '(' || CAST(`_slo_now`.`group` AS STRING)
            ELSE CAST(`_slo_now`.`group` AS STRING)
          END || ' changed since it was checked (build again to check it)'
        ) = 0
        ELSE TRUE
      END
  ) AS `_slo_ok`
    ON `_slo_raw`.`group` = `_slo_ok`.`group`
  UNION ALL
  SELECT
    *
  FROM `raw`.`Order Items`
  WHERE
    `group` IS NULL
    AND (
      EXISTS(
        SELECT
          1
        FROM (
          SELECT
            `_slo_now`.`group`
          FROM (
            SELECT
              `group`,
              CAST(COUNT(*) AS STRING) || ':' || CAST(COALESCE(
                SUM(
                  CAST(XXHASH64(`select`, `naïve`, `we"ird\col`, `Order Id`, `group`) AS DECIMAL(20, 0))
                ),
                0
              ) AS STRING) AS `_slo_content`
            FROM `raw`.`Order Items`
            GROUP BY
              `group`
          ) AS `_slo_now`
          LEFT JOIN (
            SELECT DISTINCT
              `partition`,
              SUBSTRING(`fingerprint`, 18) AS `_slo_content`
            FROM `slo`.`status`
            WHERE
              `table_name` = 'Order "Items" ✓'
          ) AS `_slo_checked`
            ON `_slo_checked`.`partition` = CASE
              WHEN `_slo_now`.`group` IS NULL
              THEN '(null)'
              WHEN CAST(`_slo_now`.`group` AS STRING) LIKE '(%null)'
              THEN '(' || CAST(`_slo_now`.`group` AS STRING)
              ELSE CAST(`_slo_now`.`group` AS STRING)
            END
          WHERE
            CASE
              WHEN `_slo_checked`.`partition` IS NULL
              THEN RAISE_ERROR(
                'slocompile: validated.Order "Items" ✓ is blocked: partition ' || CASE
                  WHEN `_slo_now`.`group` IS NULL
                  THEN '(null)'
                  WHEN CAST(`_slo_now`.`group` AS STRING) LIKE '(%null)'
                  THEN '(' || CAST(`_slo_now`.`group` AS STRING)
                  ELSE CAST(`_slo_now`.`group` AS STRING)
                END || ' has not been checked yet (build to check it)'
              ) = 0
              WHEN `_slo_checked`.`_slo_content` IS NULL
              OR `_slo_checked`.`_slo_content` <> `_slo_now`.`_slo_content`
              THEN RAISE_ERROR(
                'slocompile: validated.Order "Items" ✓ is blocked: partition ' || CASE
                  WHEN `_slo_now`.`group` IS NULL
                  THEN '(null)'
                  WHEN CAST(`_slo_now`.`group` AS STRING) LIKE '(%null)'
                  THEN '(' || CAST(`_slo_now`.`group` AS STRING)
                  ELSE CAST(`_slo_now`.`group` AS STRING)
                END || ' changed since it was checked (build again to check it)'
              ) = 0
              ELSE TRUE
            END
        ) AS `_slo_ok`
        WHERE
          `_slo_ok`.`group` IS NULL
          AND (
            EXISTS(
              SELECT
                1
              FROM `slo`.`status`
              WHERE
                `table_name` = 'Order "Items" ✓' AND `partition` = '(null)'
            )
          )
      )
    )
) AS `_slo_verified`
WHERE
  (
    (
      (
        NOT (
          COALESCE((
            `Order Id` > 0
          ), FALSE) AND COALESCE((
            `select` IS NULL
          ), FALSE)
        )
      )
      AND (
        NOT COALESCE((
          (
            `naïve` < -1.5
          ) OR (
            `naïve` > '1e6'
          )
        ), FALSE)
      )
    )
    AND (
      NOT COALESCE(
        (
          NOT `we"ird\col` IN (
            'it\'s',
            'say "hi"',
            'back\\slash',
            'new\nline',
            'x\'); DROP TABLE raw.t; --',
            'naïve ☃'
          )
        ),
        FALSE
      )
    )
  )
  AND (
    (
      SELECT
        CASE
          WHEN COUNT(*) > 0
          THEN RAISE_ERROR(
            'slocompile: validated.Order "Items" ✓ is blocked by failed SLOs: ' || LISTAGG(COALESCE(`partition`, 'whole table') || ': ' || `failed_checks`, '; ') WITHIN GROUP (ORDER BY
              COALESCE(`partition`, 'whole table') || ': ' || `failed_checks`)
          ) = 0
          ELSE TRUE
        END
      FROM `slo`.`status`
      WHERE
        `table_name` = 'Order "Items" ✓' AND `status` = 'fail'
    )
  );

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


