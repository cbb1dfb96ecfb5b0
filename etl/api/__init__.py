"""The public Python API (`import etl`): a Store and the rich objects its calls return. The `etl` command is built
on it; notebooks use nothing else. What is public is listed in etl/__init__.py's __all__."""
