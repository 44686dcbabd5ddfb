import keras
import pytest


def pytest_report_header():
    return f"keras {keras.__version__}, backend {keras.backend.backend()}"


@pytest.fixture(autouse=True)
def seeded():
    """Every test starts from the same seeds."""
    keras.utils.set_random_seed(0)
