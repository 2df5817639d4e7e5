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


-- file: features/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS `m0`,
  COUNT(CASE WHEN `f` IS NULL THEN 1 END) AS `m1`
FROM `raw`.`features`;


-- file: features/quarantine_view.sql
CREATE OR REPLACE VIEW `quarantine`.`features` AS
SELECT
  *,
  CAST(NULL AS STRING) AS `_slo_violations`
FROM `raw`.`features`
WHERE
  FALSE;

-- file: features/validated_view.sql
CREATE OR REPLACE VIEW `validated`.`features` AS
SELECT
  *,
  NOT (
    COALESCE((
      `f` IS NULL
    ), FALSE)
  ) AS `_slo_ok`,
  NULLIF(
    SUBSTRING(CASE WHEN COALESCE((
      `f` IS NULL
    ), FALSE) THEN ', not_null_f' ELSE '' END, 3),
    ''
  ) AS `_slo_violations`,
  CAST(NULL AS STRING) AS `_slo_fixed`
FROM `raw`.`features`;

-- file: predictions/checks.sql
-- fused scan: metrics sharing one filter share one scan
SELECT
  COUNT(*) AS `m0`,
  COUNT(CASE WHEN (
    `score` < 0
  ) OR (
    `score` > 1
  ) THEN 1 END) AS `m1`,
  COUNT(CASE WHEN `score` IS NULL THEN 1 END) AS `m2`
FROM `raw`.`predictions`;


-- file: predictions/quarantine_view.sql
CREATE OR REPLACE VIEW `quarantine`.`predictions` AS
SELECT
  *,
  SUBSTRING(
    CASE WHEN COALESCE((
      `score` IS NULL
    ), FALSE) THEN ', not_null_score' ELSE '' END,
    3
  ) AS `_slo_violations`
FROM `raw`.`predictions`
WHERE
  COALESCE((
    `score` IS NULL
  ), FALSE);

-- file: predictions/validated_view.sql
CREATE OR REPLACE VIEW `validated`.`predictions` AS
SELECT
  `_slo_fix0_2` AS `score`,
  `_slo_fix1_0` AS `baseline_score`,
  `_slo_fix2_1` AS `label`,
  `_slo_fix3_0` AS `day`,
  `model_version`,
  NOT (
    (
      (
        (
          COALESCE((
            (
              `score` < 0
            ) OR (
              `score` > 1
            )
          ), FALSE)
          OR (
            NOT (
              (
                `score` IS NULL AND `_slo_fix0_2` IS NULL
              )
              OR COALESCE((
                `score` = `_slo_fix0_2`
              ), FALSE)
            )
          )
        )
        OR (
          NOT (
            (
              `baseline_score` IS NULL AND `_slo_fix1_0` IS NULL
            )
            OR COALESCE((
              `baseline_score` = `_slo_fix1_0`
            ), FALSE)
          )
        )
      )
      OR (
        NOT (
          (
            `label` IS NULL AND `_slo_fix2_1` IS NULL
          )
          OR COALESCE((
            `label` = `_slo_fix2_1`
          ), FALSE)
        )
      )
    )
    OR (
      NOT (
        (
          `day` IS NULL AND `_slo_fix3_0` IS NULL
        )
        OR COALESCE((
          `day` = `_slo_fix3_0`
        ), FALSE)
      )
    )
  ) AS `_slo_ok`,
  NULLIF(
    SUBSTRING(
      CASE
        WHEN COALESCE((
          (
            `score` < 0
          ) OR (
            `score` > 1
          )
        ), FALSE)
        THEN ', between_score'
        ELSE ''
      END,
      3
    ),
    ''
  ) AS `_slo_violations`,
  NULLIF(
    SUBSTRING(
      CASE
        WHEN NOT (
          (
            `score` IS NULL AND `_slo_fix0_2` IS NULL
          )
          OR COALESCE((
            `score` = `_slo_fix0_2`
          ), FALSE)
        )
        THEN ', score'
        ELSE ''
      END || CASE
        WHEN NOT (
          (
            `baseline_score` IS NULL AND `_slo_fix1_0` IS NULL
          )
          OR COALESCE((
            `baseline_score` = `_slo_fix1_0`
          ), FALSE)
        )
        THEN ', baseline_score'
        ELSE ''
      END || CASE
        WHEN NOT (
          (
            `label` IS NULL AND `_slo_fix2_1` IS NULL
          )
          OR COALESCE((
            `label` = `_slo_fix2_1`
          ), FALSE)
        )
        THEN ', label'
        ELSE ''
      END || CASE
        WHEN NOT (
          (
            `day` IS NULL AND `_slo_fix3_0` IS NULL
          )
          OR COALESCE((
            `day` = `_slo_fix3_0`
          ), FALSE)
        )
        THEN ', day'
        ELSE ''
      END,
      3
    ),
    ''
  ) AS `_slo_fixed`
FROM (
  SELECT
    *,
    COALESCE(`_slo_fix0_1`, 0.5) AS `_slo_fix0_2`
  FROM (
    SELECT
      *,
      CASE
        WHEN `_slo_fix0_0` < 0
        THEN 0
        WHEN `_slo_fix0_0` > 1
        THEN 1
        ELSE `_slo_fix0_0`
      END AS `_slo_fix0_1`,
      CASE
        WHEN COALESCE((
          `_slo_fix2_0` = 'x'
        ), FALSE)
        THEN NULL
        ELSE `_slo_fix2_0`
      END AS `_slo_fix2_1`
    FROM (
      SELECT
        *,
        CASE
          WHEN COALESCE(
            (
              (
                EXISTS(
                  SELECT
                    1
                  FROM `slo`.`status` AS `_slo_s`
                  WHERE
                    `_slo_s`.`table_name` = 'features' AND `_slo_s`.`status` = 'fail'
                )
              )
              AND `model_version` <> 'v0'
            ),
            FALSE
          )
          THEN `baseline_score`
          ELSE `score`
        END AS `_slo_fix0_0`,
        CASE WHEN `baseline_score` < 0 THEN 0 ELSE `baseline_score` END AS `_slo_fix1_0`,
        COALESCE(`label`, 'it\'s unknown') AS `_slo_fix2_0`,
        CASE
          WHEN `day` < CAST('2024-01-01' AS DATE)
          THEN CAST('2024-01-01' AS DATE)
          WHEN `day` > CAST('2030-12-31' AS DATE)
          THEN CAST('2030-12-31' AS DATE)
          ELSE `day`
        END AS `_slo_fix3_0`
      FROM `raw`.`predictions`
      WHERE
        (
          NOT COALESCE((
            `score` IS NULL
          ), FALSE)
        )
        AND (
          (
            SELECT
              CASE
                WHEN COUNT(*) > 0
                THEN RAISE_ERROR(
                  'slocompile: validated.predictions is blocked by failed SLOs: ' || LISTAGG(COALESCE(`partition`, 'whole table') || ': ' || `failed_checks`, '; ') WITHIN GROUP (ORDER BY
                    COALESCE(`partition`, 'whole table') || ': ' || `failed_checks`)
                ) = 0
                ELSE TRUE
              END
            FROM `slo`.`status`
            WHERE
              `table_name` = 'predictions' AND `status` = 'fail'
          )
        )
    ) AS `_slo_row1`
  ) AS `_slo_row2`
) AS `_slo_row`;

