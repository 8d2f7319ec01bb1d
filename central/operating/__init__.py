"""Operator work: timetables, pre-allocation, adjustments, devices, audit, stats, chores."""
