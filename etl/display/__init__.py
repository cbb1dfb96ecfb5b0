"""What a user reads: reports laid out once as a Page (lines and tables), drawn on the terminal (terminal.py, the
`etl` command) or as HTML (html.py, a notebook's `_repr_html_`). The layouts (layouts.py) know the reports' keys and
no entity, format or source by name: what is specific to one comes with the report as its `notes`."""
