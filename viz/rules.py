"""Each op's derivative as the engine states it, read from the docstring beside its rule.

The engine writes every op's local derivative once, in words a reader can check: the
docstring of a Tensor op (`a * b; da = g b, db = g a.`) or of a Value rule
(`d(a * b): da = b g, db = a g`). viz.explore shows those words, so a rule and its
description cannot disagree. This module finds the docstring from a node, splits it into
one clause per operand (`da = ...`), and parses each clause's formula into a small
expression tree, which can be written with a graph's own names (`w1 × g`) or numbers
(`(−3) × (−2)`), and evaluated: tests/test_rules.py checks every op's words against the
engine's numbers that way.

The grammar is the engine's notation: + - * / @ ** (or ^), `b^T` for a transpose (and
the × − ² ᵀ that `write` puts), juxtaposition for a product (`2 sqrt(a)`), |a|, calls of
a few functions (exp ln log tanh sqrt sign sigmoid softmax sum digamma, and
polygamma(n, a) of two arguments), `e`, and `X where C`
for X where the condition C holds, 0 elsewhere. A condition is a comparison (chains like
`min <= x <= max` too), a bool mask the rule holds (`where cond`), `not` one, or several
joined by `and` / `or`; `X where C, Y where D` is X where C holds, else Y where D holds.
The operands are the clauses' names (`da` names a), `g` is the gradient arriving at the
node, a one-letter name that is neither (the `s` of sigmoid) is the node's own value, and
a number or mask the rule was made for (the 3 of `a * 3` on Values, the condition of
`where`) is taken from the rule. The gradient and the node's own value keep the dims a
reduction took, as size 1, so `da = g` of a sum spreads g back over them. A clause ends at
its first top-level comma or semicolon (after its last `where` piece), or its sentence;
what follows the formula there, or after `(`, `with` or `as`, is a remark about edge
cases, not shown. A derivative in other words ("g put back where it came from") is shown
as written.
"""
from __future__ import annotations

import functools
import inspect
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from engine import gamma_function

# `da = ...`, `dmin = ...`, `d input = ...`: a clause starts where a d names an operand
CLAUSE = re.compile(r"(?<![\w.'])d ?([A-Za-z_]\w*) ?=(?!=) ?")
TOKEN = re.compile(r"\s*(\^T|ᵀ|²|\*\*|<=|>=|==|!=|≤|≥|\d+(?:\.\d+)?(?:[eE][+\-−]?\d+)?|[A-Za-z_]\w*"
                   r"|\S)")
REMARK_WORDS = {"with", "as"}  # a formula followed by one of these words goes on in prose
SENTENCE_END = re.compile(r"\.\s+(?=[A-Z])")


def _softmax(x: Any, axis: Any) -> np.ndarray:
    z = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


FUNCTIONS: dict[str, Callable] = {
    "exp": np.exp, "ln": np.log, "log": np.log, "tanh": np.tanh, "sqrt": np.sqrt,
    "sin": np.sin, "cos": np.cos, "sinh": np.sinh, "cosh": np.cosh,
    "sign": np.sign, "abs": np.abs, "floor": np.floor, "trunc": np.trunc, "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "softmax": _softmax, "sum": lambda x, axis: np.sum(x, axis=axis, keepdims=True),
    "digamma": gamma_function.digamma,
    "polygamma": lambda n, x: gamma_function.polygamma(int(n), x),
}
ALONG_AXIS = {"softmax", "sum"}  # along the rule's `axis` or `dim` (all dims for neither)
BINARY = {"+": np.add, "−": np.subtract, "×": np.multiply, "/": np.divide, "@": np.matmul,
          "**": np.power}
COMPARE = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
           "==": np.equal, "!=": np.not_equal}
SHOWN = {"<=": "≤", ">=": "≥", "==": "=", "!=": "≠"}
# how tightly each kind of expression binds, for writing it back with the brackets it needs
PRECEDENCE = {"cases": 0, "where": 0, "+": 1, "−": 1, "×": 2, "/": 2, "@": 2, "neg": 3, "**": 4,
              "T": 5}


class NotAFormula(ValueError):
    """The text is prose, not a formula in the engine's notation."""


ABSENT = object()  # the value of an operand the node was made without: a clamp's missing max


# --- expressions: tuples (kind, ...), kind one of num sym neg bin call T abs where cases ---

def evaluate(e: tuple, env: dict[str, Any]) -> Any:
    """An expression's value, its symbols looked up in env (numbers or numpy arrays, or
    ABSENT: a comparison with an absent operand binds nothing, as a missing bound);
    softmax and sum go along env's axis or dim (all dims when env has neither)."""
    kind = e[0]
    if kind == "num":
        return e[1]
    if kind == "sym":
        return env[e[1]]
    if kind == "neg":
        return -evaluate(e[1], env)
    if kind == "bin":
        return BINARY[e[1]](evaluate(e[2], env), evaluate(e[3], env))
    if kind == "call":
        if e[1] in ALONG_AXIS:
            return FUNCTIONS[e[1]](evaluate(e[2], env), env.get("axis", env.get("dim")))
        return FUNCTIONS[e[1]](*(evaluate(argument, env) for argument in e[2:]))
    if kind == "T":
        return np.swapaxes(evaluate(e[1], env), -1, -2)
    if kind == "abs":
        return np.abs(evaluate(e[1], env))
    if kind == "cases":  # the first piece whose condition holds
        result: Any = 0.0
        for _, value, condition in reversed(e[1:]):
            result = np.where(_holds(condition, env), evaluate(value, env), result)
        return result
    return np.where(_holds(e[2], env), evaluate(e[1], env), 0.0)  # where


def _holds(c: tuple, env: dict[str, Any]) -> Any:
    """A condition's truth; one that binds nothing (see _truth) holds."""
    truth = _truth(c, env)
    return True if truth is None else truth


def _truth(c: tuple, env: dict[str, Any]) -> Any:
    """A condition's truth: ('cmp', [x, op, y, op, z]) chains, ('mask', x), ('not', c),
    ('or'|'and', c, c), ('nan', x); None for one whose every comparison has an absent
    operand, which binds nothing: `x > max or max < min` without a min is `x > max`."""
    kind = c[0]
    if kind == "nan":
        return np.isnan(evaluate(c[1], env))
    if kind == "mask":
        return np.asarray(evaluate(c[1], env), bool)
    if kind == "not":
        inner = _truth(c[1], env)
        return None if inner is None else np.logical_not(inner)
    if kind in ("or", "and"):
        left, right = _truth(c[1], env), _truth(c[2], env)
        if left is None or right is None:
            return right if left is None else left
        return (np.logical_or if kind == "or" else np.logical_and)(left, right)
    parts = c[1]
    values = [evaluate(p, env) for p in parts[::2]]
    result = None
    for k, op in enumerate(parts[1::2]):
        if values[k] is not ABSENT and values[k + 1] is not ABSENT:
            holds = COMPARE[op](values[k], values[k + 1])
            result = holds if result is None else np.logical_and(result, holds)
    return result


def _precedence(e: tuple) -> int:
    if e[0] == "bin":
        return PRECEDENCE[e[1]]
    return PRECEDENCE.get(e[0], 9)


def write(e: tuple, name: Callable[[str], str]) -> str:
    """An expression as text, each symbol written as `name(symbol)` says."""
    kind = e[0]
    if kind == "num":
        return f"{e[1]:g}"
    if kind == "sym":
        return name(e[1])
    if kind == "call":
        return f"{e[1]}({', '.join(write(argument, name) for argument in e[2:])})"
    if kind == "abs":
        return f"|{write(e[1], name)}|"
    if kind == "where":
        return f"{write(e[1], name)} where {_write_condition(e[2], name)}"
    if kind == "cases":
        return ", ".join(write(piece, name) for piece in e[1:])
    mine = _precedence(e)

    def inner(child: tuple, tighter: bool = False) -> str:
        text = write(child, name)
        need = _precedence(child) < mine or (tighter and _precedence(child) == mine)
        return f"({text})" if need else text
    if kind == "neg":
        return "−" + inner(e[1])
    if kind == "T":
        return inner(e[1], tighter=True) + "ᵀ"
    op, left, right = e[1], e[2], e[3]
    if op == "**":
        if right == ("num", 2.0):
            return inner(left, tighter=True) + "²"
        power = write(right, name)
        return inner(left, tighter=True) + "^" + (power if right[0] in ("num", "sym")
                                                  else f"({power})")
    # a right operand of the same precedence needs brackets: a − (b − c), a / (b × c)
    return f"{inner(left)} {op} {inner(right, tighter=True)}"


def _write_condition(c: tuple, name: Callable[[str], str]) -> str:
    if c[0] == "nan":
        return "nan"
    if c[0] == "mask":
        return write(c[1], name)
    if c[0] == "not":
        return f"not {_write_condition(c[1], name)}"
    if c[0] in ("or", "and"):
        return f"{_write_condition(c[1], name)} {c[0]} {_write_condition(c[2], name)}"
    return " ".join(write(p, name) if k % 2 == 0 else SHOWN.get(p, p)
                    for k, p in enumerate(c[1]))


# --- the parser: one formula, or NotAFormula ---

class _Parser:
    """Recursive descent over TOKEN's tokens; `known(symbol)` says which names are math,
    `masks` which of them are bool masks (conditions on their own)."""

    def __init__(self, tokens: list[str], known: Callable[[str], bool],
                 masks: frozenset[str] = frozenset()) -> None:
        self.tokens, self.at, self.known, self.masks = tokens, 0, known, masks

    def peek(self, ahead: int = 0) -> str | None:
        k = self.at + ahead
        return self.tokens[k] if k < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise NotAFormula(f"expected {expected or 'more'} at {token!r}")
        self.at += 1
        return token

    def formula(self) -> tuple:
        e = self.sum()
        if self.peek() == "where":
            self.take()
            e = ("where", e, self.condition())
        return e

    def condition(self) -> tuple:
        c = last = self.comparison()
        while self.peek() in ("or", "and"):
            joint = self.take()
            if self.peek() == "nan" and last[0] == "cmp":  # `a > 0 or nan`: or a is nan
                self.take()
                subject = next((p for p in last[1][::2] if p[0] == "sym"), last[1][0])
                c = (joint, c, ("nan", subject))
            else:
                last = self.comparison()
                c = (joint, c, last)
        return c

    def comparison(self) -> tuple:
        if self.peek() == "not":
            self.take()
            return ("not", self.comparison())
        parts = [self.sum()]
        while (op := {"≤": "<=", "≥": ">="}.get(self.peek(), self.peek())) in COMPARE:
            self.take()
            parts += [op, self.sum()]
        if len(parts) == 1:
            if parts[0][0] == "sym" and parts[0][1] in self.masks:
                return ("mask", parts[0])
            raise NotAFormula("a condition needs a comparison or a mask")
        return ("cmp", parts)

    def sum(self) -> tuple:
        e = self.product()
        while self.peek() in ("+", "-", "−"):
            op = "+" if self.take() == "+" else "−"
            e = ("bin", op, e, self.product())
        return e

    def product(self) -> tuple:
        e = self.unary()
        while True:
            token = self.peek()
            if token in ("*", "×", "·", "/", "@"):
                self.take()
                op = token if token in ("/", "@") else "×"
                e = ("bin", op, e, self.unary())
            elif self.starts_atom(token):  # juxtaposition: `b g`, `2 sqrt(a)`
                e = ("bin", "×", e, self.unary())
            else:
                return e

    def starts_atom(self, token: str | None) -> bool:
        if token is None:
            return False
        return (token[0].isdigit() or token == "(" or
                (token[0].isalpha() or token[0] == "_") and self.known(token))

    def unary(self) -> tuple:
        if self.peek() in ("-", "−"):
            self.take()
            return ("neg", self.unary())
        return self.power()

    def power(self) -> tuple:
        e = self.postfix()
        if self.peek() in ("**", "^"):
            self.take()
            return ("bin", "**", e, self.unary())
        return e

    def postfix(self) -> tuple:
        e = self.atom()
        while self.peek() in ("^T", "ᵀ", "²"):  # also as `write` puts them
            e = ("bin", "**", e, ("num", 2.0)) if self.take() == "²" else ("T", e)
        return e

    def atom(self) -> tuple:
        token = self.take()
        if token[0].isdigit():
            return ("num", float(token.replace("−", "-")))
        if token == "(":
            e = self.sum()
            self.take(")")
            return e
        if token == "|":
            e = self.sum()
            self.take("|")
            return ("abs", e)
        if token in FUNCTIONS and self.peek() == "(":
            self.take()
            arguments = [self.sum()]
            while self.peek() == ",":
                self.take()
                arguments.append(self.sum())
            self.take(")")
            return ("call", token, *arguments)
        if (token[0].isalpha() or token[0] == "_") and self.known(token):
            return ("sym", token)
        raise NotAFormula(f"{token!r} is not part of a formula")


# --- a rule: the clauses of one docstring ---

@dataclass
class Clause:
    """One operand's derivative: `name` as the docstring calls the operand, its `text` as
    written, and the formula parsed from its start (None: the text is prose)."""

    name: str | None
    text: str
    formula: tuple | None = None


@dataclass
class Rule:
    """An op's derivative, one clause per operand in operand order (a single prose clause
    with name None serves them all); `absent` names operands this node was made without,
    `masks` the bool masks the rule holds (a where's condition)."""

    clauses: list[Clause]
    absent: tuple[str, ...] = ()
    masks: frozenset[str] = frozenset()

    @property
    def operands(self) -> list[str]:
        return [c.name for c in self.clauses if c.name is not None]

    def clause(self, k: int) -> Clause | None:
        """The clause for operand k (the shared one for a rule in words)."""
        if len(self.clauses) == 1 and self.clauses[0].name is None:
            return self.clauses[0]
        return self.clauses[k] if k < len(self.clauses) else None


def _top_level_pieces(text: str) -> list[str]:
    """A clause cut at its commas outside brackets, up to its first such semicolon."""
    pieces, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch in ",;" and depth <= 0:
            pieces.append(text[start:k])
            if ch == ";":
                return pieces
            start = k + 1
    return pieces + [text[start:]]


def _clause_formula(text: str, operands: list[str], constants: set[str],
                    masks: frozenset[str]) -> tuple:
    """The formula of a clause: its first piece, and while that is `X where C`, each next
    piece that is one too (`g / 2 where a == b, g where a == m`); or NotAFormula."""
    first, *rest = _top_level_pieces(text)
    e = _formula(first, operands, constants, masks)
    if e[0] != "where":
        return e
    pieces = [e]
    for more in rest:
        try:
            piece = _formula(more, operands, constants, masks)
        except NotAFormula:
            break
        if piece[0] != "where":
            break
        pieces.append(piece)
    return e if len(pieces) == 1 else ("cases", *pieces)


def _formula(text: str, operands: list[str], constants: set[str], masks: frozenset[str]
             ) -> tuple:
    """The formula at the start of a piece of text, before any remark, or NotAFormula."""
    matches = list(TOKEN.finditer(text))
    tokens = [m.group(1) for m in matches]
    symbols = {"g", "e", *operands, *constants, *masks}

    def known(token: str) -> bool:  # the node's own value is a one-letter name
        return token in symbols or token in FUNCTIONS or len(token) == 1
    for end in range(len(tokens), 0, -1):  # the longest start that is a whole formula
        rest = tokens[end:]
        if rest and rest[0] != "(" and rest[0] not in REMARK_WORDS:
            continue
        parser = _Parser(tokens[:end], known, masks)
        try:
            e = parser.formula()
        except NotAFormula:
            continue
        if parser.peek() is None:
            return e
    raise NotAFormula(text)


def symbols(e: tuple) -> set[str]:
    """The names an expression (or a condition) uses."""
    if e[0] == "sym":
        return {e[1]}
    if e[0] == "cmp":
        return set().union(*(symbols(p) for p in e[1][::2]))
    return set().union(*(symbols(x) for x in e[1:] if isinstance(x, tuple)))


def parse_rule(doc: str, constants: set[str] = frozenset(),
               masks: frozenset[str] = frozenset()) -> Rule | None:
    """The clauses of a docstring that states a derivative, or None when it states none.

    constants: names of numbers the rule was made for (the c of `d(a * c)`), which a
    formula may use; masks: names of bool masks it holds, which a formula may use as a
    condition (`g where cond`).
    """
    doc = inspect.cleandoc(doc)
    clauses = []
    for paragraph in doc.split("\n\n"):
        paragraph = " ".join(paragraph.split())
        found = list(CLAUSE.finditer(paragraph))
        for m, after in zip(found, found[1:] + [None]):
            body = paragraph[m.end():after.start() if after else None]
            body = SENTENCE_END.split(body, 1)[0].strip(" ,;.")
            clauses.append(Clause(m.group(1), body))
    if not clauses:  # a rule in words: what follows the first paragraph's `;`
        head, sep, words = " ".join(doc.split("\n\n")[0].split()).partition(";")
        return Rule([Clause(None, words.strip(" ."))]) if sep and words.strip() else None
    operands = [c.name for c in clauses]
    for c in clauses:
        try:
            c.formula = _clause_formula(c.text, operands, constants, masks)
        except NotAFormula:
            pass  # prose, shown as written
    return Rule(clauses, masks=masks)


# --- from a node to its rule ---

def _enclosing(fn: Callable) -> Callable | None:
    """The function a closure was defined in (`Tensor.__mul__` for its `rule`), or None."""
    path, sep, _ = fn.__qualname__.rpartition(".<locals>.")
    if not sep:
        return None
    obj: Any = sys.modules.get(fn.__module__)
    for part in path.split("."):
        obj = inspect.getattr_static(obj, part, None) if obj is not None else None
    obj = getattr(obj, "__func__", obj)  # a staticmethod or classmethod
    return obj if inspect.isfunction(obj) else None


def _closure(rule: Callable) -> dict[str, Any]:
    """The variables a rule closes over, by name."""
    return {name: cell.cell_contents
            for name, cell in zip(rule.__code__.co_freevars, rule.__closure__ or ())}


def closure_of(node: Any) -> dict[str, Any]:
    """What the rule `node` runs closes over, by name ({} for none): its axis, its number."""
    rule = getattr(node, "_rule", None)
    return _closure(rule) if inspect.isfunction(rule) else {}


def constants_of(rule: Callable) -> dict[str, int | float]:
    """The numbers a rule closes over, by name: the 3 of a Value's `a * 3` rule."""
    return {name: v for name, v in _closure(rule).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _without_absent(rule: Rule, closure: dict[str, Any]) -> Rule:
    """The rule less the clauses of operands this node was made without: `dmin` of a
    clamp with no min, which its rule records as has_min = False."""
    absent = tuple(c.name for c in rule.clauses if closure.get(f"has_{c.name}") is False)
    if not absent:
        return rule
    return Rule([c for c in rule.clauses if c.name not in absent], absent, rule.masks)


@functools.lru_cache(maxsize=None)
def _parsed(doc: str, constants: frozenset[str], masks: frozenset[str]) -> Rule | None:
    return parse_rule(doc, constants, masks)


def rule_of(node: Any) -> tuple[Rule | None, dict[str, int | float]]:
    """The derivative stated for the rule `node` runs, and the numbers that rule closes over.

    The docstring is the rule's own (Value's rules) or that of the function it was defined
    in (Tensor's ops); a hand-installed `_backward` states none: (None, {}).
    """
    rule = getattr(node, "_rule", None)
    if not inspect.isfunction(rule):
        return None, {}
    constants, closure = constants_of(rule), _closure(rule)
    masks = frozenset(name for name, v in closure.items()
                      if isinstance(v, np.ndarray) and v.dtype == np.bool_)
    for fn in (rule, _enclosing(rule)):
        if fn is not None and fn.__doc__:
            parsed = _parsed(fn.__doc__, frozenset(constants), masks)
            if parsed is not None:
                return _without_absent(parsed, closure), constants
    return None, {}
