-- Upgrade a store written before rejects.reasons had `value`: older reasons get value null.
-- Grain: one ALTER of rejects, run once, when the store is opened for writing.
-- Parameters: none.

ALTER TABLE rejects ALTER reasons SET DATA TYPE STRUCT("column" VARCHAR, hint VARCHAR, "value" VARCHAR)[]
USING list_transform(reasons, lambda r: {'column': r."column", 'hint': r.hint, 'value': NULL::VARCHAR});
