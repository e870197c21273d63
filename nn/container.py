"""Containers, as torch.nn's: Sequential (modules applied in order), ModuleList and
ModuleDict (modules held for a forward() written by hand), ParameterList and ParameterDict
(parameters held likewise, named `params.0`, `params.key` in the state).

Each keeps its modules in one dict, name -> module (`0`, `1`, ... or the keys given), so
their state is named as PyTorch names it: `blocks.0.attn.weight`. Each labels the nodes
it holds with those names (`0.weight`) for graph pictures; a label the user chose stays,
and an enclosing container built later lengthens it (`1.0.weight`).
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

from engine.tensor import Tensor
from nn.module import Module, _check_name
from nn.parameter import Parameter


class _Container(Module):
    """What the three share: the dict of modules, their names, their labels."""

    _modules: dict[str, Module]

    def _members(self, remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        return iter(self._modules.items())  # (every name, as PyTorch registers them)

    def __getattr__(self, name: str) -> Module:
        """A held module by its name as an attribute, as PyTorch's: `transformer.wte`."""
        modules = self.__dict__.get("_modules", {})
        if name in modules:
            return modules[name]
        raise AttributeError(f"{type(self).__name__} has no attribute or module {name!r}; "
                             f"it holds {', '.join(map(repr, modules)) or 'no modules'}")

    def __setattr__(self, name: str, value: Any) -> None:
        """A Module assigned as an attribute joins the held modules, as in PyTorch."""
        if isinstance(value, Module) and not name.startswith("_"):
            self._put(name, value, f"the value for {name!r}")
            self._label()
        else:
            super().__setattr__(name, value)

    def _put(self, name: str, module: Any, what: str) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__} takes Modules; {what} is a "
                            f"{type(module).__name__} (for a function, wrap it in a Module)")
        _check_name("module", name)
        self._modules[name] = module

    def _label(self) -> None:
        for name, node in self._named_state():
            if not node.label or name.endswith("." + node.label):
                node.label = name

    def _index(self, index: int) -> str:
        """The name of the module at a position (negative counts from the end)."""
        n = len(self._modules)
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of range for a {type(self).__name__} of "
                             f"{n} module{'s' * (n != 1)}")
        return list(self._modules)[index % n]

    def _renumber(self) -> None:
        self._modules = {str(i): m for i, m in enumerate(self._modules.values())}

    def __len__(self) -> int:
        return len(self._modules)


class _Indexed(_Container):
    """Sequential's and ModuleList's list-like API over modules named 0, 1, ..."""

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __setitem__(self, index: int, module: Module) -> None:
        self._put(self._index(index), module, "the new item")
        self._label()

    def __delitem__(self, index: int | slice) -> None:
        names = list(self._modules)
        for name in (names[index] if isinstance(index, slice) else [self._index(index)]):
            del self._modules[name]
        self._renumber()  # as PyTorch, the rest are numbered 0, 1, ... again

    def append(self, module: Module) -> _Indexed:
        self._put(str(len(self)), module, "the appended item")
        self._label()
        return self

    def extend(self, modules: Iterable[Module]) -> _Indexed:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules = {}
        for i, m in enumerate(modules):
            self._put(str(i), m, "the inserted item")
        self._label()

    def pop(self, index: int = -1) -> Module:
        module = self[index]
        del self[index]
        return module

    def __iadd__(self, modules: Iterable[Module]) -> _Indexed:
        return self.extend(modules)


class Sequential(_Indexed):
    """Modules applied in order: Sequential(m0, m1, ...) or Sequential(OrderedDict of named
    modules); indexable (a slice is a Sequential), iterable, and named as in PyTorch."""

    def __init__(self, *args: Any) -> None:
        self._modules = {}
        if len(args) == 1 and isinstance(args[0], Mapping):
            for name, module in args[0].items():
                self._put(name, module, f"entry {name!r}")
        else:
            for i, module in enumerate(args):
                self._put(str(i), module, f"argument {i}")
        self._label()

    def forward(self, input: Any) -> Any:
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(dict(list(self._modules.items())[index]))
        return self._modules[self._index(index)]


class ModuleList(_Indexed):
    """A list of modules whose state is the model's (`blocks.0.weight`): indexable,
    iterable, append / extend / insert; calling it is up to the forward() that holds it."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        self._modules = {}
        for i, module in enumerate(modules or ()):
            self._put(str(i), module, f"item {i}")
        self._label()

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[self._index(index)]

    def __repr__(self) -> str:
        """As PyTorch: a run of equal items is one line, `(0-3): 4 x Block(...)`."""
        if not self._modules:
            return "ModuleList()"
        runs: list[list] = []  # [first, last, repr]
        for i, module in enumerate(self._modules.values()):
            text = repr(module)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = [(f"({a}): " if a == b else f"({a}-{b}): {b - a + 1} x ")
                 + text.replace("\n", "\n  ") for a, b, text in runs]
        return "ModuleList(" + "".join(f"\n  {line}" for line in lines) + "\n)"


class ModuleDict(_Container):
    """Modules by name (`heads['a']`), in insertion order, as a dict."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
                 ) -> None:
        self._modules = {}
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(f"ModuleDict has no module {key!r}; it holds "
                           f"{', '.join(map(repr, self._modules)) or 'none'}") from None

    def __setitem__(self, key: str, module: Module) -> None:
        self._put(key, module, f"the value for {key!r}")
        self._label()

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Any:
        return self._modules.keys()

    def values(self) -> Any:
        return self._modules.values()

    def items(self) -> Any:
        return self._modules.items()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for pair in pairs:
            key, module = pair
            self._put(key, module, f"the value for {key!r}")
        self._label()

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        self._modules.clear()


class _Parameters(Module):
    """What ParameterList and ParameterDict share: one dict, name -> Parameter, whose names
    are the state's (a plain Tensor put in becomes a Parameter, as in PyTorch)."""

    _params: dict[str, Parameter]

    def _members(self, remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        return iter(self._params.items())  # (every name, as PyTorch registers them)

    def _put(self, name: str, value: Any) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"{type(self).__name__} holds Tensors (as Parameters); the value "
                            f"for {name!r} is a {type(value).__name__}")
        _check_name("parameter", name)
        self._params[name] = value if isinstance(value, Parameter) else Parameter(value)
        if not self._params[name].label:
            self._params[name].label = name

    def __len__(self) -> int:
        return len(self._params)

    def _line(self, name: str, p: Parameter, dtype: str) -> str:
        return f"  ({name}): Parameter containing: [{dtype} of size {'x'.join(map(str, p.shape))}]"


class ParameterList(_Parameters):
    """A list of parameters whose state is the model's (`params.0`): indexable, iterable,
    append / extend."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        self._params = {}
        self.extend(values or ())

    def __getitem__(self, index: int | slice) -> Any:
        values = list(self._params.values())
        return ParameterList(values[index]) if isinstance(index, slice) else values[index]

    def __setitem__(self, index: int, value: Any) -> None:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of range for a ParameterList of {n}")
        self._put(str(index % n), value)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._params.values())

    def append(self, value: Any) -> ParameterList:
        self._put(str(len(self)), value)
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    __iadd__ = extend

    def extra_repr(self) -> str:
        return "\n".join(self._line(k, p, str(p.dtype)) for k, p in self._params.items())


_TENSOR_TYPES = {"float16": "HalfTensor", "float32": "FloatTensor", "float64": "DoubleTensor"}


class ParameterDict(_Parameters):
    """Parameters by name (`params['w']`), in insertion order, as a dict."""

    def __init__(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None
                 ) -> None:
        self._params = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        try:
            return self._params[key]
        except KeyError:
            raise KeyError(f"ParameterDict has no parameter {key!r}; it holds "
                           f"{', '.join(map(repr, self._params)) or 'none'}") from None

    def __setitem__(self, key: str, value: Any) -> None:
        self._put(key, value)

    def __delitem__(self, key: str) -> None:
        del self._params[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __contains__(self, key: object) -> bool:
        return key in self._params

    def keys(self) -> Any:
        return self._params.keys()

    def values(self) -> Any:
        return self._params.values()

    def items(self) -> Any:
        return self._params.items()

    def get(self, key: str, default: Any = None) -> Any:
        return self._params.get(key, default)

    def update(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        for key, value in (parameters.items() if isinstance(parameters, Mapping) else parameters):
            self._put(key, value)

    def pop(self, key: str) -> Parameter:
        value = self[key]
        del self[key]
        return value

    def extra_repr(self) -> str:
        return "\n".join(self._line(k, p, "torch." + _TENSOR_TYPES.get(p.dtype.name, "Tensor"))
                         for k, p in self._params.items())
