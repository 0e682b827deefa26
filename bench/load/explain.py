"""Plans of the statements behind the main endpoints, on a generated database: each endpoint is
requested (in-process) as a load account, its SELECTs are captured with their parameters and
run again under ``EXPLAIN (ANALYZE, BUFFERS)``; prints each statement's time and whether it
scanned a large table sequentially. The input of migration 0020's indexes.

    python -m bench.load.explain --database-url URL [--user loadspec.1] [--password PW]
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

ENDPOINTS = [
    "/api/v1/documents?box=inbox&limit=20",
    "/api/v1/documents?box=processing&limit=20",
    "/api/v1/documents?box=done&limit=20",
    "/api/v1/documents?box=all&limit=20",
    "/api/v1/documents?box=all&q=giam+sat+phan+bien&limit=20",
    "/api/v1/documents?box=all&q=k%E1%BA%BF+ho%E1%BA%A1ch&limit=20",
    "/api/v1/tasks?limit=20",
    "/api/v1/notifications?limit=20",
    "/api/v1/me/counters",
]


def main() -> None:
    from app import create_app
    from app.config import Settings
    from app.runtime import runtime

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--user", action="append", default=[])
    parser.add_argument("--password", default="Load-test-password-1")
    args = parser.parse_args()
    users = args.user or ["loadspec.1", "loadleader.1", "loadclerk.1"]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(
            {
                "DHTN_DATA_DIR": str(Path(tmp) / "data"),
                "DHTN_DATABASE_URL": args.database_url,
                "DHTN_SECRET_KEY": "explain",
                "DHTN_BROKER_URL": "memory://",
                "DHTN_OCR": "off",
                "DHTN_LOG_LEVEL": "WARNING",
            }
        )
        app = create_app(settings)
        engine = runtime(app).engine
        assert engine is not None
        client = app.test_client()
        captured: list[tuple[str, Any]] = []

        def capture(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                captured.append((statement, params))

        for username in users:
            r = client.post(
                "/api/v1/auth/token", json={"username": username, "password": args.password}
            )
            assert r.status_code == 200, r.get_json()
            headers = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
            for path in ENDPOINTS:
                captured.clear()
                event.listen(engine, "before_cursor_execute", capture)
                try:
                    client.get(path, headers=headers)
                finally:
                    event.remove(engine, "before_cursor_execute", capture)
                for statement, params in list(captured):
                    with engine.connect() as conn:
                        raw = conn.connection.dbapi_connection
                        assert raw is not None
                        with raw.cursor() as cur:
                            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                            plan = "\n".join(row[0] for row in cur.fetchall())
                        conn.rollback()
                    ms = float(re.search(r"Execution Time: ([\d.]+)", plan).group(1))  # type: ignore[union-attr]
                    seq = re.findall(r"Seq Scan on (\w+)", plan)
                    if ms >= 5 or seq:
                        table = re.search(r"FROM (\w+)", statement)
                        print(
                            f"{username:12} {path[:48]:48} {ms:8.1f} ms  "
                            f"{table.group(1) if table else '?':16} seq={seq}"
                        )
                        if ms >= 20:
                            print("    " + " ".join(statement.split())[:400])
                            print("    " + plan.replace("\n", "\n    ")[:3000])
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()


if __name__ == "__main__":
    main()
