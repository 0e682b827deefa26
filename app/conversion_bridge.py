"""The UNO side of the warm converter: runs under the system Python (/usr/bin/python3), which
has Debian's python3-uno, and talks to one long-lived ``soffice --headless``.

Protocol on stdin/stdout, one JSON object per line: it prints ``{"ready": true}`` once connected,
then for each ``{"in": "/path/in.docx", "out": "/path/out.pdf"}`` answers ``{"ok": true}`` or
``{"ok": false, "kind": "load"|"export"|"crash", "error": "…"}``. It imports nothing of DHTN.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from typing import Any

import uno


def _props(**values: Any) -> tuple[Any, ...]:
    from com.sun.star.beans import PropertyValue

    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name, prop.Value = name, value
        out.append(prop)
    return tuple(out)


def _connect(pipe: str, timeout: float) -> Any:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    url = f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext"
    deadline = time.monotonic() + timeout
    while True:
        try:
            ctx = resolver.resolve(url)
            return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _answer(**values: Any) -> None:
    sys.stdout.write(json.dumps(values) + "\n")
    sys.stdout.flush()


def main() -> None:
    desktop = _connect(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 30.0)
    _answer(ready=True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            doc = desktop.loadComponentFromURL(
                uno.systemPathToFileUrl(request["in"]),
                "_blank",
                0,
                _props(Hidden=True, ReadOnly=True, RepairPackage=False, MacroExecutionMode=0),
            )
        except Exception as exc:  # IllegalArgumentException, IOException: the file's fault
            name = type(exc).__name__
            kind = "crash" if "Disposed" in name or "Runtime" in name else "load"
            _answer(ok=False, kind=kind, error=f"{name}: {exc}")
            continue
        if doc is None:
            _answer(ok=False, kind="load", error="the document could not be loaded")
            continue
        try:
            doc.storeToURL(
                uno.systemPathToFileUrl(request["out"]), _props(FilterName="writer_pdf_Export")
            )
            _answer(ok=True)
        except Exception as exc:
            _answer(ok=False, kind="export", error=f"{type(exc).__name__}: {exc}")
        finally:
            with contextlib.suppress(Exception):
                doc.close(True)


if __name__ == "__main__":
    main()
