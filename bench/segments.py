"""Bench step: rfm and customer_summary over a store of 10 million orders (issue 6's target: 3 s each).

The store is synthetic history made by DuckDB itself (importing 10 M orders would take minutes
and measure the import again): 1 M customers, three years, 1-3 line items an order, the usual
mix of statuses. Each segment runs in a process of its own (bench/harness.py: its peak RSS): once to
warm the file's pages, then three times, timed inside it; the median counts.
"""

from __future__ import annotations

from pathlib import Path

from harness import Row, Series, Target, checked, python, table

SEGMENT_MAX_S = 3.0  # rfm and customer_summary, each

MAKE_STORE = r"""
import sys, time
from pathlib import Path
from etl.store.connection import connect, refresh_order_facts
orders = int(sys.argv[2])
with connect(Path(sys.argv[1]), read_only=False) as con:
    con.execute(
        "INSERT INTO orders (order_id, customer_id, user_id_type, user_id, currency, total, created_at) "
        "SELECT 'o' || i, 1 + (hash(i, 1) % 1000000)::BIGINT, 'email', "
        "       'c' || (hash(i, 1) % 1000000) || '@example.com', 'EUR', 0, "
        "       TIMESTAMPTZ '2022-01-01 00:00:00+00' + to_seconds((hash(i, 2) % (3 * 365 * 86400))::BIGINT) "
        "FROM range($orders) AS t(i)",
        {"orders": orders},
    )
    con.execute(
        "INSERT INTO line_items "
        "    (order_id, line_no, product_id, category, categories, currency, total, quantity, status) "
        "SELECT 'o' || i, n, 'p' || (hash(i, n) % 5000), 'c' || (hash(i, n) % 40), ['c' || (hash(i, n) % 40)], "
        "       'EUR', (hash(i, n, 3) % 20000) / 100.0, 1 + hash(i, n, 4) % 3, "
        "       ['placed', 'paid', 'fulfilled', 'fulfilled', 'fulfilled', 'refunded', 'cancelled']"
        "           [(1 + hash(i, n, 5) % 7)::BIGINT] "
        "FROM range($orders) AS t(i), range(1, 2 + (hash(i, 6) % 3)::INTEGER) AS l(n)",
        {"orders": orders},
    )
    start = time.perf_counter()
    refresh_order_facts(con)  # rows inserted in SQL: what `etl refresh` does after them
    print(time.perf_counter() - start)
    print(*con.execute("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM line_items)").fetchall()[0])
"""

# A store made before order_facts existed gets them (a write connection rebuilds out-of-date ones).
REFRESH_STORE = r"""
import sys, time
from pathlib import Path
from etl.store.connection import connect
start = time.perf_counter()
with connect(Path(sys.argv[1]), read_only=False):
    pass
print(time.perf_counter() - start)
"""

RUN_SEGMENT = r"""
import sys, time
from pathlib import Path
from etl.segments import run as segment
from etl.store.connection import connect
params = {"observation_end": "2024-12-31"}
with connect(Path(sys.argv[1]), read_only=True) as con:
    segment.run(sys.argv[2], params, con=con)  # warm: the file's pages in the cache
    times = []
    for _ in range(3):
        start = time.perf_counter()
        rows = segment.run(sys.argv[2], params, con=con).height
        times.append(time.perf_counter() - start)
print(sorted(times)[1], rows)
"""


def measure_segments(orders: int, workdir: Path) -> str:
    """rfm and customer_summary over a store of `orders` orders (made once): a table. StepFailed when one fails."""
    store = workdir / f"segments_{orders}.duckdb"
    if not store.exists():
        partial = store.with_name(store.name + ".partial")
        partial.unlink(missing_ok=True)
        made = checked("segment store", python(MAKE_STORE, partial, str(orders)))
        refresh_s = float(made.stdout.split()[-3])
        stored_orders, line_items = made.stdout.split()[-2:]
        print(
            f"segment store: {int(stored_orders):,} orders, {int(line_items):,} line items; "
            f"order_facts built in {refresh_s:.1f} s",
            flush=True,
        )
        partial.replace(store)
    else:
        checked("segment store refresh", python(REFRESH_STORE, store))
    rows = []
    for name in ("rfm", "customer_summary"):
        done = checked(name, python(RUN_SEGMENT, store, name))
        seconds, customers = done.stdout.split()[-2:]
        series = Series(name)
        series.add(done, seconds=float(seconds))
        rows.append(Row(series, Target(max_s=SEGMENT_MAX_S), label=f"{name} over {orders:,} orders",
                        cells={"customers": f"{int(customers):,}"}))  # fmt: skip
    heading = "Segments over the orders (query time: the median of 3 in a process of its own, after one to warm up):"
    return "\n".join([heading, "", table(rows, extra=["customers"], seconds="query s")])
