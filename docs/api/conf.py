"""Sphinx configuration of the API reference: ``sphinx-build -W docs/api docs/api/_build``."""

# The library's calls load on first use; loading them here, before autodoc imports anything,
# keeps pandas 2.2 from failing to initialise inside autodoc's import machinery.
import emg.api  # noqa: F401

project = "emg"
extensions = ["sphinx.ext.autodoc", "numpydoc"]
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_validation_checks = {"PR01", "PR02", "RT01"}  # every parameter and return documented
# dataclasses document their fields as Attributes, not Parameters
numpydoc_validation_exclude = {r"\.(Analysis|Scoring|Recording|Channel|Event)$"}
exclude_patterns = ["_build"]
html_theme = "alabaster"
