"""Reporters for scan results: terminal (rich), JSON, SARIF 2.1.0, Markdown."""
