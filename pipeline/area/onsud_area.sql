-- The UPRNs of the area's Output Areas from the ONS UPRN Directory (one CSV per region), under
-- the column names the run config's uprn_lookup defaults to, file to file.
COPY (
    SELECT {select}
    FROM {source}
    WHERE trim({oa}) IN (SELECT code FROM {codes})
) TO {target} (HEADER, DELIMITER ',');
