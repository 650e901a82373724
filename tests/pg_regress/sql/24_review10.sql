-- Fixes of the eighth session of 2026-11-30.

-- 1. A time column whose type is a domain over timestamptz is absolute
-- time: a time split records the last time less test_days whatever the
-- session's time zone (it was read as a local timestamp taken for UTC, nine
-- hours off in Tokyo), and the baskets it calls test are the same when
-- mined under another time zone.
CREATE SCHEMA r10;
CREATE DOMAIN r10.moment AS timestamptz;
CREATE TABLE r10.ts (basket int, item text, t r10.moment);
INSERT INTO r10.ts SELECT b, 'i' || ((b + i) % 9), '2024-01-01 00:00+00'::timestamptz + b * interval '1 hour'
FROM generate_series(1, 480) b, generate_series(1, 3) i;
SET TimeZone = 'Asia/Tokyo';
SELECT split, baskets FROM rar_split('r10.ts', time_column => 't', test_days => 5) ORDER BY split;
SELECT test_from = (SELECT max(t) - interval '5 days' FROM r10.ts) AS test_from_exact,
       test_from AT TIME ZONE 'UTC' AS test_from_utc
FROM rar.splits WHERE relation = 'r10.ts'::regclass;
SET TimeZone = 'America/New_York';
SELECT count(DISTINCT basket) AS test_baskets FROM r10.ts
WHERE basket IN (SELECT basket FROM r10.ts GROUP BY basket
                 HAVING min(t) >= (SELECT test_from FROM rar.splits WHERE relation = 'r10.ts'::regclass));
SELECT round((count / support)::numeric) AS test_baskets_mined FROM rar_mine('r10.ts', 0.001, 0, 2, split => 'test') LIMIT 1;
RESET TimeZone;

DROP SCHEMA r10 CASCADE;
