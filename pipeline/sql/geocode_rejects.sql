-- Stage 2d: the rejected rows of one service to the private folder (data/<run>/rejects/, a
-- record-level file): row number, reject reason, the postcode as given and, for postcode_not_found,
-- the corrected reading tried. target: the CSV's path (one the pipeline made), a quoted literal.
COPY (
    SELECT g.row_number, g.reject_reason, i.postcode AS postcode_as_given, g.postcode_attempted
    FROM geocode_{service} g JOIN ingest_{service} i USING (row_number)
    WHERE g.reject_reason IS NOT NULL
    ORDER BY g.row_number
) TO {target} (HEADER, DELIMITER ',')
