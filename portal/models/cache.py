"""The counter the pickers' per-process cache is checked against (migration 0015's triggers
raise it whenever staff accounts, return reasons or inventory locations change)."""

from peewee import IntegerField

from portal.db import BaseModel


class CacheGeneration(BaseModel):
    n = IntegerField(default=0)
