"""The scanner: discover files, extract SQL, parse, resolve against the catalog, apply rules, report."""
