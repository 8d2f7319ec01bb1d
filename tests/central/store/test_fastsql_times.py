"""The hot path's hand-written times are the text SQLAlchemy's column type writes and reads back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    Table,
    create_engine,
    insert,
    select,
    text,
)

from central.store import fastsql
from central.store.types import UtcDateTime

metadata = MetaData()
times = Table(
    "times", metadata, Column("n", Integer, primary_key=True), Column("at", UtcDateTime())
)

aware_times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).flatmap(
    lambda naive: st.sampled_from(
        [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
    ).map(lambda zone: naive.replace(tzinfo=zone))
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("times") / "t.db"
    engine = create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@given(at=aware_times)
def test_hand_written_time_text_is_what_the_column_type_writes(
    engine: Engine, at: datetime
) -> None:
    with engine.begin() as conn:
        conn.execute(times.delete())
        conn.execute(insert(times).values(n=1, at=at))
        written = conn.execute(text("SELECT at FROM times WHERE n = 1")).scalar_one()
        assert fastsql.db_time(conn, at) == written
        conn.execute(
            text("UPDATE times SET at = :at WHERE n = 1"), {"at": fastsql.db_time(conn, at)}
        )
        assert conn.execute(select(times.c.at)).scalar_one() == at


def test_a_naive_time_is_refused(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(ValueError, match="naive"):
        fastsql.db_time(conn, datetime(2026, 12, 1, 8, 0))
