"""The root of the workflows exception family."""

from __future__ import annotations

__all__ = ["WorkflowError"]


class WorkflowError(Exception):
    """Base class of every error raised by the workflows library."""
