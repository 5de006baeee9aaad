"""Timed outreach: APScheduler jobs derived from the data, run by one elected process."""
