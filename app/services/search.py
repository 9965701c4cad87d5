"""Full-text search over document titles and OCR text, filtered by access rights.

SQLite reads the FTS5 table ``search_entry_fts`` (migrations 0006, 0006b, 0009); PostgreSQL reads
``search_entry`` through the GIN index over its stored Spanish ``search_vector`` (0006d).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, or_, select, text

from app.extensions import db
from app.models import Document, SearchEntry, User, Visibility
from app.models.base import utcnow
from app.services.access import visible_documents, visible_space_ids
from app.services.paging import Page, PageArgs, bad_cursor, decode_cursor, encode_cursor

#: Marks around matched words inside snippets; never present in extracted text.
MATCH_START = "\x02"
MATCH_END = "\x03"
MAX_QUERY_TERMS = 12
#: Titles read at a time when looking for those the full-text index did not match.
TITLE_BATCH = 200
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
    return list(db.session.scalars(visible_space_ids(user)))


@dataclass(frozen=True)
class _Match:
    document_id: str
    snippet: str
    #: Lower is better on both engines (SQLite's bm25 is negative; PostgreSQL's rank is negated).
    rank: float
    #: What orders equal ranks: the index row's rowid on SQLite (reading the id column of every
    #: match would load each row's text), the document id on PostgreSQL.
    tie: int | str


def _full_text(
    user: User,
    terms: list[str],
    limit: int,
    *,
    after: tuple[float, int | str] | None = None,
    only: list[str] | None = None,
) -> list[_Match]:
    """The best ``limit`` index matches the user may see, after ``after`` (rank, tie) in order.

    ``only``: among those documents only (the snippet is then left out).
    """
    spaces = _visible_space_ids(user)
    if spaces == [] or only == []:
        return []
    params: dict[str, object] = {"limit": limit}
    if after is not None:
        params["after_rank"], params["after_tie"] = after
    if _dialect() == "sqlite":
        words = " ".join('"' + term.replace('"', "") + '"' for term in terms)
        # Access is filtered inside the index (migrations 0006b, 0009), not by joining each
        # match's document row: that join is what costs on a large portal.
        audience = AUDIENCE_CLIENT if user.is_client else f"({AUDIENCE_CLIENT} OR {AUDIENCE_STAFF})"
        match = "{title body} : (" + words + ") AND audience : " + audience
        if spaces is not None:
            match += " AND " + _fts_ids("space_id", spaces)
        if only is not None:
            match += " AND " + _fts_ids("document_id", only)
        params["match"] = match
        params["start"], params["end"] = MATCH_START, MATCH_END
        later = (
            "WHERE rank > :after_rank OR (rank = :after_rank AND row > :after_tie) "
            if after is not None
            else ""
        )
        snippet = (
            "''" if only is not None else "snippet(search_entry_fts, 2, :start, :end, '…', 16)"
        )
        # Rank every match, but make snippets only for the best ones: SQLite computes the
        # selected columns before ORDER BY ... LIMIT. The id, space and audience columns
        # weigh nothing in the rank.
        sql = (  # constant fragments only; every value is a bound parameter
            "WITH ranked AS (SELECT rowid AS row, "  # noqa: S608
            "bm25(search_entry_fts, 0.0, 1.0, 1.0, 0.0, 0.0) AS rank "
            "FROM search_entry_fts WHERE search_entry_fts MATCH :match), "
            f"best AS (SELECT row, rank FROM ranked {later}"
            "ORDER BY rank, row LIMIT :limit) "
            f"SELECT f.document_id, {snippet}, best.rank, best.row "
            "FROM best JOIN search_entry_fts f ON f.rowid = best.row "
            "WHERE search_entry_fts MATCH :match ORDER BY best.rank, best.row"
        )
        statement = text(sql)
    else:
        filters = "d.deleted_at IS NULL"
        if spaces is not None:
            filters += " AND d.space_id IN :spaces"
            params["spaces"] = spaces
        if only is not None:
            filters += " AND d.id IN :only"
            params["only"] = only
        if user.is_client:
            filters += " AND d.visibility = :shared"
            params["shared"] = Visibility.shared.value
        params["query"] = " ".join(terms)
        params["options"] = (
            f'StartSel="{MATCH_START}", StopSel="{MATCH_END}", MaxWords=30, MinWords=10'
        )
        later = (
            "WHERE rank > :after_rank OR (rank = :after_rank AND document_id > :after_tie) "
            if after is not None
            else ""
        )
        headline = (
            "''"
            if only is not None
            else "ts_headline('spanish', e.body, plainto_tsquery('spanish', :query), :options)"
        )
        # Rank on the stored vector (migration 0006d), negated so that lower is better as on
        # SQLite, and as double precision so that a cursor's rank compares equal to itself;
        # headlines only for the best ones.
        sql = (  # constant fragments only; every value is a bound parameter
            "WITH ranked AS (SELECT e.document_id, "  # noqa: S608
            "-CAST(ts_rank(e.search_vector, q) AS double precision) AS rank "
            "FROM search_entry e JOIN document d ON d.id = e.document_id, "
            "plainto_tsquery('spanish', :query) q "
            f"WHERE e.search_vector @@ q AND {filters}), "
            f"best AS (SELECT document_id, rank FROM ranked {later}"
            "ORDER BY rank, document_id LIMIT :limit) "
            f"SELECT best.document_id, {headline}, best.rank, best.document_id "
            "FROM best JOIN search_entry e ON e.document_id = best.document_id "
            "ORDER BY best.rank, best.document_id"
        )
        statement = text(sql)
        if spaces is not None:
            statement = statement.bindparams(bindparam("spaces", expanding=True))
        if only is not None:
            statement = statement.bindparams(bindparam("only", expanding=True))
    return [
        _Match(row[0], row[1] or "", float(row[2]), row[3])
        for row in db.session.execute(statement, params)
    ]


def search_documents(user: User, query: str, *, limit: int = 50) -> list[SearchHit]:
    """The best ``limit`` documents whose title or text hold every word of ``query``."""
    return list(search_page(user, query, PageArgs(limit=limit)))


def search_page(user: User, query: str, page: PageArgs) -> Page[SearchHit]:
    """One page of the documents ``user`` may see whose title or text hold every word of ``query``.

    First the index's matches, best first (rank, then id); then the documents whose title holds
    the words as typed (part of a word, a title not indexed yet) that the index did not match,
    by title. The cursor names the part and the last row's place in it, and belongs to this
    query; each page is the caller's own query, with its access rules.
    """
    terms = query_terms(query)
    if not terms:
        return Page()
    scope = "search:" + " ".join(terms).casefold()
    by_rank: tuple[float, int | str] | None = None  # after this (rank, tie) among the matches
    last_id = ""  # ... which is this document's place
    by_title: tuple[str, str] | None = None  # after this (title, id) among the titles
    if page.cursor is not None:
        part, key, tie, document_id = decode_cursor(scope, page.cursor, 4)
        if (
            part == 0
            and isinstance(key, int | float)
            and isinstance(tie, int | str)
            and isinstance(document_id, str)
        ):
            by_rank, last_id = (float(key), tie), document_id
        elif part == 1 and isinstance(key, str | None) and isinstance(tie, str):
            by_title = (key or "", tie)
        else:
            raise bad_cursor()
    hits: list[SearchHit] = []
    room = page.limit
    if by_title is None:
        if by_rank is not None:
            # The rank of the previous page's last document, read again: SQLite's bm25 weighs
            # each match against the whole index, so every rank moves a little as documents
            # arrive, while their order does not. The cursor's own figure serves only when
            # that document no longer matches.
            again = _full_text(user, terms, 1, only=[last_id])
            if again:
                by_rank = (again[0].rank, again[0].tie)
        found = _full_text(user, terms, room + 1, after=by_rank)
        shown = found[:room]
        hits += _indexed_hits(user, shown)
        if len(found) > room:
            last = shown[-1]
            return Page(hits, encode_cursor(scope, [0, last.rank, last.tie, last.document_id]))
        room -= len(shown)
    titled = _title_only(user, terms, room + 1, after=by_title)
    hits += [SearchHit(document) for document in titled[:room]]
    if len(titled) <= room:
        return Page(hits)
    if room == 0:  # the index's matches end exactly here: the titles start the next page
        return Page(hits, encode_cursor(scope, [1, None, "", ""]))
    last_titled = titled[room - 1]
    return Page(hits, encode_cursor(scope, [1, last_titled.title, last_titled.id, ""]))


def _indexed_hits(user: User, found: list[_Match]) -> list[SearchHit]:
    by_id = {
        d.id: d
        for d in db.session.scalars(
            select(Document).where(Document.id.in_([match.document_id for match in found]))
        )
    }
    # The SQL already filters by access; this is the one rule of access.py, checked again.
    allowed = {d.id for d in visible_documents(user, by_id.values())}
    return [
        SearchHit(by_id[match.document_id], _parts(match.snippet))
        for match in found
        if match.document_id in allowed
    ]


def _title_only(
    user: User, terms: list[str], limit: int, *, after: tuple[str, str] | None
) -> list[Document]:
    """Up to ``limit`` documents, by title after ``after``, whose title holds the words as
    typed and that the index did not match (those came first)."""
    phrase = " ".join(terms).replace("\\", "").replace("%", "").replace("_", "")
    by_title = select(Document).where(
        Document.title.ilike(f"%{phrase}%"), Document.deleted_at.is_(None)
    )
    spaces = _visible_space_ids(user)
    if spaces is not None:
        by_title = by_title.where(Document.space_id.in_(spaces))
    if user.is_client:
        by_title = by_title.where(Document.visibility == Visibility.shared)
    # Read in batches of at least TITLE_BATCH: most titles holding the words are the index's
    # matches already, and a page's last places (a limit of 1) must not read them one by one.
    batch_size = max(limit, TITLE_BATCH)
    by_title = by_title.order_by(Document.title, Document.id).limit(batch_size)
    found: list[Document] = []
    while len(found) < limit:
        batch_query = by_title
        if after is not None:
            title, document_id = after
            batch_query = batch_query.where(
                or_(
                    Document.title > title, and_(Document.title == title, Document.id > document_id)
                )
            )
        batch = list(db.session.scalars(batch_query))
        if not batch:
            break
        ids = [document.id for document in batch]
        indexed = {match.document_id for match in _full_text(user, terms, len(ids), only=ids)}
        found += [d for d in visible_documents(user, batch) if d.id not in indexed]
        after = (batch[-1].title, batch[-1].id)
        if len(batch) < batch_size:
            break
    return found[:limit]
