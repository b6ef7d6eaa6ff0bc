"""Therapies: selinexor pharmacokinetics and pharmacodynamics, schedules (when) and products (what)."""
