"""Failed rows fixed in the browser (R2.16a): ``storage`` (failed rows, edits, what the check
and the import read), ``grid`` (its pages, each row judged by the import's parsers) and
``services`` (editing cells, importing the fixed rows). Import the submodule you need: the
check and the engine read ``storage``, which must not pull in the grid's imports."""
