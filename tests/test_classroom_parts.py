"""The classroom's pure parts (issue #11): port blocks, firewall rules, names taken.

No hub, no root: the end-to-end test is ``test_classroom.py``.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from modwsgi_magics.classroom import LearnerPorts, Settings
from modwsgi_magics.classroom.claims import Claims
from modwsgi_magics.classroom.errors import SettingsError
from modwsgi_magics.classroom.firewall import ruleset


@pytest.mark.parametrize(
    ("uid", "lab", "workshop"),
    [
        (1000, 20000, (20001, 20002, 20003)),
        (1001, 20004, (20005, 20006, 20007)),
        (4191, 32764, (32765, 32766, 32767)),
    ],
)
def test_when_a_uid_is_given_then_its_block_follows_from_it(uid, lab, workshop):
    ports = LearnerPorts.of(uid, base=20000)
    assert (ports.lab, ports.workshop) == (lab, workshop)
    assert ports.environment() == {
        "WORKSHOP_PORT": str(workshop[0]),
        "WORKSHOP_OTHER_PORT": str(workshop[1]),
        "WORKSHOP_HTTPS_PORT": str(workshop[2]),
    }


@pytest.mark.parametrize("uid", [0, 999, 4192])
def test_when_a_uid_has_no_block_below_the_ephemeral_range_then_it_is_refused(uid):
    with pytest.raises(ValueError, match="between 1000 and 4191"):
        LearnerPorts.of(uid, base=20000)


def test_when_two_learners_are_guarded_then_each_block_admits_its_owner_and_root_only():
    script = ruleset("t", [LearnerPorts.of(1000, 20000), LearnerPorts.of(1001, 20000)])
    assert script.startswith("table inet t {}\ndelete table inet t\n")
    assert (
        "tcp dport { 20000, 20001, 20002, 20003 } meta skuid != { 0, 1000 } reject with tcp reset"
        in script
    )
    assert "tcp sport { 20004, 20005, 20006, 20007 } meta skuid != 1001 drop" in script
    assert 'iifname != "lo" tcp dport { 20004, 20005, 20006, 20007 } drop' in script


def test_when_no_learner_is_guarded_then_the_table_has_empty_chains():
    script = ruleset("t", [])
    assert "chain output" in script and "chain input" in script
    assert "skuid" not in script


def test_when_a_name_is_taken_then_only_its_own_password_signs_in(tmp_path):
    claims = Claims(tmp_path / "claims.json")
    assert claims.claim_or_check("ada", "first-password")
    assert claims.claim_or_check("ada", "first-password")
    assert not claims.claim_or_check("ada", "someone-else")
    assert (tmp_path / "claims.json").stat().st_mode & 0o777 == 0o600
    assert "first-password" not in (tmp_path / "claims.json").read_text()
    claims.release("ada")
    assert claims.claim_or_check("ada", "someone-else")


def test_when_nothing_is_set_then_the_hub_avoids_the_workshop_and_jupyterhub_ports():
    settings = Settings.from_environ({})
    used = {settings.port, settings.hub_api_port, settings.proxy_api_port}
    assert not used & {8000, 8001, 8080, 8081, 8443}
    assert settings.password == ""


def test_when_the_hub_passes_its_environment_on_then_only_how_to_reach_pypi_goes():
    settings = Settings.from_environ({"CLASSROOM_PASS_ENV": "EXTRA"})
    environ = {"PIP_INDEX_URL": "u", "https_proxy": "p", "http_proxy": "h", "EXTRA": "1", "X": "2"}
    assert settings.passed_environment(environ) == {
        "PIP_INDEX_URL": "u",
        "https_proxy": "p",
        "EXTRA": "1",
    }


def test_when_a_port_is_not_a_number_then_the_setting_is_refused():
    with pytest.raises(SettingsError, match="CLASSROOM_PORT='x'"):
        Settings.from_environ({"CLASSROOM_PORT": "x"})


def test_when_binder_builds_the_image_then_it_installs_the_set_up_scripts_packages():
    """binder/apt.txt (repo2docker, Kubernetes images) lists DEBIAN_PACKAGES of setup.sh."""
    repo = Path(__file__).resolve().parents[1]
    setup = (repo / "scripts" / "setup.sh").read_text()
    listed = re.search(r"^DEBIAN_PACKAGES=\((.*)\)$", setup, re.MULTILINE)
    assert listed, "scripts/setup.sh has no DEBIAN_PACKAGES=(...) line"
    apt = (repo / "binder" / "apt.txt").read_text().splitlines()
    packages = [line.strip() for line in apt if line.strip() and not line.startswith("#")]
    assert packages == listed.group(1).split()
    requirements = (repo / "binder" / "requirements.txt").read_text()
    assert "jupyter-server-proxy" in requirements and "jupyterlab" in requirements
    post_build = repo / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK)
    assert "pip install --no-cache-dir ." in post_build.read_text()


def test_when_many_sign_in_at_once_then_every_name_is_kept(tmp_path):
    claims = Claims(tmp_path / "claims.json")
    names = [f"learner{n}" for n in range(12)]
    with ThreadPoolExecutor(6) as pool:
        assert all(pool.map(lambda name: claims.claim_or_check(name, f"pw-{name}"), names))
    assert all(claims.claim_or_check(name, f"pw-{name}") for name in names)
    assert not any(claims.claim_or_check(name, "wrong") for name in names)
