"""graphspec: neural-network graphs described in YAML, compiled into Keras functional models.

>>> import graphspec
>>> model = graphspec.build("examples/branch.yaml")  # doctest: +SKIP

Importing graphspec, `load` and `loads` never import TensorFlow or Keras; only
`build`, `dumps` and `dump` do.
"""

from graphspec.api import build, load, loads
from graphspec.backend import deep_recursion
from graphspec.errors import Problem, SpecError
from graphspec.export import ExportError, dump, dumps  # Keras is imported when they are called
from graphspec.search import SearchSpace, hypermodel, search_space, suggest
from graphspec.source import Limits
from graphspec.spec import Spec

__all__ = ["ExportError", "Limits", "Problem", "SearchSpace", "Spec", "SpecError", "build", "deep_recursion", "dump", "dumps", "hypermodel", "load", "loads", "search_space", "suggest"]
__version__ = "0.2.0"
