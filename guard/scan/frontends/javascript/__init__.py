"""The JavaScript/TypeScript front-end (``.js .mjs .cjs .jsx .ts .mts .cts .tsx``) and the Prisma schema reader
(``.prisma``), registered in :data:`guard.scan.frontends.FRONTENDS` (see :mod:`.frontend`).

Files are parsed with tree-sitter (:mod:`.source`); SQL strings and tagged templates become candidates for the
shared SQL stage, builder and ORM calls become writes, table definitions become schema facts
(:mod:`.extract`, :mod:`.drivers`). Dependency trees, build output and minified bundles are skipped with a
diagnostic. The grammar libraries load only when a JS/TS file is actually parsed.
"""

from __future__ import annotations

from guard.scan.frontends.javascript.frontend import FRONTEND, PRISMA_FRONTEND

__all__ = ["FRONTEND", "PRISMA_FRONTEND"]
