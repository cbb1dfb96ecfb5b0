-- The rejects of an import whose entity rejects nothing after staging (customers, products): the rows the
-- format's checks rejected, with every reason, the raw values and the line (JSON lines and XML feeds give it;
-- a CSV's is counted later, for the rejected rows alone). Grain in: stg_row_rejects (view), one per rejected
-- row. Grain out: stg_rejects, one per rejected row. Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_rejects AS
SELECT _file, _row, raw::JSON AS raw, reasons, _line::BIGINT AS _line
FROM stg_row_rejects;
