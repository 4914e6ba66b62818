"""The shape of a workflow definition: states, transitions and guards, as plain data.

After DCWorkflow, a guard combines a permission, a set of roles and named conditions;
conditions are named so that the definition stays data and can be checked at start-up
against the conditions the engine actually knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class WorkflowDefinitionError(Exception):
    """The definition is inconsistent; raised at start-up, never at run time."""


@dataclass(frozen=True)
class Guard:
    permission: str | None = None
    roles: frozenset[str] = frozenset()  # empty: any role that holds the permission
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    guard: Guard = field(default_factory=Guard)
    title: str = ""


@dataclass(frozen=True)
class Workflow:
    name: str
    states: tuple[str, ...]
    initial: str
    transitions: tuple[Transition, ...]

    def transition(self, name: str) -> Transition | None:
        return next((t for t in self.transitions if t.name == name), None)

    def possible_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.sources]

    def check(self, known_conditions: set[str]) -> None:
        """Refuse a definition with unknown states or conditions, duplicates or dead states."""
        problems: list[str] = []
        if len(set(self.states)) != len(self.states):
            problems.append("duplicate state")
        if self.initial not in self.states:
            problems.append(f"initial state {self.initial!r} is not a state")
        names = [t.name for t in self.transitions]
        if len(set(names)) != len(names):
            problems.append("duplicate transition name")
        for t in self.transitions:
            for state in (*t.sources, t.target):
                if state not in self.states:
                    problems.append(f"transition {t.name!r} names unknown state {state!r}")
            for condition in t.guard.conditions:
                if condition not in known_conditions:
                    problems.append(f"transition {t.name!r} names unknown condition {condition!r}")
        reachable = {self.initial}
        frontier = [self.initial]
        while frontier:
            for t in self.possible_from(frontier.pop()):
                if t.target not in reachable:
                    reachable.add(t.target)
                    frontier.append(t.target)
        problems += [f"state {s!r} is unreachable" for s in self.states if s not in reachable]
        if problems:
            raise WorkflowDefinitionError(f"workflow {self.name!r}: " + "; ".join(problems))
