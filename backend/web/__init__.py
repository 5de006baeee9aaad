"""Customers ' pages behind signed links: pay, book, track, feedback."""
