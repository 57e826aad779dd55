"""The lower bounds in pyproject.toml are the versions scripts/test-lowest.sh tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "scripts" / "lowest-constraints.txt"


def lower_bounds() -> dict[str, Version]:
    """Each runtime and `convert` dependency of pyproject.toml: its `>=` bound."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    bounds = {}
    for line in [*project["dependencies"], *project["optional-dependencies"]["convert"]]:
        requirement = Requirement(line)
        (minimum,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        bounds[canonicalize_name(requirement.name)] = Version(minimum)
    return bounds


def pins() -> dict[str, Version]:
    found = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", line
            found[canonicalize_name(requirement.name)] = Version(spec.version)
    return found


def test_when_the_lowest_run_installs_then_it_pins_every_lower_bound_exactly():
    bounds = lower_bounds()
    pinned = pins()
    assert sorted(pinned) == sorted(bounds)
    for name, bound in bounds.items():
        # A post-release (traitlets 5.2.2.post1) stands for its release.
        assert Version(pinned[name].base_version) == bound, name
