"""Selling: orders, payment and issue, refunds and changes, through one set of commands."""
