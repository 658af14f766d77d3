"""Test generation: C prototypes (tree-sitter), type-driven inputs, coverage-guided search."""
