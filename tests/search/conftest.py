from tests.incoming.conftest import flow

__all__ = ["flow"]
