"""Bulk inserts of plain tuples: the write path of an import.

Why: Core's executemany builds and processes one parameter dict per row in Python, and on a
fresh import that cost more than parsing the file. Here each column's bind processor (the
dialect's own, taken from the table's types, so the stored values are exactly those Core would
store) is applied in one loop over tuples, and the rows go in with one statement a batch:
COPY on PostgreSQL, one prepared executemany on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Connection, Table
from sqlalchemy.engine import Dialect


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert `rows` (tuples in the order of `columns`) into `table`, in the connection's transaction."""
    if not rows:
        return
    dialect = conn.dialect
    processors = _processors(dialect, table, tuple(columns))
    if processors and dialect.name == "postgresql":
        processors = _json_as_text(conn.connection.driver_connection, table, columns, processors)
    rows = driver_rows(rows, processors)
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    if dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # the same transaction as `conn`
        try:
            with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
    else:
        marks = ", ".join("?" if dialect.paramstyle == "qmark" else "%s" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})", rows)


def driver_rows(rows: list[tuple], processors: tuple[Callable[[Any], Any] | None, ...] | None) -> list[tuple]:
    """`rows` as the driver takes them: column by column, each distinct value processed once (its
    output depends on it only)."""
    if not processors:
        return rows
    values = list(zip(*rows))
    for i, processor in enumerate(processors):
        if processor is not None:
            values[i] = _processed(processor, values[i])
    return list(zip(*values))


def _processed(processor: Callable[[Any], Any], column: tuple) -> list:
    """`processor` over one column, called once per distinct value: a column repeats few values
    (the same category list, the file's date, the run's time). Equal values give equal output: the
    columns hold strings, tuples of strings, instants, days and numbers."""
    try:
        done = {value: processor(value) for value in set(column)}
    except TypeError:  # an unhashable value: each one processed
        return [processor(value) for value in column]
    return list(map(done.__getitem__, column))


def _json_as_text(raw: Any, table: Table, columns: Sequence[str], processors: tuple) -> tuple:
    """PostgreSQL: JSON columns given to COPY as the text psycopg's own dumper makes of the wrapper
    the processor returns, so that text is made once per distinct value, not once per row."""
    from psycopg.adapt import PyFormat
    from psycopg.types.json import Json

    if raw.info.encoding != "utf-8":  # the dumper's bytes are UTF-8: a string must be sent as such
        return processors
    dumper = raw.adapters.get_dumper(Json, PyFormat.TEXT)(Json, raw)

    def as_text(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def process(value: Any) -> Any:
            out = processor(value)
            return bytes(dumper.dump(out)).decode("utf-8") if isinstance(out, Json) else out
        return process

    return tuple(as_text(p) if p is not None and isinstance(table.c[name].type, JSON) else p
                 for name, p in zip(columns, processors))


@lru_cache(maxsize=64)
def _processors(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> tuple[Callable[[Any], Any] | None, ...] | None:
    """Each column's bind processor for this dialect (None where the driver takes the value as is),
    or None when no column needs one."""
    found = tuple(table.c[name].type._cached_bind_processor(dialect) for name in columns)
    return found if any(found) else None
