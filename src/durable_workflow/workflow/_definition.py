"""``@workflow.defn`` and the handler decorators; the frozen definition they attach.

The definition lives on the decorated object (``__durable_workflow_definition__``) instead of
a global registry, so ``Worker``, ``Replayer`` and the test harness take explicit lists and
nothing leaks between tests.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, overload

DEFINITION_ATTR = "__durable_workflow_definition__"
_HANDLER_ATTR = "__durable_workflow_handler__"

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
_S = TypeVar("_S", contravariant=True)
_P = ParamSpec("_P")
_R = TypeVar("_R", covariant=True)
V = TypeVar("V", bound=Callable[..., Any])


@dataclass(frozen=True)
class WorkflowDefinition:
    """Everything the engine needs to run one workflow type.

    Attributes:
        name: The type key shared across languages.
        target: The decorated class, or the decorated function.
        is_class: ``True`` when ``target`` is a class whose ``run`` method is the entry point.
        signals / queries / updates: handler name → attribute name on the class.
        update_validators: update name → attribute name of its validator.
        fingerprint: ``sha256:<hex>`` of the workflow's source, sent at registration.
    """

    name: str
    target: Any
    is_class: bool
    signals: dict[str, str] = field(default_factory=dict)
    queries: dict[str, str] = field(default_factory=dict)
    updates: dict[str, str] = field(default_factory=dict)
    update_validators: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""

    def new_instance(self) -> Any:
        """A fresh workflow object (or ``None`` for function workflows) for one replay."""
        return self.target() if self.is_class else None

    def entry_point(self, instance: Any) -> Callable[..., Any]:
        """The callable invoked as ``run(ctx, *args)``."""
        if self.is_class:
            run: Callable[..., Any] = instance.run
            return run
        target: Callable[..., Any] = self.target
        return target


def _fingerprint(name: str, target: Any) -> str:
    try:
        source = inspect.getsource(target)
    except (OSError, TypeError):
        source = getattr(target, "__qualname__", repr(target))
    digest = hashlib.sha256(f"{name}\n{source}".encode()).hexdigest()
    return f"sha256:{digest}"


def _collect_handlers(cls: type) -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, str]]:
    signals: dict[str, str] = {}
    queries: dict[str, str] = {}
    updates: dict[str, str] = {}
    validators: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            marks = getattr(value, _HANDLER_ATTR, None)
            if not marks:
                continue
            for kind, handler_name in marks:
                table = {"signal": signals, "query": queries, "update": updates, "validator": validators}[
                    kind
                ]
                table[handler_name] = attr
    return signals, queries, updates, validators


@overload
def defn(target: T, /) -> T: ...


@overload
def defn(*, name: str | None = None) -> Callable[[T], T]: ...


def defn(target: Any = None, *, name: str | None = None) -> Any:
    """Declare a workflow type; the decorated class or function is returned unchanged.

    Use on a class with a ``run(self, ctx, *args)`` method, or on a plain ``run(ctx, *args)``
    function. ``run`` is usually a generator that yields commands::

        @workflow.defn(name="greeter")
        class GreeterWorkflow:
            def run(self, ctx, *args):
                return (yield ctx.schedule_activity("greet", list(args)))

    Args:
        target: The class or function (when used as ``@workflow.defn`` without arguments).
        name: The type key; defaults to the class or function name.
    """

    def decorate(obj: T) -> T:
        type_name = name if name is not None else getattr(obj, "__name__", None)
        if not isinstance(type_name, str) or not type_name:
            raise TypeError("@workflow.defn(name=...) must be a non-empty string")
        if inspect.isclass(obj):
            if not callable(getattr(obj, "run", None)):
                raise TypeError(f"workflow class {obj.__name__} has no run(self, ctx, *args) method")
            signals, queries, updates, validators = _collect_handlers(obj)
            definition = WorkflowDefinition(
                name=type_name,
                target=obj,
                is_class=True,
                signals=signals,
                queries=queries,
                updates=updates,
                update_validators=validators,
                fingerprint=_fingerprint(type_name, obj),
            )
        elif callable(obj):
            definition = WorkflowDefinition(
                name=type_name, target=obj, is_class=False, fingerprint=_fingerprint(type_name, obj)
            )
        else:
            raise TypeError("@workflow.defn decorates a class or a function")
        setattr(obj, DEFINITION_ATTR, definition)
        return obj

    if target is not None:
        return decorate(target)
    return decorate


def get_definition(obj: Any) -> WorkflowDefinition:
    """The definition of a decorated workflow class/function (or a definition passed through)."""
    if isinstance(obj, WorkflowDefinition):
        return obj
    definition = getattr(obj, DEFINITION_ATTR, None)
    if not isinstance(definition, WorkflowDefinition):
        raise TypeError(f"{obj!r} is not a workflow: decorate it with @workflow.defn(name=...)")
    return definition


def _mark(fn: Any, kind: str, handler_name: str) -> None:
    marks = list(getattr(fn, _HANDLER_ATTR, ()))
    marks.append((kind, handler_name))
    setattr(fn, _HANDLER_ATTR, tuple(marks))


def _handler_decorator(kind: str, name_or_fn: Any) -> Any:
    if callable(name_or_fn):
        _mark(name_or_fn, kind, name_or_fn.__name__)
        return name_or_fn
    if name_or_fn is not None and not isinstance(name_or_fn, str):
        raise TypeError(f"@workflow.{kind}(name) takes a string name")

    def decorate(fn: F) -> F:
        _mark(fn, kind, name_or_fn or fn.__name__)
        return fn

    return decorate


@overload
def signal(name: F, /) -> F: ...


@overload
def signal(name: str | None = None) -> Callable[[F], F]: ...


def signal(name: Any = None) -> Any:
    """Mark a method as the handler of signal ``name`` (default: the method name).

    Signals are recorded in history and replayed into the handler, so the handler must only
    change workflow state.
    """
    return _handler_decorator("signal", name)


@overload
def query(name: F, /) -> F: ...


@overload
def query(name: str | None = None) -> Callable[[F], F]: ...


def query(name: Any = None) -> Any:
    """Mark a method as the handler of query ``name`` (default: the method name)."""
    return _handler_decorator("query", name)


class UpdateMethod(Protocol[_S, _P, _R]):
    """What ``@workflow.update`` gives back: the method, plus ``.validator`` to attach one."""

    def __call__(self, instance: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None, /) -> UpdateMethod[_S, _P, _R]: ...

    @overload
    def __get__(self, instance: _S, owner: type[Any] | None = None, /) -> Callable[_P, _R]: ...

    def validator(self, fn: V, /) -> V:
        """Mark ``fn`` as this update's validator (raise, or return ``False``, to refuse)."""
        ...


@overload
def update(name: Callable[Concatenate[_S, _P], _R], /) -> UpdateMethod[_S, _P, _R]: ...


@overload
def update(
    name: str | None = None,
) -> Callable[[Callable[Concatenate[_S, _P], _R]], UpdateMethod[_S, _P, _R]]: ...


def update(name: Any = None) -> Any:
    """Mark a method as the handler of update ``name`` (default: the method name).

    The result has a ``.validator`` decorator for a method that checks the update's arguments
    before it is applied: raising (or returning ``False``) refuses the update.
    """

    def attach_validator(fn: Any, update_name: str) -> None:
        def validator(vfn: F) -> F:
            _mark(vfn, "validator", update_name)
            return vfn

        fn.validator = validator

    if callable(name):
        _mark(name, "update", name.__name__)
        attach_validator(name, name.__name__)
        return name

    def decorate(fn: F) -> F:
        update_name = name or fn.__name__
        _mark(fn, "update", update_name)
        attach_validator(fn, update_name)
        return fn

    return decorate
