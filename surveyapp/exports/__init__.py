"""Workbook and CSV writers for a cycle's figures (xlsxwriter; no Flask)."""
