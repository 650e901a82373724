-- The arules Groceries data (9,835 baskets, 169 items): counts checked
-- against Borgelt's pyfim 6.28 (fpgrowth, target 'r', zmax 4).
-- (The table groceries is loaded by 00_setup, for the files that use it.)
-- Support of antecedent and consequent together (pyfim mode 'o'): 30,851.
SELECT count(*) FROM rar_mine('groceries', min_support => 0.001, min_confidence => 0.1);
-- Support of the antecedent (pyfim's default): 352,167, as in
-- ../shared/data/README.md.
SELECT count(*) FROM rar_mine('groceries', min_support => 0.001, min_confidence => 0.1, support_of => 'antecedent');
-- The strongest rules.
SELECT antecedent, consequent, round(support::numeric, 5) AS support,
       round(confidence::numeric, 4) AS confidence, round(lift::numeric, 3) AS lift, count
FROM rar_mine('groceries', min_support => 0.001, min_confidence => 0.1) LIMIT 5;
-- Cancellation: statement_timeout stops a long job.
-- (Budgets raised so that only the timeout can stop it.)
SET rar.max_rules = 2000000000;
SET rar.memory_limit = '8GB';
SET statement_timeout = '1s';
SELECT count(*) FROM rar_mine('groceries', min_support => 0.00005, min_confidence => 0, max_length => 8, support_of => 'antecedent');
RESET statement_timeout;
RESET rar.max_rules;
RESET rar.memory_limit;
