"""Full-text search over document titles and OCR text, filtered by access rights.

SQLite reads the FTS5 table ``search_entry_fts`` (migrations 0006, 0006b, 0009); PostgreSQL reads
``search_entry`` through the GIN index over its stored Spanish ``search_vector`` (0006d).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select, text

from app.extensions import db
from app.models import Document, SearchEntry, Space, User, Visibility
from app.models.base import utcnow
from app.services.access import visible_documents, visible_spaces_query

#: Marks around matched words inside snippets; never present in extracted text.
MATCH_START = "\x02"
MATCH_END = "\x03"
MAX_QUERY_TERMS = 12
#: Who may find a row of ``search_entry_fts`` (migration 0009): shared documents, internal
#: ones, deleted ones. The column is indexed, so access is filtered inside the FTS query.
AUDIENCE_CLIENT = "client"
AUDIENCE_STAFF = "staff"
AUDIENCE_DELETED = "deleted"


@dataclass(frozen=True)
class SearchHit:
    document: Document
    #: The snippet as ``(text, matched)`` parts; empty when only the title matched.
    parts: tuple[tuple[str, bool], ...] = field(default=())

    @property
    def snippet(self) -> str:
        return "".join(part for part, _ in self.parts)


def _dialect() -> str:
    return str(db.session.get_bind().dialect.name)


def _audience(document: Document) -> str:
    if document.deleted_at is not None:
        return AUDIENCE_DELETED
    return AUDIENCE_CLIENT if document.visibility == Visibility.shared else AUDIENCE_STAFF


def index_document(
    document: Document, *, body: str | None = None, version_id: str | None = None
) -> None:
    """Put the document's title (and, when given, its text) in the search index.

    Call it again whenever the document's visibility or deleted state changes: on SQLite
    the index row says who may find it.
    """
    entry = db.session.get(SearchEntry, document.id)
    if entry is None:
        entry = SearchEntry(document_id=document.id, title=document.title, body="")
        db.session.add(entry)
    entry.title = document.title
    if body is not None:
        entry.body = body
        entry.version_id = version_id
    entry.updated_at = utcnow()
    db.session.flush()
    if _dialect() == "sqlite":
        # The id is an indexed token (migration 0006b): the old row is found, not scanned for.
        db.session.execute(
            text("DELETE FROM search_entry_fts WHERE search_entry_fts MATCH :id"),
            {"id": _fts_ids("document_id", [document.id])},
        )
        db.session.execute(
            text(
                "INSERT INTO search_entry_fts (document_id, title, body, space_id, audience) "
                "VALUES (:id, :title, :body, :space, :audience)"
            ),
            {
                "id": document.id,
                "title": entry.title,
                "body": entry.body,
                "space": document.space_id,
                "audience": _audience(document),
            },
        )


def _fts_ids(column: str, ids: list[str]) -> str:
    """An FTS5 query for rows whose id column holds one of ``ids`` (hex tokens)."""
    quoted = " OR ".join('"' + value.replace('"', "") + '"' for value in ids)
    return f"{column} : ({quoted})"


def query_terms(query: str) -> list[str]:
    """The words of a query, as the full-text engines will read them."""
    return re.findall(r"\w+", query or "")[:MAX_QUERY_TERMS]


def _parts(snippet: str) -> tuple[tuple[str, bool], ...]:
    parts: list[tuple[str, bool]] = []
    for index, chunk in enumerate(re.split(f"[{MATCH_START}{MATCH_END}]", snippet or "")):
        if chunk:
            parts.append((" ".join(chunk.split()), index % 2 == 1))
    return tuple(parts)


def _visible_space_ids(user: User) -> list[str] | None:
    """Ids of the spaces the user may see, or None for all (administrators)."""
    if user.is_admin:
        return None
    return list(db.session.scalars(visible_spaces_query(user).with_only_columns(Space.id)))


def _full_text(user: User, terms: list[str], limit: int) -> list[tuple[str, str]]:
    spaces = _visible_space_ids(user)
    if spaces == []:
        return []
    params: dict[str, object] = {"limit": limit}
    if _dialect() == "sqlite":
        words = " ".join('"' + term.replace('"', "") + '"' for term in terms)
        # Access is filtered inside the index (migrations 0006b, 0009), not by joining each
        # match's document row: that join is what costs on a large portal.
        audience = AUDIENCE_CLIENT if user.is_client else f"({AUDIENCE_CLIENT} OR {AUDIENCE_STAFF})"
        match = "{title body} : (" + words + ") AND audience : " + audience
        if spaces is not None:
            match += " AND " + _fts_ids("space_id", spaces)
        params["match"] = match
        params["start"], params["end"] = MATCH_START, MATCH_END
        # Rank every match, but make snippets only for the best ones: SQLite computes the
        # selected columns before ORDER BY ... LIMIT. The id, space and audience columns
        # weigh nothing in the rank.
        sql = (
            "WITH best AS (SELECT rowid AS row, "
            "bm25(search_entry_fts, 0.0, 1.0, 1.0, 0.0, 0.0) AS rank "
            "FROM search_entry_fts WHERE search_entry_fts MATCH :match "
            "ORDER BY rank LIMIT :limit) "
            "SELECT f.document_id, snippet(search_entry_fts, 2, :start, :end, '…', 16) "
            "FROM best JOIN search_entry_fts f ON f.rowid = best.row "
            "WHERE search_entry_fts MATCH :match ORDER BY best.rank"
        )
        statement = text(sql)
    else:
        filters = "d.deleted_at IS NULL"
        if spaces is not None:
            filters += " AND d.space_id IN :spaces"
            params["spaces"] = spaces
        if user.is_client:
            filters += " AND d.visibility = :shared"
            params["shared"] = Visibility.shared.value
        params["query"] = " ".join(terms)
        params["options"] = (
            f'StartSel="{MATCH_START}", StopSel="{MATCH_END}", MaxWords=30, MinWords=10'
        )
        # Rank on the stored vector (migration 0006d); headlines only for the best ones.
        sql = (  # constant fragments only; every value is a bound parameter
            "WITH best AS (SELECT e.document_id, ts_rank(e.search_vector, q) AS rank "  # noqa: S608
            "FROM search_entry e JOIN document d ON d.id = e.document_id, "
            "plainto_tsquery('spanish', :query) q "
            f"WHERE e.search_vector @@ q AND {filters} "
            "ORDER BY rank DESC LIMIT :limit) "
            "SELECT best.document_id, "
            "ts_headline('spanish', e.body, plainto_tsquery('spanish', :query), :options) "
            "FROM best JOIN search_entry e ON e.document_id = best.document_id "
            "ORDER BY best.rank DESC"
        )
        statement = text(sql)
        if spaces is not None:
            statement = statement.bindparams(bindparam("spaces", expanding=True))
    return [(row[0], row[1] or "") for row in db.session.execute(statement, params)]


def search_documents(user: User, query: str, *, limit: int = 50) -> list[SearchHit]:
    """Documents whose title or text holds every word of ``query``, that ``user`` may see."""
    terms = query_terms(query)
    if not terms:
        return []
    hits: list[SearchHit] = []
    seen: set[str] = set()
    found = _full_text(user, terms, limit)
    by_id = {
        d.id: d
        for d in db.session.scalars(
            select(Document).where(Document.id.in_([document_id for document_id, _ in found]))
        )
    }
    # The SQL already filters by access; this is the one rule of access.py, checked again.
    allowed = {d.id for d in visible_documents(user, by_id.values())}
    for document_id, snippet in found:
        if document_id not in allowed or document_id in seen:
            continue
        seen.add(document_id)
        hits.append(SearchHit(by_id[document_id], _parts(snippet)))
    if len(hits) < limit:
        # Titles changed since they were indexed, and documents not indexed at all.
        phrase = " ".join(terms).replace("\\", "").replace("%", "").replace("_", "")
        by_title = select(Document).where(
            Document.title.ilike(f"%{phrase}%"), Document.deleted_at.is_(None)
        )
        spaces = _visible_space_ids(user)
        if spaces is not None:
            by_title = by_title.where(Document.space_id.in_(spaces))
        if user.is_client:
            by_title = by_title.where(Document.visibility == Visibility.shared)
        by_title_found = db.session.scalars(by_title.order_by(Document.title).limit(limit))
        for document in visible_documents(user, by_title_found):
            if document.id not in seen:
                seen.add(document.id)
                hits.append(SearchHit(document))
    return hits[:limit]
