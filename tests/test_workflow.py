"""The workflow definitions and engine (DESIGN.md "Workflow"; H-2.2, H-2.5, H-4.3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certarchive.content.records import RecordLog
from certarchive.services.lifecycle import CONDITIONS
from certarchive.services.permissions import SYSTEM, staff_actor
from certarchive.workflow.definitions import CASE, CERTIFICATE
from certarchive.workflow.engine import TransitionRefused, WorkflowEngine, replay
from certarchive.workflow.model import Guard, Transition, Workflow, WorkflowDefinitionError
from tests.i18n_support import raises_matching


@dataclass
class Thing:
    state: str = "draft"
    history: Any = field(default_factory=RecordLog)


class Clock:
    def now(self) -> datetime:
        return datetime(2026, 11, 21, tzinfo=UTC)


def free_engine() -> WorkflowEngine:
    """The certificate workflow with every condition satisfied: guards by permission only."""
    always = {name: (lambda obj, ctx: None) for name in CONDITIONS}
    return WorkflowEngine((CERTIFICATE, CASE), always)


def test_shipped_definitions_are_consistent() -> None:
    CERTIFICATE.check(set(CONDITIONS))
    CASE.check(set(CONDITIONS))


@pytest.mark.parametrize(
    ("workflow", "problem"),
    [
        (
            Workflow("w", ("a", "b"), "a", (Transition("t", frozenset({"a"}), "c"),)),
            "unknown state",
        ),
        (Workflow("w", ("a", "b"), "a", ()), "unreachable"),
        (Workflow("w", ("a",), "z", ()), "initial state"),
        (
            Workflow(
                "w",
                ("a", "b"),
                "a",
                (Transition("t", frozenset({"a"}), "b", Guard(conditions=("nope",))),),
            ),
            "unknown condition",
        ),
        (
            Workflow(
                "w",
                ("a", "b"),
                "a",
                (Transition("t", frozenset({"a"}), "b"), Transition("t", frozenset({"b"}), "a")),
            ),
            "duplicate transition",
        ),
    ],
)
def test_inconsistent_definitions_are_refused_at_start_up(workflow: Workflow, problem: str) -> None:
    with raises_matching(WorkflowDefinitionError, problem):
        workflow.check(set())


def test_fire_moves_state_and_appends_history() -> None:
    engine = free_engine()
    thing = Thing()
    record = engine.fire("certificate", thing, "issue", SYSTEM, Clock(), "first")
    assert thing.state == "issued"
    assert record["from"] == "draft" and record["to"] == "issued" and record["actor"] == "system"
    assert [h["transition"] for h in thing.history] == ["issue"]


def test_illegal_transition_changes_nothing() -> None:
    engine = free_engine()
    thing = Thing()
    with pytest.raises(TransitionRefused) as refused:
        engine.fire("certificate", thing, "download", SYSTEM, Clock())
    assert refused.value.code == "invalid_state"
    assert thing.state == "draft" and len(thing.history) == 0


def test_permission_guard_refuses_a_role_without_it() -> None:
    engine = free_engine()
    thing = Thing(state="issued")
    archivist = staff_actor("a", "archivist")
    with pytest.raises(TransitionRefused) as refused:
        engine.fire("certificate", thing, "revoke", archivist, Clock())
    assert refused.value.code == "forbidden"
    assert thing.state == "issued"


def test_condition_guard_gives_its_reason() -> None:
    conditions = {name: (lambda obj, ctx: None) for name in CONDITIONS}
    conditions["never_downloaded"] = lambda obj, ctx: "already downloaded (H-4.3)"
    engine = WorkflowEngine((CERTIFICATE, CASE), conditions)
    thing = Thing(state="issued")
    with raises_matching(TransitionRefused, r"H-4\.3"):
        engine.fire("certificate", thing, "rollback", SYSTEM, Clock())
    assert thing.state == "issued"


def test_subscribers_run_before_and_after_in_order() -> None:
    engine = free_engine()
    seen: list[tuple[str, str]] = []
    engine.subscribe(
        "certificate", "issue", "before", lambda o, t, a, c: seen.append(("before", o.state))
    )
    engine.subscribe(
        "certificate", "issue", "after", lambda o, t, a, c: seen.append(("after", o.state))
    )
    engine.fire("certificate", Thing(), "issue", SYSTEM, Clock())
    assert seen == [("before", "draft"), ("after", "issued")]


def test_subscribing_to_an_unknown_transition_fails() -> None:
    with raises_matching(ValueError, "no transition"):
        free_engine().subscribe("certificate", "teleport", "after", lambda *a: None)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([t.name for t in CERTIFICATE.transitions] + ["bogus"]), max_size=30)
)
def test_random_sequences_stay_within_the_definition(names: list[str]) -> None:
    """Whatever is attempted, only defined transitions happen, and replaying the history
    yields the current state."""
    engine = free_engine()
    thing = Thing()
    for name in names:
        before = thing.state
        transition = CERTIFICATE.transition(name)
        try:
            engine.fire("certificate", thing, name, SYSTEM, Clock())
        except TransitionRefused:
            assert thing.state == before
            assert transition is None or before not in transition.sources
        else:
            assert transition is not None and before in transition.sources
            assert thing.state == transition.target
        assert thing.state in CERTIFICATE.states
    assert replay(CERTIFICATE, thing.history) == thing.state
    if "revoked" in [h["to"] for h in thing.history]:
        assert thing.state == "revoked"  # terminal


def test_replay_rejects_an_impossible_history() -> None:
    with raises_matching(ValueError, "impossible"):
        replay(CERTIFICATE, [{"transition": "download", "from": "draft", "number": 1}])
