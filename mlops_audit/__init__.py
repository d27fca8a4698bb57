"""mlops-audit: evidence-based MLOps maturity assessment of a repository."""

__version__ = "0.1.0"

__all__ = ["__version__"]
