"""Where meeting documents' bytes live: an object store behind one small interface.

Two backends, both on obstore (one well-kept client for local files and S3 alike):
- the filesystem, a directory of this machine (`DOCUMENTS_DIR`), for the local stack and a
  single host;
- an S3-compatible bucket by URL (`DOCUMENT_STORE_URL=s3://bucket/prefix`), with an endpoint
  and credentials of its own, for production (AWS S3, MinIO, Ceph, R2, ...).

The database holds what a document is (its meeting, title, type, visibility) and the key of its
bytes here; the store holds only bytes under keys the service makes up (never a client's name).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from registration.settings import Settings

if TYPE_CHECKING:
    from obstore.store import LocalStore, S3Store

log = logging.getLogger(__name__)

# Chunks a download is streamed in: big enough to keep the syscalls few, small enough that many
# downloads at once stay light.
CHUNK_BYTES = 256 * 1024


class ObjectMissing(Exception):
    """The store has no object under the key (deleted meanwhile, or never stored)."""


class ObjectStore(Protocol):
    """Bytes under keys: put a file, stream it back, delete it."""

    @property
    def description(self) -> str:
        """Where the objects are, for logs and the readiness of an operator's eye (no secrets)."""
        ...

    async def put(self, key: str, source: IO[bytes]) -> None:
        """Store the file's bytes (from its current position) under the key, replacing any."""
        ...

    def read(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes in chunks; ObjectMissing if there is none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; a missing one is already removed."""
        ...


class _Obstore:
    """What both backends share: obstore's calls on a store made on first use.

    obstore is imported then too: it keeps ~5.5 MB resident, in a process that mostly registers
    people and may never see a document."""

    def __init__(self, make_store: Callable[[], LocalStore | S3Store], description: str) -> None:
        self._make_store = make_store
        self._store: LocalStore | S3Store | None = None
        self._description = description

    @property
    def description(self) -> str:
        return self._description

    def _opened(self) -> LocalStore | S3Store:
        if self._store is None:
            self._store = self._make_store()
        return self._store

    async def put(self, key: str, source: IO[bytes]) -> None:
        import obstore

        await obstore.put_async(self._opened(), key, source)

    async def read(self, key: str) -> AsyncIterator[bytes]:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            result = await obstore.get_async(self._opened(), key)
        except (NotFoundError, FileNotFoundError) as error:
            raise ObjectMissing(key) from error
        async for chunk in result.stream(min_chunk_size=CHUNK_BYTES):
            yield bytes(chunk)

    async def delete(self, key: str) -> None:
        import obstore
        from obstore.exceptions import NotFoundError

        with contextlib.suppress(NotFoundError, FileNotFoundError):
            await obstore.delete_async(self._opened(), key)


class FileSystemStore(_Obstore):
    """Objects as files under one directory (created if missing)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        prefix = directory.resolve()

        def make_store() -> LocalStore:
            from obstore.store import LocalStore

            return LocalStore(prefix=prefix)

        super().__init__(make_store, f"directory {directory}")


class S3CompatibleStore(_Obstore):
    """Objects in an S3-compatible bucket, under the URL's prefix."""

    def __init__(
        self,
        url: str,
        *,
        endpoint: str = "",
        region: str = "",
        access_key_id: str = "",
        secret_access_key: str = "",
    ) -> None:
        # Unset values come from the usual AWS_* environment and instance credentials.
        config: dict[str, str] = {}
        if endpoint:
            config["endpoint"] = endpoint
        if region:
            config["region"] = region
        if access_key_id:
            config["access_key_id"] = access_key_id
        if secret_access_key:
            config["secret_access_key"] = secret_access_key
        # A self-hosted store (MinIO in a cluster) may speak plain HTTP on its private network.
        client_options = {"allow_http": True} if endpoint.startswith("http://") else None

        def make_store() -> S3Store:
            from obstore.store import S3Store

            return S3Store.from_url(url, config=config or None, client_options=client_options)  # type: ignore[arg-type]

        where = f"{url} at {endpoint}" if endpoint else url
        super().__init__(make_store, where)


def documents_directory(settings: Settings) -> Path:
    """DOCUMENTS_DIR, or a folder of the system's temporary directory in development."""
    if settings.documents_dir:
        return Path(settings.documents_dir)
    fallback = Path(tempfile.gettempdir()) / "tilmeld-documents"
    if settings.environment == "production":
        log.warning(
            "documents are kept in %s: set DOCUMENT_STORE_URL or DOCUMENTS_DIR to keep them",
            fallback,
        )
    return fallback


def open_store(settings: Settings) -> ObjectStore:
    """The store the settings name: DOCUMENT_STORE_URL (s3://...) if set, else the directory."""
    url = settings.document_store_url.strip()
    if url.startswith(("s3://", "s3a://", "https://")):
        return S3CompatibleStore(
            url,
            endpoint=settings.document_store_endpoint,
            region=settings.document_store_region,
            access_key_id=settings.document_store_access_key_id,
            secret_access_key=settings.document_store_secret_access_key,
        )
    if url.startswith("file://"):
        return FileSystemStore(Path(url.removeprefix("file://")))
    if url:
        raise ValueError(f"DOCUMENT_STORE_URL must be s3://bucket/prefix or file:///dir: {url!r}")
    return FileSystemStore(documents_directory(settings))
