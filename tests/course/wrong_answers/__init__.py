"""Plausible wrong answers per notebook: `WRONG_ANSWERS = [dict(cell=..., source=..., loses=[...])]`."""
