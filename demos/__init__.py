"""Runnable demos (`python -m demos.NAME --help`) and the data they train on."""
