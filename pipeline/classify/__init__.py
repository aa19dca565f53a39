"""Classification of patents into the focus industries of the taxonomy.

* :mod:`pipeline.classify.rules` — IPC/CPC rule classifier (SEI–IPC concordance 2021 with
  the project's corrections and extension branches, ``pipeline/data/taxonomy.yaml``).
"""

from .rules import RuleSet, compile_rules, load_rules, rule_labels, symbol_labels

__all__ = ["RuleSet", "compile_rules", "load_rules", "rule_labels", "symbol_labels"]
