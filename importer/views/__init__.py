"""The import wizard's pages (R2.1 to R2.22 in the browser), the import log and the inbox."""
