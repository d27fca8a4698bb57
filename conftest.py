"""Test configuration: the project root on sys.path so tests import the working tree."""
