"""The store's events written as eSputnik's past events (etl/ops/export_esputnik_events.sql), for a move to
eSputnik: JSON lines files, each line one Generate past events body of at most 500 events, as one request would
send it (`while read -r body; do curl ... -d "$body"; done < past_events_00001.jsonl`). Importing the files with
`esputnik_events` gives the same events again."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from etl.errors import EtlError
from etl.store.sqlfiles import sql

PER_BODY = 500  # eSputnik's limit for one request
BODIES_PER_FILE = 200  # 100,000 events a file
PREFIX = "past_events_"
DOCUMENTED_FORM = r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?"  # 003's forms of occurred, written as given


def export(con, directory: Path, *, per_body: int = PER_BODY, bodies_per_file: int = BODIES_PER_FILE) -> dict:
    """Write the files into `directory` (which must hold none of an earlier export); what was written."""
    directory.mkdir(parents=True, exist_ok=True)
    earlier = sorted(directory.glob(f"{PREFIX}*.jsonl"))
    if earlier:
        raise EtlError(f"{directory} holds an earlier export ({earlier[0].name} ...): remove it or name another folder")
    con.execute("SET TimeZone = 'UTC'")
    reader = con.sql(sql("ops/export_esputnik_events"), params={"per_body": per_body}).to_arrow_reader(bodies_per_file)
    files, bodies, handle, in_file = [], 0, None, 0
    try:
        for batch in reader:
            texts = batch.column(1)
            start = 0
            while start < len(texts):
                if handle is None or in_file == bodies_per_file:
                    if handle is not None:
                        handle.close()
                    files.append(directory / f"{PREFIX}{len(files) + 1:05d}.jsonl")
                    handle, in_file = files[-1].open("wb"), 0
                take = min(bodies_per_file - in_file, len(texts) - start)
                part = texts.slice(start, take)
                lines = pa.ListArray.from_arrays(pa.array([0, take], pa.int32()), part)
                handle.write(pc.binary_join(lines, "\n")[0].as_py().encode("utf-8") + b"\n")
                in_file += take
                start += take
                bodies += take
    finally:
        if handle is not None:
            handle.close()
    # written to the minute (003's form): the events whose time had seconds, which eSputnik cannot take
    events, to_the_minute = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE date_part('microseconds', occurred_at AT TIME ZONE 'UTC') <> 0 "
        "AND NOT regexp_full_match(coalesce(properties ->> '$.occurred', ''), $form)) "
        "FROM events WHERE properties IS NOT NULL",
        {"form": DOCUMENTED_FORM},
    ).fetchall()[0]
    return {"files": [str(f) for f in files], "bodies": bodies, "events": events, "seconds_dropped": to_the_minute}
