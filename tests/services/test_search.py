"""Full-text search follows who may see each document: visibility, deletion, upgrades."""

from __future__ import annotations

import io

import pytest
from portal_testing import BACKEND, _migrate, build_world, make_app

WORD = "Quintanilla"


def found(user, *, limit: int = 50) -> list[str]:
    from app.services import search

    return [hit.document.id for hit in search.search_documents(user, WORD, limit=limit)]


def index(document, mentions: int) -> None:
    """Index a text naming WORD ``mentions`` times: more mentions rank higher."""
    from app.services import search

    search.index_document(document, body=" ".join([f"Expediente {WORD}"] * mentions))


def upload(world, title: str):
    from app.services import documents

    return documents.upload_document(
        world.staff,
        world.space_a.id,
        io.BytesIO(b"%PDF-1.4 texto"),
        filename="texto.pdf",
        title=title,
    )


def test_a_client_never_finds_an_internal_document_until_it_is_shared(world):
    from app.extensions import db
    from app.services import documents

    index(world.shared, 1)
    index(world.internal, 5)  # ranks first for whoever may see it
    db.session.commit()

    assert found(world.staff) == [world.internal.id, world.shared.id]
    assert found(world.admin) == [world.internal.id, world.shared.id]
    assert found(world.client_a) == [world.shared.id]
    # The client's single best result is the shared one, not an empty page.
    assert found(world.client_a, limit=1) == [world.shared.id]

    documents.set_visibility(world.staff, world.internal.id, "shared")
    db.session.commit()
    assert found(world.client_a) == [world.internal.id, world.shared.id]


def test_a_document_made_internal_leaves_a_clients_results_at_once(world):
    from app.extensions import db
    from app.services import documents

    index(world.shared, 1)
    db.session.commit()
    assert found(world.client_a) == [world.shared.id]

    documents.set_visibility(world.staff, world.shared.id, "internal")
    db.session.commit()
    assert found(world.client_a) == []
    assert found(world.staff) == [world.shared.id]


def test_nobody_finds_a_deleted_document(world):
    from app.extensions import db
    from app.services import documents, search

    kept = upload(world, "Escrito de alegaciones")
    gone = upload(world, "Escrito anterior")
    index(kept, 1)
    index(gone, 5)
    db.session.commit()
    assert found(world.client_a) == [gone.id, kept.id]

    documents.delete_document(world.staff, gone.id)
    db.session.commit()
    for user in (world.client_a, world.staff, world.admin):
        assert found(user, limit=1) == [kept.id]
    assert found(world.admin) == [kept.id]

    # There is no restore of a deleted document yet; one would re-index as delete does.
    gone.deleted_at = None
    gone.deleted_by_id = None
    search.index_document(gone)
    db.session.commit()
    assert found(world.client_a) == [gone.id, kept.id]
    # Its indexed text survived the deletion.
    assert search.search_documents(world.client_a, WORD)[0].snippet.startswith("Expediente")


@pytest.mark.skipif(BACKEND == "postgres", reason="migration 0009 changes only SQLite")
def test_upgrading_from_0008_keeps_documents_findable_by_those_who_may(tmp_path):
    """A portal at 0008 with indexed documents upgrades to 0009 and finds them as before."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from app.cli import ROOT, upgrade_database
    from app.extensions import db
    from app.models import User
    from app.services import documents

    url = f"sqlite:///{tmp_path / 'portal.sqlite'}"
    _migrate(url)
    app = make_app(tmp_path, url)
    with app.app_context():
        world = build_world()
        deleted = upload(world, "Escrito anterior")
        for document in (world.shared, world.internal, deleted):
            index(document, 1)
        documents.delete_document(world.staff, deleted.id)
        db.session.commit()
        client_id, staff_id = world.client_a.id, world.staff.id
        shared_id, internal_id = world.shared.id, world.internal.id
        db.session.remove()

        def index_columns() -> list[str]:
            columns = [
                row[1] for row in db.session.execute(text("PRAGMA table_info(search_entry_fts)"))
            ]
            db.session.remove()
            return columns

        config = Config()
        config.set_main_option("script_location", str(ROOT / "app" / "migrations"))
        config.attributes["connection_url"] = url
        command.downgrade(config, "0008_previews")
        assert index_columns() == ["document_id", "title", "body", "space_id"]

        upgrade_database(app)
        assert index_columns() == ["document_id", "title", "body", "space_id", "audience"]
        assert found(db.session.get(User, client_id)) == [shared_id]
        assert sorted(found(db.session.get(User, staff_id))) == sorted([shared_id, internal_id])
        db.session.remove()
        db.engine.dispose()


def test_results_page_by_rank_then_by_title_and_arrivals_neither_repeat_nor_hide(world):
    """Walk the results three at a time while documents that match arrive between pages."""
    from app.extensions import db
    from app.services import search
    from app.services.errors import ValidationFailed
    from app.services.paging import PageArgs

    indexed = []
    for n in range(7):
        document = upload(world, f"Escrito {n}")
        index(document, n + 1)
        indexed.append(document)
    # Part of a longer word (a prefix: Spanish stemming on PostgreSQL drops suffixes).
    titled = [upload(world, f"Carpeta {prefix}{WORD}") for prefix in ("Pre", "Sub", "Anti")]
    db.session.commit()
    whole = [
        hit.document.id for hit in search.search_page(world.client_a, WORD, PageArgs(limit=500))
    ]
    # Most mentions first, then the titles that only hold the word as part of another.
    assert whole[:7] == [d.id for d in reversed(indexed)]
    assert set(whole[7:]) == {d.id for d in titled}

    seen: list[str] = []
    arrived: list[str] = []
    cursor = None
    while True:
        page = search.search_page(world.client_a, WORD, PageArgs(cursor=cursor, limit=3))
        assert len(page) <= 3
        seen += [hit.document.id for hit in page]
        cursor = page.next
        if cursor is None:
            break
        best = upload(world, f"Nuevo {len(arrived)}")
        index(best, 20)  # better than everything: it belongs before the pages already read
        arrived.append(best.id)
        arrived.append(upload(world, f"Anexo Pre{WORD} {len(arrived)}").id)
        db.session.commit()
    assert len(seen) == len(set(seen)), "a result came twice"
    assert [i for i in seen if i in whole] == whole, "a result went missing or moved"
    assert set(seen) - set(whole) <= set(arrived)

    # The cursor belongs to its query; the same words in another case are the same query.
    first = search.search_page(world.client_a, WORD, PageArgs(limit=1))
    assert search.search_page(world.client_a, WORD.upper(), PageArgs(cursor=first.next, limit=1))
    with pytest.raises(ValidationFailed):
        search.search_page(world.client_a, "Expediente", PageArgs(cursor=first.next, limit=1))


def test_the_titles_after_the_index_matches_are_found_in_a_few_queries(world):
    """300 titles the index matched come before the two it did not: not one query each."""
    from sqlalchemy import event

    from app.extensions import db
    from app.services import search
    from app.services.paging import PageArgs

    matched = [upload(world, f"Factura {n:03d}") for n in range(300)]
    apart = [upload(world, f"Prefactura {letter}") for letter in "AB"]
    db.session.commit()
    statements: list[str] = []

    def count(*args):  # type: ignore[no-untyped-def]
        statements.append(args[2])

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        # The index's 300 fill the page exactly: whether titles follow is looked up after them.
        first = search.search_page(world.staff, "factura", PageArgs(limit=300))
        rest = search.search_page(world.staff, "factura", PageArgs(cursor=first.next, limit=300))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert {hit.document.id for hit in first} == {d.id for d in matched} and first.next
    assert [hit.document.id for hit in rest] == [d.id for d in apart] and rest.next is None
    assert len(statements) < 30, len(statements)
