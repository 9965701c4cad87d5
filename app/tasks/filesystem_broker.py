"""The embedded broker: kombu's filesystem transport, reading its queue folder once per batch.

kombu's filesystem channel lists and sorts the whole queue folder each time it looks for a
message of one queue, and a worker looks in two (its jobs and its control queue): a backlog
of n jobs cost 2n listings of n names. After an archive of 1,000 documents was uploaded
(2,000 jobs), that listing was most of the worker's main process. This channel lists the
folder once for all its queues, keeps each queue's names in order (oldest first) and takes
them in turn, listing again when the asked queue has none left, at most once every
``LIST_INTERVAL``. The claim is kombu's: a message is taken by moving its file away, so a
name another consumer took first is skipped.

kombu's producer creates the message file under its final name, then writes it: a consumer
listing the folder in between took an empty file, failed to decode it and the worker stopped
for good ("Unrecoverable error: JSONDecodeError"), with every later job left in the folder.
Here a message is written whole under a name no consumer looks at and then renamed into
place (atomic), and a file that still does not decode (one written by an older producer, a
damaged disk) is set aside with an error in the log instead of stopping the worker.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections import deque
from pathlib import Path
from queue import Empty
from typing import Any

from kombu.transport import filesystem
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)

MESSAGE_SUFFIX = ".msg"
#: seconds between two listings of the queue folder (the worker polls every 50 ms)
LIST_INTERVAL = 0.02
#: how long a taken file that does not decode yet is read again (an older producer may
#: still be writing it) before it is set aside
UNREADABLE_GRACE = 1.0


class Channel(filesystem.Channel):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listed: dict[str, deque[str]] = {}
        self._listed_at = float("-inf")

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        folder = Path(self.data_folder_in)
        names = self._listed.get(queue)
        if not names and time.monotonic() - self._listed_at >= LIST_INTERVAL:
            self._list(folder)
            names = self._listed.get(queue)
        while names:
            name = names.popleft()
            taken = Path(self.processed_folder) / name
            try:
                os.rename(folder / name, taken)  # atomic: only one consumer gets it
            except FileNotFoundError:
                continue  # another consumer (or a purge) took it
            message = _read(taken)
            if message is None:
                taken.rename(taken.with_name(taken.name + ".unreadable"))
                log.error("queue message %s does not decode: set aside, not run", taken)
                continue
            if not self.store_processed:
                taken.unlink(missing_ok=True)
            return message
        raise Empty()

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Write the message whole, then give it the name consumers look for (atomic)."""
        # Stamped with the wall clock, not the monotonic one kombu uses: that one starts again
        # near 0 when the machine does, and a backlog left from before a restart would then
        # be read after every message written since.
        name = f"{time.time_ns() // 1_000_000}_{uuid.uuid4()}.{queue}{MESSAGE_SUFFIX}"
        folder = Path(self.data_folder_out)
        partial = folder / f".{name}.part"  # no consumer takes a name that is not *.msg
        try:
            partial.write_bytes(dumps(payload).encode())
            os.rename(partial, folder / name)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise filesystem.ChannelError(f"cannot add a message to {folder}: {exc}") from exc

    def _list(self, folder: Path) -> None:
        # kombu names a message "<milliseconds>_<uuid>.<queue>.msg": sorted, oldest first
        listed: dict[str, list[str]] = {}
        for name in os.listdir(folder):
            rest = name.partition(".")[2]
            if rest.endswith(MESSAGE_SUFFIX):
                listed.setdefault(rest[: -len(MESSAGE_SUFFIX)], []).append(name)
        self._listed = {queue: deque(sorted(names, key=_age)) for queue, names in listed.items()}
        self._listed_at = time.monotonic()

    def _purge(self, queue: str) -> int:
        self._listed.pop(queue, None)
        return int(super()._purge(queue))


def _age(name: str) -> tuple[int, str]:
    """Sort key, oldest first: the milliseconds before "_" compared as a number.

    Compared as text, "1_..." came after "12_...": whether a message written at 1 ms was read
    before one written at 12 ms depended on how long the machine had been up.
    """
    stamp = name.partition("_")[0]
    return (int(stamp) if stamp.isdigit() else 0, name)


def _read(taken: Path) -> Any:
    """The decoded message in `taken`, or None when it does not decode within the grace."""
    deadline = time.monotonic() + UNREADABLE_GRACE
    while True:
        payload = taken.read_bytes()
        try:
            return loads(payload)
        except ValueError:
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)


class Transport(filesystem.Transport):
    Channel = Channel
