-- The import's orders whose rows are the ones last stored for them: unchanged, without being parsed, checked or
-- compared (a re-import of the same export costs a hash join). The engine staged such rows as their keys and
-- hash alone (_first null: etl.pipeline.known, Plan.run_key); a row's hash covers the row as read, its place in
-- its order and its order's first row (rows.run_hashes), so a run whose first row changed has no known row.
-- A known run is an unchanged order when every row of it is one of that order's stored rows, and the order has
-- no other stored row. Anything else a known run may be in this import (some of its rows read and others
-- known, a row the store does not hold, its order in another run of the import) needs the run whole:
-- stg_known_needed then counts such runs, and the engine stages and stores the import again, nothing known.
-- Grain in: stg_rows (known rows: _seq, hash_hi, hash_lo; the others parsed), stg_row_rejects, order_row_hashes.
-- Grain out: stg_known_orders, one per known run (_seq, order_id, line_count, first_file, first_row);
-- stg_known_needed, one row: how many known runs are needed whole (`needed`). Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_known_orders AS
WITH known_rows AS (
    SELECT _seq, _file, _row, (hash_hi::UHUGEINT << 64) | hash_lo::UHUGEINT AS row_hash
    FROM stg_rows
    WHERE _first IS NULL
),
matched AS (
    SELECT known_rows.*, stored.order_id
    FROM known_rows
    LEFT JOIN order_row_hashes AS stored USING (row_hash)
)
SELECT
    _seq,
    any_value(order_id) AS order_id,
    count(DISTINCT row_hash) AS line_count,
    count(order_id) AS matched_rows,
    count(DISTINCT order_id) AS orders,
    any_value(_file) AS first_file,
    min(_row) AS first_row
FROM matched
GROUP BY _seq;

CREATE OR REPLACE TEMP TABLE stg_known_needed AS
WITH read_runs AS (
    SELECT _seq FROM stg_rows WHERE _first IS NOT NULL
    UNION
    SELECT _seq FROM stg_row_rejects
),
read_orders AS (
    SELECT order_id FROM stg_rows WHERE _first
    UNION ALL
    SELECT order_id FROM stg_row_rejects WHERE order_id IS NOT NULL
),
stored_counts AS (
    SELECT order_id, count(*) AS stored_rows
    FROM order_row_hashes
    SEMI JOIN stg_known_orders USING (order_id)
    GROUP BY order_id
),
known_runs_per_order AS (
    SELECT order_id, count(*) AS runs FROM stg_known_orders GROUP BY order_id
),
needed AS (
    SELECT known._seq
    FROM stg_known_orders AS known
    LEFT JOIN stored_counts USING (order_id)
    LEFT JOIN known_runs_per_order USING (order_id)
    WHERE known.orders <> 1
       OR known.matched_rows <> known.line_count
       OR stored_counts.stored_rows IS DISTINCT FROM known.line_count
       OR known_runs_per_order.runs > 1
       OR known._seq IN (SELECT _seq FROM read_runs)
       OR known.order_id IN (SELECT order_id FROM read_orders)
)
SELECT count(*) AS needed FROM needed;
