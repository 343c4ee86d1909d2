-- Stage 2b, first: the outcome table of one service, made empty; geocode_match fills it in one pass.
-- Its columns are those the match gives, in their types. household_key is stored uncompressed: the
-- keys are random hex, which DuckDB's string compression (FSST) shrinks little at a high price (it
-- was most of the cost of writing the table: docs/scale.md); the other columns compress as DuckDB
-- chooses.
CREATE OR REPLACE TABLE geocode_{service} (
    row_number BIGINT,
    match_level VARCHAR,
    reject_reason VARCHAR,
    postcode VARCHAR,
    oa21cd VARCHAR,
    ward_code VARCHAR,
    easting DOUBLE,
    northing DOUBLE,
    household_key VARCHAR USING COMPRESSION uncompressed,
    uprn VARCHAR,
    uprn_source VARCHAR,
    match_score DOUBLE,
    postcode_corrected BOOLEAN,
    postcode_attempted VARCHAR,
    postcode_terminated BOOLEAN,
    postcode_large_user BOOLEAN,
    postcode_outcome VARCHAR,
    uprn_given VARCHAR
)
