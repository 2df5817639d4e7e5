"""Generate the feature-store example's warehouse deterministically with DuckDB SQL.

Usage (from anywhere; the file is written next to this script):

    python generate_data.py                  # 30 days ending yesterday, with the injected faults
    python generate_data.py --no-fault       # the same data without the feature-job outage
    python generate_data.py --anchor 2026-09-01   # pin "today" (the same data on every run)

Writes warehouse.duckdb with:

  raw.user_features  one row per user per day (`ds`, 30 days, 2,000-5,000 users a day),
                     15 columns of mixed types; `feature_ts` is when the feature job wrote
                     the row (between 20:00 and midnight of `ds`).
  raw.predictions    one model score per user per day (same users), with a simple
                     `baseline_score` and the `model_version` that produced it.
  dims.countries     the country codes `user_features.country` must reference.
  raw.events         the app's events of the last 7 days (`event_ts`, a TIMESTAMP; 60-320 an
                     hour, more in the daytime): `event_id`, `user_id`, `kind`, and `amount` on
                     purchases. Declared with hourly partitions (slos/events.yml).

Every value is a pure function of (day index, row index, user index) through multiplicative
hashing modulo a prime: no random generator, so the data are the same on every machine and
every DuckDB version. Only the dates depend on the anchor day (default: today, UTC), so the
freshness SLO holds whenever the data was generated within the last day or so.

Injected faults (all deliberate; README.md says what slocompile makes of them):

  * FAULT_DAY (9 days before the anchor): the feature job for `spend_30d` failed and left the
    column NULL for every row of that ds; the model then fell back to a constant score of
    0.5 for every user that day.
  * 6 rows with an impossible `age` (-1 or 150) on three other days.
  * 4 predictions with `score` above 1 (a calibration bug) on two other days.
  * 3 malformed e-mail addresses (a warn-severity SLO reports them).
  * EVENT_FAULT_HOUR (14:00 two days before the anchor): the event pipeline replayed a batch, so
    40 events of that hour appear twice (their `event_id` repeats).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

import duckdb

DAYS = 30
FAULT_DAY = 21          # index of the faulty ds (0 = oldest): the anchor minus 9 days
POOL = 6000             # users in the population; each day's rows are a subset
COUNTRIES = [("US", "United States", "NA"), ("CA", "Canada", "NA"), ("MX", "Mexico", "NA"),
             ("BR", "Brazil", "SA"), ("AR", "Argentina", "SA"), ("GB", "United Kingdom", "EU"),
             ("DE", "Germany", "EU"), ("FR", "France", "EU"), ("ES", "Spain", "EU"),
             ("IT", "Italy", "EU"), ("NL", "Netherlands", "EU"), ("IN", "India", "AS"),
             ("JP", "Japan", "AS"), ("KR", "South Korea", "AS"), ("AU", "Australia", "OC")]
USED_COUNTRIES = [c for c, _, _ in COUNTRIES[:12]]   # users live in 12 of the 15 known countries
EVENT_DAYS = 7          # raw.events: the last 7 days, by the hour
EVENT_FAULT_HOUR = (EVENT_DAYS - 2) * 24 + 14   # 14:00 two days before the anchor: a replayed batch
REPLAYED = 40           # events of that hour written twice


def H(x: str, m: int, c: int) -> str:
    """SQL for a deterministic pseudo-random non-negative integer from the integer expression x."""
    return f"((({x}) * {m}::BIGINT + {c}) % 4294967311)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--anchor", help="the day after the newest ds (YYYY-MM-DD; default: today, UTC)")
    ap.add_argument("--no-fault", action="store_true", help="skip the feature-job outage on the faulty day")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "warehouse.duckdb"),
                    help="output DuckDB file (default: warehouse.duckdb next to this script)")
    args = ap.parse_args(argv)
    anchor = (dt.date.fromisoformat(args.anchor) if args.anchor
              else dt.datetime.now(dt.timezone.utc).date())
    first = anchor - dt.timedelta(days=DAYS)
    fault_day = -1 if args.no_fault else FAULT_DAY

    for path in (args.out, args.out + ".wal"):
        if os.path.exists(path):
            os.remove(path)
    con = duckdb.connect(args.out)
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE SCHEMA dims")
    con.execute("CREATE TABLE dims.countries (code VARCHAR PRIMARY KEY, name VARCHAR, region VARCHAR)")
    con.executemany("INSERT INTO dims.countries VALUES (?, ?, ?)", COUNTRIES)

    used = ", ".join(f"'{c}'" for c in USED_COUNTRIES)
    u = "u"                       # user index in [0, POOL)
    x = "(d * 100003 + u)"        # one integer per (day, user)
    con.execute(f"""
    CREATE TABLE raw.user_features AS
    WITH days AS (
        SELECT range::INTEGER AS d, 2000 + {H('range', 2654435761, 7)} % 3001 AS n FROM range({DAYS})
    ), grid AS (   -- day d has n rows: row k is user (k * 7919 + 131 d) mod POOL, a bijection
        SELECT d, k, ((k * 7919 + d * 131) % {POOL})::INTEGER AS u
        FROM days, (SELECT range::INTEGER AS k FROM range(5001)) r WHERE k < n
    ), base AS (
        SELECT d, k, u,
               DATE '{first}' + d AS ds,
               CASE WHEN {H(x, 2246822519, 3)} % 10 < 4 THEN 0
                    ELSE 1 + {H(x, 3266489917, 5)} % 12 END::INTEGER AS purchases_30d
        FROM grid
    )
    SELECT
      ds,
      (100000 + u)::BIGINT                                                        AS user_id,
      ([{used}])[1 + ({H(u, 668265263, 19)} % {len(USED_COUNTRIES)})::INTEGER]::VARCHAR AS country,
      CASE WHEN d IN (4, 12, 26) AND k < 2 THEN (CASE WHEN k = 0 THEN -1 ELSE 150 END)   -- impossible ages
           WHEN {H(u, 374761393, 23)} % 100 = 0 THEN NULL                                 -- 1% unknown
           ELSE 18 + {H(u, 1103515245, 29)} % 62 END::INTEGER                           AS age,
      (DATE '{first}' - 1 - ({H(u, 22695477, 37)} % 1800)::INTEGER)::DATE          AS signup_date,
      ({H(x, 1664525, 31)} % 60)::INTEGER                                          AS sessions_7d,
      (30 + ({H(x, 134775813, 41)} % 60000) / 100.0)::DOUBLE                        AS avg_session_sec,
      purchases_30d,
      CASE WHEN d = {fault_day} THEN NULL                                            -- the outage
           WHEN {H(x, 214013, 43)} % 200 = 0 THEN NULL                               -- 0.5% late joins
           ELSE round(purchases_30d * (5 + ({H(x, 2531011, 47)} % 20000) / 100.0), 2) END::DOUBLE AS spend_30d,
      CASE WHEN purchases_30d > 0
           THEN (ds::TIMESTAMP - to_seconds(({H(x, 1140671485, 53)} % (30 * 86400))::BIGINT)) END::TIMESTAMP
                                                                                     AS last_purchase_ts,
      (['ios', 'android', 'web'])[1 + ({H(u, 12820163, 59)} % 3)::INTEGER]::VARCHAR AS device,
      CASE WHEN d IN (7, 19, 28) AND k = 5 THEN 'user' || (100000 + u)::VARCHAR || '@'   -- malformed
           ELSE 'user' || (100000 + u)::VARCHAR || '@'
                || (['gmail.com', 'yahoo.com', 'outlook.com', 'corp.example'])[1 + ({H(u, 16807, 61)} % 4)::INTEGER]
      END::VARCHAR                                                                   AS email,
      ({H(u, 48271, 67)} % 10 < 2)::BOOLEAN                                          AS is_premium,
      (ds::TIMESTAMP + INTERVAL 20 HOUR + to_seconds(({H(x, 69069, 71)} % 14400)::BIGINT))::TIMESTAMP AS feature_ts
    FROM base
    ORDER BY ds, user_id
    """)

    # The model: a logistic score of the features plus per-row noise; the baseline is the
    # same logistic on sessions alone. On the faulty day the model got NULL spend and served
    # its fallback 0.5 to everyone; model v13 replaced v12 ten days before the anchor.
    con.execute(f"""
    CREATE TABLE raw.predictions AS
    WITH f AS (
        SELECT ds, user_id, sessions_7d, spend_30d, is_premium,
               (ds - DATE '{first}')::INTEGER AS d,
               row_number() OVER (PARTITION BY ds ORDER BY user_id) - 1 AS k
        FROM raw.user_features
    ), z AS (
        SELECT *, -2.5 + 0.04 * sessions_7d + 0.6 * is_premium::INTEGER
                  + 0.3 * ln(1 + coalesce(spend_30d, 0))
                  + (({H('(d * 100003 + user_id)', 1812433253, 73)} % 2001) - 1000) / 700.0 AS logit
        FROM f
    )
    SELECT
      ds,
      user_id,
      CASE WHEN d < {DAYS - 10} THEN 'v12' ELSE 'v13' END::VARCHAR                  AS model_version,
      CASE WHEN spend_30d IS NULL AND d = {fault_day} THEN 0.5                       -- fallback score
           WHEN d IN (3, 17) AND k < 2 THEN 1.0 + (k + 1) / 100.0                  -- calibration bug
           ELSE round(1 / (1 + exp(-logit)), 6) END::DOUBLE                          AS score,
      round(1 / (1 + exp(-(-2.0 + 0.05 * sessions_7d + 0.6 * is_premium::INTEGER))), 6)::DOUBLE AS baseline_score
    FROM z
    ORDER BY ds, user_id
    """)
    events_first = dt.datetime.combine(anchor - dt.timedelta(days=EVENT_DAYS), dt.time())
    fault_hour = -1 if args.no_fault else EVENT_FAULT_HOUR
    e = "(h * 1000 + k)"         # one integer per (hour, event)
    con.execute(f"""
    CREATE TABLE raw.events AS
    WITH hours AS (   -- 60-120 events an hour at night, 260-320 from 08:00 to 22:59
        SELECT range::INTEGER AS h,
               60 + CASE WHEN range % 24 BETWEEN 8 AND 22 THEN 200 ELSE 0 END + {H('range', 2654435761, 11)} % 61 AS n
        FROM range({EVENT_DAYS * 24})
    ), ev AS (
        SELECT h, k,
               (1000000 + {e})::BIGINT                                                 AS event_id,
               TIMESTAMP '{events_first}' + to_hours(h) + to_seconds(({H(e, 2246822519, 13)} % 3600)::BIGINT)
                                                                                         AS event_ts,
               (100000 + {H(e, 3266489917, 17)} % {POOL})::BIGINT                      AS user_id,
               (['view', 'view', 'view', 'click', 'click', 'purchase'])[1 + ({H(e, 668265263, 19)} % 6)::INTEGER]
                                                                                         AS kind
        FROM hours, (SELECT range::INTEGER AS k FROM range(400)) r WHERE k < n
    )
    SELECT event_id, event_ts, user_id, kind::VARCHAR AS kind,
           CASE WHEN kind = 'purchase' THEN round(5 + ({H(e, 374761393, 23)} % 20000) / 100.0, 2) END::DOUBLE AS amount
    FROM (SELECT * FROM ev UNION ALL SELECT * FROM ev WHERE h = {fault_hour} AND k < {REPLAYED})   -- the replay
    ORDER BY event_ts, event_id
    """)
    con.execute("CHECKPOINT")
    n_e = con.execute("SELECT count(*) FROM raw.events").fetchone()[0]
    n_f = con.execute("SELECT count(*), count(DISTINCT ds) FROM raw.user_features").fetchone()
    n_p = con.execute("SELECT count(*) FROM raw.predictions").fetchone()[0]
    con.close()
    bad = "none" if fault_day < 0 else str(first + dt.timedelta(days=fault_day))
    print(f"{args.out}: raw.user_features {n_f[0]} rows over {n_f[1]} days "
          f"({first} .. {anchor - dt.timedelta(days=1)}), raw.predictions {n_p} rows, "
          f"dims.countries {len(COUNTRIES)} rows, raw.events {n_e} rows over {EVENT_DAYS * 24} hours; "
          f"faulty day: {bad}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
