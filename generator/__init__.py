"""xano-v2-sync: Xano V1 (JSONB) to V2 (normalized) sync generator."""

from __future__ import annotations

__version__ = "0.1.0"
