"""What the mock answers: magic recipient numbers, rules and "first N, then ..." sequences.

Magic recipients (LGT semantics, documented in the README):

* ``0109999CCCC`` -> SubmitRsp status ``CCCC`` (every LGT seed code: 1000, 1100, 2000-2007,
  3000-3003, 4000-4007, 4030, 4032, 6014, 6024, 6025, 6072, 6102, 7103; any other 4-digit code
  from 1000 up is answered as is, to rehearse unknown codes);
* ``0108888000N`` (N = 1..8) -> 1000, then the delivery report of :data:`MAGIC_REPORTS` [N-1];
* any other number -> 1000 and Retrieved/OK.

Rules match on recipient (exact, ``re:`` regex or glob), VASID, subject and content type and
answer with a status, a delay, a delivery-report status and its delay, for the first N matching
requests then the next step, with a probability.
"""

from __future__ import annotations

import fnmatch
import itertools
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from mockmmsc.faults import Fault, faults_from
from mockmmsc.settings import ConflictError, SettingsError, read_document

__all__ = [
    "DEFAULT_REPORT",
    "MAGIC_REPORTS",
    "Action",
    "Decision",
    "Rule",
    "RuleBook",
    "magic_report",
    "magic_status",
    "normalize_number",
]

#: Delivery reports of the magic recipients ``01088880001`` .. ``01088880008``.
MAGIC_REPORTS: tuple[tuple[str, str], ...] = (
    ("Retrieved", "OK"),
    ("Retrieved", "NOK"),
    ("PPSRejected", "NOK"),
    ("Rejected", "NOK"),
    ("Stalking", "NOK"),
    ("Expired", "NOK"),
    ("Fail", "NOK"),
    ("NoRecipient", "NOK"),
)
#: The report of every other number.
DEFAULT_REPORT: tuple[str, str] = ("Retrieved", "OK")

_STATUS_PREFIX = "0109999"
_REPORT_PREFIX = "0108888000"
_NOT_DIGITS = re.compile(r"\D")


def normalize_number(value: str) -> str:
    """Digits only, ``+82 10 ...`` / ``8210...`` written as ``010...``."""
    digits = value if value.isascii() and value.isdigit() else _NOT_DIGITS.sub("", value)
    if digits.startswith("82") and len(digits) in (11, 12) and not digits.startswith("820"):
        digits = "0" + digits[2:]
    return digits


def magic_status(number: str) -> int | None:
    """The status a ``0109999CCCC`` recipient asks for, else ``None``."""
    digits = normalize_number(number)
    if len(digits) == 11 and digits.startswith(_STATUS_PREFIX):
        code = int(digits[7:])
        if code >= 1000:
            return code
    return None


def magic_report(number: str) -> tuple[str, str] | None:
    """The (MMStatus, StatusText) a ``0108888000N`` recipient asks for, else ``None``."""
    digits = normalize_number(number)
    if len(digits) == 11 and digits.startswith(_REPORT_PREFIX):
        n = int(digits[10])
        if 1 <= n <= len(MAGIC_REPORTS):
            return MAGIC_REPORTS[n - 1]
    return None


@dataclass(slots=True)
class Action:
    """One answer of a rule (a step of its sequence).

    Attributes:
        status: SubmitRsp StatusCode (``None``: what the magic numbers / default would answer).
        status_text: StatusText (``None``: LGT's text for the code).
        delay: seconds before answering (scaled by the time scale).
        report_status: MMStatus of the delivery report (``None``: magic / Retrieved).
        report_status_text: its StatusText (``None``: ``OK`` for Retrieved, else ``NOK``).
        report_delay: seconds before the report is sent (``None``: the settings' default).
        no_report: never send a delivery report for this request.
        overload: also open a 4030 window on the VASID (``settings.overload_seconds``, or
            ``overload_seconds``) - the answer itself is ``status`` (4030 if unset).
        overload_seconds: length of that window (scaled).
        http_status: HTTP status of the answer (default 200; faults 500).
        times: how many matching requests this step answers (``None``: all the rest).
        fault: faults injected into this step's answer or reports (a kind name, a fault
            object, or a list of them; see :mod:`mockmmsc.faults`).
    """

    status: int | None = None
    status_text: str | None = None
    delay: float = 0.0
    report_status: str | None = None
    report_status_text: str | None = None
    report_delay: float | None = None
    no_report: bool = False
    overload: bool = False
    overload_seconds: float | None = None
    http_status: int | None = None
    times: int | None = None
    fault: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_action_values(self, "step")
        self.fault = faults_from(self.fault, "step")

    def to_dict(self) -> dict[str, Any]:
        """The step as JSON-able data."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["fault"] = [f.to_dict() for f in self.fault]
        return data


def _check_action_values(action: Any, where: str) -> None:
    """Refuse values of the wrong type in the fields an action shares with a rule."""
    for name in ("delay", "report_delay", "overload_seconds", "times"):
        value = getattr(action, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise SettingsError(f"{where}: {name}={value!r} must be a number >= 0")
        if value == float("inf"):
            raise SettingsError(f"{where}: {name}={value!r} must be finite")
    if action.times is not None and not isinstance(action.times, int):
        raise SettingsError(f"{where}: times={action.times!r} must be an integer")
    if action.status is not None and (
        isinstance(action.status, bool)
        or not isinstance(action.status, int)
        or not 1000 <= action.status <= 9999
    ):
        raise SettingsError(f"{where}: status={action.status!r} must be 1000..9999")
    if action.http_status is not None and (
        isinstance(action.http_status, bool)
        or not isinstance(action.http_status, int)
        or not 200 <= action.http_status <= 599
    ):
        raise SettingsError(f"{where}: http_status={action.http_status!r} not 200..599")
    for name in ("status_text", "report_status", "report_status_text"):
        value = getattr(action, name)
        if value is not None and not isinstance(value, str):
            raise SettingsError(f"{where}: {name}={value!r} must be a string")
    for name in ("no_report", "overload"):
        if not isinstance(getattr(action, name), bool):
            raise SettingsError(f"{where}: {name}={getattr(action, name)!r} must be a boolean")


_ACTION_FIELDS = {f.name for f in fields(Action)}
_MATCH_FIELDS = {"recipient", "vas_id", "subject", "content_type", "operation"}
_RULE_FIELDS = _ACTION_FIELDS | _MATCH_FIELDS | {"id", "then", "probability", "name"}
_ids = itertools.count(1)


def _pattern(value: str) -> re.Pattern[str] | str:
    """``re:...`` is a regex; text with ``*?[`` a glob; anything else exact."""
    if value.startswith("re:"):
        try:
            return re.compile(value[3:])
        except re.error as exc:
            raise SettingsError(f"bad regex {value!r}: {exc}") from exc
    if any(c in value for c in "*?["):
        return re.compile(fnmatch.translate(value))
    return value


def _matches(pattern: re.Pattern[str] | str, value: str | None, *, number: bool = False) -> bool:
    if value is None:
        return False
    if isinstance(pattern, str):
        if number:
            return normalize_number(pattern) == normalize_number(value) or pattern == value
        return pattern == value
    return pattern.fullmatch(value) is not None or (
        number and pattern.fullmatch(normalize_number(value)) is not None
    )


@dataclass(slots=True)
class Rule(Action):
    """A scenario: which requests it matches and what it answers.

    A rule *is* its first step (an :class:`Action`) plus match fields and the steps after it.

    Match fields (all given ones must match; ``None`` matches anything):
    ``recipient`` (any recipient; exact number, ``re:REGEX`` or a glob like ``010*``),
    ``vas_id``, ``subject`` (exact, ``re:`` or glob), ``content_type`` (any content part, e.g.
    ``image/*``), ``operation`` (``SubmitReq`` by default; ``*`` for any).

    ``fault`` injects faults (a kind name, an object or a list; see :mod:`mockmmsc.faults`) into
    the answers or delivery reports of the requests this step answers.

    The rule's own action fields (see :class:`Action`) are its first step; ``times`` limits it to
    the first N matching requests and ``then`` lists the next steps (dicts or Actions). When
    every step is used up the rule stops matching. ``probability`` (0..1) applies the rule to
    only that share of the matching requests.
    """

    recipient: str | None = None
    vas_id: str | None = None
    subject: str | None = None
    content_type: str | None = None
    operation: str = "SubmitReq"
    then: list[Action] = field(default_factory=list)
    probability: float = 1.0
    name: str | None = None
    id: str = ""
    hits: int = 0
    _recipient: re.Pattern[str] | str | None = field(default=None, repr=False)
    _subject: re.Pattern[str] | str | None = field(default=None, repr=False)
    _content_type: re.Pattern[str] | str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.id:
            self.id = f"r{next(_ids)}"
        if (
            not isinstance(self.probability, int | float)
            or isinstance(self.probability, bool)
            or not 0 <= self.probability <= 1
        ):
            raise SettingsError(f"rule {self.id}: probability={self.probability!r} must be 0..1")
        _check_action_values(self, f"rule {self.id}")
        self.fault = faults_from(self.fault, f"rule {self.id} fault")
        self.then = [_action(step, f"rule {self.id} then[{i}]") for i, step in enumerate(self.then)]
        self._recipient = _pattern(self.recipient) if self.recipient else None
        self._subject = _pattern(self.subject) if self.subject else None
        self._content_type = _pattern(self.content_type.lower()) if self.content_type else None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        """A rule from JSON/TOML data; unknown keys are refused with their names."""
        if not isinstance(data, Mapping):
            raise SettingsError(f"rule {data!r}: expected an object")
        unknown = set(data) - _RULE_FIELDS
        if unknown:
            raise SettingsError(f"rule: unknown field(s) {sorted(unknown)}")
        values = dict(data)
        then = values.pop("then", None) or []
        if isinstance(then, Mapping):
            then = [then]
        if not isinstance(then, list):
            raise SettingsError(f"rule: then={then!r} must be a list of steps")
        for key in ("recipient", "vas_id", "subject", "content_type", "operation", "name", "id"):
            if key in values and values[key] is not None and not isinstance(values[key], str):
                raise SettingsError(f"rule: {key}={values[key]!r} must be a string")
        try:
            return cls(**values, then=then)
        except TypeError as exc:
            raise SettingsError(f"rule {dict(data)!r}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """The rule as JSON-able data (with its hit count)."""
        result: dict[str, Any] = {}
        for f in fields(self):
            if f.name.startswith("_"):
                continue
            value = getattr(self, f.name)
            if f.name in ("then", "fault"):
                value = [item.to_dict() for item in value]
            result[f.name] = value
        return result

    @property
    def steps(self) -> list[Action]:
        """The sequence: the rule's own action, then ``then``."""
        first = Action(**{name: getattr(self, name) for name in _ACTION_FIELDS})
        return [first, *self.then]

    def matches(
        self,
        operation: str,
        vas_id: str | None,
        recipients: Iterable[str],
        subject: str | None,
        content_types: Iterable[str],
    ) -> bool:
        """True when every given match field matches the request."""
        if self.operation not in ("*", operation):
            return False
        if self.vas_id is not None and self.vas_id != vas_id:
            return False
        if self._recipient is not None and not any(
            _matches(self._recipient, r, number=True) for r in recipients
        ):
            return False
        if self._subject is not None and not _matches(self._subject, subject):
            return False
        return self._content_type is None or any(
            _matches(self._content_type, c.lower()) for c in content_types
        )

    def step_for(self, hit: int) -> Action | None:
        """The step answering the ``hit``-th (1-based) applied request, or None when used up."""
        remaining = hit
        for step in self.steps:
            if step.times is None:
                return step
            if remaining <= step.times:
                return step
            remaining -= step.times
        return None


def _action(value: Action | Mapping[str, Any], where: str) -> Action:
    if isinstance(value, Action):
        return value
    if not isinstance(value, Mapping):
        raise SettingsError(f"{where}={value!r}: expected an object")
    unknown = set(value) - _ACTION_FIELDS
    if unknown:
        raise SettingsError(f"{where}: unknown field(s) {sorted(unknown)}")
    try:
        return Action(**value)
    except TypeError as exc:
        raise SettingsError(f"{where}: {exc}") from exc
    except SettingsError as exc:
        raise SettingsError(f"{where}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Decision:
    """What a rule decided for one request."""

    rule_id: str
    action: Action


class RuleBook:
    """The ordered rules of a running mock: the first applicable rule wins."""

    def __init__(self, seed: int | None = None, max_rules: int = 1000) -> None:
        self._rules: list[Rule] = []
        self._random = random.Random(seed)
        self.max_rules = max_rules

    def add(self, rule: Rule | Mapping[str, Any]) -> str:
        """Add a rule (a :class:`Rule` or its dict form) at the end; returns its id."""
        if not isinstance(rule, Rule):
            rule = Rule.from_dict(rule)
        if len(self._rules) >= self.max_rules:
            raise ConflictError(f"too many rules (limit {self.max_rules})")
        if any(r.id == rule.id for r in self._rules):
            raise ConflictError(f"rule id {rule.id!r} already exists")
        self._rules.append(rule)
        return rule.id

    def remove(self, rule_id: str) -> bool:
        """Remove a rule by id; False when there is none."""
        for i, rule in enumerate(self._rules):
            if rule.id == rule_id:
                del self._rules[i]
                return True
        return False

    def reset(self) -> None:
        """Remove every rule."""
        self._rules.clear()

    def get(self, rule_id: str) -> Rule | None:
        """The rule with this id, if any."""
        return next((r for r in self._rules if r.id == rule_id), None)

    def __iter__(self) -> Any:
        return iter(list(self._rules))

    def __len__(self) -> int:
        return len(self._rules)

    def load_file(self, path: str) -> list[str]:
        """Add the rules of a TOML (``[[rules]]``) or JSON (list, or ``{"rules": [...]}``) file."""
        document = read_document(path)
        items = document.get("rules") if isinstance(document, dict) else document
        if not isinstance(items, list):
            raise SettingsError(f"{path!r}: expected a list of rules (or a 'rules' list)")
        return [self.add(item) for item in items]

    @property
    def random(self) -> random.Random:
        """The seeded source of the rules' probability draws."""
        return self._random

    def choose(
        self,
        operation: str,
        vas_id: str | None,
        recipients: Sequence[str],
        subject: str | None,
        content_types: Iterable[str],
        chance: Callable[[], float] | None = None,
    ) -> Decision | None:
        """The step of the first rule that matches and applies (nothing is counted).

        ``chance()`` draws a number in [0, 1) for each matching rule with a probability below 1
        (default: :attr:`random`'s draws).
        """
        if not self._rules:
            return None
        if chance is None:
            chance = self._random.random
        for rule in self._rules:
            if not rule.matches(operation, vas_id, recipients, subject, content_types):
                continue
            step = rule.step_for(rule.hits + 1)
            if step is None:
                continue
            if rule.probability < 1.0 and chance() >= rule.probability:
                continue
            return Decision(rule.id, step)
        return None

    def count_hit(self, rule_id: str) -> None:
        """Count a request the rule ``rule_id`` answered (its sequence moves on)."""
        rule = self.get(rule_id)
        if rule is not None:
            rule.hits += 1
