"""The live server the browser tests run on stops without harming the tests that follow."""

from __future__ import annotations

import os
import threading
import time
import urllib.request

from portal_testing import _free_port, serve


def test_an_answer_in_progress_is_sent_and_nothing_lands_in_files_opened_after(tmp_path):
    started = threading.Event()

    def slow(environ, start_response):
        started.set()
        time.sleep(0.5)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"answered"]

    port = _free_port()
    answers: list[bytes] = []

    def fetch() -> None:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            answers.append(response.read())

    client = threading.Thread(target=fetch)
    with serve(slow, port):
        client.start()
        assert started.wait(5)
    # The server's descriptors are free now: files opened next take their numbers, as the
    # next test's SQLite database would.
    paths = [tmp_path / f"file{n}" for n in range(8)]
    descriptors = [os.open(path, os.O_RDWR | os.O_CREAT, 0o600) for path in paths]
    try:
        client.join(10)
        time.sleep(0.2)
    finally:
        for descriptor in descriptors:
            os.close(descriptor)
    assert answers == [b"answered"]
    assert [path.stat().st_size for path in paths] == [0] * len(paths)
