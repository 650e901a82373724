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
