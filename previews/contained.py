"""What contains a child process that reads an untrusted file: errors, caps and answers.

``render_contained`` and ``compare_contained`` both hand the file to a child process of
their own and read one JSON line back. This module is what they share:

- the ``PreviewError`` family, whose ``code`` crosses the process boundary in an answer
  ``{"error": code, "detail": ...}`` and is turned back into the class by ``error_for``;
- on the child's side, ``set_caps`` (address space, CPU time, and an alarm that raises
  ``RenderTimeout``) and ``answer_of`` (one job under the alarm, any failure turned into an
  error answer, so that a bad file never ends the child by an exception);
- on the parent's side, ``run_contained`` (a child that hangs is killed with all it
  started), ``last_json_line`` to find the answer among what the child printed and
  ``death_error`` for a child that gave none (killed by a signal, or failed).

Standard library only, so that a child importing it pays for nothing it does not use.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "CorruptFile",
    "EncryptedFile",
    "PageOutOfRange",
    "PreviewError",
    "RenderTimeout",
    "ToolUnavailable",
    "TooLarge",
    "UnsupportedFile",
    "answer_of",
    "death_error",
    "error_for",
    "last_json_line",
    "run_contained",
    "set_caps",
]


class PreviewError(Exception):
    """Base class of every preview failure; ``code`` is short and stable."""

    code = "preview_failed"


class UnsupportedFile(PreviewError):
    """Nothing here can draw this kind of file."""

    code = "unsupported"


class ToolUnavailable(UnsupportedFile):
    """The external program this kind needs (ffmpeg) is not installed."""

    code = "tool_unavailable"


class TooLarge(PreviewError):
    """Over a limit (pixels, drawing entities, output size): a bomb or just too big."""

    code = "too_large"


class CorruptFile(PreviewError):
    """The file cannot be decoded."""

    code = "corrupt"


class EncryptedFile(PreviewError):
    """A password-protected PDF."""

    code = "encrypted"


class PageOutOfRange(PreviewError):
    """The PDF has no such page."""

    code = "no_such_page"


class RenderTimeout(PreviewError):
    """The render did not finish within the time limit."""

    code = "timeout"


_ERRORS: dict[str, type[PreviewError]] = {
    cls.code: cls
    for cls in (
        PreviewError,
        UnsupportedFile,
        ToolUnavailable,
        TooLarge,
        CorruptFile,
        EncryptedFile,
        PageOutOfRange,
        RenderTimeout,
    )
}


def error_for(code: str) -> type[PreviewError]:
    """The class of an answer's error ``code`` (``PreviewError`` for one it does not know)."""
    return _ERRORS.get(code, PreviewError)


# ------------------------------------------------------------------ the child's side


def set_caps(memory_bytes: int, cpu_seconds: int, what: str) -> None:
    """Cap this process's address space (0: unlimited) and CPU time, and have the alarm
    that ``answer_of`` sets raise ``RenderTimeout`` ("``what`` not done in time").

    A process over its CPU time gets SIGXCPU (``death_error`` reads it as a timeout); the
    hard limit a second later kills it.
    """
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))

    def on_alarm(signum: int, frame: object) -> None:
        raise _OutOfTime(f"{what} not done in time")

    signal.signal(signal.SIGALRM, on_alarm)


class _OutOfTime(BaseException):
    """The alarm of ``answer_of``: not an ``Exception``, so that a library's ``except
    Exception`` (ezdxf's font loading has one) cannot swallow it and draw on past the time."""


def answer_of(
    work: Callable[[], dict[str, Any]], timeout_seconds: float, doing: str
) -> dict[str, Any]:
    """What ``work`` answers, run with the alarm set ``timeout_seconds`` ahead; a failure is
    the answer ``{"error": code, "detail": text}`` (``doing``: "rendering", for the text
    of running out of memory)."""
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, timeout_seconds)
    try:
        answer = work()
        if time.monotonic() - started > timeout_seconds:  # the alarm was swallowed after all
            raise _OutOfTime(f"{doing} not done in time")
        return answer
    except _OutOfTime as error:
        return {"error": RenderTimeout.code, "detail": str(error)[:500]}
    except PreviewError as error:
        return {"error": error.code, "detail": str(error)[:500]}
    except MemoryError:
        return {"error": TooLarge.code, "detail": f"out of memory while {doing}"}
    except Exception as error:  # noqa: BLE001 - any decoder failure on a bad file
        return {"error": CorruptFile.code, "detail": f"{type(error).__name__}: {error}"[:500]}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


# ------------------------------------------------------------------ the parent's side


def run_contained(
    command: list[str], seconds: float, what: str, grace: float = 0.0, cwd: Path | None = None
) -> tuple[int, bytes, bytes]:
    """Run ``command`` in a session of its own: its exit code, stdout and stderr. Past
    ``seconds`` and ``grace`` more (a child keeping a deadline of its own gets time to say
    so), the whole session is killed (whatever it started too) and ``RenderTimeout`` raised.
    """
    process = subprocess.Popen(  # noqa: S603 - the callers' own programs and arguments
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=seconds + grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise RenderTimeout(f"{what} not done after {seconds:.0f} s") from None
    return process.returncode, out, err


def last_json_line(out: bytes) -> dict[str, Any] | None:
    """The last line of ``out`` that is a JSON object (a library may print lines of its own)."""
    for line in reversed(out.decode("utf-8", "replace").splitlines()):
        if line.startswith("{"):
            try:
                found = json.loads(line)
            except ValueError:
                continue
            if isinstance(found, dict):
                return found
    return None


def death_error(returncode: int | None, what: str, output: str = "") -> PreviewError:
    """The error of a child that gave no answer: its CPU time used up (SIGXCPU) is a
    timeout; killed by another signal, or ended with ``returncode``, the file is taken as
    corrupt (``output``: the end of what it printed, said instead of the code)."""
    if returncode is not None and returncode < 0:
        name = signal.Signals(-returncode).name
        if name == "SIGXCPU":
            return RenderTimeout(f"{what} used up its CPU time")
        return CorruptFile(f"the {what} died with {name}")
    return CorruptFile(f"the {what} failed: {output or returncode}")
