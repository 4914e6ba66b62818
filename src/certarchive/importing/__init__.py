"""``certarchive import-existing``: the paper-era certificates (Z-2) taken in by the
million: lines read and validated, files rendered and signed in worker processes, lines
committed several per transaction by one process (:mod:`.pipeline`, :mod:`.workers`)."""
