"""Every docstring example of the package runs as a test."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import generator

MODULES = sorted(m.name for m in pkgutil.walk_packages(generator.__path__, "generator.")
                 if m.name != "generator.__main__")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} doctest failure(s) in {name}"


def test_the_doctests_exist():
    found = sum(len(doctest.DocTestFinder().find(importlib.import_module(n))) for n in MODULES)
    assert found >= 20
