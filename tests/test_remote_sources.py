"""Remote sources against real servers on loopback (tests/servers.py): S3, SFTP, HTTP.

First the servers themselves, checked with the client libraries the product uses (fsspec,
s3fs, paramiko, aiohttp); then the `etl import` command end to end against them.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import duckdb
import fsspec
import pytest
from conftest import kevel_row, write_csv, write_spec


def fresh(protocol: str, **options):
    """A filesystem of our own (fsspec caches instances: a test must not reuse another's)."""
    return fsspec.filesystem(protocol, skip_instance_cache=True, **options)


# --- the servers, with the real clients -------------------------------------------------------


def test_s3_server_write_glob_read(s3_server) -> None:
    fs = fresh("s3", **s3_server.storage_options)
    fs.mkdir("servers-check")
    for name in ["2024-02.csv.gz", "2024-01.csv.gz", "2023-12.csv.gz", "2024-01.csv"]:
        fs.pipe(f"s3://servers-check/orders/{name}", gzip.compress(name.encode()))
    assert fs.glob("s3://servers-check/orders/2024-*.csv.gz") == [
        "servers-check/orders/2024-01.csv.gz",
        "servers-check/orders/2024-02.csv.gz",
    ]
    assert gzip.decompress(fs.cat("s3://servers-check/orders/2024-02.csv.gz")) == b"2024-02.csv.gz"
    with fs.open("s3://servers-check/orders/2024-01.csv.gz", "rb") as handle:
        assert gzip.decompress(handle.read()) == b"2024-01.csv.gz"
    s3_server.put("servers-check-2", "a.csv", b"x,y\n1,2\n")  # the helper creates the bucket
    assert fs.cat("s3://servers-check-2/a.csv") == b"x,y\n1,2\n"


def test_s3_server_checks_credentials(s3_server) -> None:
    s3_server.put("servers-auth", "a.csv", b"a\n")
    wrong = {**s3_server.storage_options, "secret": "not-the-secret"}
    with pytest.raises(PermissionError):
        fresh("s3", **wrong).cat("s3://servers-auth/a.csv")
    unknown = {**s3_server.storage_options, "key": "AKIAUNKNOWNKEY000000"}
    with pytest.raises(PermissionError):
        fresh("s3", **unknown).cat("s3://servers-auth/a.csv")


@pytest.mark.parametrize("auth", ["password", "key_filename"])
def test_sftp_server_password_and_key(sftp_server, auth: str) -> None:
    (sftp_server.root / "servers-check").mkdir(exist_ok=True)
    (sftp_server.root / "servers-check" / f"{auth}.csv").write_bytes(b"a,b\n1,2\n")
    key = {"key_filename": str(sftp_server.private_key_path)}
    credential = {"password": sftp_server.password} if auth == "password" else key
    fs = fresh(
        "sftp",
        host=sftp_server.host,
        port=sftp_server.port,
        username=sftp_server.username,
        look_for_keys=False,
        allow_agent=False,
        **credential,
    )
    try:
        assert fs.cat(f"/servers-check/{auth}.csv") == b"a,b\n1,2\n"  # the root is the served folder
        assert f"/servers-check/{auth}.csv" in fs.ls("/servers-check")
        fs.pipe(f"/servers-check/written-{auth}.txt", b"hello")
        assert (sftp_server.root / "servers-check" / f"written-{auth}.txt").read_bytes() == b"hello"
    finally:
        fs.client.close()


def test_sftp_server_refuses_wrong_password(sftp_server) -> None:
    import paramiko

    with pytest.raises(paramiko.AuthenticationException):
        fresh(
            "sftp",
            host=sftp_server.host,
            port=sftp_server.port,
            username=sftp_server.username,
            password="not-the-password",
            look_for_keys=False,
            allow_agent=False,
        )


def test_http_server_get_head_range(http_server) -> None:
    (http_server.root / "a.csv").write_bytes(b"a,b\n1,2\n3,4\n")
    assert fsspec.open(http_server.base_url + "/a.csv").open().read() == b"a,b\n1,2\n3,4\n"
    fs = fresh("http")
    assert fs.info(http_server.base_url + "/a.csv")["size"] == 12  # HEAD
    with fs.open(http_server.base_url + "/a.csv", "rb", block_size=4) as handle:  # Range requests
        handle.seek(4)
        assert handle.read(3) == b"1,2"
    assert fs.cat_file(http_server.base_url + "/a.csv", start=-3) == b"3,4\n"[-3:]
    assert not fs.exists(http_server.base_url + "/missing.csv")
    assert (
        hashlib.sha256(fs.cat(http_server.base_url + "/a.csv")).hexdigest()
        == hashlib.sha256((http_server.root / "a.csv").read_bytes()).hexdigest()
    )


def test_http_server_private_folder_needs_the_header(http_server) -> None:
    (http_server.root / "private" / "p.csv").write_bytes(b"a\n1\n")
    url = http_server.base_url + "/private/p.csv"
    with pytest.raises(aiohttp.ClientResponseError) as refused:
        fresh("http").cat(url)
    assert refused.value.status == 401
    assert fresh("http", headers={"Authorization": http_server.auth_header}).cat(url) == b"a\n1\n"


# --- `etl import` end to end against the servers ----------------------------------------------

BUCKET = "etl-e2e"
AWS_VARIABLES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION"]
CLEAR_AUTH_ERROR = re.compile(r"authenticat|password|credential|permission|denied|forbidden|signature|access", re.I)
CLEAR_MISSING_ERROR = re.compile(r"no such|not found|does not exist|no file matches|nosuchbucket|missing", re.I)


def isolated_env(tmp_path: Path, **variables: str) -> dict[str, str]:
    """Environment of an etl run that reads no ~/.aws and no AWS credentials of the machine."""
    env = {
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.update({name: "" for name in AWS_VARIABLES if name in os.environ})  # botocore takes "" as unset
    env.update(variables)
    return env


def orders_csv(tmp_path: Path, order_ids: list[str], rejected: Sequence[str] = (), encoding: str = "utf-8", **values):
    """CSV bytes of one-line orders (kevel_row), plus rows with an invalid email (rejected)."""
    rows = [kevel_row(order_id, **values) for order_id in order_ids]
    rows += [kevel_row(order_id, userId="not-an-email") for order_id in rejected]
    path = tmp_path / f"orders-{uuid.uuid4().hex}.csv"
    data = write_csv(path, rows, encoding=encoding).read_bytes()
    path.unlink()
    return data


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_values(store: Path) -> list[tuple[str, str]]:
    """(table, value as text) for every value of every table of the store."""
    if not store.exists():
        return []
    found = []
    with duckdb.connect(str(store), read_only=True) as con:
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY table_name").fetchall():
            for row in con.execute(f'SELECT * FROM "{table}"').fetchall():  # noqa: S608 (names from the catalog)
                found.extend((table, str(value)) for value in row if value is not None)
    return found


def assert_nowhere(secrets: list[str], run, store: Path) -> None:
    """No secret (nor its URL-encoded form) in stdout, stderr, the store's tables or any file beside it."""
    forms = {form for secret in secrets for form in (secret, quote(secret, safe=""))}
    values = store_values(store)
    assert values or not store.exists(), "the store was not read"
    for form in forms:
        assert form not in run.stdout, "a secret is in stdout"
        assert form not in run.stderr, "a secret is in stderr"
        tables = sorted({table for table, value in values if form in value})
        assert not tables, f"a secret is in the store, in table(s) {tables}"
        for path in store.parent.rglob("*") if store.parent.exists() else []:
            if path.is_file():
                assert form.encode() not in path.read_bytes(), f"a secret is in {path}"


def assert_clean_failure(run, source_uri: str, clear: re.Pattern[str]) -> None:
    """Failed with a message for the user that names the source; no traceback, no internal error."""
    assert run.code not in (0, 70), (run.code, run.stderr)
    assert "Traceback" not in run.stdout + run.stderr
    assert "internal error" not in run.stderr, run.stderr
    assert source_uri in run.stderr, f"the message does not name {source_uri}: {run.stderr}"
    assert clear.search(run.stderr), f"the message does not say what is wrong: {run.stderr}"


def query_orders(store: Path) -> list[str]:
    if not store.exists():
        return []
    with duckdb.connect(str(store), read_only=True) as con:
        return [order_id for (order_id,) in con.execute("SELECT order_id FROM orders").fetchall()]


def assert_imported(run, order_ids: list[str], query, rejected: int = 0) -> dict[str, Any]:
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr
    report = run.json
    assert report["status"] == "completed"
    assert report["items"] == len(order_ids) + rejected
    assert report["valid"] == len(order_ids)
    assert report["rejected"] == rejected
    assert report["entities"]["orders"] == {"added": len(order_ids), "updated": 0, "unchanged": 0}
    assert report["entities"]["line_items"]["added"] == len(order_ids)
    assert [r["order_id"] for r in query("SELECT order_id FROM orders ORDER BY order_id")] == sorted(order_ids)
    return report


def test_import_one_csv_from_s3_with_the_spec_connection(s3_server, etl, query, store, tmp_path) -> None:
    data = orders_csv(tmp_path, ["s3-a", "s3-b"], rejected=["s3-bad"])
    uri = s3_server.put(BUCKET, f"{tmp_path.name}/orders.csv", data)
    spec = write_spec(tmp_path, uri, connection=s3_server.storage_options)

    run = etl("import", str(spec), "--json", env=isolated_env(tmp_path))

    report = assert_imported(run, ["s3-a", "s3-b"], query, rejected=1)
    [file] = report["files"]
    assert (file["uri"], file["sha256"], file["rows"]) == (uri, sha256(data), 3)
    assert [r["source"] for r in query("SELECT source FROM rejects")] == [uri]
    assert query("SELECT sources FROM imports") == [{"sources": [uri]}]
    assert_nowhere([s3_server.secret], run, store)


def test_import_from_s3_with_credentials_from_aws_environment_variables(s3_server, etl, query, store, tmp_path) -> None:
    data = orders_csv(tmp_path, ["env-a"])
    uri = s3_server.put(BUCKET, f"{tmp_path.name}/orders.csv", data)
    spec = write_spec(tmp_path, uri, connection={"endpoint_url": s3_server.endpoint_url})
    env = isolated_env(
        tmp_path,
        AWS_ACCESS_KEY_ID=s3_server.key,
        AWS_SECRET_ACCESS_KEY=s3_server.secret,
        AWS_DEFAULT_REGION=s3_server.region,
    )

    run = etl("import", str(spec), "--json", env=env)

    report = assert_imported(run, ["env-a"], query)
    assert [(f["uri"], f["sha256"]) for f in report["files"]] == [(uri, sha256(data))]
    assert_nowhere([s3_server.secret], run, store)


def test_import_a_glob_of_gzipped_objects_on_s3_in_name_order(s3_server, etl, query, store, tmp_path) -> None:
    prefix = f"{tmp_path.name}/orders"
    objects = {  # uploaded out of name order; only the 2024-*.csv.gz ones match
        "2024-03.csv.gz": ["m3-a", "m3-b"],
        "2024-01.csv.gz": ["m1-a"],
        "2024-02.csv.gz": ["m2-a", "m2-b", "m2-c"],
        "2023-12.csv.gz": ["old"],
        "2024-04.csv": ["plain"],
    }
    stored = {}
    for name, order_ids in objects.items():
        stored[name] = gzip.compress(orders_csv(tmp_path, order_ids), mtime=0)
        s3_server.put(BUCKET, f"{prefix}/{name}", stored[name])
    spec = write_spec(tmp_path, f"s3://{BUCKET}/{prefix}/2024-*.csv.gz", connection=s3_server.storage_options)

    run = etl("import", str(spec), "--json", env=isolated_env(tmp_path))

    report = assert_imported(run, ["m1-a", "m2-a", "m2-b", "m2-c", "m3-a", "m3-b"], query)
    names = ["2024-01.csv.gz", "2024-02.csv.gz", "2024-03.csv.gz"]
    assert [f["uri"] for f in report["files"]] == [f"s3://{BUCKET}/{prefix}/{name}" for name in names]
    assert [f["sha256"] for f in report["files"]] == [sha256(stored[name]) for name in names]
    assert [f["rows"] for f in report["files"]] == [1, 3, 2]
    assert_nowhere([s3_server.secret], run, store)


def test_import_from_http(http_server, etl, query, tmp_path) -> None:
    data = orders_csv(tmp_path, ["web-a", "web-b"])
    folder = http_server.root / tmp_path.name
    folder.mkdir()
    (folder / "orders.csv").write_bytes(data)
    uri = f"{http_server.base_url}/{tmp_path.name}/orders.csv"

    run = etl("import", str(write_spec(tmp_path, uri)), "--json", env=isolated_env(tmp_path))

    report = assert_imported(run, ["web-a", "web-b"], query)
    assert [(f["uri"], f["sha256"], f["rows"]) for f in report["files"]] == [(uri, sha256(data), 2)]


def test_import_from_http_with_headers_from_the_connection(http_server, etl, query, store, tmp_path) -> None:
    data = orders_csv(tmp_path, ["private-a"])
    (http_server.root / "private" / f"{tmp_path.name}.csv").write_bytes(data)
    uri = f"{http_server.base_url}/private/{tmp_path.name}.csv"
    spec = write_spec(tmp_path, uri, connection={"headers": {"Authorization": http_server.auth_header}})

    run = etl("import", str(spec), "--json", env=isolated_env(tmp_path))

    report = assert_imported(run, ["private-a"], query)
    assert [(f["uri"], f["sha256"]) for f in report["files"]] == [(uri, sha256(data))]
    assert_nowhere([http_server.auth_header.split()[1]], run, store)


def sftp_folder(sftp_server, tmp_path: Path, data: bytes) -> str:
    """Put orders.csv in a folder of its own on the SFTP server; returns that folder's name."""
    folder = sftp_server.root / tmp_path.name
    folder.mkdir()
    (folder / "orders.csv").write_bytes(data)
    return tmp_path.name


def test_import_from_sftp_with_a_password_from_the_environment(sftp_server, etl, query, store, tmp_path) -> None:
    data = orders_csv(tmp_path, ["ftp-a", "ftp-b"], rejected=["ftp-bad"])
    folder = sftp_folder(sftp_server, tmp_path, data)
    uri = sftp_server.url(f"{folder}/orders.csv")  # sftp://etl-user@127.0.0.1:PORT/...
    spec = write_spec(tmp_path, uri, connection={"password": "${ETL_TEST_SFTP_PASSWORD}"})
    assert sftp_server.password not in spec.read_text()

    run = etl("import", str(spec), "--json", env=isolated_env(tmp_path, ETL_TEST_SFTP_PASSWORD=sftp_server.password))

    report = assert_imported(run, ["ftp-a", "ftp-b"], query, rejected=1)
    [file] = report["files"]
    assert file["uri"] in {uri, sftp_server.url(f"{folder}/orders.csv", user=False)}
    assert (file["sha256"], file["rows"]) == (sha256(data), 3)
    assert_nowhere([sftp_server.password], run, store)


def test_import_from_sftp_with_a_private_key(sftp_server, etl, query, store, tmp_path) -> None:
    data = orders_csv(tmp_path, ["key-a"])
    folder = sftp_folder(sftp_server, tmp_path, data)
    uri = sftp_server.url(f"{folder}/orders.csv", user=False)  # the user comes from the connection
    connection = {"username": sftp_server.username, "key_filename": str(sftp_server.private_key_path)}
    spec = write_spec(tmp_path, uri, connection=connection)

    run = etl("import", str(spec), "--json", env=isolated_env(tmp_path))

    report = assert_imported(run, ["key-a"], query)
    assert [(f["uri"], f["sha256"]) for f in report["files"]] == [(uri, sha256(data))]
    private_key = sftp_server.private_key_path.read_text().splitlines()[1]  # a line of the key's base64
    assert_nowhere([private_key], run, store)


def test_an_unset_environment_variable_is_named(sftp_server, etl, store, tmp_path) -> None:
    folder = sftp_folder(sftp_server, tmp_path, orders_csv(tmp_path, ["x"]))
    spec = write_spec(
        tmp_path, sftp_server.url(f"{folder}/orders.csv"), connection={"password": "${ETL_TEST_UNSET_PASSWORD}"}
    )

    run = etl("import", str(spec), "--json", env=isolated_env(tmp_path))

    assert run.code not in (0, 70), run.stderr
    assert "Traceback" not in run.stderr
    assert "ETL_TEST_UNSET_PASSWORD" in run.stderr
    assert re.search(r"not set|unset|undefined|missing", run.stderr, re.I), run.stderr
    assert not query_orders(store)


def test_connection_flags_override_the_spec(s3_server, etl, query, store, tmp_path) -> None:
    data = orders_csv(tmp_path, ["flag-a"])
    uri = s3_server.put(BUCKET, f"{tmp_path.name}/orders.csv", data)
    wrong = {  # every value wrong: an unused port, a key moto does not know
        "endpoint_url": "http://127.0.0.1:9",
        "key": "AKIAWRONGWRONGWRONG0",
        "secret": "wrong-secret-in-the-spec",
        "client_kwargs": {"region_name": s3_server.region},
    }
    spec = write_spec(tmp_path, uri, connection=wrong)

    run = etl(
        "import",
        str(spec),
        "--json",
        "--connection",
        f"endpoint_url={s3_server.endpoint_url}",
        "--connection",
        f"key={s3_server.key}",
        "--connection",
        f"secret={s3_server.secret}",
        env=isolated_env(tmp_path),
    )

    report = assert_imported(run, ["flag-a"], query)
    assert [(f["uri"], f["sha256"]) for f in report["files"]] == [(uri, sha256(data))]
    assert_nowhere([s3_server.secret, "wrong-secret-in-the-spec"], run, store)


def test_encoding_flag(http_server, etl, query, tmp_path) -> None:
    data = orders_csv(tmp_path, ["enc-a"], encoding="cp1251", lineItem_sku="носки-1")
    (http_server.root / f"{tmp_path.name}.csv").write_bytes(data)
    spec = write_spec(tmp_path, f"{http_server.base_url}/{tmp_path.name}.csv", encoding="utf-8")

    run = etl("import", str(spec), "--json", "--encoding", "cp1251", env=isolated_env(tmp_path))

    report = assert_imported(run, ["enc-a"], query)
    assert report["files"][0]["sha256"] == sha256(data)  # of the bytes as served, in cp1251
    assert query("SELECT sku FROM line_items") == [{"sku": "носки-1"}]


def test_compression_flag(http_server, etl, query, tmp_path) -> None:
    data = orders_csv(tmp_path, ["plain-a"])  # plain text under a .gz name: `auto` would take it for gzip
    (http_server.root / f"{tmp_path.name}.csv.gz").write_bytes(data)
    spec = write_spec(tmp_path, f"{http_server.base_url}/{tmp_path.name}.csv.gz", compression="gzip")

    run = etl("import", str(spec), "--json", "--compression", "none", env=isolated_env(tmp_path))

    report = assert_imported(run, ["plain-a"], query)
    assert report["files"][0]["sha256"] == sha256(data)


@pytest.mark.parametrize("where", ["environment", "url"])
def test_a_wrong_sftp_password_fails_cleanly(sftp_server, etl, store, tmp_path, where: str) -> None:
    folder = sftp_folder(sftp_server, tmp_path, orders_csv(tmp_path, ["x"]))
    wrong = "wrong-" + uuid.uuid4().hex
    shown = sftp_server.url(f"{folder}/orders.csv", user=False)
    if where == "environment":
        source, connection = sftp_server.url(f"{folder}/orders.csv"), {"password": "${ETL_TEST_SFTP_PASSWORD}"}
    else:  # sftp://user:password@host:port/path, which fsspec understands
        source = f"sftp://{sftp_server.username}:{wrong}@{sftp_server.host}:{sftp_server.port}/{folder}/orders.csv"
        connection = None
    spec = write_spec(tmp_path, source, connection=connection)

    run = etl("import", str(spec), "--json", env=isolated_env(tmp_path, ETL_TEST_SFTP_PASSWORD=wrong))

    assert_clean_failure(run, shown.removeprefix("sftp://"), CLEAR_AUTH_ERROR)
    assert_nowhere([wrong, sftp_server.password], run, store)
    assert not query_orders(store)


def test_a_wrong_s3_secret_fails_cleanly(s3_server, etl, store, tmp_path) -> None:
    uri = s3_server.put(BUCKET, f"{tmp_path.name}/orders.csv", orders_csv(tmp_path, ["x"]))
    wrong = "wrong-" + uuid.uuid4().hex
    spec = write_spec(tmp_path, uri, connection={**s3_server.storage_options, "secret": wrong})

    run = etl("import", str(spec), "--json", env=isolated_env(tmp_path))

    assert_clean_failure(run, uri, CLEAR_AUTH_ERROR)
    assert_nowhere([wrong, s3_server.secret], run, store)
    assert not query_orders(store)


@pytest.mark.parametrize("case", ["missing object", "missing bucket", "glob without match"])
def test_a_missing_s3_source_is_a_clear_error(s3_server, etl, store, tmp_path, case: str) -> None:
    s3_server.put(BUCKET, f"{tmp_path.name}/orders/2023-01.csv", orders_csv(tmp_path, ["x"]))
    source = {
        "missing object": f"s3://{BUCKET}/{tmp_path.name}/orders/2024-01.csv",
        "missing bucket": "s3://etl-e2e-no-such-bucket/orders.csv",
        "glob without match": f"s3://{BUCKET}/{tmp_path.name}/orders/2024-*.csv",
    }[case]
    spec = write_spec(tmp_path, source, connection=s3_server.storage_options)

    run = etl("import", str(spec), "--json", env=isolated_env(tmp_path))

    assert_clean_failure(run, source, CLEAR_MISSING_ERROR)
    assert_nowhere([s3_server.secret], run, store)
    assert not query_orders(store)


def test_import_from_s3_with_a_profile_from_the_aws_files(s3_server, etl, query, store, tmp_path) -> None:
    data = orders_csv(tmp_path, ["profile-a"])
    uri = s3_server.put(BUCKET, f"{tmp_path.name}/orders.csv", data)
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(
        f"[shop-exports]\naws_access_key_id = {s3_server.key}\naws_secret_access_key = {s3_server.secret}\n"
    )
    spec = write_spec(tmp_path, uri, connection={"endpoint_url": s3_server.endpoint_url, "profile": "shop-exports"})
    env = isolated_env(tmp_path, AWS_SHARED_CREDENTIALS_FILE=str(credentials), AWS_DEFAULT_REGION=s3_server.region)

    run = etl("import", str(spec), "--json", env=env)

    assert_imported(run, ["profile-a"], query)
    assert_nowhere([s3_server.secret], run, store)


def test_import_from_sftp_with_the_users_key_in_home_ssh(sftp_server, etl, query, store, tmp_path) -> None:
    data = orders_csv(tmp_path, ["home-key-a"])
    folder = sftp_folder(sftp_server, tmp_path, data)
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    key = home / ".ssh" / "id_ed25519"
    key.write_bytes(sftp_server.private_key_path.read_bytes())
    key.chmod(0o600)
    spec = write_spec(tmp_path, sftp_server.url(f"{folder}/orders.csv"))  # no password, no key_filename

    run = etl("import", str(spec), "--json", env=isolated_env(tmp_path, HOME=str(home)))

    assert_imported(run, ["home-key-a"], query)


def test_import_over_https_checks_the_certificate(https_server, etl_process, query, store, tmp_path) -> None:
    """Processes of their own: the certificates trusted are read from $SSL_CERT_FILE when a process starts."""
    etl = etl_process
    data = orders_csv(tmp_path, ["tls-a"])
    (https_server.root / f"{tmp_path.name}.csv").write_bytes(data)
    uri = f"{https_server.base_url}/{tmp_path.name}.csv"
    spec = write_spec(tmp_path, uri)

    untrusted = etl("import", str(spec), env=isolated_env(tmp_path, SSL_CERT_FILE=str(tmp_path / "no-ca.pem")))
    assert untrusted.code == 1
    assert f"{uri}: cannot read the source" in untrusted.stderr and "certificate" in untrusted.stderr.lower()
    assert "Traceback" not in untrusted.stderr

    run = etl("import", str(spec), "--json", env=isolated_env(tmp_path, SSL_CERT_FILE=str(https_server.ca_file)))

    report = assert_imported(run, ["tls-a"], query)
    assert [(f["uri"], f["sha256"]) for f in report["files"]] == [(uri, sha256(data))]
