"""The example resource: create, list (a page at a time), read, update and delete items. Copy it for yours.

The pydantic models are the contract: flask-openapi3 checks each request against them before the view
runs (a bad body is a 422 naming each field, errors.py), and /api/openapi.json is built from them.
"""

from __future__ import annotations

from flask import abort
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from .. import db
from ..models import Item

blueprint = APIBlueprint("items", __name__, url_prefix="/api/items", abp_tags=[Tag(name="items")])


class ItemIn(BaseModel):
    """What a client sends to create or replace an item."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Teapot", "quantity": 3}]})

    name: str = Field(min_length=1, max_length=100)
    quantity: int = Field(default=0, ge=0)


class ItemOut(ItemIn):
    model_config = ConfigDict(from_attributes=True)

    id: int


class ItemPath(BaseModel):
    item_id: int = Field(ge=1)


class PageQuery(BaseModel):
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=20, ge=1, le=100)


class ItemPage(BaseModel):
    items: list[ItemOut]
    page: int
    per_page: int
    total: int


@blueprint.post("", responses={201: ItemOut})
def create_item(body: ItemIn):
    """Create an item."""
    item = Item(**body.model_dump())
    session = db.session()
    session.add(item)
    session.commit()
    return ItemOut.model_validate(item).model_dump(), 201


@blueprint.get("", responses={200: ItemPage})
def list_items(query: PageQuery):
    """The items, oldest first, a page at a time."""
    session = db.session()
    total = session.scalar(select(func.count()).select_from(Item))
    page = session.scalars(
        select(Item).order_by(Item.id).offset((query.page - 1) * query.per_page).limit(query.per_page)
    )
    items = [ItemOut.model_validate(item) for item in page]
    return ItemPage(items=items, page=query.page, per_page=query.per_page, total=total).model_dump()


@blueprint.get("/<int:item_id>", responses={200: ItemOut})
def read_item(path: ItemPath):
    """One item."""
    return ItemOut.model_validate(_item(path.item_id)).model_dump()


@blueprint.put("/<int:item_id>", responses={200: ItemOut})
def update_item(path: ItemPath, body: ItemIn):
    """Replace an item's fields."""
    item = _item(path.item_id)
    for name, value in body.model_dump().items():
        setattr(item, name, value)
    db.session().commit()
    return ItemOut.model_validate(item).model_dump()


@blueprint.delete("/<int:item_id>", responses={204: None})
def delete_item(path: ItemPath):
    """Delete an item."""
    session = db.session()
    session.delete(_item(path.item_id))
    session.commit()
    return "", 204


def _item(item_id: int) -> Item:
    item = db.session().get(Item, item_id)
    if item is None:
        abort(404, f"There is no item {item_id}.")
    return item
