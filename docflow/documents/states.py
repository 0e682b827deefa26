"""What incoming and outgoing documents share about their state: urgencies.

The states and transition tables of each direction are in :mod:`docflow.incoming.states` and
:mod:`docflow.outgoing.states`.
"""

from __future__ import annotations

URGENCY_RANK = {"normal": 0, "urgent": 1, "very_urgent": 2, "flash": 3, "flash_timed": 4}
URGENCY_LABELS = {
    "normal": "Thường",
    "urgent": "Khẩn",
    "very_urgent": "Thượng khẩn",
    "flash": "Hỏa tốc",
    "flash_timed": "Hỏa tốc hẹn giờ",
}
