"""The engine's own error types. Each one carries a message fit to show a user as a task or run error."""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the engine raises."""


class InvalidTransition(EngineError):
    """A task state change the state machine does not allow (e.g. leaving a final state outside retry)."""


class InputResolutionError(EngineError):
    """A task input could not be resolved or does not match its declared type."""


class ConditionError(EngineError):
    """A CEL expression (trigger condition or parameter selector) failed to compile or evaluate."""


class SpecError(EngineError):
    """The pipeline spec asks for something the engine cannot run (unknown component, unsupported executor)."""
