"""Shared fixtures: where the real data lives."""

from pathlib import Path

import pytest

from tests.shared_data import SHARED  # ../shared/data, resolved in one place

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "tests" / "data"


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
def sample_result():
    """The ingest stage on the demo input (``ingest.input`` of params.yaml: the real data
    in ../shared/data), with its registers, once per test session."""
    from pipeline.config import load_params
    from pipeline.ingest.run import run_stage

    return run_stage(load_params(ROOT / "params.yaml")["ingest"], ROOT)


@pytest.fixture(scope="session")
def sample_tables(sample_result):
    """Canonical tables of the demo input (see :func:`sample_result`)."""
    return sample_result.tables
