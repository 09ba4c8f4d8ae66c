"""Shared pytest set-up: makes tests/fakes importable."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "fakes"))
