-- A products import's rejects: the rows the format's checks rejected, with every reason (none is rejected
-- later: a product id is the whole key). Grain in: stg_row_rejects. Grain out: stg_rejects, one per rejected
-- row. Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_rejects AS
SELECT _file, _row, raw::JSON AS raw, reasons, _line::BIGINT AS _line
FROM stg_row_rejects;
