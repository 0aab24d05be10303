"""The team's tables, as typed SQLAlchemy 2 classes. A change here needs a migration:
`.venv/bin/flask --app {{ cookiecutter.package_name }} db revision --autogenerate -m "what changed"` (docs/database.md)."""

from __future__ import annotations

from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    # Constraint names fixed by convention, so that a migration can drop or alter them on every database.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Item(Base):
    """The example resource (api/items.py): copy it for your own."""

    __tablename__ = "item"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int] = mapped_column(default=0)


class Tenant(Base):
    """A customer with a front end of its own, at `origin`: the CORS policy may allow it (policies.py)."""

    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # As a browser sends it: https://shop.tenant-one.example (lowercase, no default port, no slash).
    origin: Mapped[str] = mapped_column(String(300), unique=True)
