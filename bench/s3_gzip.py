"""Bench step: the peak RSS of importing a ~1 GB (unpacked) gzip file from an S3 server on loopback (moto).

The Kevel orders CSV (bench/run.py makes it, 2,200,000 orders by default) gzipped once (level 1, streamed),
uploaded to a moto server on a free loopback port, and imported from s3:// by `etl import`: its wall time and
peak RSS, against the limit every import has (bench/run.py's MAX_RSS_BYTES).
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from harness import ETL, Row, Series, Target, checked, python, remove_duckdb_file, stamp_of

MOTO_SERVER = """
import sys, time
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]))
server.start()
print("ready", flush=True)
time.sleep(10**9)
"""

UPLOAD = """
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id="bench", aws_secret_access_key="bench",
                  region_name="us-east-1")
s3.create_bucket(Bucket="bench")
s3.upload_file(sys.argv[2], "bench", sys.argv[3])
"""


def ensure_gzip(csv_path: Path) -> Path:
    """csv_path gzipped (level 1, streamed), once per input (the CSV's stamp is the gzip's)."""
    packed = csv_path.with_suffix(".csv.gz")
    stamp_path, stamp = stamp_of(packed), stamp_of(csv_path).read_text()
    if packed.exists() and stamp_path.exists() and stamp_path.read_text() == stamp:
        return packed
    import gzip
    import shutil

    with open(csv_path, "rb") as plain, gzip.open(packed.with_suffix(".partial"), "wb", compresslevel=1) as out:
        shutil.copyfileobj(plain, out, 4 << 20)
    packed.with_suffix(".partial").replace(packed)
    stamp_path.write_text(stamp)
    return packed


def measure(csv_path: Path, workdir: Path, max_rss_bytes: float) -> str:
    """The import of `csv_path`, gzipped, from the loopback S3 server: one line of figures."""
    unpacked = csv_path.stat().st_size
    packed = ensure_gzip(csv_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(python(MOTO_SERVER, str(port)), stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        while (line := server.stdout.readline()) and line.strip() != "ready":  # moto says hello first
            pass
        subprocess.run(python(UPLOAD, endpoint, packed, "orders.csv.gz"), check=True)
        store = workdir / "s3.duckdb"
        remove_duckdb_file(store)
        command: list[str | Path] = [
            ETL, "import", "--format", "kevel_orders", "--source", "s3://bench/orders.csv.gz",
            "--connection", f"endpoint_url={endpoint}", "--connection", "key=bench", "--connection", "secret=bench",
            "--store", store, "--json",
        ]  # fmt: skip
        run = checked("S3 gzip import", command)
        remove_duckdb_file(store)
    finally:
        server.kill()
        server.wait()
    row = Row(Series.of("S3 gzip import", run), Target(max_rss_bytes=max_rss_bytes))
    return (
        f"gzip from S3 (loopback moto server): {packed.stat().st_size / 1e6:,.0f} MB packed, {unpacked / 1e9:.2f} GB "
        f"unpacked, {run.json()['items']:,} rows: {run.wall_s:.2f} s, peak RSS {run.peak_rss_bytes / 1e9:.2f} GB "
        f"(target {row.target.text()}) {row.verdict}"
    )
