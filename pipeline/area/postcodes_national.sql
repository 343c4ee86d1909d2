-- The national postcode directory, every postcode kept, reduced to the columns the pipeline reads
-- and renamed to the ONSPD names of the run config defaults (pcds, oa21cd, osward, oslaua,
-- oseast1m, osnrth1m, doterm, osgrdind, usertype), file to file. {select}: `"<column>" AS <name>`
-- for each column the product has; {source}: a read_csv(...) of its CSV file(s), all VARCHAR.
COPY (
    SELECT {select}
    FROM {source}
    WHERE nullif(trim({postcode}), '') IS NOT NULL
) TO {target} (HEADER, DELIMITER ',');
