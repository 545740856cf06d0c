"""Per-model vectors versions: bumped with every change to a model's vectors, in the same transaction,
so a reader can tell an index built before the change (stale) from a fresh one."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.db.schema import Model


def ensure_model(session: Session, model: str) -> Model:
    row = session.get(Model, model)
    if row is None:
        row = Model(name=model, options="{}", vectors_version=0)
        session.add(row)
        session.flush()
    return row


def bump_versions(session: Session, models: list[str]) -> None:
    for model in set(models):
        ensure_model(session, model)
        session.execute(update(Model).where(Model.name == model).values(vectors_version=Model.vectors_version + 1))


def vectors_version(session: Session, model: str) -> int:
    return int(session.execute(select(Model.vectors_version).where(Model.name == model)).scalar() or 0)
