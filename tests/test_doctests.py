"""Every docstring example in the package runs and prints what it says (STYLE: docstrings with a runnable example)."""

import doctest
import importlib
import pkgutil

import pytest

import rag  # noqa: F401 - imported first: vectorstore.index and rag.index import each other
import rag.benchmark
import vectorstore

MODULES = sorted(
    name for package in (rag, rag.benchmark, vectorstore)
    for name in (f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__))
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
