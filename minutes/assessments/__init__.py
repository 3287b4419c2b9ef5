"""Structured assessments (strukturerad bedömning): instruments as data, sealed scores and
comments per area, history, reminders and suppressed statistics."""
