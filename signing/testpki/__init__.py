"""A demo and test PKI for :mod:`signing`: root and issuing CAs, people's and organisations'
certificates, and in-process TSA, OCSP and CRL services (also as a WSGI app under ``/pki``).

It sits on top of the signing library and uses only its public modules; the library never
imports it (the import-linter contract "signing's demo PKI is not part of the library" in
``pyproject.toml``). Only the embedded profile, the tests and the benchmarks use it::

    pki = generate_demo_pki(directory, orgs=[OrgSpec(...)], users=[UserSpec(...)])
    signer = demo_signer(pki, "lanhdao.tw")
    options = demo_options(pki)                 # in-process TSA, demo trust with fresh CRLs
"""

from .demo import demo_options, demo_signer, demo_trust
from .pki import (
    DEFAULT_PKI_BASE_URL,
    DemoPKI,
    OrgSpec,
    PkiIdentity,
    UserSpec,
    generate_demo_pki,
    load_demo_pki,
)
from .services import DemoTimeStamper, export_user_p12
from .wsgi import make_pki_wsgi_app

__all__ = [
    "DEFAULT_PKI_BASE_URL",
    "DemoPKI",
    "DemoTimeStamper",
    "OrgSpec",
    "PkiIdentity",
    "UserSpec",
    "demo_options",
    "demo_signer",
    "demo_trust",
    "export_user_p12",
    "generate_demo_pki",
    "load_demo_pki",
    "make_pki_wsgi_app",
]
