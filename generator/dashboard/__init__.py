"""Trust dashboard: live web app and self-contained report."""
