"""The directory capability: its rules on plain values."""
