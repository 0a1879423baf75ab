"""Each service's app role may read and write its own schema's rows and nothing else: every
other schema, and DDL anywhere, is refused with SQLSTATE 42501 (insufficient_privilege)."""

from __future__ import annotations

import asyncpg

from tilmeld_shared.roles import ServiceRoles, as_role, provision

SERVICES = ("registration", "notification", "reporting")
# One table per schema and a row it accepts, so an allowed INSERT really succeeds.
PROBES = {
    "registration": (
        "idempotency_keys",
        "INSERT INTO registration.idempotency_keys (key, route, request_fingerprint) "
        "VALUES ('probe', 'probe', 'probe')",
    ),
    "notification": (
        "inbox",
        "INSERT INTO notification.inbox (event_id, event_type) VALUES (gen_random_uuid(), 'Probe')",
    ),
    "reporting": ("inbox", "INSERT INTO reporting.inbox (event_id) VALUES (gen_random_uuid())"),
}


async def _attempt(conn: asyncpg.Connection, statement: str) -> str:
    """'ok', or the SQLSTATE the database refused with; nothing attempted is kept."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute(statement)
        return "ok"
    except asyncpg.PostgresError as error:
        return str(error.sqlstate)
    finally:
        await transaction.rollback()


async def test_app_roles_change_rows_of_their_own_schema_only(database_url: str) -> None:
    for service in SERVICES:
        await provision(
            database_url,
            ServiceRoles.of(service),
            owner_password=f"{service}-owner-pw",
            app_password=f"{service}-app-pw",
        )
    outcomes: dict[tuple[str, str, str], str] = {}
    for service in SERVICES:
        roles = ServiceRoles.of(service)
        conn = await asyncpg.connect(as_role(database_url, roles.app, f"{service}-app-pw"))
        try:
            for schema, (table, insert) in PROBES.items():
                qualified = f"{schema}.{table}"
                statements = {
                    "SELECT": f"SELECT * FROM {qualified} LIMIT 1",
                    "INSERT": insert,
                    "UPDATE": f"UPDATE {qualified} SET {_a_column(table)} = {_a_column(table)}",
                    "DELETE": f"DELETE FROM {qualified}",
                    "CREATE": f"CREATE TABLE {schema}.intruder (id int)",
                }
                for verb, statement in statements.items():
                    outcomes[(service, schema, verb)] = await _attempt(conn, statement)
        finally:
            await conn.close()

    for (service, schema, verb), outcome in outcomes.items():
        allowed = service == schema and verb != "CREATE"
        assert outcome == ("ok" if allowed else "42501"), (service, schema, verb, outcome)
    print(
        f"least privilege: {sum(o == 'ok' for o in outcomes.values())} allowed (own-schema DML), "
        f"{sum(o == '42501' for o in outcomes.values())} refused with 42501 of {len(outcomes)}"
    )


async def test_the_owner_migrates_its_schema_but_cannot_touch_another(database_url: str) -> None:
    roles = ServiceRoles.of("reporting")
    await provision(database_url, roles, owner_password="owner-pw", app_password="app-pw")
    conn = await asyncpg.connect(as_role(database_url, roles.owner, "owner-pw"))
    try:
        assert await _attempt(conn, "CREATE TABLE reporting.next_migration (id int)") == "ok"
        assert await _attempt(conn, "SELECT * FROM registration.members") == "42501"
        assert await _attempt(conn, "CREATE SCHEMA elsewhere") == "42501"
    finally:
        await conn.close()


def _a_column(table: str) -> str:
    return "key" if table == "idempotency_keys" else "event_id"
