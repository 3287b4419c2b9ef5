"""``flask backup create|restore`` (docs/operations.md, "Back up" and "Restore")."""
