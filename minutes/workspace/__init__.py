"""The meeting workspace: the minutes of one meeting, written per child, shared with the
attending agencies, approved (justering) and amended after the lock."""
