"""Golden cases by message family: each module defines `CASES = {name: (template, data)}`."""
