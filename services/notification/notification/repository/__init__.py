"""The notification schema's SQL: named constants with `$n` parameters, and functions that take
the connection first and run them (the caller holds the transaction)."""

from __future__ import annotations

import asyncpg

from tilmeld_shared.db import Connection

# A statement that stands alone (a read, or a ledger update the dispatcher commits at once) may
# run on the pool, which lends it a connection for just that statement.
Db = Connection | asyncpg.Pool
