"""The embedded broker: kombu's filesystem transport, reading its queue folder once per batch.

kombu's filesystem channel lists and sorts the whole queue folder each time it looks for a
message of one queue, and a worker looks in two (its jobs and its control queue): a backlog
of n jobs cost 2n listings of n names. After an archive of 1,000 documents was uploaded
(2,000 jobs), that listing was most of the worker's main process. This channel lists the
folder once for all its queues, keeps each queue's names in order (oldest first) and takes
them in turn, listing again when the asked queue has none left, at most once every
``LIST_INTERVAL``. The files and the claim are kombu's: a message is taken by moving its file
away, so a name another consumer took first is skipped.
"""

from __future__ import annotations

import os
import time
from collections import deque
from pathlib import Path
from queue import Empty
from typing import Any

from kombu.transport import filesystem
from kombu.utils.json import loads

MESSAGE_SUFFIX = ".msg"
#: seconds between two listings of the queue folder (the worker polls every 50 ms)
LIST_INTERVAL = 0.02


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
            try:
                payload = taken.read_bytes()
            finally:
                if not self.store_processed:
                    taken.unlink(missing_ok=True)
            return loads(payload)
        raise Empty()

    def _list(self, folder: Path) -> None:
        # kombu names a message "<milliseconds>_<uuid>.<queue>.msg": sorted, oldest first
        listed: dict[str, list[str]] = {}
        for name in os.listdir(folder):
            rest = name.partition(".")[2]
            if rest.endswith(MESSAGE_SUFFIX):
                listed.setdefault(rest[: -len(MESSAGE_SUFFIX)], []).append(name)
        self._listed = {queue: deque(sorted(names)) for queue, names in listed.items()}
        self._listed_at = time.monotonic()

    def _purge(self, queue: str) -> int:
        self._listed.pop(queue, None)
        return int(super()._purge(queue))


class Transport(filesystem.Transport):
    Channel = Channel
