"""The ticket gate: validation rules, the runtime that journals and acts, what its screen shows."""
