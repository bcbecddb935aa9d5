"""What the crm benchmarks share: Django set up on a PostgreSQL database of their own (created
and migrated when missing, so they never touch the one others use), and CPU time of both the
benchmark process and its PostgreSQL backend (the server runs on this machine)."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")


def setup(database: str) -> None:
    """Point Django at ``database`` on DATABASE_URL's server, create and migrate it."""
    import psycopg

    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not url.startswith("postgres"):
        raise SystemExit("the benchmark needs PostgreSQL: set DATABASE_URL=postgres://…")
    base, _, _ = url.rpartition("/")
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    os.environ["DATABASE_URL"] = f"{base}/{database}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend (from /proc: a local server)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    assert row is not None
    try:
        fields = Path(f"/proc/{row[0]}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


@dataclass
class Timing:
    wall: float = 0.0
    cpu: float = 0.0  # this process
    db_cpu: float = 0.0  # its PostgreSQL backend

    def __str__(self) -> str:
        return f"{self.wall:.2f} s wall, CPU {self.cpu:.2f} s python + {self.db_cpu:.2f} s postgres"


class timed:
    def __enter__(self) -> Timing:
        self.timing = Timing()
        self._db = _backend_cpu()
        self._cpu = time.process_time()
        self._wall = time.perf_counter()
        return self.timing

    def __exit__(self, *exc: object) -> None:
        self.timing.wall = time.perf_counter() - self._wall
        self.timing.cpu = time.process_time() - self._cpu
        self.timing.db_cpu = _backend_cpu() - self._db
