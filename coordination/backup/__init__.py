"""``flask backup``'s database side: pg_dump/pg_restore (``pgdump``) and the manifest
(``manifest``). The commands live in ``secrecy.backup``: a restore checks the keys and re-applies
the shred log, which only ``secrecy`` may do."""
