"""Full-text search of documents, behind one function (:func:`search_documents`).

Both databases read one row per document, ``document_search`` (kept by triggers: organisation,
secrecy rank, listing date, the folded metadata ``meta`` and the folded ``body``), in two steps
(on PostgreSQL one statement, :func:`ranking`, kept per reader shape for a query of words alone):

1. **Candidates**: the box's query (visibility, clearance and filters, in SQL) joined to that
   row, with the words matched by the index — on PostgreSQL the stored, weighted ``tsvector``
   (A: notation, subject, issuer; B: body) with ``to_tsquery`` (phrases as ``<->``, exclusions
   as ``!``) on the GIN index of (organisation, tsvector); on SQLite the FTS5 table
   ``document_fts``. A term with punctuation (part of a notation, "15/kh") is a substring of the
   metadata (trigram index on PostgreSQL). Ordered by the listing date, newest first, at most
   :data:`CANDIDATES` of them: the planner either walks the (organisation, listing date) index
   checking each row or intersects the GIN postings, whichever its statistics say is cheaper;
   never a ranking of every match.
2. **Ranking** of those candidates only: metadata matches first (weight A), then relevance
   (``ts_rank`` / ``bm25``), then newer first.

So a query costs about the same whether 10 or 100,000 documents of the organisation contain
the words (``bench/search.py`` measures it at 100,000 and 1,000,000 documents). A deployment
that outgrows PostgreSQL would put OpenSearch behind this same function (see the README).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    column,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import aliased

from docflow.actors import Actor
from docflow.db import rows
from docflow.documents import access, shapes
from docflow.documents.views import DocumentView
from docflow.errors import ValidationError
from docflow.models import Document, DocumentFile, DocumentSearch, FileText
from docflow.pagination import Page, decode_cursor, encode_cursor
from docflow.search.commands import SearchTerms, parse_query
from docflow.search.snippets import Snippet, make_snippet, substring_snippet
from docflow.uow import UnitOfWork

# How many of the newest matches are ranked (and how far the pages of a search go).
CANDIDATES = 200
MAX_OFFSET = CANDIDATES

_FTS = table("document_fts", column("rowid"), column("meta"), column("body"))


@dataclass(frozen=True)
class SearchPage(Page[DocumentView]):
    """A page of ranked results, with the snippet of each item (None when not found in text)."""

    snippets: dict[uuid.UUID, Snippet | None] = field(default_factory=dict)


_WORDS = re.compile(r"[0-9a-z]+( [0-9a-z]+)*")


def is_words(term: str) -> bool:
    """A word or a phrase of words (the index's business); otherwise a substring of the
    metadata, such as part of a notation."""
    return bool(_WORDS.fullmatch(term))


def tsquery_text(terms: SearchTerms, *, weight: str = "") -> str | None:
    """The ``to_tsquery('simple', …)`` text of the word terms: every included term (a phrase
    as ``<->``), none of the excluded ones; None when no term is made of words. Terms are
    ``[0-9a-z ]`` only (:func:`is_words`), so quoting each lexeme is enough."""

    def one(term: str) -> str:
        return (
            "(" + " <-> ".join(f"'{w}'{':' + weight if weight else ''}" for w in term.split()) + ")"
        )

    include = [one(t) for t in terms.include if is_words(t)]
    if not include:
        return None
    exclude = [f"!{one(t)}" for t in terms.exclude if is_words(t)]
    return " & ".join(include + exclude)


def fts5_query(terms: SearchTerms) -> str | None:
    """The FTS5 ``MATCH`` text of the word terms (phrases in quotes), None without words."""
    include = [f'"{t}"' for t in terms.include if is_words(t)]
    if not include:
        return None
    query = " AND ".join(include)
    exclude = [f'"{t}"' for t in terms.exclude if is_words(t)]
    if exclude:
        query = f"({query}) NOT ({' OR '.join(exclude)})"
    return query


def _punctuated(terms: SearchTerms, *, postgres: bool) -> list[ColumnElement[bool]]:
    """Conditions of the terms with punctuation ("15/kh", "24/7"): a substring of the
    metadata (trigram index on PostgreSQL) or, tokenised as the body was, a phrase of it."""

    def found(t: str) -> ColumnElement[bool]:
        in_meta = DocumentSearch.meta.contains(t, autoescape=True)
        if postgres:
            return or_(in_meta, DocumentSearch.tsv.op("@@")(func.phraseto_tsquery("simple", t)))
        return or_(in_meta, DocumentSearch.body.contains(t, autoescape=True))

    conds = [found(t) for t in terms.include if not is_words(t)]
    conds += [not_(found(t)) for t in terms.exclude if not is_words(t)]
    return conds


def _meta_substrings(s: Any, terms: SearchTerms) -> list[ColumnElement[bool]]:
    return [s.meta.contains(t, autoescape=True) for t in terms.include if not is_words(t)]


def search_documents(
    uow: UnitOfWork,
    actor: Actor,
    base: Select[Any],
    q: str,
    *,
    limit: int,
    cursor: str | None = None,
    params: Mapping[str, Any] | None = None,
    box: tuple[Callable[..., Select[Any]], Hashable] | None = None,
) -> SearchPage:
    """Documents of ``base`` (already restricted to what ``actor`` may see and to the box's
    filters) that match ``q``, best first, with snippets. ``params``: the values ``base`` is
    run with (a statement kept per reader shape, :mod:`docflow.documents.shapes`, names the
    reader's values as parameters). ``box``: the builder of ``base`` and its argument
    (``build(actor, arg)``), given when ``base`` may be kept per reader shape: a query of words
    alone then runs a statement kept for the reader's shape (:func:`_kept_ranking`)."""
    terms = parse_query(q)
    offset = _offset(cursor)
    with uow:
        postgres = uow.session.get_bind().dialect.name == "postgresql"
        if postgres:
            # One statement: the newest matches of the organisation, read on document_search
            # alone (the planner sees one table and walks the date index or the GIN
            # postings), then the box's conditions on those and the ranking. When the box's
            # conditions leave the page short of a full candidate set, the exact form checks
            # them along the walk instead (an EXISTS on the document), still bounded. Each try
            # ranks ids only; the page's documents load once.
            values = ranking_values(terms, offset=offset, limit=limit + 1)
            ranked: list[Any] = []
            for exact in (False, True):
                kept = (
                    shapes.for_reader(_kept_ranking, actor, box[0], box[1], exact)
                    if box is not None and _all_words(terms)
                    else None
                )
                if kept is not None:
                    stmt, reader = kept
                else:
                    stmt, reader = ranking(actor, base, terms, exact=exact), dict(params or {})
                ranked = list(rows(uow.session, stmt, {**reader, **values}).all())
                # A page without rows does not say how many matches were taken: the exact form
                # runs then too (two statements with words, as the old two steps were).
                if len(ranked) > limit or (ranked and ranked[0].pool < CANDIDATES):
                    break
        else:
            stmt = _sqlite(actor, base, terms).offset(offset).limit(limit + 1)
            ranked = list(uow.session.execute(stmt, params or {}).all())
        loaded = access.read_listed(uow.session, [r.id for r in ranked])
        found = [(loaded[r.id], r.meta_hit) for r in ranked if r.id in loaded]
        docs = [r[0] for r in found]
        more = len(docs) > limit
        docs = docs[:limit]
        in_meta = {r[0].id for r in found[:limit] if r[1]}
        snippets = _snippets(uow, docs, terms, in_meta=in_meta)
    next_cursor = (
        encode_cursor(["s", offset + limit]) if more and offset + limit < MAX_OFFSET else None
    )
    return SearchPage(docs, next_cursor, snippets)


def _offset(cursor: str | None) -> int:
    raw = decode_cursor(cursor)
    if not raw:
        return 0
    try:
        if raw[0] != "s":
            raise ValueError
        offset = int(raw[1])
    except (ValueError, IndexError) as exc:
        raise ValidationError.field("cursor", "Con trỏ phân trang không hợp lệ.") from exc
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationError.field("cursor", "Con trỏ phân trang không hợp lệ.")
    return offset


# The values a ranking statement takes at execution (:func:`ranking`): the words' tsquery texts
# (all of them, then the metadata's weight alone), the page's offset and size.
_TSQ_PARAM = "dhtn_search_tsq"
_TSQ_META_PARAM = "dhtn_search_tsq_meta"
_OFFSET_PARAM = "dhtn_search_offset"
_LIMIT_PARAM = "dhtn_search_limit"
# The terms a kept ranking statement is built with: any query of words alone has its shape.
_WORDS_ONLY = SearchTerms(include=("w",), exclude=(), folded="w")


def _all_words(terms: SearchTerms) -> bool:
    """Whether every term is a word or a phrase (the index's business): the statement then
    depends on the words only through the two tsquery texts it is given."""
    return bool(terms.include) and all(is_words(t) for t in (*terms.include, *terms.exclude))


def ranking_values(terms: SearchTerms, *, offset: int, limit: int) -> dict[str, Any]:
    """The values :func:`ranking`'s statement of ``terms`` runs with, for a page of ``limit``
    rows from ``offset``."""
    return {
        _TSQ_PARAM: tsquery_text(terms),
        _TSQ_META_PARAM: tsquery_text(terms, weight="A"),
        _OFFSET_PARAM: offset,
        _LIMIT_PARAM: limit,
    }


def _tsquery(param: str) -> Any:
    return func.to_tsquery("simple", bindparam(param, type_=String, required=True))


def _matches(terms: SearchTerms) -> list[ColumnElement[bool]]:
    """The conditions of the query on ``document_search`` (PostgreSQL); the words' tsquery text
    is the statement's parameter :data:`_TSQ_PARAM`."""
    match = _punctuated(terms, postgres=True)
    if tsquery_text(terms) is not None:
        match.append(DocumentSearch.tsv.op("@@")(_tsquery(_TSQ_PARAM)))
    return match


def _newest(
    actor: Actor,
    terms: SearchTerms,
    involved: CompoundSelect[Any] | None,
    *,
    base: Select[Any] | None = None,
) -> Select[Any]:
    """Ids of the newest :data:`CANDIDATES` matches of the actor's organisation within the
    actor's clearance, on ``document_search`` alone: the indexable part of visibility
    (organisation, clearance, and for those who do not see the whole organisation the ids of
    the documents they are involved in, ``involved``:
    :func:`docflow.documents.access.visible_ids`) and the words; with ``base``, also kept by
    the box's query (an EXISTS on the document, so the planner still plans one table)."""
    return (
        select(DocumentSearch.document_id)
        .where(
            DocumentSearch.organization_id == actor.organization_id,
            DocumentSearch.secrecy_rank <= actor.clearance.rank,
            *_matches(terms),
            # Someone who sees only what they are involved in: the matches among those ids
            # (hashed, or looked up one by one), not every match of the organisation with a
            # check of each; the box's query below still decides.
            *([] if involved is None else [DocumentSearch.document_id.in_(involved)]),
            *(
                []
                if base is None
                else [
                    base.with_only_columns(literal(1))
                    .order_by(None)
                    .where(Document.id == DocumentSearch.document_id)
                    .exists()
                ]
            ),
        )
        .order_by(DocumentSearch.listed_at.desc(), DocumentSearch.document_id.desc())
        .limit(CANDIDATES)
    )


def _candidates(actor: Actor, base: Select[Any], match: list[ColumnElement[bool]]) -> Any:
    """Step 1 on SQLite: ids of the newest :data:`CANDIDATES` visible, filtered matches. The
    organisation and the clearance are repeated on ``document_search`` so that its indexes
    serve them (visibility as an indexable predicate, not a filter after the fact)."""
    return (
        base.join(DocumentSearch, DocumentSearch.document_id == Document.id)
        .where(
            DocumentSearch.organization_id == actor.organization_id,
            DocumentSearch.secrecy_rank <= actor.clearance.rank,
            *match,
        )
        .with_only_columns(Document.id)
        .order_by(None)
        # The order of the (organisation, listing date, id) index: newest first.
        .order_by(DocumentSearch.listed_at.desc(), DocumentSearch.document_id.desc())
        .limit(CANDIDATES)
        .subquery("candidates")
    )


def ranking(actor: Actor, base: Select[Any], terms: SearchTerms, *, exact: bool) -> Select[Any]:
    """The search on PostgreSQL as one statement: the newest :data:`CANDIDATES` matches
    (:func:`_newest`; with ``exact``, checked against the box's query along the walk), those of
    them the box's query ``base`` keeps, ranked on their ``document_search`` rows alone: rows
    of (id, meta_hit, rank, pool), ``pool`` being how many matches were taken. The words'
    tsquery texts, the offset and the page's size are parameters (:func:`ranking_values`), so
    a statement of a query of words alone is the same for all such queries
    (:func:`_kept_ranking`)."""
    newest = _newest(actor, terms, access.visible_ids(actor), base=base if exact else None).cte(
        "newest"
    )
    cand = (
        base.with_only_columns(Document.id)
        .order_by(None)
        .where(Document.id.in_(select(newest.c.document_id)))
        .subquery("candidates")
    )
    s = aliased(DocumentSearch)
    in_meta = _meta_substrings(s, terms)
    if tsquery_text(terms) is not None:
        in_meta.append(s.tsv.op("@@")(_tsquery(_TSQ_META_PARAM)))
        # Weights D, C, B, A: a body word counts a tenth of a metadata word.
        rank: Any = func.ts_rank(
            literal_column("'{0.01, 0.02, 0.1, 1.0}'::float4[]"), s.tsv, _tsquery(_TSQ_PARAM)
        )
    else:
        rank = literal(0.0)
    meta_hit = case((and_(*in_meta), 1), else_=0)
    pool = select(func.count()).select_from(newest).scalar_subquery()
    return (
        select(
            s.document_id.label("id"),
            meta_hit.label("meta_hit"),
            rank.label("rank"),
            pool.label("pool"),
        )
        .join(cand, cand.c.id == s.document_id)
        .order_by(meta_hit.desc(), rank.desc(), s.listed_at.desc(), s.document_id.desc())
        .offset(bindparam(_OFFSET_PARAM, type_=Integer, required=True))
        .limit(bindparam(_LIMIT_PARAM, type_=Integer, required=True))
    )


def _kept_ranking(
    actor: Actor, build: Callable[..., Select[Any]], arg: Hashable, exact: bool
) -> Select[Any]:
    """:func:`ranking` of a query of words alone in the box ``build(actor, arg)``: kept per
    reader shape, box and ``exact`` by :func:`docflow.documents.shapes.for_reader` (issue 19:
    building the search's statements and their cache keys was a quarter of a search's CPU)."""
    return ranking(actor, build(actor, arg), _WORDS_ONLY, exact=exact)


def _sqlite(actor: Actor, base: Select[Any], terms: SearchTerms) -> Select[Any]:
    query = fts5_query(terms)
    match = _punctuated(terms, postgres=False)
    if query is not None:
        hits = select(_FTS.c.rowid).where(
            text("document_fts MATCH :fts_query").bindparams(fts_query=query)
        )
        match.append(literal_column("document_search.rowid").in_(hits))
    cand = _candidates(actor, base, match)
    in_meta = _meta_substrings(DocumentSearch, terms)
    in_meta += [_has_words(DocumentSearch.meta, t) for t in terms.include if is_words(t)]
    meta_hit = case((and_(*in_meta), 1), else_=0)
    stmt = (
        select(Document.id, meta_hit.label("meta_hit"))
        .join(cand, cand.c.id == Document.id)
        .join(DocumentSearch, DocumentSearch.document_id == Document.id)
    )
    if query is None:
        return stmt.order_by(meta_hit.desc(), Document.listed_at.desc(), Document.id.desc())
    # bm25 of FTS5 (smaller is better), the metadata column weighing ten times the body.
    rank = func.bm25(literal_column("document_fts"), 10.0, 1.0)
    return (
        stmt.join(_FTS, _FTS.c.rowid == literal_column("document_search.rowid"))
        .where(text("document_fts MATCH :fts_rank_query").bindparams(fts_rank_query=query))
        .order_by(meta_hit.desc(), rank, Document.listed_at.desc(), Document.id.desc())
    )


def _has_words(col: Any, term: str) -> ColumnElement[bool]:
    """Whole words on SQLite (a word of the folded metadata, padded with separators)."""
    padded = literal(" ") + func.replace(col, "|", " ") + literal(" ")
    return padded.contains(f" {term} ", autoescape=True)


# The texts of the files of some documents as received or uploaded (not the searchable PDFs
# made from them), oldest file first: built once.
_TEXTS = (
    select(FileText.document_id, FileText.text)
    .join(DocumentFile, DocumentFile.id == FileText.file_id)
    .where(
        FileText.document_id.in_(bindparam("doc_ids", expanding=True)),
        DocumentFile.derived_from_id.is_(None),
    )
    .order_by(DocumentFile.created_at)
)


def _snippets(
    uow: UnitOfWork,
    docs: Sequence[DocumentView],
    terms: SearchTerms,
    *,
    in_meta: set[uuid.UUID] | frozenset[uuid.UUID] = frozenset(),
) -> dict[uuid.UUID, Snippet | None]:
    """Only for the documents of the page (which the query already restricted to the visible).
    A query of parts of notations only ("4321/BC") marks them in the notation of the documents
    found by their metadata (``in_meta``), without reading those documents' texts — which
    would be read for nothing: they hardly ever hold a notation."""
    if not docs:
        return {}
    out: dict[uuid.UUID, Snippet | None] = {}
    if not any(is_words(t) for t in terms.include):
        for doc in docs:
            if doc.id in in_meta:
                found = substring_snippet(doc.notation or "", terms.include)
                if found is not None:
                    out[doc.id] = found
    texts: dict[uuid.UUID, list[str]] = {}
    to_read = [d.id for d in docs if d.id not in out]
    for doc_id, body in rows(uow.session, _TEXTS, {"doc_ids": to_read}) if to_read else []:
        texts.setdefault(doc_id, []).append(body)
    for doc in docs:
        if doc.id in out:
            continue
        found = None
        for body in texts.get(doc.id, []):
            found = make_snippet(body, terms.include)
            if found:
                break
        out[doc.id] = found or make_snippet(doc.subject, terms.include)
    return out


def page_count(uow: UnitOfWork, file_id: uuid.UUID) -> int | None:
    """How many pages the reading of a file found (its text layer's or OCR's pages), without
    loading their text; None before it was read, or when it failed. The caller read the file's
    document with visibility applied (a page showing its PDF as page images)."""
    with uow:
        found = uow.session.scalar(
            select(func.json_array_length(FileText.pages)).where(
                FileText.file_id == file_id, FileText.error.is_(None)
            )
        )
    return int(found) if found else None


__all__ = ["SearchPage", "page_count", "search_documents"]


def text_notes(uow: UnitOfWork, doc: Document) -> dict[uuid.UUID, str]:
    """What the document page says of each file's text, in Vietnamese ("Đang nhận dạng chữ…",
    "Không đọc được trang 3"). ``doc`` is one the caller was allowed to load."""
    with uow:
        results = {
            r.file_id: r
            for r in uow.session.scalars(select(FileText).where(FileText.document_id == doc.id))
        }
    notes: dict[uuid.UUID, str] = {}
    for f in doc.files:
        if f.derived_from_id is not None:
            notes[f.id] = "Bản PDF có lớp chữ, tạo từ bản quét"
            continue
        note = text_note(f.text_status, results.get(f.id))
        if note:
            notes[f.id] = note
    return notes


def text_note(status_code: str, result: Any) -> str | None:
    """What a page says of one file's text: the reason it failed, how it was read and which
    pages could not be, or the status's label; None for a file that is not read. ``result``:
    its ``FileText`` or ``TaskFileText`` row, if any."""
    from docflow.search.states import LABELS, TextStatus

    status = TextStatus(status_code)
    if status is TextStatus.FAILED and result is not None and result.error:
        return str(result.error)
    if status is TextStatus.DONE and result is not None:
        failed = [str(p["page"]) for p in result.pages or [] if p.get("status") == "failed"]
        how = "nhận dạng chữ (OCR)" if result.method == "ocr" else "đọc nội dung"
        return f"Đã {how}" + (f"; không đọc được trang {', '.join(failed)}" if failed else "")
    if status is TextStatus.NONE:
        return None
    return LABELS[status]
