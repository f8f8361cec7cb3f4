"""The `buckets` of fleet.yaml: S3 buckets the sandbox creates with objects in them, read when it loads.

A Distributed Map reads its items from S3 (`ItemReader`), so a fleet that runs one needs a bucket with a
CSV or JSON file in it. Each object's content is written in the YAML (`body`) or named as a file beside the
definitions (`file`, relative to the definitions directory, never outside it); files are read at load time,
so a missing one is reported with the line that names it, like every other problem of the definitions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from console.errors import InputError
from console.yamlfile import Reader

# S3's rules for general purpose buckets: 3-63 of a-z 0-9 . -, starting and ending with a letter or digit.
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_BUCKET_KEYS = ("name", "region", "objects")
_OBJECT_KEYS = ("key", "body", "file")
MAX_KEY_BYTES = 1024


@dataclass(frozen=True)
class ObjectDef:
    """One object the sandbox puts into a bucket."""

    key: str
    body: bytes


@dataclass(frozen=True)
class BucketDef:
    """A bucket the sandbox creates, in `region`, with its objects."""

    name: str
    region: str
    objects: tuple[ObjectDef, ...]
    line: int | None = None


def load_buckets(top: Reader, directory: Path, regions: tuple[str, ...]) -> tuple[BucketDef, ...]:
    buckets: list[BucketDef] = []
    seen: dict[str, int | None] = {}
    for reader in top.readers("buckets"):
        name = reader.req_string("name")
        if not _BUCKET_NAME.match(name) or ".." in name:
            raise reader.error(
                "name", f"a bucket name is 3-63 of a-z 0-9 . - starting and ending with a letter or digit, got {name!r}"
            )
        if name in seen:
            first = seen[name]
            where = f" (first on line {first})" if first is not None else ""
            raise reader.error("name", f"bucket '{name}' is defined twice{where}")
        seen[name] = reader.line_of("name")
        region = reader.string("region", regions[0]) or regions[0]
        if region not in regions:
            raise reader.error("region", f"region '{region}' is not one of regions: {', '.join(regions)}")
        objects = tuple(_objects(reader, directory))
        reader.done()
        buckets.append(BucketDef(name, region, objects, reader.line))
    return tuple(buckets)


def _objects(bucket: Reader, directory: Path) -> list[ObjectDef]:
    objects: list[ObjectDef] = []
    keys: set[str] = set()
    for reader in bucket.readers("objects"):
        key = reader.req_string("key")
        if not key or len(key.encode()) > MAX_KEY_BYTES:
            raise reader.error("key", f"an object key is 1-{MAX_KEY_BYTES} bytes")
        if key in keys:
            raise reader.error("key", f"object '{key}' is listed twice in this bucket")
        keys.add(key)
        body = reader.string("body")
        file = reader.string("file")
        if (body is None) == (file is None):
            raise reader.error(
                None, "an object needs exactly one of 'body' (its text) or 'file' (a file beside the definitions)"
            )
        reader.done()
        objects.append(ObjectDef(key, body.encode() if body is not None else _read(reader, directory, file or "")))
    return objects


def _read(reader: Reader, directory: Path, file: str) -> bytes:
    root = directory.resolve()
    path = (directory / file).resolve()
    if not path.is_relative_to(root):
        raise reader.error("file", f"'{file}' is outside the definitions directory")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(
            reader.file, reader.line_of("file"), reader.key_path("file"), f"cannot read '{file}': {exc.strerror}"
        ) from None
