-- Rules over time: the rules of the whole table counted month by month,
-- whether each holds, how that changed, and a test of the change.
CREATE TABLE ot_lines (basket int, item text, sold_at timestamptz);
INSERT INTO ot_lines
SELECT b, i, timestamptz '2024-01-01 12:00+00' + (b / 40) * interval '1 month' + (b % 40) * interval '10 minutes'
FROM generate_series(0, 119) b, unnest(ARRAY['bread', 'butter', 'jam']) i
WHERE (i = 'bread')
   OR (i = 'butter' AND (b / 40 <> 1 OR b % 5 = 0) AND b % 4 <> 3)
   OR (i = 'jam' AND b / 40 = 2 AND b % 2 = 0);
-- A session time zone far from UTC changes nothing: windows are in UTC.
SET TimeZone = 'Pacific/Kiritimati';
SELECT window_start, antecedent, consequent, baskets, count, round(confidence::numeric, 3) AS confidence,
       holds, change, round(p_change::numeric, 4) AS p_change
FROM rar_rules_over_time('ot_lines', 'sold_at', min_support => 0.1, min_confidence => 0.5)
ORDER BY window_start, antecedent, consequent;
RESET TimeZone;
-- Each month's figures are those of rar_mine on that month's baskets.
CREATE VIEW ot_february AS SELECT basket, item FROM ot_lines WHERE sold_at >= '2024-02-01 00:00+00' AND sold_at < '2024-03-01 00:00+00';
SELECT (SELECT count(*) FROM rar_rules_over_time('ot_lines', 'sold_at', min_support => 0.1, min_confidence => 0.5) t
        JOIN rar_mine('ot_february', 0.01, 0.0) m USING (antecedent, consequent)
        WHERE t.window_start = '2024-02-01' AND (t.count <> m.count OR abs(t.confidence - m.confidence) > 1e-12)) AS february_mismatches,
       (SELECT count(*) FROM rar_rules_over_time('ot_lines', 'sold_at', min_support => 0.1, min_confidence => 0.5)
        WHERE window_start = '2024-02-01') AS february_rules;
SELECT show_error($$SELECT count(*) FROM rar_rules_over_time('ot_lines', 'basket')$$);
SELECT show_error($$SELECT count(*) FROM rar_rules_over_time('ot_lines', 'sold_at', period => 'fortnight')$$);
SELECT show_error($$SELECT count(*) FROM rar_rules_over_time('ot_lines', NULL)$$);
SELECT show_error($$SELECT count(*) FROM rar_rules_over_time('ot_lines', 'nope')$$);
DROP VIEW ot_february;
DROP TABLE ot_lines;
-- Windows without baskets with items have no rows; times that are not
-- finite are left out; rules over time need two items or more.
CREATE TABLE ot_gaps (basket int, item text, at date);
INSERT INTO ot_gaps VALUES (1, 'a', '2024-01-05'), (1, 'b', '2024-01-05'), (2, 'a', '2024-03-05'), (2, 'b', '2024-03-05'),
                           (9, NULL, '2024-02-01'), (10, 'a', 'infinity'), (10, 'b', 'infinity');
SELECT window_start, antecedent, consequent, baskets, change FROM rar_rules_over_time('ot_gaps', 'at', min_support => 0.1)
ORDER BY 1, 2, 3;
SELECT show_error($$SELECT count(*) FROM rar_rules_over_time('ot_gaps', 'at', max_length => 1)$$);
DROP TABLE ot_gaps;
-- Rules over refreshes (rar.rule_trends): each rule of a refreshed set
-- beside the set before it. 100 baskets, then 100 more in which butter is
-- rarer (bread => butter weakens), milk is gone (its rule vanishes) and
-- eggs appear (their rule emerges).
CREATE TABLE tr_lines (basket int, item text);
INSERT INTO tr_lines SELECT b, 'bread' FROM generate_series(1, 100) b;
INSERT INTO tr_lines SELECT b, 'butter' FROM generate_series(1, 80) b;
INSERT INTO tr_lines SELECT b, 'jam' FROM generate_series(1, 100, 4) b;
INSERT INTO tr_lines SELECT b, 'milk' FROM generate_series(1, 30) b;
SELECT name FROM rar_register('tr', 'tr_lines', defaults => '{"min_support": 0.1, "min_confidence": 0.5, "max_length": 2}');
CALL rar_refresh('tr');
SELECT antecedent, consequent, change, previous_set IS NULL AS no_previous FROM rar.rule_trends WHERE source = 'tr' ORDER BY 1, 2;
INSERT INTO tr_lines SELECT b, 'bread' FROM generate_series(101, 200) b;
INSERT INTO tr_lines SELECT b, 'butter' FROM generate_series(101, 150) b;
INSERT INTO tr_lines SELECT b, 'jam' FROM generate_series(101, 200, 2) b;
INSERT INTO tr_lines SELECT b, 'eggs' FROM generate_series(151, 200) b;
DELETE FROM tr_lines WHERE item = 'milk';
CALL rar_refresh('tr');
-- scipy.stats.norm.sf gives p = 0.007526 for bread => butter (80 of 100,
-- then 130 of 200) and 0.069419 for jam => butter (20 of 25, 45 of 75).
SELECT antecedent, consequent, change, same_params, previous_count, count, round(previous_confidence::numeric, 3) AS before,
       round(confidence::numeric, 3) AS after, round(p_change::numeric, 6) AS p_change
FROM rar.rule_trends WHERE source = 'tr' AND set_id = (SELECT max(set_id) FROM rar.rule_sets WHERE source = 'tr')
ORDER BY 1, 2;
-- The test of two proportions, by hand: 0.8 (80 of 100) against 0.5 (50 of
-- 100): z = 4.447, p = 8.69e-06 by scipy.stats.norm.sf.
SELECT round(rar.confidence_change_p(80, 100, 50, 100)::numeric, 6) AS p,
       rar.confidence_change_p(5, 4, 1, 2) IS NULL AS more_than_the_antecedent,
       rar.confidence_change_p(1, 0, 1, 2) IS NULL AS no_antecedent;
-- A role that may not read the table sees none of its trends.
CREATE ROLE rar_test_trends;
SET ROLE rar_test_trends;
SELECT count(*) AS trends_seen FROM rar.rule_trends WHERE source = 'tr';
RESET ROLE;
DROP ROLE rar_test_trends;
SELECT rar_unregister('tr');
DROP TABLE tr_lines;
