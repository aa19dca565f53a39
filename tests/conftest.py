"""Shared fixtures: where the real data lives."""

from pathlib import Path

import pytest

from tests.shared_data import SHARED  # ../shared/data, resolved in one place

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "tests" / "data"
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture
def test_data() -> Path:
    return TEST_DATA


@pytest.fixture
def shared_data() -> Path:
    """The full real data set beside the checkout (present in CI); skip if absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data not present")
    return SHARED


@pytest.fixture(scope="session")
def sample_tables():
    """Canonical tables of the bundled sample, ingested once per test session."""
    import pipeline

    return pipeline.ingest([SAMPLE], relative_to=ROOT).tables
