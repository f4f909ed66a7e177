"""Output: rich views for people, JSON for programs, both from the same frozen values."""
