"""Blob stores: one Protocol, a local filesystem store and a MinIO store.

Blobs are written once under a server-made key and never overwritten. Every
write streams in chunks, hashing (sha256) as it goes, so no file ever sits
whole in memory.
"""

from storage.base import (
    BlobCorrupted,
    BlobNotFound,
    BlobStore,
    BlobTooLarge,
    StorageError,
    StorageFull,
    StoredBlob,
    build_store,
    new_key,
)
from storage.filesystem import FilesystemStore

__all__ = [
    "BlobCorrupted",
    "BlobNotFound",
    "BlobStore",
    "BlobTooLarge",
    "FilesystemStore",
    "StorageError",
    "StorageFull",
    "StoredBlob",
    "build_store",
    "new_key",
]
