"""Split a POSIX shell command line into simple commands, the way the remote shell would (pure).

ssh.exec hands its command to the remote shell, so the danger classifier must see every part of
it: each side of `;`, `&&`, `||`, `|`, `&`, subshells, redirections, and the text inside `$(...)`,
backticks and `<(...)`. `shlex` cannot tell an operator from a quoted or escaped one (`\\;` in
`find -exec`), so this small tokenizer does. It errs on the side of seeing *more* commands than the
shell would (a comment or heredoc body is still classified), never fewer.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ShellSyntaxError(ValueError):
    """Unterminated quote or substitution: the command cannot be proven safe."""


# Longest first, so `&&` wins over `&` and `>>` over `>`.
OPERATORS = ("&>>", "<<<", "&&", "||", "|&", ";;", "&>", ">>", ">|", ">&", "<&", "<<", "<>", ";", "|", "&", "(", ")", "<", ">", "\n")
SEPARATORS = frozenset({";", ";;", "&&", "||", "|", "|&", "&", "(", ")", "\n"})
PIPES = frozenset({"|", "|&"})
WRITE_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&"})
REDIRECTS = WRITE_REDIRECTS | {"<", "<<", "<<<", "<&"}


@dataclass
class Word:
    text: str  # after quote removal; `$NAME` and globs are kept literally
    substitutions: list[str] = field(default_factory=list)  # inner text of $(...), `...`, <(...), >(...)


@dataclass
class Op:
    text: str


@dataclass
class SimpleCommand:
    words: list[Word]
    redirects: list[tuple[str, Word]]  # (operator, target)
    pipe_from: SimpleCommand | None = None  # the command whose output this one reads

    @property
    def argv(self) -> list[str]:
        return [w.text for w in self.words]

    def pipeline(self) -> list[SimpleCommand]:
        """This command and every command feeding it through pipes."""
        chain, node = [], self
        while node is not None:
            chain.append(node)
            node = node.pipe_from
        return chain[::-1]


def split_commands(source: str) -> list[SimpleCommand]:
    """The simple commands of a command line, in order; raises ShellSyntaxError."""
    commands: list[SimpleCommand] = []
    current = SimpleCommand([], [])
    tokens = _Tokenizer(source).tokens()
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if isinstance(tok, Word):
            current.words.append(tok)
        elif tok.text in SEPARATORS:
            if current.words or current.redirects:
                commands.append(current)
            piped = tok.text in PIPES and (current.words or current.redirects)
            current = SimpleCommand([], [], pipe_from=current if piped else None)
        else:  # a redirection: its target is the next word
            target = Word("")
            if i < len(tokens) and isinstance(tokens[i], Word):
                target, i = tokens[i], i + 1
            current.redirects.append((tok.text, target))
    if current.words or current.redirects:
        commands.append(current)
    return commands


class _Tokenizer:
    def __init__(self, source: str):
        self.src = source
        self.i = 0
        self.out: list[Word | Op] = []
        self.buf: list[str] | None = None
        self.subs: list[str] = []

    def tokens(self) -> list[Word | Op]:
        src = self.src
        while self.i < len(src):
            c = src[self.i]
            nxt = src[self.i + 1] if self.i + 1 < len(src) else ""
            if c in " \t":
                self._flush()
                self.i += 1
            elif c == "\\":
                if nxt != "\n":  # backslash-newline is a line continuation
                    self._add(nxt)
                self.i += 2
            elif c == "'":
                end = src.find("'", self.i + 1)
                if end < 0:
                    raise ShellSyntaxError("unterminated single quote")
                self._add(src[self.i + 1 : end])
                self.i = end + 1
            elif c == '"':
                self._double_quoted()
            elif c == "$" or c == "`" or (c in "<>" and nxt == "("):
                self._expansion(c, nxt)
            else:
                op = next((o for o in OPERATORS if src.startswith(o, self.i)), None)
                if op is None:
                    self._add(c)
                    self.i += 1
                    continue
                if op[0] in "<>" and self.buf is not None and "".join(self.buf).isdigit():
                    self.buf = None  # `2>file`: the digits name a file descriptor, not an argument
                self._flush()
                self.out.append(Op(op))
                self.i += len(op)
        self._flush()
        return self.out

    def _double_quoted(self) -> None:
        src = self.src
        self.i += 1
        self._add("")
        while True:
            if self.i >= len(src):
                raise ShellSyntaxError("unterminated double quote")
            c = src[self.i]
            nxt = src[self.i + 1] if self.i + 1 < len(src) else ""
            if c == '"':
                self.i += 1
                return
            if c == "\\" and nxt in '$`"\\\n':
                self._add(nxt if nxt != "\n" else "")
                self.i += 2
            elif c in "$`":
                self._expansion(c, nxt)
            else:
                self._add(c)
                self.i += 1

    def _expansion(self, c: str, nxt: str) -> None:
        """$(...), `...`, <(...), >(...): keep the inner command for classification; $X/${X}: keep literally."""
        if c == "`":
            end = self.i + 1
            while end < len(self.src) and self.src[end] != "`":
                end += 2 if self.src[end] == "\\" else 1
            if end >= len(self.src):
                raise ShellSyntaxError("unterminated backtick")
            self.subs.append(self.src[self.i + 1 : end].replace("\\`", "`"))
            self._add("$(...)")
            self.i = end + 1
        elif nxt == "(":
            inner, end = _balanced(self.src, self.i + 2, "(", ")")
            self.subs.append(inner)
            self._add(f"{c}(...)")
            self.i = end
        elif nxt == "{":
            inner, end = _balanced(self.src, self.i + 2, "{", "}")
            self._add("${" + inner + "}")
            self.i = end
        else:
            self._add("$")
            self.i += 1

    def _add(self, text: str) -> None:
        if self.buf is None:
            self.buf = []
        self.buf.append(text)

    def _flush(self) -> None:
        if self.buf is not None:
            self.out.append(Word("".join(self.buf), self.subs))
        self.buf, self.subs = None, []


def _balanced(src: str, start: int, open_: str, close: str) -> tuple[str, int]:
    """Inner text up to the matching `close`, honouring quotes; returns (inner, index after it)."""
    depth, i, quote = 1, start, ""
    while i < len(src):
        c = src[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "\\":
            i += 1
        elif c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return src[start:i], i + 1
        i += 1
    raise ShellSyntaxError(f"unterminated {open_}...{close}")
