"""The demo PKI sits on the signing library: importing the library never loads it."""

from __future__ import annotations

import subprocess
import sys


def test_the_library_does_not_load_the_demo_pki() -> None:
    code = (
        "import sys, signing, signing.config, signing.verify, signing.operations\n"
        "assert not any(m.startswith('signing.testpki') for m in sys.modules), sorted(sys.modules)\n"
        "import signing.testpki\n"
        "assert signing.testpki.DemoPKI.__module__ == 'signing.testpki.pki'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
