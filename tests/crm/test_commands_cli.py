"""The §9 commands as scripts run them: real processes, stdout and exit codes (R6.1, R4.2).

They run against their own SQLite file (never the test database nor a developer's one), migrated
once for the module.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("cli")
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    env = {
        **base,
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{home / 'db.sqlite3'}",
        "VAR_DIR": str(home),
    }
    _run(env, "migrate", "--noinput", "-v0", check=True)
    return env


def _run(
    env: dict[str, str], *args: str, check: bool = False
) -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    if check:
        assert result.returncode == 0, result.stderr.decode()
    return result


def test_r6_1_create_channel_json_and_r4_2_export_through_real_stdout(
    cli_env: dict[str, str],
) -> None:
    # One test: every process costs a Django start-up (~2 s on the CI machine).
    result = _run(cli_env, "create_channel", "cli-shop", "--name", "CLI 상점", "--owner", "cli")
    assert result.returncode == 0, result.stderr.decode()
    printed = json.loads(result.stdout)
    assert set(printed) == {"slug", "pluginKey", "accessKey", "accessSecret", "memberHashSecret"}
    assert printed["slug"] == "cli-shop"
    assert b"changepassword cli" in result.stderr

    again = _run(cli_env, "create_channel", "cli-shop", "--name", "Again", "--owner", "cli2")
    assert again.returncode != 0
    assert again.stdout == b""
    assert b"a channel with the slug 'cli-shop' already exists" in again.stderr

    # CSV as bytes on stdout: UTF-8 with a BOM, whatever the locale.
    as_csv = _run(cli_env, "export_customers", "cli-shop", "--format", "csv", check=True)
    assert as_csv.stdout.startswith(b"\xef\xbb\xbfid,type,verified,")

    # XLSX to a redirected stdout (not a terminal), as `export_customers … > file.xlsx` does.
    as_xlsx = _run(cli_env, "export_customers", "cli-shop", "--format", "xlsx", check=True)
    sheet = load_workbook(io.BytesIO(as_xlsx.stdout), read_only=True)["customers"]
    assert next(sheet.iter_rows(values_only=True))[:3] == ("id", "type", "verified")
