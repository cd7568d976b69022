"""Sphinx configuration of the API reference: ``sphinx-build -W docs/api docs/api/_build``."""

project = "emg"
extensions = ["sphinx.ext.autodoc", "numpydoc"]
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_validation_checks = {"PR01", "PR02", "RT01"}  # every parameter and return documented
exclude_patterns = ["_build"]
html_theme = "alabaster"
# dataclasses document their fields as Attributes, not Parameters
numpydoc_validation_exclude = {r"\.(Analysis|Scoring|Recording|Channel|Event)$"}
