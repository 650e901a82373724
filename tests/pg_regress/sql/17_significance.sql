-- Significance (Fisher's exact test, corrected for the number of rules)
-- and redundancy (improvement over every more general rule) of rar_mine.
CREATE TABLE sig_lines (basket int, item text);
-- Bread and butter go together far more often than chance; jam follows
-- bread and butter no more often than bread alone; milk is in every other
-- basket, whatever else is there.
INSERT INTO sig_lines
SELECT b, i FROM generate_series(1, 100) b, unnest(ARRAY['bread', 'butter', 'jam', 'milk']) i
WHERE (i = 'bread' AND b <= 50)
   OR (i = 'butter' AND (b <= 40 OR b BETWEEN 91 AND 95))
   OR (i = 'jam' AND (b <= 20 OR b BETWEEN 41 AND 45 OR b BETWEEN 51 AND 60))
   OR (i = 'milk' AND b % 2 = 0);
-- Every rule with its p-value (Holm by default, none, Bonferroni).
SELECT antecedent, consequent, round(confidence::numeric, 3) AS confidence, round(lift::numeric, 3) AS lift,
       round(p_value::numeric, 6) AS p_holm,
       (SELECT round(n.p_value::numeric, 6) FROM rar_mine('sig_lines', 0.05, 0.3, p_adjust => 'none') n
        WHERE n.antecedent = r.antecedent AND n.consequent = r.consequent) AS p_none
FROM rar_mine('sig_lines', 0.05, 0.3) r ORDER BY antecedent, consequent;
-- Only the rules that are not chance at 1% after Holm's correction.
SELECT antecedent, consequent FROM rar_mine('sig_lines', 0.05, 0.3, max_p_value => 0.01) ORDER BY 1, 2;
-- {bread, butter} => {jam} does no better than {bread} => {jam}: redundant.
SELECT antecedent, consequent, round(confidence::numeric, 3) AS confidence
FROM rar_mine('sig_lines', 0.05, 0.3, min_length => 2) WHERE consequent = '{jam}' ORDER BY 1;
SELECT antecedent, consequent FROM rar_mine('sig_lines', 0.05, 0.3, min_length => 2, min_improvement => 0)
WHERE consequent = '{jam}' ORDER BY 1;
SELECT count(*) AS all_rules,
       (SELECT count(*) FROM rar_mine('sig_lines', 0.05, 0.3, min_improvement => 0)) AS non_redundant,
       (SELECT count(*) FROM rar_mine('sig_lines', 0.05, 0.3, min_improvement => 0, max_p_value => 0.05)) AS non_redundant_significant
FROM rar_mine('sig_lines', 0.05, 0.3);
-- Bad values get clear errors.
SELECT show_error($$SELECT count(*) FROM rar_mine('sig_lines', p_adjust => 'BH')$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('sig_lines', p_adjust => NULL)$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('sig_lines', max_p_value => 1.5)$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('sig_lines', min_improvement => 'NaN')$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('sig_lines', method => 'neural', min_improvement => 0)$$);
DROP TABLE sig_lines;
