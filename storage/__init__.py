"""Blob stores: one Protocol, a local filesystem store and a MinIO store.

Blobs are written once under a server-made key and never overwritten. Every
write streams in chunks, hashing (sha256) as it goes, so no file ever sits
whole in memory. `build_resumable(store)` adds tus resumable uploads on top of
either store (see storage.resumable).
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
    content_disposition,
    local_file,
    new_key,
)
from storage.filesystem import FilesystemStore
from storage.resumable import (
    ChecksumMismatch,
    InvalidUploadRequest,
    OffsetMismatch,
    ResumableUploads,
    UnsupportedChecksum,
    UploadBusy,
    UploadError,
    UploadExpired,
    UploadIncomplete,
    UploadInfo,
    UploadNotFound,
    UploadTooLarge,
    build_resumable,
)

__all__ = [
    "BlobCorrupted",
    "BlobNotFound",
    "BlobStore",
    "BlobTooLarge",
    "ChecksumMismatch",
    "FilesystemStore",
    "InvalidUploadRequest",
    "OffsetMismatch",
    "ResumableUploads",
    "StorageError",
    "StorageFull",
    "StoredBlob",
    "UnsupportedChecksum",
    "UploadBusy",
    "UploadError",
    "UploadExpired",
    "UploadIncomplete",
    "UploadInfo",
    "UploadNotFound",
    "UploadTooLarge",
    "build_resumable",
    "build_store",
    "local_file",
    "content_disposition",
    "new_key",
]
