"""The SQL model shared by every front-end: candidates' text is lexed and split into statements (:mod:`.text`),
parsed with PostgreSQL's own parser (:mod:`.parse`), and read for writes (:mod:`.writes`), table definitions
(:mod:`.ddl`) and routine bodies (:mod:`.bodies`); what the parser refuses is read by :mod:`.fallback`.
Driver parameter styles are mapped to PostgreSQL's by :mod:`.placeholders`."""
