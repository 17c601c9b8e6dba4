"""Fuzzing tooling (issue 13), beside the product stages: hostile-file builders (`hostile`), a byte and
structure mutator (`mutate`), one in-process target per reader (`targets`), the campaign runner
(`python -m etl.fuzz`, `make fuzz`) and the hostile-file measurement (`python -m etl.fuzz.measure`)."""
