"""Minutes: per-child entries, agreed actions, approval (justering), follow-up and reports."""
