from __future__ import annotations

import pytest

from tumour_abm.scenario import Scenario


def small_scenario(**updates) -> Scenario:
    """A 30 x 30 grid with a small tumour for two days: quick, but with growth, rim and interior."""
    base = Scenario().with_updates(
        {
            "grid.width_sites": 30,
            "grid.height_sites": 30,
            "cancer.initial_cells": 150,
            "time.days": 2.0,
            "output.snapshot_days": (),
        }
    )
    return base.with_updates(updates) if updates else base


@pytest.fixture
def small() -> Scenario:
    return small_scenario()


@pytest.fixture
def make_scenario():
    """small_scenario as a fixture, for tests that vary it."""
    return small_scenario
