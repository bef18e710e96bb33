"""Read ``schema.prisma``: which table each model is, its columns, and which default to ``now()``.

No maintained Python parser for the Prisma Schema Language exists, and the language is small and
declarative, so this is a tokenizer (identifiers, strings, numbers, punctuation, newlines; ``//`` comments
dropped) and a reader over its tokens for the parts that matter here:

- ``model M { field Type @map("col") @default(now()) ... @@map("table") @@schema("s") }``
- relation fields (their type is another model, or they carry ``@relation``) are not columns;
- ``@default(now())`` and ``@default(dbgenerated("now()"))`` are database defaults (Prisma Migrate writes
  ``DEFAULT CURRENT_TIMESTAMP``); ``@updatedAt`` is filled by the Prisma client itself (an ORM default).

Everything else (generators, datasources, enums, views, types) is skipped block by block.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from guard.model import SchemaFact

_PUNCTUATION = frozenset("{}()[]=,:?.")


@dataclass(frozen=True)
class Token:
    kind: str  # "name" | "string" | "number" | "punct" | "at" | "atat" | "newline"
    text: str
    line: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, line, size = 0, 1, len(text)
    while i < size:
        ch = text[i]
        if ch == "\n":
            tokens.append(Token("newline", "\n", line))
            line += 1
            i += 1
        elif ch in " \t\r\ufeff":
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = size if end < 0 else end
        elif ch == '"':
            value, i = _string(text, i + 1)
            tokens.append(Token("string", value, line))
        elif ch == "@":
            kind = "atat" if text.startswith("@@", i) else "at"
            i += 2 if kind == "atat" else 1
            tokens.append(Token(kind, "@" if kind == "at" else "@@", line))
        elif ch.isalpha() or ch == "_":
            start = i
            while i < size and (text[i].isalnum() or text[i] == "_"):
                i += 1
            tokens.append(Token("name", text[start:i], line))
        elif ch.isdigit() or (ch == "-" and i + 1 < size and text[i + 1].isdigit()):
            start = i
            i += 1
            while i < size and (text[i].isalnum() or text[i] == "."):
                i += 1
            tokens.append(Token("number", text[start:i], line))
        elif ch in _PUNCTUATION:
            tokens.append(Token("punct", ch, line))
            i += 1
        else:
            i += 1  # a character the language does not use: skip it rather than fail the whole schema
    return tokens


def _string(text: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    while i < len(text) and text[i] not in '"\n':
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out), i + 1


@dataclass
class PrismaField:
    name: str
    type: str
    column: str
    default: str | None = None  # SQL text of a database default
    orm_default: bool = False  # filled by the Prisma client (@updatedAt)
    relation: bool = False


@dataclass
class PrismaModel:
    name: str
    relpath: str
    line: int
    fields: list[PrismaField] = field(default_factory=list)
    table: str = ""
    schema: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table

    @property
    def accessor(self) -> str:
        """The client property naming this model: ``prisma.jobRun`` for ``model JobRun``."""
        return self.name[:1].lower() + self.name[1:]

    def columns(self, models: set[str]) -> list[PrismaField]:
        return [f for f in self.fields if not f.relation and f.type not in models]


@dataclass
class PrismaSchema:
    models: dict[str, PrismaModel] = field(default_factory=dict)  # by accessor

    def merge(self, other: PrismaSchema) -> None:
        for accessor, model in other.models.items():
            self.models.setdefault(accessor, model)

    def model(self, accessor: str) -> PrismaModel | None:
        return self.models.get(accessor)

    def facts(self, relpath: str | None = None) -> list[SchemaFact]:
        """``create`` facts for the models (of one file, when ``relpath`` is given)."""
        names = {model.name for model in self.models.values()}
        facts = []
        for model in self.models.values():
            if relpath is not None and model.relpath != relpath:
                continue
            columns = model.columns(names)
            facts.append(
                SchemaFact(
                    table=model.qualified,
                    action="create",
                    columns=tuple(f.column for f in columns),
                    defaults=tuple((f.column, f.default or "now()") for f in columns if f.default or f.orm_default),
                    relpath=model.relpath,
                    line=model.line,
                    origin="prisma",
                    entity=f"prisma:{model.name}",
                    attributes=tuple((f.name, f.column) for f in columns if f.name != f.column),
                    default_kinds=tuple(
                        [(f.column, "database") for f in columns if f.default]
                        + [(f.column, "orm") for f in columns if f.orm_default and not f.default]
                    ),
                )
            )
        return facts


def read_prisma_schema(text: str, relpath: str) -> PrismaSchema:
    reader = _Reader(tokenize(text), relpath)
    return reader.read()


class _Reader:
    def __init__(self, tokens: list[Token], relpath: str) -> None:
        self.tokens = tokens
        self.relpath = relpath
        self.i = 0

    def peek(self, ahead: int = 0) -> Token | None:
        index = self.i + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def read(self) -> PrismaSchema:
        schema = PrismaSchema()
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            if token.kind == "name" and token.text == "model" and self._is_block_start():
                model = self._model()
                if model is not None:
                    schema.models.setdefault(model.accessor, model)
            elif token.kind == "punct" and token.text == "{":
                self._skip_group("{", "}")
            else:
                self.i += 1
        return schema

    def _is_block_start(self) -> bool:
        name, brace = self.peek(1), self.peek(2)
        return name is not None and name.kind == "name" and brace is not None and brace.text == "{"

    def _model(self) -> PrismaModel | None:
        keyword = self.tokens[self.i]
        name = self.tokens[self.i + 1].text
        self.i += 3
        model = PrismaModel(name=name, relpath=self.relpath, line=keyword.line, table=name)
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            if token.text == "}":
                self.i += 1
                return model
            if token.kind == "newline":
                self.i += 1
            elif token.kind == "atat":
                self._block_attribute(model)
            elif token.kind == "name":
                self._field(model)
            else:
                self.i += 1
        return model  # unterminated block: keep what was read

    def _block_attribute(self, model: PrismaModel) -> None:
        self.i += 1
        name = self._dotted()
        arguments = self._arguments()
        first = arguments[0] if arguments else None
        if name == "map" and first and first[0].kind == "string":
            model.table = first[0].text
        elif name == "schema" and first and first[0].kind == "string":
            model.schema = first[0].text
        self._to_line_end()

    def _field(self, model: PrismaModel) -> None:
        name = self.tokens[self.i].text
        self.i += 1
        type_name = self._dotted() if self.peek() is not None and self.peek().kind == "name" else ""  # type: ignore[union-attr]
        if self.peek() is not None and self.peek().text == "(":  # type: ignore[union-attr]
            self._arguments()  # Unsupported("...")
        while self.peek() is not None and self.peek().text in ("?", "[", "]"):  # type: ignore[union-attr]
            self.i += 1
        prisma_field = PrismaField(name=name, type=type_name, column=name)
        while (
            self.i < len(self.tokens)
            and self.tokens[self.i].kind not in ("newline",)
            and self.tokens[self.i].text != "}"
        ):
            if self.tokens[self.i].kind != "at":
                self.i += 1
                continue
            self.i += 1
            attribute = self._dotted()
            arguments = self._arguments()
            first = arguments[0] if arguments else []
            if attribute == "map" and first and first[0].kind == "string":
                prisma_field.column = first[0].text
            elif attribute == "default" and first:
                prisma_field.default = _default_sql(first)
            elif attribute == "updatedAt":
                prisma_field.orm_default = True
            elif attribute == "relation":
                prisma_field.relation = True
        model.fields.append(prisma_field)

    def _dotted(self) -> str:
        parts = []
        while self.peek() is not None and self.peek().kind == "name":  # type: ignore[union-attr]
            parts.append(self.tokens[self.i].text)
            self.i += 1
            if self.peek() is not None and self.peek().text == "." and self.peek(1) is not None:  # type: ignore[union-attr]
                self.i += 1
                continue
            break
        return ".".join(parts)

    def _arguments(self) -> list[list[Token]]:
        """The comma-separated arguments of ``( ... )`` at the cursor, as token lists (nesting kept)."""
        if self.peek() is None or self.peek().text != "(":  # type: ignore[union-attr]
            return []
        self.i += 1
        arguments: list[list[Token]] = [[]]
        depth = 0
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            self.i += 1
            if token.text in "([{" and token.kind == "punct":
                depth += 1
            elif token.text in ")]}" and token.kind == "punct":
                if depth == 0:
                    break
                depth -= 1
            elif token.text == "," and depth == 0:
                arguments.append([])
                continue
            if token.kind != "newline":
                arguments[-1].append(token)
        return [a for a in arguments if a]

    def _skip_group(self, opening: str, closing: str) -> None:
        depth = 0
        while self.i < len(self.tokens):
            text = self.tokens[self.i].text
            self.i += 1
            if text == opening:
                depth += 1
            elif text == closing:
                depth -= 1
                if depth == 0:
                    return

    def _to_line_end(self) -> None:
        while self.i < len(self.tokens) and self.tokens[self.i].kind != "newline" and self.tokens[self.i].text != "}":
            self.i += 1


def _default_sql(tokens: list[Token]) -> str | None:
    """``now()`` -> ``now()``; ``dbgenerated("now()")`` -> ``now()``; literals and other functions as written."""
    head = tokens[0]
    if head.kind == "name" and head.text == "dbgenerated":
        inner = next((t for t in tokens[1:] if t.kind == "string"), None)
        return inner.text if inner is not None else None
    if head.kind == "name" and head.text == "now":
        return "now()"
    if head.kind == "name" and len(tokens) > 1 and tokens[1].text == "(":
        return None  # autoincrement(), uuid(), cuid(): values, not timestamps
    if head.kind == "string":
        return "'" + head.text.replace("'", "''") + "'"
    return head.text
