-- The import's rejects, made once by the pipeline before the entity's store step: the rows the format's checks
-- rejected, with every reason, the raw values and the line (JSON lines and XML feeds give it; a CSV's is counted
-- later, for the rejected rows alone). An entity that rejects more after staging adds its own rows, or reasons, to
-- this table (orders: whole runs; events: records whose event cannot be stored); the pipeline then locates them
-- in their files and inserts them all into `rejects`.
-- Grain in: stg_row_rejects (view), one per rejected row. Grain out: stg_rejects, one per rejected row.
-- Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_rejects AS
SELECT _file, _row, raw::JSON AS raw, reasons, _line::BIGINT AS _line
FROM stg_row_rejects;
