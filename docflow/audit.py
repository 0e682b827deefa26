"""The audit log: append-only, hash-chained, verifiable with ``dhtn audit verify``.

Each entry's hash covers its fields and the previous entry's hash in the same chain, so
changing, removing or reordering an entry breaks every hash after it. Chains are per
organisation: appends in different organisations never wait for each other.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from docflow.actors import Actor, DelegatedRole
from docflow.models import AuditChainHead, AuditEntry
from docflow.uow import UnitOfWork

GENESIS = "0" * 64
SYSTEM_CHAIN = "system"


def _canonical(entry: AuditEntry) -> bytes:
    body = {
        "chain": entry.chain,
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="microseconds"),
        "event": entry.event,
        "actor_id": str(entry.actor_id) if entry.actor_id else None,
        "actor_name": entry.actor_name,
        "on_behalf_of_id": str(entry.on_behalf_of_id) if entry.on_behalf_of_id else None,
        "on_behalf_of_name": entry.on_behalf_of_name,
        "organization_id": str(entry.organization_id) if entry.organization_id else None,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "ip": entry.ip,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def _lock_head(session: Session, chain: str) -> AuditChainHead:
    dialect = session.get_bind().dialect.name
    values = {"chain": chain, "seq": 0, "hash": GENESIS}
    if dialect == "postgresql":
        session.execute(postgresql.insert(AuditChainHead).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(AuditChainHead).values(values).on_conflict_do_nothing())
    head = session.scalars(
        select(AuditChainHead)
        .where(AuditChainHead.chain == chain)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return head


def record(
    uow: UnitOfWork,
    event: str,
    *,
    actor: Actor | None = None,
    acting_as: DelegatedRole | None = None,
    organization_id: uuid.UUID | None = None,
    object_type: str | None = None,
    object_id: object = None,
    details: dict[str, Any] | None = None,
    actor_name: str | None = None,
) -> AuditEntry:
    """Append an entry to the organisation's chain, inside the caller's transaction."""
    session = uow.session
    org_id = organization_id or (actor.organization_id if actor else None)
    chain = str(org_id) if org_id else SYSTEM_CHAIN
    head = _lock_head(session, chain)
    entry = AuditEntry(
        chain=chain,
        seq=head.seq + 1,
        at=uow.now(),
        event=event,
        actor_id=actor.user_id if actor else None,
        actor_name=actor.full_name if actor else actor_name,
        on_behalf_of_id=acting_as.delegator_id if acting_as else None,
        on_behalf_of_name=acting_as.delegator_name if acting_as else None,
        organization_id=org_id,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        ip=uow.context.get("ip"),
        details=details or {},
        prev_hash=head.hash,
    )
    entry.hash = entry_hash(entry)
    head.seq = entry.seq
    head.hash = entry.hash
    session.add(entry)
    return entry


@dataclass(frozen=True)
class ChainProblem:
    """One break in a chain: where, and what is wrong there."""

    chain: str
    seq: int
    problem: str


@dataclass(frozen=True)
class AuditReport:
    """Result of :func:`verify`: entries checked, chains checked, problems found."""

    entries: int
    chains: int
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, *, batch: int = 5000) -> AuditReport:
    """Recompute every chain; report gaps, broken links, altered entries and stale heads."""
    problems: list[ChainProblem] = []
    heads = {h.chain: h for h in session.scalars(select(AuditChainHead))}
    count = 0
    chains_seen: set[str] = set()
    for chain in sorted(heads):
        chains_seen.add(chain)
        prev_hash, prev_seq = GENESIS, 0
        last_seq = 0
        while True:
            rows = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.chain == chain, AuditEntry.seq > last_seq)
                .order_by(AuditEntry.seq)
                .limit(batch)
            ).all()
            if not rows:
                break
            for entry in rows:
                count += 1
                if entry.seq != prev_seq + 1:
                    problems.append(ChainProblem(chain, entry.seq, f"missing seq {prev_seq + 1}"))
                if entry.prev_hash != prev_hash:
                    problems.append(ChainProblem(chain, entry.seq, "broken link to previous"))
                if entry_hash(entry) != entry.hash:
                    problems.append(ChainProblem(chain, entry.seq, "entry altered"))
                prev_hash, prev_seq = entry.hash, entry.seq
            last_seq = rows[-1].seq
        head = heads[chain]
        if head.seq != prev_seq or head.hash != prev_hash:
            problems.append(ChainProblem(chain, head.seq, "head does not match last entry"))
    orphan_chains = session.scalars(
        select(AuditEntry.chain).where(AuditEntry.chain.not_in(chains_seen)).distinct()
    ).all()
    for chain in orphan_chains:
        problems.append(ChainProblem(chain, 0, "entries without a chain head"))
    return AuditReport(entries=count, chains=len(heads), problems=problems)
