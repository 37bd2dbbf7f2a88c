"""A published version as files again: its `asset.yaml` and every attached file, alone or in one archive.

What a new pilot takes away must publish back to the same version: the manifest is written with the same
fields and files, so `registry publish` of a pulled folder is an identical re-publish (200, same digest).
Archives are deterministic (entries sorted, times set to the publish time), so equal versions give equal
bytes.
"""

from __future__ import annotations

import gzip
import io
import mimetypes
import tarfile
import zipfile
from datetime import datetime
from typing import Any, Literal

import yaml

from catalog.manifests import MANIFEST_NAME
from catalog.schemas import FileOut, VersionOut
from catalog.services.publishing import file_bytes

__all__ = ["ARCHIVE_FORMATS", "ArchiveFormat", "content_type", "manifest_yaml", "version_archive"]

ArchiveFormat = Literal["tar.gz", "zip"]
ARCHIVE_FORMATS: tuple[ArchiveFormat, ...] = ("tar.gz", "zip")
_ORDER = ("kind", "slug", "version", "title", "summary", "description", "tags", "owner", "origin_pilot",
          "source", "depends_on", "changelog", "files", "spec")  # fmt: skip
_TYPES = {".yaml": "application/yaml", ".yml": "application/yaml", ".prompty": "text/markdown",
          ".prompt": "text/plain", ".jsonl": "application/jsonl", ".md": "text/markdown"}  # fmt: skip


def manifest_yaml(manifest: dict[str, Any]) -> str:
    """The manifest as `asset.yaml`: the fields in the order people write them, files by path."""
    ordered = {key: manifest[key] for key in _ORDER if key in manifest}
    ordered |= {key: value for key, value in manifest.items() if key not in ordered}
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100)


def content_type(file: FileOut) -> str:
    """What to serve a file as: by its extension, text with its charset, unknown binary as octet-stream."""
    suffix = "." + file.path.rsplit(".", 1)[-1].lower() if "." in file.path else ""
    guessed = _TYPES.get(suffix) or mimetypes.guess_type(file.path)[0]
    if file.encoding == "base64":
        return guessed if guessed and not guessed.startswith("text/") else "application/octet-stream"
    guessed = guessed or "text/plain"
    textual = guessed.startswith("text/") or guessed in {"application/yaml", "application/json", "application/jsonl"}
    return f"{guessed}; charset=utf-8" if textual else guessed


def _entries(version: VersionOut) -> list[tuple[str, bytes]]:
    """Each name once: the manifest first, then the files (a version published before paths were checked may
    attach its own `asset.yaml` or name a file twice; extraction would silently keep only one of them)."""
    root = f"{version.asset}-{version.version}"
    files = {f"{root}/{MANIFEST_NAME}": manifest_yaml(version.manifest).encode("utf-8")}
    for f in version.files:
        files.setdefault(f"{root}/{f.path}", file_bytes(f.content, f.encoding))
    return sorted(files.items())


def version_archive(version: VersionOut, fmt: ArchiveFormat) -> bytes:
    """`asset.yaml` and every file under one folder named `slug-version`, as a .tar.gz or a .zip."""
    when: datetime = version.published_at
    buffer = io.BytesIO()
    if fmt == "zip":
        stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in _entries(version):
                entry = zipfile.ZipInfo(name, date_time=stamp)
                entry.external_attr = 0o644 << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, data)
        return buffer.getvalue()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=int(when.timestamp())) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for name, data in _entries(version):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(when.timestamp()), 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
