"""The identity graph: every id of a person resolved to one customer (graph.py and its SQL steps)."""
