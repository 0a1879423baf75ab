"""Least privilege in Postgres: per service an owner role that migrates and an app role the
service runs as, which may read and write its own schema's rows and nothing else (no DDL, no
other schema).

    python -m tilmeld_shared.roles --admin-url postgresql://... registration notification reporting

Passwords come from `<SERVICE>_OWNER_PASSWORD` and `<SERVICE>_APP_PASSWORD`. Idempotent: run it
before every migration; a schema created earlier by another role is handed to the owner.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg


@dataclass(frozen=True)
class ServiceRoles:
    schema: str
    owner: str
    app: str

    @classmethod
    def of(cls, service: str) -> ServiceRoles:
        return cls(schema=service, owner=f"{service}_owner", app=f"{service}_app")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _ensure_role(conn: asyncpg.Connection, role: str, password: str | None) -> None:
    exists = await conn.fetchval("SELECT true FROM pg_roles WHERE rolname = $1", role)
    verb = "ALTER" if exists else "CREATE"
    # NOINHERIT and no CREATEDB/CREATEROLE: the role is exactly what is granted below.
    statement = f"{verb} ROLE {_ident(role)} LOGIN NOINHERIT NOCREATEDB NOCREATEROLE"
    if password:
        quoted = await conn.fetchval("SELECT quote_literal($1)", password)
        statement += f" PASSWORD {quoted}"
    await conn.execute(statement)


async def provision(
    admin_url: str,
    roles: ServiceRoles,
    *,
    owner_password: str | None = None,
    app_password: str | None = None,
) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        # Roles are global to the cluster: one provisioner at a time.
        await conn.execute("SELECT pg_advisory_lock(7405312)")
        await _ensure_role(conn, roles.owner, owner_password)
        await _ensure_role(conn, roles.app, app_password)
        schema, owner, app = _ident(roles.schema), _ident(roles.owner), _ident(roles.app)
        database = _ident(await conn.fetchval("SELECT current_database()"))
        async with conn.transaction():
            await conn.execute(f"GRANT CONNECT ON DATABASE {database} TO {owner}, {app}")
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {owner}")
            await conn.execute(f"ALTER SCHEMA {schema} OWNER TO {owner}")
            # Tables an earlier, broader role created move to the owner.
            for kind, name in await conn.fetch(
                """
                SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                      ELSE 'TABLE' END, c.relname
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'S')
                  AND NOT (c.relkind = 'S' AND EXISTS (
                      SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'i'))
                """,
                roles.schema,
            ):
                await conn.execute(f"ALTER {kind} {schema}.{_ident(name)} OWNER TO {owner}")
            await conn.execute(f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")
            await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
            await conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {app}")
            rows = "SELECT, INSERT, UPDATE, DELETE"
            await conn.execute(f"GRANT {rows} ON ALL TABLES IN SCHEMA {schema} TO {app}")
            await conn.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {app}")
            defaults = f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema}"
            await conn.execute(f"{defaults} GRANT {rows} ON TABLES TO {app}")
            await conn.execute(f"{defaults} GRANT USAGE, SELECT ON SEQUENCES TO {app}")
        await conn.execute("SELECT pg_advisory_unlock(7405312)")
    finally:
        await conn.close()


def as_role(url: str, role: str, password: str | None) -> str:
    """The same database URL, signed in as another role."""
    parts = urlsplit(url)
    credentials = quote(role) + (f":{quote(password)}" if password else "")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}"))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tilmeld_shared.roles")
    parser.add_argument("--admin-url", default=os.environ.get("POSTGRES_ADMIN_URL"))
    parser.add_argument("services", nargs="+")
    args = parser.parse_args()
    if not args.admin_url:
        parser.error("--admin-url or POSTGRES_ADMIN_URL is needed")
    for service in args.services:
        asyncio.run(
            provision(
                args.admin_url,
                ServiceRoles.of(service),
                owner_password=os.environ.get(f"{service.upper()}_OWNER_PASSWORD"),
                app_password=os.environ.get(f"{service.upper()}_APP_PASSWORD"),
            )
        )
        print(f"{service}: roles {service}_owner and {service}_app provisioned")


if __name__ == "__main__":
    main()
