"""The registry of Python database drivers: one module per driver family, one line each in :data:`DRIVERS`.

Adding a driver is one new module exporting a :class:`~guard.scan.frontends.python.drivers.base.Driver` and one
line below (or, for a plug-in living outside guard, one :func:`register` call before the scan). The extractor, the
byte prefilter and the patcher all read the drivers through this registry; the tables derived from it are
rebuilt whenever the registry changes (see :attr:`DriverRegistry.version`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from guard.scan.frontends.python.drivers import (
    asyncpg,
    dbapi,
    django,
    pandas,
    psycopg,
    psycopg2,
    sqlalchemy,
    sqlalchemy_core,
    sqlalchemy_orm,
)
from guard.scan.frontends.python.drivers.base import Anchor, CallSite, Driver, ExpressionReader

__all__ = ["DRIVERS", "Anchor", "CallSite", "Driver", "DriverRegistry", "ExpressionReader", "RunCalls", "register"]


@dataclass(frozen=True)
class RunCalls:
    """Every registered driver's calls that run SQL, merged: what the patcher follows SQL into."""

    one: frozenset[str]
    many: frozenset[str]
    helpers: frozenset[str]
    fills_values_template: frozenset[str]
    copy_streams: frozenset[str]
    wrappers: frozenset[str]
    param_keywords: tuple[str, ...]

    @property
    def all(self) -> frozenset[str]:
        return self.one | self.many | self.helpers


class DriverRegistry:
    """The registered drivers, with lookup tables by call name built once per change."""

    def __init__(self, drivers: Iterable[Driver]) -> None:
        self._drivers: list[Driver] = []
        self.version = 0
        for driver in drivers:
            self.register(driver)

    def register(self, driver: Driver) -> None:
        """Add a driver (a driver of the same name is replaced, so re-registering is harmless)."""
        self._drivers = [d for d in self._drivers if d.name != driver.name] + [driver]
        self._changed()

    def unregister(self, name: str) -> None:
        """Remove a driver by name (a plug-in that is no longer wanted, a test's toy driver)."""
        self._drivers = [d for d in self._drivers if d.name != name]
        self._changed()

    def _changed(self) -> None:
        self.version += 1
        self._builders: dict[str, list[Driver]] | None = None
        self._writers: dict[str, Driver] | None = None
        self._run_calls: RunCalls | None = None

    def __iter__(self) -> Iterator[Driver]:
        return iter(tuple(self._drivers))

    def builders(self) -> dict[str, list[Driver]]:
        """Final call name -> drivers that may build SQL text with a call of that name."""
        if self._builders is None:
            table: dict[str, list[Driver]] = {}
            for driver in self._drivers:
                for name in driver.builders:
                    table.setdefault(name, []).append(driver)
            self._builders = table
        return self._builders

    def writers(self) -> dict[str, Driver]:
        """Method name -> the driver whose call of that name writes rows without SQL text."""
        if self._writers is None:
            self._writers = {name: driver for driver in self._drivers for name in driver.writes}
        return self._writers

    def run_calls(self) -> RunCalls:
        if self._run_calls is None:
            drivers = self._drivers
            keywords: list[str] = []
            for driver in drivers:
                keywords += [k for k in driver.param_keywords if k not in keywords]
            self._run_calls = RunCalls(
                one=frozenset().union(*(d.run_one for d in drivers)),
                many=frozenset().union(*(d.run_many for d in drivers)),
                helpers=frozenset().union(*(d.run_helpers for d in drivers)),
                fills_values_template=frozenset().union(*(d.fills_values_template for d in drivers)),
                copy_streams=frozenset().union(*(d.copy_streams for d in drivers)),
                wrappers=frozenset().union(*(d.wrappers for d in drivers)),
                param_keywords=tuple(keywords),
            )
        return self._run_calls

    def row_writers(self) -> list[Driver]:
        """The drivers that read ORM / query-builder writes (calls that write rows without SQL text)."""
        return [driver for driver in self._drivers if driver.rows is not None or driver.finish is not None]

    def anchors(self) -> tuple[Anchor, ...]:
        return tuple(anchor for driver in self._drivers for anchor in driver.anchors)


#: The drivers guard knows; one line per driver family.
DRIVERS = DriverRegistry(
    [
        dbapi.DRIVER,
        psycopg.DRIVER,
        psycopg2.DRIVER,
        asyncpg.DRIVER,
        sqlalchemy.DRIVER,
        pandas.DRIVER,
        sqlalchemy_orm.DRIVER,
        sqlalchemy_core.DRIVER,
        django.DRIVER,
    ]
)


def register(driver: Driver) -> None:
    """Register a driver defined outside guard (a plug-in); call it before scanning."""
    DRIVERS.register(driver)
