"""Project-wide set-up: migrations, groups, database and production settings."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit:  # --check exits non-zero when a migration is missing
        pytest.fail(f"Missing migration (exit {exit.code}):\n{out.getvalue()}")


def _manage(*args, env=None):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(tmp_path, **extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        DJANGO_SECRET_KEY="x" * 20 + "-production-like-secret-key-with-enough-entropy-0123456789",
        DJANGO_ALLOWED_HOSTS="blog.example.org",
        SITE_URL="https://blog.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        **extra,
    )
    return env


def test_check_deploy_is_clean_in_production_settings(tmp_path):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_missing_secret_key_stops_the_server_with_debug_off(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    check = _manage("check", "--deploy", env=env)
    assert check.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in check.stderr
    server = subprocess.run(
        [sys.executable, "-c", "import site_project.wsgi"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert server.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in server.stderr
    # Maintenance commands that sign nothing still run.
    assert _manage("makemigrations", "--check", "--dry-run", env=env).returncode == 0


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_immediate_writes(tmp_path):
    env = production_env(tmp_path)
    assert _manage("migrate", "--noinput", env=env).returncode == 0
    probe = (
        "from django.db import connection as c; cur = c.cursor();"
        "print(cur.execute('PRAGMA journal_mode').fetchone()[0],"
        " cur.execute('PRAGMA busy_timeout').fetchone()[0],"
        " c.settings_dict['OPTIONS']['transaction_mode'])"
    )
    result = _manage("shell", "-c", probe, env=env)
    assert result.returncode == 0, result.stderr
    journal, busy_timeout, transaction_mode = result.stdout.split()[-3:]
    assert journal == "wal"
    assert int(busy_timeout) >= 5000
    assert transaction_mode == "IMMEDIATE"
