"""Requests for information (begäran om uppgifter): services, pages, API and the overdue job."""
