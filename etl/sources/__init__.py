"""Where records come from: listing and opening files (spools, gzip, zip, encodings), and API sources."""
