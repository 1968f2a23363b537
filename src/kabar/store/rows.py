"""The row type store queries return (columns are read by name: ``row.username``)."""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy.engine import Row

Record: TypeAlias = Row[*tuple[Any, ...]]
