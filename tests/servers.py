"""The database servers tests may use, and scratch databases on them.

``BITHUMB_TRADER_TEST_MYSQL_URL`` / ``BITHUMB_TRADER_TEST_PG_URL`` name a server database;
a backend whose variable is not set is skipped. A scratch database (MariaDB) or schema
(PostgreSQL) keeps a test run's rows apart from every other run's.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SERVER_ENV = {
    "mariadb": "BITHUMB_TRADER_TEST_MYSQL_URL",
    "postgres": "BITHUMB_TRADER_TEST_PG_URL",
}
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("mariadb", id="mariadb", marks=pytest.mark.mariadb),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def create_scratch(backend: str, name: str) -> str:
    """Create the scratch database or schema ``name`` on ``backend``'s server; its URL.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the account may not create it.
    """
    base = os.environ[SERVER_ENV[backend]]
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if backend == "mariadb":
                conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
                url = make_url(base).set(database=name)
            else:
                conn.execute(text(f"CREATE SCHEMA {name}"))
                url = make_url(base).update_query_dict({"options": f"-csearch_path={name}"})
    finally:
        engine.dispose()
    return url.render_as_string(hide_password=False)


def drop_scratch(backend: str, name: str) -> None:
    """Drop what ``create_scratch`` made, and everything in it."""
    engine = create_engine(os.environ[SERVER_ENV[backend]], isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if backend == "mariadb":
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            else:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
    finally:
        engine.dispose()
