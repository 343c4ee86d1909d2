-- Households (the one value column of TS041) of the chosen local authorities in the census's own
-- local-authority file (census2021-ts041-ltla.csv), to check the cut against.
SELECT count(*) AS lads, sum(TRY_CAST(replace({value}, ',', '') AS BIGINT)) AS households
FROM {source}
WHERE trim("geography code") IN (SELECT code FROM {codes});
