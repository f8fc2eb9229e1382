"""exophone: a self-hostable phone-number service speaking Exotel's ExoPhone API (v2_beta)."""

from __future__ import annotations

__version__ = "0.1.0"
