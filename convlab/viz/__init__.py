"""Figures and widgets used by the lessons, one module per idea."""
