-- Copy the rows of one national CSV whose key is one of the area's codes, file to file.
-- {source}: a read_csv(...) call with the file's own columns, every one VARCHAR (so values are
-- written back exactly as read); {key}: the key column, quoted; {codes}: a one-column table `code`;
-- {target}: the output CSV (a path the pipeline made), a quoted literal. Rows keep the national file's order (a semi join need not keep it, so
-- each row's place in the file is numbered first and the kept rows sorted back by it).
COPY (
    SELECT * EXCLUDE (insight_row)
    FROM (SELECT *, row_number() OVER () AS insight_row FROM {source})
    WHERE trim({key}) IN (SELECT code FROM {codes})
    ORDER BY insight_row
) TO {target} (HEADER, DELIMITER ',');
