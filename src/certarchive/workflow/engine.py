"""The workflow engine: checks a guard, moves the state, appends history, fires events.

The engine knows nothing of PDFs, audit logs or HTTP.  Side effects (rendering and
signing on issue, the watermark on revoke) are subscribers registered for a transition,
so a retried transaction simply runs them again inside the new attempt: nothing leaves
the transaction before it commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from certarchive.i18n import _
from certarchive.workflow.model import Transition, Workflow


@dataclass(frozen=True)
class Actor:
    """Who fires a transition: a staff user, an API client, a holder or the system."""

    name: str
    role: str  # staff role, "client", "holder" or "system"
    permissions: frozenset[str]
    agency: str | None = None  # None: not limited to one agency


class WorkflowObject(Protocol):
    state: str
    history: Any  # a RecordLog


class TransitionRefused(Exception):
    """A transition may not be fired; nothing was changed.  ``code`` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# A condition answers None when satisfied, else the reason (Chinese / English) it is not.
Condition = Callable[[Any, Any], str | None]
Subscriber = Callable[[Any, Transition, Actor, Any], None]


class WorkflowEngine:
    def __init__(self, workflows: Iterable[Workflow], conditions: Mapping[str, Condition]):
        self.workflows = {w.name: w for w in workflows}
        self.conditions = dict(conditions)
        for workflow in self.workflows.values():
            workflow.check(set(self.conditions))
        self._subscribers: dict[tuple[str, str, str], list[Subscriber]] = defaultdict(list)

    def subscribe(self, workflow: str, transition: str, phase: str, handler: Subscriber) -> None:
        """Call ``handler(obj, transition, actor, context)`` ``before`` or ``after`` it fires."""
        if phase not in ("before", "after"):
            raise ValueError(f"unknown phase {phase!r}")
        if self.workflows[workflow].transition(transition) is None:
            raise ValueError(f"workflow {workflow!r} has no transition {transition!r}")
        self._subscribers[(workflow, transition, phase)].append(handler)

    def refusal(
        self, workflow: Workflow, obj: WorkflowObject, name: str, actor: Actor, context: Any
    ) -> TransitionRefused | None:
        transition = workflow.transition(name)
        if transition is None:
            return TransitionRefused(
                "unknown_transition", f"{workflow.name}: no transition {name!r}"
            )
        if obj.state not in transition.sources:
            return TransitionRefused(
                "invalid_state",
                _(
                    "状态 ${state} 不允许${action}（${workflow}）",
                    mapping={
                        "state": obj.state,
                        "action": transition.title or name,
                        "workflow": workflow.name,
                    },
                ),
            )
        guard = transition.guard
        if guard.permission and guard.permission not in actor.permissions:
            return TransitionRefused("forbidden", f"{actor.role} may not {name}")
        if guard.roles and actor.role not in guard.roles:
            return TransitionRefused("forbidden", f"{actor.role} may not {name}")
        for condition in guard.conditions:
            reason = self.conditions[condition](obj, context)
            if reason is not None:
                return TransitionRefused("condition_failed", reason)
        return None

    def allowed(
        self, workflow_name: str, obj: WorkflowObject, actor: Actor, context: Any
    ) -> list[Transition]:
        workflow = self.workflows[workflow_name]
        return [
            t
            for t in workflow.possible_from(obj.state)
            if self.refusal(workflow, obj, t.name, actor, context) is None
        ]

    def fire(
        self,
        workflow_name: str,
        obj: WorkflowObject,
        name: str,
        actor: Actor,
        context: Any,
        comment: str = "",
    ) -> dict[str, Any]:
        """Fire ``name`` on ``obj`` or raise :class:`TransitionRefused` having changed nothing."""
        workflow = self.workflows[workflow_name]
        refused = self.refusal(workflow, obj, name, actor, context)
        if refused is not None:
            raise refused
        transition = workflow.transition(name)
        assert transition is not None
        for handler in self._subscribers[(workflow_name, name, "before")]:
            handler(obj, transition, actor, context)
        source = obj.state
        obj.state = transition.target
        record = {
            "at": context.now().isoformat(),
            "actor": actor.name,
            "role": actor.role,
            "transition": name,
            "from": source,
            "to": transition.target,
            "comment": comment,
        }
        obj.history.append(record)
        for handler in self._subscribers[(workflow_name, name, "after")]:
            handler(obj, transition, actor, context)
        return record


def replay(workflow: Workflow, history: Iterable[Mapping[str, Any]]) -> str:
    """The state an object's history leads to; raises ValueError on an impossible step."""
    state = workflow.initial
    for entry in history:
        transition = workflow.transition(entry["transition"])
        if transition is None or state not in transition.sources or entry["from"] != state:
            raise ValueError(f"history step {entry.get('number')} is impossible from {state!r}")
        state = transition.target
    return state
