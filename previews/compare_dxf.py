"""What changed between two DXF drawings: entities added, removed and changed.

Part of ``previews.compare`` (which re-exports these names): entities are paired by their
handle, or by their geometry when a drawing was re-saved by another program and its
handles renumbered; a changed entity keeps its handle and has other geometry. Extents are
in drawing units, boxes fractions of the new drawing's extents.

The fractional box of both compares is defined here too (``Box``, ``fraction``,
``box_of``): ``previews.compare`` imports this module, never the reverse.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from previews.contained import CorruptFile, TooLarge

__all__ = [
    "MAX_DXF_ENTITIES",
    "Box",
    "DxfChanges",
    "DxfEntity",
    "box_of",
    "compare_dxf",
    "fraction",
]

#: ``[x0, y0, x1, y1]``: fractions of a page (0..1, origin top left), or drawing units
Box = tuple[float, float, float, float]

#: entities of a DXF model space read at most, by default
MAX_DXF_ENTITIES = 300_000


def fraction(value: float) -> float:
    """A share of a page or drawing: held within 0..1, rounded to four places."""
    return round(min(1.0, max(0.0, value)), 4)


def box_of(values: Sequence[float]) -> Box:
    """A box read back from JSON (a list of four numbers)."""
    x0, y0, x1, y1 = (float(v) for v in values)
    return (x0, y0, x1, y1)


@dataclass(frozen=True)
class DxfEntity:
    handle: str
    type: str
    layer: str
    #: extents in drawing units (x0, y0, x1, y1), None when it has none
    extents: Box | None
    #: the same extents as fractions of the new drawing's extents (y from the top)
    box: Box | None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DxfEntity:
        return cls(
            handle=data["handle"],
            type=data["type"],
            layer=data["layer"],
            extents=box_of(data["extents"]) if data.get("extents") else None,
            box=box_of(data["box"]) if data.get("box") else None,
        )


@dataclass
class DxfChanges:
    added: list[DxfEntity] = field(default_factory=list)
    removed: list[DxfEntity] = field(default_factory=list)
    changed: list[DxfEntity] = field(default_factory=list)
    #: how entities were paired: "handle" or "geometry" (re-saved files get new handles)
    matched_by: str = "handle"
    extents: Box | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DxfChanges:
        return cls(
            added=[DxfEntity.from_dict(e) for e in data["added"]],
            removed=[DxfEntity.from_dict(e) for e in data["removed"]],
            changed=[DxfEntity.from_dict(e) for e in data["changed"]],
            matched_by=data.get("matched_by", "handle"),
            extents=box_of(data["extents"]) if data.get("extents") else None,
        )


def compare_dxf(old: Path, new: Path, max_entities: int = MAX_DXF_ENTITIES) -> DxfChanges:
    """Entities added, removed and changed between two DXF drawings' model spaces (of at
    most ``max_entities`` entities each)."""
    before = _dxf_entities(old, max_entities)
    after = _dxf_entities(new, max_entities)
    extents = _extents([e for e, _s in after.values()] or [e for e, _s in before.values()])
    shared = set(before) & set(after)
    changes = DxfChanges(extents=extents)
    if before and after and len(shared) < 0.5 * min(len(before), len(after)):
        # handles renumbered (the file was re-saved by another program): match by geometry
        changes.matched_by = "geometry"
        old_by_signature: dict[str, list[str]] = {}
        for handle, (_entity, signature) in before.items():
            old_by_signature.setdefault(signature, []).append(handle)
        for entity, signature in after.values():
            if old_by_signature.get(signature):
                old_by_signature[signature].pop()
            else:
                changes.added.append(_describe(entity, extents))
        for handles in old_by_signature.values():
            changes.removed.extend(_describe(before[h][0], extents) for h in handles)
        return changes
    for handle, (entity, signature) in after.items():
        if handle not in before:
            changes.added.append(_describe(entity, extents))
        elif before[handle][1] != signature:
            changes.changed.append(_describe(entity, extents))
    for handle, (entity, _signature) in before.items():
        if handle not in after:
            changes.removed.append(_describe(entity, extents))
    return changes


def _dxf_entities(path: Path, max_entities: int) -> dict[str, tuple[Any, str]]:
    from ezdxf import recover
    from ezdxf.lldxf.const import DXFError

    try:
        document, _auditor = recover.readfile(path)
    except (OSError, DXFError, UnicodeError, ValueError) as error:
        raise CorruptFile(f"cannot read DXF: {error}") from error
    model = document.modelspace()
    if len(model) > max_entities:
        raise TooLarge(f"{len(model)} entities, over the limit of {max_entities}")
    return {str(e.dxf.handle): (e, _signature(e)) for e in model}


def _signature(entity: Any) -> str:
    """The entity's type, layer and geometry as text, numbers rounded (handles left out)."""
    attributes = {
        key: value
        for key, value in entity.dxfattribs().items()
        if key not in ("handle", "owner", "reactors")
    }
    extra: list[Any] = []
    kind = entity.dxftype()
    if kind == "LWPOLYLINE":
        extra = [list(p) for p in entity.get_points()]
    elif kind == "POLYLINE":
        extra = [list(v.dxf.location) for v in entity.vertices]
    elif kind == "SPLINE":
        extra = [list(p) for p in entity.control_points]
    elif kind in ("MTEXT",):
        extra = [entity.text]
    return json.dumps([kind, _rounded(attributes), _rounded(extra)], sort_keys=True, default=str)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    if hasattr(value, "x") and hasattr(value, "y"):  # ezdxf vectors
        return [round(float(value.x), 6), round(float(value.y), 6), round(float(value.z), 6)]
    return value


def _extents(entities: list[Any]) -> Box | None:
    from ezdxf import bbox

    box = bbox.extents(entities, fast=True)
    if not box.has_data:
        return None
    return (float(box.extmin.x), float(box.extmin.y), float(box.extmax.x), float(box.extmax.y))


def _describe(entity: Any, drawing: Box | None) -> DxfEntity:
    extents = _extents([entity])
    box: Box | None = None
    if extents is not None and drawing is not None:
        x0, y0, x1, y1 = drawing
        width, height = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
        box = (
            fraction((extents[0] - x0) / width),
            fraction((y1 - extents[3]) / height),
            fraction((extents[2] - x0) / width),
            fraction((y1 - extents[1]) / height),
        )
    return DxfEntity(str(entity.dxf.handle), entity.dxftype(), str(entity.dxf.layer), extents, box)
