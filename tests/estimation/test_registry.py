"""The backend table: cheap validation, one error family, every form reachable."""

from __future__ import annotations

import sys

import pytest

from qvopt.errors import BackendError, InputError, MissingExtraError
from qvopt.estimation import registry
from qvopt.estimation.registry import validate_backend


@pytest.mark.parametrize("name, options", [
    ("statevector", None), ("aer", {"noise": {"readout": 0.01}, "max_retries": 1}),
    ("fake_manila", {"mitigation": "readout"}), ("pennylane:default.qubit", None),
])
def test_valid_backends_pass(name, options):
    if name.startswith("fake_"):
        pytest.importorskip("qiskit_ibm_runtime")
    validate_backend(name, options)


@pytest.mark.parametrize("name, options, message", [
    ("quantinuum", None, (r"unknown backend 'quantinuum': expected one of 'statevector', "
                          r"'aer', 'fake_<device>', 'ibm:<name>', 'pennylane:<device>', a "
                          r"SamplerV2-like object")),
    (42, None, "unknown backend 42"),
    ("statevector", {"noise": {}}, "backend_options only apply to circuit backends"),
    ("aer", {"noize": {}}, r"unknown backend option\(s\) \['noize'\]"),
    ("aer", {"noise": {"readout": 2.0}}, "noise option 'readout' must be in"),
    ("aer", {"mitigation": "pec"}, r"unknown mitigation\(s\) \['pec'\]"),
    ("pennylane:", None, "needs a device name"),
    ("pennylane:default.qubit", {"max_retries": 1}, "takes no backend_options"),
])
def test_bad_names_and_options_are_input_errors(name, options, message):
    with pytest.raises(InputError, match=message):
        validate_backend(name, options)


def test_unknown_fake_device():
    pytest.importorskip("qiskit_ibm_runtime")
    with pytest.raises(InputError, match="unknown fake backend 'fake_nowhere'"):
        validate_backend("fake_nowhere")


def test_ibm_needs_credentials(tmp_path, monkeypatch):
    pytest.importorskip("qiskit_ibm_runtime")
    monkeypatch.delenv("QISKIT_IBM_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(BackendError, match="no IBM Quantum credentials"):
        validate_backend("ibm:ibm_brisbane")
    monkeypatch.setenv("QISKIT_IBM_TOKEN", "not-a-real-token")
    validate_backend("ibm:ibm_brisbane")  # cheap: nothing is contacted


@pytest.mark.parametrize("name, module", [("fake_manila", "qiskit_ibm_runtime"),
                                          ("ibm:ibm_brisbane", "qiskit_ibm_runtime"),
                                          ("pennylane:default.qubit", "pennylane")])
def test_missing_optional_package_is_a_missing_extra_error(monkeypatch, name, module):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    monkeypatch.setattr(registry.importlib.util, "find_spec",
                        lambda spec, *a: None if spec == module else object())
    with pytest.raises(MissingExtraError, match="pip install"):
        validate_backend(name)


def test_a_samplerv2_like_object_is_a_backend():
    class Device:
        name = "mine"

        def run(self, pubs, shots=None):
            raise NotImplementedError

    validate_backend(Device(), {"max_retries": 0})
    assert registry.find_backend(Device()).form.startswith("a SamplerV2-like object")
