"""Sources, the edge of the flow: list them, open them through fsspec, decompress and transcode them.

Listing and opening files is separate from parsing a format (dlt's split): `list_sources` expands
URIs and globs; `opened` makes one source a local UTF-8 file a reader scans (etl.readers: csv,
jsonl), which parses it.

Polars scans local files lazily and in parallel. A source that is not a plain local
UTF-8 file (remote, gzip, another encoding) is streamed once, in 4 MiB chunks, into a
spool file beside the store; its sha256 is taken of the bytes as stored at the source.
Nothing here reads a file whole into Python objects.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import os
import re
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import fsspec

from etl.errors import EtlError, InputError
from etl.sources import spools
from etl.sources.encodings import SAMPLE_BYTES, EncodingNotDetected, detect_encoding, field_of, wide_unicode_message

CHUNK = 4 << 20
GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class SourceFile:
    """One input file, ready for Polars: `path` is local (the original or a spool)."""

    uri: str
    path: Path
    size: int
    encoding: str = "utf-8"  # the codec the file was read with
    detected: str | None = None  # how `encoding: auto` chose it, for the report
    confidence: float | None = None  # and how sure it is (0..1)
    runner_up: str | None = None  # the best other codec, which reads the file differently
    delimiter: str = ","  # the field separator (choose_delimiter sets it)
    delimiter_detected: bool = False  # chosen by `delimiter: auto`
    _sha256: str | None = None
    _newlines: int | None = None
    _hasher: threading.Thread | None = field(default=None, repr=False)

    def _wait(self) -> None:
        if self._hasher is not None:
            self._hasher.join()
            self._hasher = None

    @property
    def sha256(self) -> str:
        """sha256 of the file as stored at the source (compressed, if it is)."""
        self._wait()
        assert self._sha256 is not None
        return self._sha256

    @property
    def newlines(self) -> int:
        """Newline bytes in the (decompressed, UTF-8) text that Polars parses."""
        self._wait()
        if self._newlines is None:
            _, self._newlines = _scan_file(self.path, digest=None)
        return self._newlines


def display_uri(uri: str) -> str:
    """The URI with any user:password@ part removed, for reports and logs; a local path normalised."""
    if "://" not in uri:
        return os.path.normpath(uri)
    return re.sub(r"^([a-z0-9+.-]+://)[^/@]*@", r"\1", uri, flags=re.IGNORECASE)


SECRET_KEYS = ("password", "secret", "token", "passphrase", "key", "credential")


def secrets_of(options: dict[str, Any]) -> list[str]:
    """The values in storage options that must never be shown (passwords, secret keys ...)."""
    found = []
    for name, value in options.items():
        if isinstance(value, dict):
            found += secrets_of(value)
        elif isinstance(value, str) and value and any(word in name.lower() for word in SECRET_KEYS):
            if not name.lower().endswith(("filename", "file", "path")):  # a key's path is not the key
                found.append(value)
    return found


def redact(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return re.sub(r"([a-z0-9+.-]+://)[^/@\s]*@", r"\1", text, flags=re.IGNORECASE)


def filesystem(uri: str, options: dict[str, Any]) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec file system and path of a URI; storage options go to remote ones only."""
    protocol = fsspec.core.split_protocol(uri)[0]
    if protocol in (None, "file", "local"):
        return fsspec.core.url_to_fs(uri)
    return fsspec.core.url_to_fs(uri, **options)


@contextmanager
def remote_errors(uri: str, options: dict[str, Any]) -> Iterator[None]:
    """Errors of a file system (no such bucket, refused password, unreachable host) as InputError:
    naming the source without credentials, never echoing a secret, never a traceback."""
    try:
        yield
    except EtlError:
        raise
    except Exception as exc:  # every client library has its own exception tree
        if isinstance(exc, FileNotFoundError):
            # fsspec's HTTP file system turns every failure (a refused certificate, a 500)
            # into FileNotFoundError: only a real "not found" is reported as one
            cause = exc.__cause__
            if cause is None or isinstance(cause, FileNotFoundError) or getattr(cause, "status", None) in (404, 410):
                raise InputError(f"{display_uri(uri)}: no such file") from None
            exc = cause
        what = redact(f"{type(exc).__name__}: {exc}", secrets_of(options))
        raise InputError(f"{display_uri(uri)}: cannot read the source: {what}") from None


def file_sha256(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """sha256 of a file as stored, read in chunks."""
    digest = hashlib.sha256()
    with fs.open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def list_sources(uris: list[str], options: dict[str, Any] | None = None) -> list[str]:
    """Expand globs (in name order) and check that every source exists."""
    options = options or {}
    found: list[str] = []
    for uri in uris:
        with remote_errors(uri, options):
            found += _listed(uri, options)
    return found


def _listed(uri: str, options: dict[str, Any]) -> list[str]:
    fs, path = filesystem(uri, options)
    local = is_local(fs)
    if local:
        path = os.path.normpath(Path(path).expanduser())  # shown as the user would write it: no a/../b
    if any(ch in path for ch in "*?["):
        matches = sorted(fs.glob(path))
        if not matches:
            shown = path if local else display_uri(uri)
            raise InputError(f"{shown}: no file matches this pattern{_looked_in(uri, local)}")
        return [os.path.normpath(m) for m in matches] if local else [full_uri(uri, fs, m) for m in matches]
    if local and not os.path.lexists(path):
        raise InputError(f"{path}: no such file{_looked_in(uri, local)}")
    # info, not exists: exists() answers False for any failure (a refused certificate, a
    # wrong password), which would be reported as a missing file; remote_errors tells them apart
    info = fs.info(path)
    if info.get("type") == "directory":
        raise InputError(f"{display_uri(uri)}: is a folder; name a file or a glob such as {uri.rstrip('/')}/*.csv")
    return [path if local else uri]


def _looked_in(uri: str, local: bool) -> str:
    """Where a relative local path was looked for: the working directory (docs/importing.md, Import specs)."""
    given = uri.removeprefix("file://")
    if not local or Path(given).expanduser().is_absolute():
        return ""
    return f" (looked in {Path.cwd()}: relative paths are read from the working directory)"


def full_uri(uri: str, fs: fsspec.AbstractFileSystem, match: str) -> str:
    """A glob match as a URI: host-based file systems (sftp) keep the user, host and port."""
    parts = urlsplit(uri)
    if match.startswith("/"):
        return f"{parts.scheme}://{parts.netloc}{match}"
    return fs.unstrip_protocol(match)


def is_local(fs: fsspec.AbstractFileSystem) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return "file" in protocols or "local" in protocols


ZIP_MAGIC = b"PK\x03\x04"


def _compression(uri: str, head: bytes, compression: str) -> str:
    """gzip, zip or none: as the spec says, or by extension, then by magic bytes."""
    if compression != "auto":
        return compression
    name = uri.lower()
    if name.endswith((".gz", ".gzip")) or head.startswith(GZIP_MAGIC):
        return "gzip"
    if name.endswith(".zip") or head.startswith(ZIP_MAGIC):
        return "zip"
    return "none"


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in {"utf-8", "utf-8-sig"}


def _scan_file(path: Path, digest: hashlib._Hash | None) -> tuple[str | None, int]:
    """One pass over a local file: its sha256 (when a digest is given) and its newline count."""
    newlines = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            if digest is not None:
                digest.update(chunk)  # releases the GIL: this overlaps with parsing
            newlines += chunk.count(b"\n")
    return (digest.hexdigest() if digest is not None else None), newlines


def _hash_file(path: Path, out: SourceFile) -> None:
    out._sha256, out._newlines = _scan_file(path, hashlib.sha256())


@contextmanager
def opened(
    uri: str,
    *,
    compression: str,
    encoding: str,
    spool_dir: Path,
    options: dict[str, Any] | None = None,
    max_uncompressed: int = 50 * 10**9,
) -> Iterator[SourceFile]:
    """Yield the source as a local UTF-8 file that Polars can scan; clean up the spool."""
    options = options or {}
    label = display_uri(uri)
    with remote_errors(uri, options):
        fs, path = filesystem(uri, options)
        with fs.open(path, "rb") as handle:
            head = handle.read(4)
    kind = _compression(uri, head, compression)
    detected = confidence = runner_up = None
    if encoding == "auto":
        with remote_errors(uri, options):
            sample, complete = _sample(fs, path, label, kind)
        try:
            found = detect_encoding(sample, complete=complete)
        except EncodingNotDetected as exc:
            raise InputError(f"{label}: {exc}") from None
        encoding, detected, confidence, runner_up = found.codec, found.reason, found.confidence, found.runner_up
    how = {"detected": detected, "confidence": confidence, "runner_up": runner_up}
    if is_local(fs) and kind == "none" and _is_utf8(encoding):
        local = Path(path)
        source = SourceFile(uri=label, path=local, size=local.stat().st_size, encoding=encoding, **how)
        source._hasher = threading.Thread(target=_hash_file, args=(local, source), daemon=True)
        source._hasher.start()
        yield source
        return
    spool_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=spool_dir, prefix=f".spool-{spools.tag()}-", suffix=".csv") as spool:
        with remote_errors(uri, options):
            digest, size = _spool(
                fs, path, label, spool, compression=kind, encoding=encoding, max_uncompressed=max_uncompressed
            )
        spool.flush()
        yield SourceFile(  # newlines: counted on demand
            uri=label, path=Path(spool.name), size=size, encoding=encoding, _sha256=digest, **how
        )


def _sample(fs: fsspec.AbstractFileSystem, path: str, label: str, compression: str) -> tuple[bytes, bool]:
    """The first SAMPLE_BYTES of the file's content (decompressed), and whether that is all of it."""
    with fs.open(path, "rb") as raw:
        if compression == "gzip":
            stream: Any = gzip.GzipFile(fileobj=raw)
        elif compression == "zip":
            archive = zipfile.ZipFile(raw)
            stream = archive.open(_zip_member(archive, label))
        else:
            stream = raw
        try:
            sample = stream.read(SAMPLE_BYTES + 1)
        except (EOFError, gzip.BadGzipFile, zlib.error, zipfile.BadZipFile) as exc:
            raise InputError(f"{label}: not a valid {compression} file ({exc})") from None
    return sample[:SAMPLE_BYTES], len(sample) <= SAMPLE_BYTES


class _HashingReader(io.RawIOBase):
    """Reads through to `raw` and hashes the bytes as stored (before decompression)."""

    def __init__(self, raw: io.IOBase, digest: hashlib._Hash) -> None:
        self.raw, self.digest, self.size = raw, digest, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        self.digest.update(data)
        self.size += len(data)
        buffer[: len(data)] = data
        return len(data)


def _zip_member(archive: zipfile.ZipFile, label: str) -> zipfile.ZipInfo:
    """The archive's one file; names that are absolute or climb out with .. are refused."""
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) != 1:
        raise InputError(f"{label}: a zip archive must hold exactly one file; it holds {len(members)}")
    name = members[0].filename
    if name.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", name) or re.match(r"^[A-Za-z]:", name):
        raise InputError(f"{label}: refusing zip member {name!r}: absolute paths and '..' are not allowed")
    return members[0]


def _spool(
    fs, path: str, label: str, out, *, compression: str, encoding: str, max_uncompressed: int
) -> tuple[str, int]:
    """Copy the source into `out` as UTF-8, decompressing and transcoding in chunks."""
    digest = hashlib.sha256()
    decoder = None if _is_utf8(encoding) else codecs.getincrementaldecoder(encoding)(errors="strict")
    with fs.open(path, "rb") as raw:
        counted = _HashingReader(raw, digest)
        if compression == "gzip":
            stream = _Gathered(gzip.GzipFile(fileobj=io.BufferedReader(counted, CHUNK)))
        elif compression == "zip":
            # zip's index is at the end: read (and hash) the archive first, then its member
            archive_copy = tempfile.TemporaryFile(dir=Path(out.name).parent)
            while chunk := counted.read(CHUNK):
                archive_copy.write(chunk)
            try:
                archive = zipfile.ZipFile(archive_copy)
            except zipfile.BadZipFile:
                raise InputError(f"{label}: not a valid zip archive; expected a .zip holding one file") from None
            member = _zip_member(archive, label)
            if member.file_size > max_uncompressed:
                raise _too_big(label, compression, max_uncompressed)
            stream = archive.open(member)
        else:
            stream = counted
        unpacked, written, lines = 0, 0, 0
        tail = b""  # the current line so far as read (not transcoded), to give a column in errors
        header = None  # the first line as read, to name the field of an error
        while True:
            try:
                chunk = stream.read(CHUNK)
            except (EOFError, gzip.BadGzipFile, zlib.error, zipfile.BadZipFile, OSError) as exc:
                partial = b"".join(stream.parts) if isinstance(stream, _Gathered) else b""  # decompressed, unread
                written, lines = written + len(partial), lines + partial.count(b"\n")
                what = (
                    f"truncated {compression} stream"
                    if isinstance(exc, EOFError)
                    else (f"not a valid {compression} stream ({exc})")
                )
                raise InputError(
                    f"{label}: line {lines + 1}: {what} after {written:,} decompressed bytes; "
                    f"expected a complete {compression} file (re-export or re-upload it)"
                ) from None
            if not chunk:
                break
            unpacked += len(chunk)
            if compression != "none" and unpacked > max_uncompressed:
                raise _too_big(label, compression, max_uncompressed)
            raw_chunk = chunk
            header = chunk[: chunk.find(b"\n") + 1 or len(chunk)] if header is None else header
            if decoder is not None:
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    at = exc.start + len(tail)
                    raise decode_error(label, encoding, tail + chunk, at, lines, header=header) from None
                chunk = text.encode("utf-8")
            out.write(chunk)
            written += len(chunk)
            lines += chunk.count(b"\n")
            tail = raw_chunk[raw_chunk.rfind(b"\n") + 1 :]
        if decoder is not None:
            try:
                out.write(decoder.decode(b"", final=True).encode("utf-8"))
            except UnicodeDecodeError:
                raise InputError(f"{label}: line {lines + 1}: the file ends inside a {encoding} character") from None
        while stream.read(CHUNK):  # drain, so the hash covers the whole source
            pass
        while raw.read(CHUNK):
            pass
    return digest.hexdigest(), counted.size


class _Gathered:
    """A stream's read(n) made of read1 calls, keeping what it gathered (`parts`): BufferedReader.read drops the
    bytes it decompressed when a later part fails (a truncated gzip), so an error could not count them."""

    def __init__(self, stream) -> None:
        self.stream, self.parts = stream, []

    def read(self, size: int) -> bytes:
        self.parts, got = [], 0
        while got < size and (part := self.stream.read1(size - got)):
            self.parts.append(part)
            got += len(part)
        return b"".join(self.parts)

    def close(self) -> None:
        self.stream.close()


def _too_big(label: str, compression: str, limit: int) -> InputError:
    return InputError(
        f"{label}: the {compression} file unpacks to more than {limit:,} bytes (max_uncompressed_bytes); "
        "stopped, as it may be a zip or gzip bomb. If the file is real, raise max_uncompressed_bytes in the spec"
    )


def decode_error(
    label: str,
    encoding: str,
    data: bytes,
    offset: int,
    lines_before: int,
    *,
    header: bytes | None = None,
    delimiter: str | None = None,
) -> InputError:
    """The error for bytes not valid in `encoding` at `offset` of `data` (the line so far, then the chunk):
    line, byte column, and the CSV field with its header name. `header`: the file's first line (None: the
    first line of `data`); `delimiter`: None when not chosen yet (the header's best split then), "" when the
    file is not CSV (no field is named)."""
    header = data[: data.find(b"\n") + 1 or len(data)] if header is None else header
    wide = wide_unicode_message(label, header, encoding)
    if wide:
        return InputError(wide)
    line = lines_before + data.count(b"\n", 0, offset) + 1
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = offset - line_start + 1
    # Which CSV field of the line: parse the line's text up to the bad byte (error path only).
    field = ""
    if delimiter != "":
        prefix = data[line_start:offset].decode(encoding, errors="replace")
        located = field_of(prefix, header.decode(encoding, errors="replace").rstrip("\r\n"), delimiter)
        field = f", {located}" if located else ""
    bad = data[offset : offset + 4].hex(" ")
    return InputError(
        f"{label}: line {line}, column {column} (byte){field}: bytes {bad} are not valid {encoding}; "
        "expected text in the spec's encoding (set `encoding:` to the file's codec, e.g. cp1251)"
    )


def locate_invalid_utf8(source: SourceFile) -> InputError | None:
    """Find the first byte that is not UTF-8, for an error naming its line and column."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    lines, tail = 0, b""
    with open(source.path, "rb") as handle:
        header = handle.readline(1 << 20)
        handle.seek(0)
        while chunk := handle.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return decode_error(
                    source.uri,
                    "utf-8",
                    tail + chunk,
                    exc.start + len(tail),
                    lines,
                    header=header,
                    delimiter=source.delimiter,
                )
            lines += chunk.count(b"\n")
            tail = chunk[chunk.rfind(b"\n") + 1 :]
    return None
