"""Rows become Numbers by position: the columns read and the fields built must agree."""

from __future__ import annotations

import dataclasses

from exophone.domain.model import Number
from exophone.store.repository import NUMBER_COLUMNS


def test_number_columns_are_the_number_fields_in_order() -> None:
    columns = [c.strip() for c in NUMBER_COLUMNS.split(",")]
    assert columns == [f.name for f in dataclasses.fields(Number)]
