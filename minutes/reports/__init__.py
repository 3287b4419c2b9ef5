"""Reports per council and period (page and CSV), and the print view of the minutes."""
