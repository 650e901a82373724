-- Reads the raw UCI Online Retail CSV from standard input, all 541,909 lines
-- as they are (cancellations, returns and all): rar_clean cleans them next.
\copy sales FROM pstdin WITH (FORMAT csv, HEADER true)
ANALYZE sales;
