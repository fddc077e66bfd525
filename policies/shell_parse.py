"""A shell command line, parsed with a real bash grammar, reduced to what can be proven literal (pure).

`parse_script(text)` uses tree-sitter-bash (MIT) and keeps only a small, exact subset of the
language: simple commands whose every word is literal text, joined by `;`, newlines, `&&`, `||`
and pipes, with file redirections to literal targets. Everything else the shell would *compute*
(expansions, substitutions, globs, brace and tilde patterns, here-documents, functions, control
flow, groups, background jobs, assignments, comments) is not evaluated: it becomes a `problem`,
a sentence saying what was not understood, and the caller treats any problem as "needs a human".

Why a subset: a shell cannot be enumerated by a denylist, and a tolerant parser may disagree with
the real shell on corner cases. Words are therefore re-checked character by character after the
grammar accepted them: an unquoted word may hold only `[A-Za-z0-9_./:=@%+,-]` and backslash
escapes of printable ASCII (`\\;`), so any character a POSIX shell, bash or zsh could give meaning
to makes the word "not literal". Single-quoted text is literal in every POSIX shell; double-quoted
text is literal when it holds no `$`, backquote or backslash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

MAX_COMMAND_CHARS = 8000
MAX_NODES = 20_000
_SAFE_UNQUOTED = re.compile(r"[A-Za-z0-9_./:=@%+,-]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Redirect operators that write to their target; `>&`/`<&` with a number only duplicate a descriptor.
WRITE_OPERATORS = frozenset({">", ">>", ">|", ">&", "<>"})
# bash-only forms that dash reads differently (`a &>f` is `a &` then `>f` there): never assumed.
BASH_ONLY_OPERATORS = frozenset({"&>", "&>>"})
READ_OPERATORS = frozenset({"<", "<&"})

# Node types that only group what they contain (operators are checked separately).
_PLAIN_CONTAINERS = frozenset({"program", "list", "pipeline"})
_OPERATORS = frozenset({";", "\n", "&&", "||", "|", "|&"})
_NOT_UNDERSTOOD = {
    "function_definition": "defines a shell function",
    "compound_statement": "groups commands with { … }",
    "subshell": "runs commands in a subshell ( … )",
    "if_statement": "uses control flow (if)",
    "for_statement": "uses control flow (for)",
    "c_style_for_statement": "uses control flow (for)",
    "while_statement": "uses control flow (while/until)",
    "case_statement": "uses control flow (case)",
    "negated_command": "negates a command with !",
    "variable_assignment": "assigns a shell variable",
    "variable_assignments": "assigns shell variables",
    "declaration_command": "declares or exports variables",
    "unset_command": "unsets variables or functions",
    "test_command": "uses a [[ … ]] or [ … ] test",
    "heredoc_redirect": "uses a here-document",
    "herestring_redirect": "uses a here-string",
    "comment": "contains a comment (shells disagree on where one starts)",
    "arithmetic_expansion": "uses arithmetic expansion $(( … ))",
    "command_substitution": "uses command substitution",
    "process_substitution": "uses process substitution",
    "expansion": "uses a parameter expansion ${…}",
    "simple_expansion": "uses a variable expansion $NAME",
    "ansi_c_string": "uses a $'…' string (escapes computed at run time)",
    "translated_string": 'uses a $"…" string',
    "brace_expression": "uses brace expansion",
}


@dataclass(frozen=True)
class Redirect:
    operator: str  # `>`, `>>`, `<`, `&>`, `>&`, …
    fd: str | None  # the descriptor written before it (`2>`), if any
    target: str


@dataclass
class SimpleCommand:
    argv: list[str]
    redirects: list[Redirect] = field(default_factory=list)
    text: str = ""  # the source text, for messages


@dataclass
class Script:
    commands: list[SimpleCommand]
    problems: list[str]

    @property
    def understood(self) -> bool:
        return not self.problems


class NotLiteral(Exception):
    """A word whose value the shell would compute; the message says how."""


@lru_cache(maxsize=1)
def _parser() -> Parser:
    return Parser(Language(tree_sitter_bash.language()))


def parse_script(text: str) -> Script:
    """Every simple command of `text`, and the problems that keep it from being fully understood."""
    problems: list[str] = []
    if len(text) > MAX_COMMAND_CHARS:
        return Script([], [f"command is longer than {MAX_COMMAND_CHARS} characters"])
    if _CONTROL.search(text):
        return Script([], ["contains control characters (NUL, carriage return, escape…)"])
    if "\\\n" in text:
        problems.append("continues a line with a backslash")
    try:
        source = text.encode()
    except UnicodeEncodeError:
        return Script([], ["contains characters that are not valid Unicode (lone surrogates)"])
    tree = _parser().parse(source)
    root = tree.root_node
    if root.has_error:
        problems.append("cannot be parsed as a shell command")
        return Script([], problems)
    commands: list[SimpleCommand] = []
    walker = _Walker(commands, problems)
    walker.statement(root)
    if not commands and not problems:
        problems.append("is empty")
    return Script(commands, list(dict.fromkeys(problems)))


class _Walker:
    def __init__(self, commands: list[SimpleCommand], problems: list[str]):
        self.commands = commands
        self.problems = problems
        self.nodes = 0

    def statement(self, node: Node) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.problems.append("is too large to check")
            return
        kind = node.type
        if kind in _PLAIN_CONTAINERS:
            for child in node.children:
                if child.type in _OPERATORS:
                    continue
                if child.type == "&":
                    self.problems.append("starts a background job (&)")
                    continue
                self.statement(child)
        elif kind == "command":
            self.command(node, [])
        elif kind == "redirected_statement":
            body = node.child_by_field_name("body")
            redirects = []
            for child in node.children:
                if body is not None and child.id == body.id:
                    continue
                redirect = self.redirect(child)
                if redirect is not None:
                    redirects.append(redirect)
            if body is None:
                self.problems.append("has a redirection without a command")
            elif body.type == "command":
                self.command(body, redirects)
            elif body.type in ("pipeline", "list"):
                # The grammar hangs `a | b >f` on the whole pipeline; the shell applies it to `b`. Either
                # way the target is judged the same, so attach it to the last command seen.
                before = len(self.commands)
                self.statement(body)
                if len(self.commands) > before:
                    self.commands[-1].redirects.extend(redirects)
                elif redirects:
                    self.problems.append("has a redirection whose command is not understood")
            else:
                self.problems.append(
                    _NOT_UNDERSTOOD.get(body.type, f"uses shell syntax that is not checked ({body.type})")
                )
        else:
            self.problems.append(_NOT_UNDERSTOOD.get(kind, f"uses shell syntax that is not checked ({kind})"))

    def command(self, node: Node, redirects: list[Redirect]) -> None:
        argv: list[str] = []
        ok = True
        for child in node.children:
            kind = child.type
            if kind == "command_name":
                word = child.children[0] if child.child_count == 1 else None
                if word is None:
                    self.problems.append("has a command name that is not a single word")
                    ok = False
                    continue
                try:
                    argv.append(literal(word))
                except NotLiteral as why:
                    self.problems.append(f"command name is computed at run time ({why})")
                    ok = False
            elif kind in ("file_redirect",):
                redirect = self.redirect(child)
                if redirect is not None:
                    redirects.append(redirect)
            elif kind in _NOT_UNDERSTOOD and kind not in _WORD_PROBLEMS:
                self.problems.append(_NOT_UNDERSTOOD[kind])
                ok = False
            else:
                try:
                    argv.append(literal(child))
                except NotLiteral as why:
                    self.problems.append(f"argument is computed at run time ({why})")
                    ok = False
        if ok and argv:
            self.commands.append(SimpleCommand(argv, redirects, _text(node)))
        elif ok and not argv:
            self.problems.append("has a command without a name")

    def redirect(self, node: Node) -> Redirect | None:
        if node.type != "file_redirect":
            self.problems.append(
                _NOT_UNDERSTOOD.get(node.type, f"uses a redirection that is not checked ({node.type})")
            )
            return None
        fd = operator = None
        targets: list[Node] = []
        for child in node.children:
            if child.type == "file_descriptor":
                fd = _text(child)
            elif not child.is_named:
                operator = _text(child)
            else:
                targets.append(child)
        if operator is None or len(targets) != 1:
            self.problems.append("has words after a redirection target")
            return None
        try:
            target = literal(targets[0])
        except NotLiteral as why:
            self.problems.append(f"redirects to a target computed at run time ({why})")
            return None
        return Redirect(operator, fd, target)


# Word-level node types: reported by `literal` with the reason, not as statements.
_WORD_PROBLEMS = frozenset({
    "arithmetic_expansion", "command_substitution", "process_substitution", "expansion", "simple_expansion",
    "ansi_c_string", "translated_string", "brace_expression",
})  # fmt: skip


def literal(node: Node) -> str:
    """The value of a word node when it is literal text; raises NotLiteral saying why not."""
    kind = node.type
    if kind in ("word", "number"):
        return unquoted(_text(node))
    if kind == "raw_string":
        return _text(node)[1:-1]
    if kind == "string":
        parts = []
        for child in node.children:
            if child.type == '"':
                continue
            if child.type != "string_content":
                raise NotLiteral(_NOT_UNDERSTOOD.get(child.type, f"{child.type} inside double quotes"))
            content = _text(child)
            if any(ch in content for ch in "$`\\"):
                raise NotLiteral("$, ` or \\ inside double quotes")
            parts.append(content)
        return "".join(parts)
    if kind == "concatenation":
        if _text(node) == "{}":  # find's placeholder: not a brace expansion
            return "{}"
        return "".join(literal(child) for child in node.children)
    raise NotLiteral(_NOT_UNDERSTOOD.get(kind, kind.replace("_", " ")))


def unquoted(text: str) -> str:
    """Decode an unquoted word: safe characters and backslash escapes only."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text) or not (" " <= text[i + 1] <= "~"):
                raise NotLiteral("a backslash that does not escape a printable character")
            out.append(text[i + 1])
            i += 2
            continue
        if not _SAFE_UNQUOTED.match(ch):
            raise NotLiteral(f"unquoted {_describe(ch)}")
        out.append(ch)
        i += 1
    word = "".join(out)
    if text.startswith("=") or text.startswith("~"):
        raise NotLiteral("a word starting with = or ~ is expanded by some shells")
    return word


def _describe(ch: str) -> str:
    names = {"*": "glob *", "?": "glob ?", "[": "glob [", "]": "glob ]", "{": "brace {", "}": "brace }",
             "~": "tilde ~", "$": "expansion $", "`": "backquote", "!": "history/negation !", "#": "comment #",
             "^": "caret ^", "&": "&", ";": ";", "|": "|", "<": "<", ">": ">", "(": "(", ")": ")", "'": "quote",
             '"': "quote", " ": "space"}  # fmt: skip
    return names.get(ch, f"character {ch!r}")


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")
