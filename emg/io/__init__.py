"""Reading and writing recordings and analysis results (no numerics here)."""
