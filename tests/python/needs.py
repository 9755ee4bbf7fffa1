"""What a test needs from the machine: on a developer's machine a missing piece skips the test
with the reason; in CI (CI=true, as .ci/run's caller sets it) it fails it, so a broken install
step can never pass as a row of skips."""

import importlib
import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason):
    """Skips (developer) or fails (CI) the calling test or module because of `reason`."""
    if IN_CI:
        pytest.fail(f"{reason}; CI must have it (scripts/test installs it)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_module(name):
    """The module `name`, imported; `missing` if it cannot be."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        missing(f"{name} cannot be imported ({e})")
