"""Frozen copies of earlier template declarations, so upgrades from them stay proven (see test_upgrade.py)."""
