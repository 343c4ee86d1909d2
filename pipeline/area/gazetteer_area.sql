-- The council gazetteer's addresses whose postcode is one of the area's (by the national postcode
-- reference attached as pcref: postcodes in the area's Output Areas, or in its LADs for a directory
-- without OAs), file to file. pc_key is the pipeline's one postcode key (pipeline.address.postcode).
COPY (
    SELECT g.*
    FROM {source} AS g
    WHERE pc_key(g.{postcode}) IN (SELECT pc_key FROM pcref.postcodes WHERE {area})
) TO {target} (HEADER, DELIMITER ',');
