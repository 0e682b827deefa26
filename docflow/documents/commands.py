"""Input types the commands of incoming and outgoing documents share."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
