"""Counters for the moderators' statistics (only numbers: what users searched for is
never stored)."""

from __future__ import annotations

from bot.db import Database
from bot.repositories import DeskRepository


class Counters:
    def __init__(self, db: Database, desk: DeskRepository) -> None:
        self.db = db
        self.desk = desk

    async def count(self, name: str, by: int = 1) -> None:
        # One statement: it commits on its own, or joins the caller's transaction.
        await self.desk.count(name, by)

    async def all(self) -> dict[str, int]:
        return await self.desk.counters()
