"""Use cases: plain functions ``verb_noun(uow, actor, command) -> result``, one transaction each."""
