"""Real servers on loopback for tests of remote sources: S3 (moto), SFTP (asyncssh), HTTP.

Each fixture starts its server on 127.0.0.1 and a port the OS picks (bound at once, so
no other process can take it in between), yields what a client needs, and at the end
stops it: listening sockets closed, open connections closed, threads joined.

Nothing global is changed: credentials are throw-away values generated at start, and
nothing reads or writes ~/.aws or ~/.ssh. The one piece of process state touched is
moto's own switch for checking signatures, turned on for the S3 server's lifetime and
restored after it.
"""

from __future__ import annotations

import asyncio
import hmac
import io
import json
import re
import secrets
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncssh
import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

START_TIMEOUT = 10  # seconds; each server starts in well under one


# --- S3 ----------------------------------------------------------------------------------------


@dataclass
class S3Server:
    """moto's S3 on loopback, checking signatures: a wrong key or secret is refused."""

    endpoint_url: str
    key: str
    secret: str
    region: str
    _client: Any = field(repr=False)

    def put(self, bucket: str, key: str, data: bytes) -> str:
        """Store an object (creating the bucket if needed); returns its s3:// URI."""
        try:
            self._client.head_bucket(Bucket=bucket)
        except self._client.exceptions.ClientError:
            location = {} if self.region == "us-east-1" else {"LocationConstraint": self.region}
            self._client.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {}))
        self._client.put_object(Bucket=bucket, Key=key, Body=data)
        return f"s3://{bucket}/{key}"

    @property
    def storage_options(self) -> dict[str, Any]:
        """fsspec/s3fs options that reach this server with the valid credentials."""
        return {
            "endpoint_url": self.endpoint_url,
            "key": self.key,
            "secret": self.secret,
            "client_kwargs": {"region_name": self.region},
        }


def _moto_auth(endpoint_url: str, initial_no_auth_action_count: str) -> str:
    """Set how many requests moto serves before it checks signatures; returns the previous value."""
    request = urllib.request.Request(
        f"{endpoint_url}/moto-api/reset-auth",
        data=initial_no_auth_action_count.encode(),
        headers={"Content-Type": "text/plain"},  # a form body would be parsed away by Flask
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=START_TIMEOUT) as response:  # noqa: S310 (loopback)
        return json.load(response)["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint_url = f"http://{host}:{port}"
    region = "eu-west-1"
    previous = None
    try:
        # moto accepts any credentials until told to check them: create a user with a key
        # and a policy allowing S3 first, then turn the checks on.
        bootstrap = {"aws_access_key_id": "bootstrap", "aws_secret_access_key": "bootstrap"}  # noqa: S106
        iam = boto3.session.Session(**bootstrap, region_name=region).client("iam", endpoint_url=endpoint_url)
        iam.create_user(UserName="etl-test")
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="etl-test", PolicyName="s3", PolicyDocument=json.dumps(policy))
        access_key = iam.create_access_key(UserName="etl-test")["AccessKey"]
        iam.close()
        previous = _moto_auth(endpoint_url, "0")
        session = boto3.session.Session(
            aws_access_key_id=access_key["AccessKeyId"],
            aws_secret_access_key=access_key["SecretAccessKey"],
            region_name=region,
        )
        client = session.client("s3", endpoint_url=endpoint_url, config=Config(s3={"addressing_style": "path"}))
        yield S3Server(
            endpoint_url=endpoint_url,
            key=access_key["AccessKeyId"],
            secret=access_key["SecretAccessKey"],
            region=region,
            _client=client,
        )
        client.close()
    finally:
        if previous is not None:
            _moto_auth(endpoint_url, previous)
        server.stop()
        server._server.server_close()  # stop() leaves the listening socket open


# --- SFTP --------------------------------------------------------------------------------------


@dataclass
class SftpServer:
    """asyncssh's SFTP server on loopback, chrooted to `root`: one user, by password or key."""

    host: str
    port: int
    username: str
    password: str
    private_key_path: Path
    root: Path
    host_key_fingerprint: str

    def url(self, path: str, *, user: bool = True) -> str:
        """sftp://user@127.0.0.1:PORT/path (without the user when `user` is false)."""
        who = f"{self.username}@" if user else ""
        return f"sftp://{who}{self.host}:{self.port}/{path.lstrip('/')}"


class _SshServer(asyncssh.SSHServer):
    """Accepts one user, with its password or its public key; keeps track of its connections."""

    def __init__(self, username: str, password: str, client_key: asyncssh.SSHKey, connections: set) -> None:
        self._username, self._password, self._client_key = username, password, client_key
        self._connections = connections
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True  # authentication is always required

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == self._username and hmac.compare_digest(password.encode(), self._password.encode())

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return username == self._username and key.public_data == self._client_key.public_data


class _LoopThread:
    """An asyncio event loop running in a thread of its own."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coroutine: Any, timeout: float = START_TIMEOUT) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(START_TIMEOUT)
        self.loop.close()


@pytest.fixture(scope="session")
def sftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SftpServer]:
    root = tmp_path_factory.mktemp("sftp-root")
    keys = tmp_path_factory.mktemp("sftp-keys")
    client_key = asyncssh.generate_private_key("ssh-ed25519", comment="etl-test")
    private_key_path = keys / "id_ed25519"
    client_key.write_private_key(str(private_key_path))  # OpenSSH format, no passphrase
    private_key_path.chmod(0o600)
    client_key.write_public_key(str(keys / "id_ed25519.pub"))
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    username, password = "etl-user", "pw-" + secrets.token_urlsafe(16)
    connections: set[asyncssh.SSHServerConnection] = set()

    async def start() -> asyncssh.SSHAcceptor:
        return await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[host_key],
            server_factory=partial(_SshServer, username, password, client_key, connections),
            sftp_factory=partial(asyncssh.SFTPServer, chroot=str(root).encode()),
            allow_scp=False,
        )

    async def stop(acceptor: asyncssh.SSHAcceptor) -> None:
        acceptor.close()
        await acceptor.wait_closed()
        open_connections = list(connections)
        for conn in open_connections:
            conn.close()
        for conn in open_connections:
            await conn.wait_closed()

    loop = _LoopThread("sftp-server")
    acceptor = None
    try:
        acceptor = loop.run(start())
        yield SftpServer(
            host="127.0.0.1",
            port=acceptor.get_port(),
            username=username,
            password=password,
            private_key_path=private_key_path,
            root=root,
            host_key_fingerprint=host_key.get_fingerprint(),
        )
    finally:
        if acceptor is not None:
            loop.run(stop(acceptor))
        loop.close()


# --- HTTP --------------------------------------------------------------------------------------


@dataclass
class HttpServer:
    """A static file server on loopback; files under root/private/ need `Authorization: <auth_header>`."""

    base_url: str
    root: Path
    auth_header: str  # "Bearer <random token>"


RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class _RangeHandler(SimpleHTTPRequestHandler):
    """The standard library's static file handler (GET, HEAD, folder listings) plus single
    byte ranges (`Range: bytes=a-b`, `a-`, `-n`), which fsspec's HTTP files ask for, and
    a bearer token required under /private/."""

    auth_header = ""  # set per server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def end_headers(self) -> None:
        if not self.path.endswith("/"):
            self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def send_head(self) -> io.IOBase | None:
        private = Path(self.directory, "private")
        if Path(self.translate_path(self.path)).is_relative_to(private) and not hmac.compare_digest(
            self.headers.get("Authorization", "").encode(), self.auth_header.encode()
        ):
            self.send_error(HTTPStatus.UNAUTHORIZED, "a valid Authorization header is required")
            return None
        wanted = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if wanted is None or not path.is_file():
            return super().send_head()
        match = RANGE.match(wanted.strip())
        data = path.read_bytes()  # test files are small
        size = len(data)
        if match is None or match.groups() == ("", ""):
            return super().send_head()  # not a single byte range: ignore it, as RFC 9110 allows
        first, last = match.groups()
        if first == "":  # the last n bytes
            start, end = max(size - int(last), 0), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        if start >= size or start > end:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        self.send_response(HTTPStatus.PARTIAL_CONTENT)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        return io.BytesIO(data[start : end + 1])


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the request threads (HTTP/1.0: one request each)
    block_on_close = True


@contextmanager
def _serving(root: Path, auth_header: str, tls: Any = None) -> Iterator[str]:
    """Serve `root` on loopback (over TLS when given an ssl context) in a thread; yields the base URL."""
    handler = type("_Handler", (_RangeHandler,), {"auth_header": auth_header})
    server = _Server(("127.0.0.1", 0), partial(handler, directory=str(root)))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, name="http-server", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"{'https' if tls is not None else 'http'}://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(START_TIMEOUT)


@pytest.fixture(scope="session")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    root = tmp_path_factory.mktemp("http-root")
    (root / "private").mkdir()
    auth_header = "Bearer " + secrets.token_urlsafe(24)
    with _serving(root, auth_header) as base_url:
        yield HttpServer(base_url=base_url, root=root, auth_header=auth_header)


@dataclass
class HttpsServer:
    """The static file server over TLS, with a throw-away self-signed certificate for 127.0.0.1."""

    base_url: str
    root: Path
    ca_file: Path  # the certificate: trust it (SSL_CERT_FILE) to connect


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, valid for a day."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@pytest.fixture(scope="session")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsServer]:
    import ssl

    root = tmp_path_factory.mktemp("https-root")
    cert_file, key_file = _self_signed(tmp_path_factory.mktemp("https-cert"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    with _serving(root, "", tls=context) as base_url:
        yield HttpsServer(base_url=base_url, root=root, ca_file=cert_file)
