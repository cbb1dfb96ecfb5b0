"""The one import for every entity: open and plan each file, stage, store, rejects, gate, report, in one transaction."""
