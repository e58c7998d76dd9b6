"""Run a composite GitHub action and a GitLab CI job locally, the way their runners do.

Only what ``action.yml`` and ``.gitlab-ci-template.yml`` use is implemented, and anything
else fails loudly (:class:`HarnessError`) instead of being guessed:

* expressions ``${{ ... }}`` over the ``inputs``, ``github``, ``env`` and ``steps``
  contexts with string literals, ``true``/``false``/``null``, ``==``, ``!=``, ``!``,
  ``&&``, ``||`` and parentheses, with GitHub's semantics (``||`` yields the first truthy
  operand, string comparison ignores case, a missing property is ``null``);
* steps: ``if:`` (a failed step skips the rest), ``env:``, ``shell: bash`` scripts run as
  ``bash --noprofile --norc -eo pipefail``; a ``run:`` script containing ``${{`` is
  refused (inputs must arrive through ``env:``); ``uses:`` steps are replaced by a
  declared stand-in (:func:`setup_python_stand_in` by default for actions/setup-python);
* the files ``GITHUB_OUTPUT`` (one per step), ``GITHUB_ENV``, ``GITHUB_PATH`` and
  ``GITHUB_STEP_SUMMARY``, and the workflow commands ``::add-mask::``, ``::error``,
  ``::warning``, ``::notice`` on stdout;
* GitLab: ``extends:`` (hashes merged, everything else replaced), ``variables:``,
  ``id_tokens:`` (the variable gets a token for the declared ``aud``), and
  ``before_script``/``script`` run as one ``bash -eo pipefail`` script.

:func:`offline_wheelhouse` repacks installed distributions as wheels so that the
action's ``pip install`` runs with ``PIP_NO_INDEX`` (tests never use the network);
:func:`wheelhouse_lock` and :func:`action_checkout` give the action a hash lock over
those wheels, so its ``--require-hashes`` install runs unchanged.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.tags import sys_tags
from packaging.utils import canonicalize_name

Value = str | bool | float | None
"""An expression value (GitHub's string, boolean, number or null)."""


class HarnessError(Exception):
    """The action uses something this harness does not implement (or uses it wrongly)."""


# --------------------------------------------------------------------------- expressions

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<op>==|!=|&&|\|\||!|\(|\))
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*)
    )""",
    re.VERBOSE,
)
_CONTEXTS = ("inputs", "github", "env", "steps")


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise HarnessError(f"unsupported expression syntax at {text[position:]!r} in {text!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def truthy(value: Value) -> bool:
    """GitHub's truthiness: '', 0, false and null are false."""
    return value not in ("", 0, False, None)


def _equal(left: Value, right: Value) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right):
        return left == right
    return False  # mixed types: the subset we support never coerces


class _Parser:
    def __init__(self, text: str, contexts: Mapping[str, Any]) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.position = 0
        self.contexts = contexts

    def parse(self) -> Value:
        value = self._or()
        if self.position != len(self.tokens):
            raise HarnessError(f"unexpected {self.tokens[self.position][1]!r} in {self.text!r}")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise HarnessError(f"expression ends too early: {self.text!r}")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _or(self) -> Value:
        value = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            value = value if truthy(value) else right
        return value

    def _and(self) -> Value:
        value = self._not()
        while self._peek() == "&&":
            self._take()
            right = self._not()
            value = right if truthy(value) else value
        return value

    def _not(self) -> Value:
        if self._peek() == "!":
            self._take()
            return not truthy(self._not())
        return self._compare()

    def _compare(self) -> Value:
        left = self._primary()
        operator = self._peek()
        if operator in ("==", "!="):
            self._take()
            right = self._primary()
            same = _equal(left, right)
            return same if operator == "==" else not same
        return left

    def _primary(self) -> Value:
        kind, text = self._take()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text)
        if text == "(":
            value = self._or()
            if self._take()[1] != ")":
                raise HarnessError(f"missing ')' in {self.text!r}")
            return value
        if kind == "name":
            if self._peek() == "(":
                raise HarnessError(f"functions are not supported: {text}() in {self.text!r}")
            if text in ("true", "false"):
                return text == "true"
            if text == "null":
                return None
            return self._lookup(text)
        raise HarnessError(f"unexpected {text!r} in {self.text!r}")

    def _lookup(self, dotted: str) -> Value:
        head, *rest = dotted.split(".")
        if head not in _CONTEXTS:
            raise HarnessError(f"unsupported context {head!r} in {self.text!r}")
        if not rest:
            raise HarnessError(f"a whole context cannot be used as a value: {dotted!r}")
        node: Any = self.contexts.get(head, {})
        for part in rest:
            if not isinstance(node, Mapping):
                return None
            node = node.get(part)
        if isinstance(node, Mapping):
            raise HarnessError(f"{dotted!r} is an object, not a value")
        if node is None or isinstance(node, str | bool | float):
            return node
        if isinstance(node, int):
            return float(node)
        raise HarnessError(f"{dotted!r} has unsupported type {type(node).__name__}")


def evaluate(expression: str, contexts: Mapping[str, Any]) -> Value:
    """Evaluate one expression (without ``${{ }}``)."""
    return _Parser(expression, contexts).parse()


def as_string(value: Value) -> str:
    """How an expression value reads when interpolated into a string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return value


_EMBEDDED = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def interpolate(text: str, contexts: Mapping[str, Any]) -> str:
    """Replace every ``${{ expr }}`` in a string by its value."""
    return _EMBEDDED.sub(lambda match: as_string(evaluate(match.group(1), contexts)), text)


def condition(text: Any, contexts: Mapping[str, Any]) -> bool:
    """An ``if:`` value: an expression with or without ``${{ }}``."""
    if isinstance(text, bool):
        return text
    source = str(text).strip()
    whole = re.fullmatch(r"\$\{\{(.*)\}\}", source, re.DOTALL)
    return truthy(evaluate(whole.group(1) if whole else source, contexts))


# --------------------------------------------------------------------------- runner files

_HEREDOC = re.compile(r"^([^=<\s]+)<<(\S+)$")


def parse_key_values(text: str) -> dict[str, str]:
    """Parse a GITHUB_OUTPUT / GITHUB_ENV file: ``k=v`` lines and ``k<<DELIM`` blocks."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            continue
        heredoc = _HEREDOC.match(line)
        if heredoc:
            name, delimiter = heredoc.groups()
            body: list[str] = []
            while True:
                if index >= len(lines):
                    raise HarnessError(f"unterminated {name}<<{delimiter} block")
                if lines[index] == delimiter:
                    index += 1
                    break
                body.append(lines[index])
                index += 1
            values[name] = "\n".join(body)
            continue
        name, separator, value = line.partition("=")
        if not separator:
            raise HarnessError(f"malformed line in a runner file: {line!r}")
        values[name] = value
    return values


@dataclass(frozen=True)
class Annotation:
    """A ``::error``/``::warning``/``::notice`` workflow command."""

    level: str
    message: str
    properties: dict[str, str]


_COMMAND = re.compile(r"^::(?P<name>[a-z-]+)(?: (?P<props>[^:]*))?::(?P<message>.*)$")


def _unescape(text: str, *, property_value: bool = False) -> str:
    if property_value:
        text = text.replace("%3A", ":").replace("%2C", ",")
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def parse_commands(stdout: str) -> tuple[list[Annotation], list[str]]:
    """The annotations and ``::add-mask::`` values among a step's stdout lines."""
    annotations: list[Annotation] = []
    masks: list[str] = []
    for line in stdout.splitlines():
        match = _COMMAND.match(line)
        if match is None:
            continue
        name, message = match.group("name"), _unescape(match.group("message"))
        if name == "add-mask":
            masks.append(message)
        elif name in ("error", "warning", "notice"):
            properties = {}
            for item in (match.group("props") or "").split(","):
                key, _, value = item.partition("=")
                if key.strip():
                    properties[key.strip()] = _unescape(value, property_value=True)
            annotations.append(Annotation(name, message, properties))
    return annotations, masks


# --------------------------------------------------------------------------- GitHub action

StandIn = Callable[[Mapping[str, str], Mapping[str, str]], dict[str, str]]
"""A replacement for a ``uses:`` step: (with-inputs, env) -> the step's outputs."""


def setup_python_stand_in(with_inputs: Mapping[str, str], env: Mapping[str, str]) -> dict[str, str]:
    """actions/setup-python, replaced by the interpreter running the tests."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    return {"python-version": version, "python-path": sys.executable, "cache-hit": "false"}


DEFAULT_STAND_INS: dict[str, StandIn] = {"actions/setup-python": setup_python_stand_in}


@dataclass
class StepRun:
    """What one step did."""

    id: str | None
    name: str
    skipped: bool
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    stand_in: bool = False


@dataclass
class ActionRun:
    """The result of a whole composite action."""

    steps: list[StepRun]
    outputs: dict[str, str]
    summary: str
    annotations: list[Annotation]
    masks: list[str]
    env: dict[str, str]
    path_additions: list[str]

    @property
    def ok(self) -> bool:
        return all(step.returncode == 0 for step in self.steps)

    def step(self, step_id: str) -> StepRun:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    @property
    def stdout(self) -> str:
        return "".join(step.stdout for step in self.steps)

    @property
    def stderr(self) -> str:
        return "".join(step.stderr for step in self.steps)


def load_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from a file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise HarnessError(f"{path} is not a YAML mapping")
    return data


def _yaml_text(value: Any) -> str:
    """A YAML value as the runner passes it on: booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bash(
    script: str, *, env: Mapping[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_action(
    action_dir: Path,
    *,
    inputs: Mapping[str, str] | None = None,
    env: Mapping[str, str],
    workspace: Path,
    runner_dir: Path,
    stand_ins: Mapping[str, StandIn] | None = None,
    timeout: float = 600.0,
) -> ActionRun:
    """Run the composite action in ``action_dir`` as a runner would.

    ``env`` is the job's environment (give it ``PATH``); ``workspace`` is the working
    directory (``GITHUB_WORKSPACE``); ``runner_dir`` holds the runner files and
    ``RUNNER_TEMP``.
    """
    action = load_yaml(action_dir / "action.yml")
    runs = action.get("runs", {})
    if runs.get("using") != "composite":
        raise HarnessError("only composite actions are supported")
    declared: dict[str, Any] = action.get("inputs", {}) or {}
    given = dict(inputs or {})
    unknown = set(given) - set(declared)
    if unknown:
        raise HarnessError(f"inputs not declared by the action: {sorted(unknown)}")
    input_values = {
        name: str(given.get(name, (spec or {}).get("default", "")))
        for name, spec in declared.items()
    }
    replacements = dict(DEFAULT_STAND_INS if stand_ins is None else stand_ins)

    runner_dir.mkdir(parents=True, exist_ok=True)
    temp = runner_dir / "temp"
    temp.mkdir(exist_ok=True)
    summary_file = runner_dir / "step_summary.md"
    summary_file.touch()
    job_env = dict(env)
    job_env.setdefault("GITHUB_ACTIONS", "true")
    job_env["GITHUB_WORKSPACE"] = str(workspace)
    job_env["RUNNER_TEMP"] = str(temp)
    job_env["GITHUB_ACTION_PATH"] = str(action_dir)
    job_env["GITHUB_STEP_SUMMARY"] = str(summary_file)
    github = {
        key[len("GITHUB_") :].lower(): value
        for key, value in job_env.items()
        if key.startswith("GITHUB_")
    }
    github["action_path"] = str(action_dir)
    github["workspace"] = str(workspace)

    exported: dict[str, str] = {}
    path_additions: list[str] = []
    step_outputs: dict[str, dict[str, Any]] = {}
    runs_done: list[StepRun] = []
    annotations: list[Annotation] = []
    masks: list[str] = []
    failed = False

    for index, step in enumerate(runs.get("steps", [])):
        step_id = step.get("id")
        name = str(step.get("name") or step.get("uses") or f"step {index + 1}")
        contexts = {
            "inputs": input_values,
            "github": github,
            "env": {**job_env, **exported},
            "steps": step_outputs,
        }
        wanted = condition(step["if"], contexts) if "if" in step else True
        if failed or not wanted:
            runs_done.append(StepRun(step_id, name, skipped=True))
            if step_id:
                step_outputs[step_id] = {"outputs": {}, "outcome": "skipped"}
            continue
        step_env = {**job_env, **exported}
        for key, value in (step.get("env") or {}).items():
            step_env[str(key)] = interpolate(_yaml_text(value), contexts)
        if path_additions:
            step_env["PATH"] = os.pathsep.join(
                [*reversed(path_additions), step_env.get("PATH", "")]
            )

        if "uses" in step:
            target = str(step["uses"]).split("@", 1)[0]
            if target not in replacements:
                raise HarnessError(f"no stand-in declared for `uses: {step['uses']}`")
            with_inputs = {
                str(key): interpolate(_yaml_text(value), contexts)
                for key, value in (step.get("with") or {}).items()
            }
            outputs = replacements[target](with_inputs, step_env)
            run = StepRun(step_id, name, skipped=False, outputs=dict(outputs), stand_in=True)
        else:
            if step.get("shell") != "bash":
                raise HarnessError(f"step {name!r}: only `shell: bash` is supported")
            script = str(step.get("run", ""))
            if "${{" in script:
                raise HarnessError(f"step {name!r}: expressions inside `run:` are refused")
            output_file = runner_dir / f"output-{index}"
            env_file = runner_dir / f"env-{index}"
            path_file = runner_dir / f"path-{index}"
            for runner_file in (output_file, env_file, path_file):
                runner_file.write_text("", encoding="utf-8")
            step_env.update(
                GITHUB_OUTPUT=str(output_file), GITHUB_ENV=str(env_file), GITHUB_PATH=str(path_file)
            )
            cwd = Path(interpolate(str(step.get("working-directory", workspace)), contexts))
            result = _bash(script, env=step_env, cwd=cwd, timeout=timeout)
            run = StepRun(
                step_id,
                name,
                skipped=False,
                returncode=result.returncode,
                stdout=result.stdout,
                stderr=result.stderr,
                outputs=parse_key_values(output_file.read_text(encoding="utf-8")),
            )
            exported.update(parse_key_values(env_file.read_text(encoding="utf-8")))
            path_additions.extend(
                line for line in path_file.read_text(encoding="utf-8").splitlines() if line
            )
            found, masked = parse_commands(result.stdout)
            annotations.extend(found)
            masks.extend(masked)
            failed = result.returncode != 0
        runs_done.append(run)
        if step_id:
            step_outputs[step_id] = {
                "outputs": run.outputs,
                "outcome": "failure" if run.returncode else "success",
            }

    final_contexts = {
        "inputs": input_values,
        "github": github,
        "env": {**job_env, **exported},
        "steps": step_outputs,
    }
    action_outputs = {
        str(name): interpolate(str((spec or {}).get("value", "")), final_contexts)
        for name, spec in (action.get("outputs") or {}).items()
    }
    return ActionRun(
        steps=runs_done,
        outputs=action_outputs,
        summary=summary_file.read_text(encoding="utf-8"),
        annotations=annotations,
        masks=masks,
        env=exported,
        path_additions=path_additions,
    )


def run_workflow_job(
    workflow: Path,
    job: str,
    *,
    env: Mapping[str, str],
    workspace: Path,
    runner_dir: Path,
    stand_ins: Mapping[str, StandIn],
    timeout: float = 600.0,
) -> ActionRun:
    """Run one job of a workflow file: its steps, in order, as :func:`run_action` runs steps.

    The job's steps become a composite action (``run:`` steps get GitHub's Linux default
    shell, bash); job-level ``env:``, ``defaults:``, ``container:``, ``services:`` and
    ``strategy:`` are not implemented and refused. ``uses:`` steps need a stand-in.
    """
    document = load_yaml(workflow)
    spec = (document.get("jobs") or {}).get(job)
    if not isinstance(spec, dict):
        raise HarnessError(f"{workflow.name} has no job {job!r}")
    unsupported = {"env", "defaults", "container", "services", "strategy"} & set(spec)
    if unsupported or "env" in document or "defaults" in document:
        raise HarnessError(f"job {job!r} uses {sorted(unsupported) or ['workflow env']}")
    steps = []
    for step in spec.get("steps") or []:
        step = dict(step)
        if "run" in step:
            step.setdefault("shell", "bash")
        steps.append(step)
    action_dir = runner_dir / f"job-{job}"
    action_dir.mkdir(parents=True, exist_ok=True)
    action = {
        "name": job,
        "description": f"job {job} of {workflow.name}",
        "runs": {"using": "composite", "steps": steps},
    }
    (action_dir / "action.yml").write_text(
        yaml.safe_dump(action, sort_keys=False), encoding="utf-8"
    )
    return run_action(
        action_dir,
        env=env,
        workspace=workspace,
        runner_dir=runner_dir,
        stand_ins=stand_ins,
        timeout=timeout,
    )


# --------------------------------------------------------------------------- GitLab CI


def resolve_gitlab_job(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A job with its ``extends:`` chain applied (hashes merged deeply, the rest replaced)."""
    if name not in document:
        raise HarnessError(f"no job {name!r}")
    job = document[name]
    if not isinstance(job, Mapping):
        raise HarnessError(f"{name!r} is not a job")
    parents = job.get("extends", [])
    parents = [parents] if isinstance(parents, str) else list(parents)
    merged: dict[str, Any] = {}
    for parent in parents:
        merged = _deep_merge(merged, resolve_gitlab_job(document, parent))
    own = {key: value for key, value in job.items() if key != "extends"}
    return _deep_merge(merged, own)


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


@dataclass
class GitLabRun:
    """The result of one GitLab job script."""

    returncode: int
    stdout: str
    stderr: str
    job: dict[str, Any]
    env: dict[str, str]


_SUPPORTED_JOB_KEYS = {"stage", "image", "id_tokens", "variables", "before_script", "script"}


def run_gitlab_job(
    template: Path,
    name: str,
    *,
    env: Mapping[str, str],
    workdir: Path,
    id_token: Callable[[str], str],
    variables: Mapping[str, str] | None = None,
    timeout: float = 600.0,
) -> GitLabRun:
    """Run the script of job ``name`` from a GitLab CI file on this machine.

    ``env`` is the GitLab-like job environment; ``id_token(aud)`` returns the token for
    each ``id_tokens:`` entry; ``variables`` override the job's (as a project would).
    The ``image:`` is not used: the script runs with the host's tools.
    """
    job = resolve_gitlab_job(load_yaml(template), name)
    unsupported = set(job) - _SUPPORTED_JOB_KEYS
    if unsupported:
        raise HarnessError(f"job keys not supported by the harness: {sorted(unsupported)}")
    job_env = dict(env)
    job_env["GITLAB_CI"] = "true"
    job_env.setdefault("CI", "true")
    job_env["CI_PROJECT_DIR"] = str(workdir)
    for key, value in (job.get("variables") or {}).items():
        if isinstance(value, Mapping):
            value = value.get("value", "")
        if "$" in str(value):
            raise HarnessError(f"variable {key} uses expansion, which the harness does not do")
        job_env[str(key)] = str(value)
    job_env.update(variables or {})
    for variable, spec in (job.get("id_tokens") or {}).items():
        audience = spec.get("aud") if isinstance(spec, Mapping) else None
        if not isinstance(audience, str):
            raise HarnessError(f"id_tokens.{variable} needs one string `aud`")
        job_env[str(variable)] = id_token(audience)
    lines = [*(job.get("before_script") or []), *(job.get("script") or [])]
    if not lines or not all(isinstance(line, str) for line in lines):
        raise HarnessError(f"job {name!r} has no script lines")
    result = _bash("\n".join(lines), env=job_env, cwd=workdir, timeout=timeout)
    return GitLabRun(result.returncode, result.stdout, result.stderr, job, job_env)


# --------------------------------------------------------------------------- offline installs


def requirement_closure(requirements: Sequence[str]) -> list[metadata.Distribution]:
    """The installed distributions needed by ``requirements`` (markers for this Python)."""
    found: dict[str, metadata.Distribution] = {}
    pending = [(Requirement(text), "") for text in requirements]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        key = canonicalize_name(requirement.name)
        if key in found:
            continue
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError as error:
            raise HarnessError(f"{requirement.name} is not installed; cannot repack it") from error
        found[key] = dist
        requires = [Requirement(text) for text in dist.requires or []]
        pending.extend((item, "") for item in requires)
        for wanted in requirement.extras:
            pending.extend((item, wanted) for item in requires)
    return list(found.values())


_SKIPPED_INFO = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def repack_wheel(dist: metadata.Distribution, dest: Path) -> Path:
    """Write an installed distribution back into a wheel file in ``dest``."""
    root = Path(str(dist.locate_file(""))).resolve()
    wheel_info = dist.read_text("WHEEL") or ""
    tags = [
        line.split(":", 1)[1].strip() for line in wheel_info.splitlines() if line.startswith("Tag:")
    ]
    supported = {str(tag) for tag in sys_tags()}
    usable = [tag for tag in tags if tag in supported]
    tag = usable[0] if usable else "py3-none-any"
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"]).lower()
    target = dest / f"{name}-{dist.version}-{tag}.whl"
    record: list[str] = []
    info_dir = ""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in dist.files or []:
            relative = Path(str(item))
            if ".." in relative.parts or "__pycache__" in relative.parts:
                continue
            if relative.parts[0].endswith(".dist-info"):
                info_dir = relative.parts[0]
                if relative.name in _SKIPPED_INFO:
                    continue
            source = root / relative
            if not source.is_file():
                continue
            data = source.read_bytes()
            arcname = relative.as_posix()
            archive.writestr(arcname, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{arcname},sha256={digest},{len(data)}")
        if not info_dir:
            raise HarnessError(f"{dist.metadata['Name']} has no .dist-info in its RECORD")
        record.append(f"{info_dir}/RECORD,,")
        archive.writestr(f"{info_dir}/RECORD", "\n".join(record) + "\n")
    return target


def offline_wheelhouse(dest: Path, requirements: Sequence[str]) -> Path:
    """A find-links directory holding wheels of ``requirements`` and what they need."""
    dest.mkdir(parents=True, exist_ok=True)
    for dist in requirement_closure(requirements):
        repack_wheel(dist, dest)
    return dest


def offline_pip_env(wheelhouse: Path) -> dict[str, str]:
    """Environment variables that make pip install only from ``wheelhouse``."""
    return {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


ACTION_LOCK = Path("requirements") / "action.txt"
"""Where the action's hash-locked install list lives, relative to its checkout."""

_CHECKOUT_PARTS = ("action.yml", "pyproject.toml", "README.md", "src")


def wheelhouse_lock(wheelhouse: Path, *, skip: Sequence[str] = ()) -> str:
    """A requirements file pinning every wheel in ``wheelhouse`` by version and sha256.

    Repacked wheels are not PyPI's files, so the action's shipped lock can never match
    them; the tests hand the action a lock over these wheels instead, and the action
    still installs with ``--require-hashes`` exactly as on a real runner.
    """
    skipped = {canonicalize_name(name) for name in skip}
    lines: list[str] = []
    for wheel in sorted(wheelhouse.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        if canonicalize_name(name) in skipped:
            continue
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lines.append(f"{name}=={version} --hash=sha256:{digest}")
    return "\n".join(lines) + "\n"


def action_checkout(source: Path, dest: Path, lock: str) -> Path:
    """Copy what the action needs from ``source`` into ``dest``, with ``lock`` as its lock."""
    for part in _CHECKOUT_PARTS:
        origin = source / part
        if origin.is_dir():
            shutil.copytree(origin, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, dest / part)
    (dest / ACTION_LOCK).parent.mkdir(parents=True, exist_ok=True)
    (dest / ACTION_LOCK).write_text(lock, encoding="utf-8")
    return dest


__all__ = [
    "ACTION_LOCK",
    "ActionRun",
    "Annotation",
    "GitLabRun",
    "HarnessError",
    "StepRun",
    "action_checkout",
    "as_string",
    "condition",
    "evaluate",
    "interpolate",
    "offline_pip_env",
    "offline_wheelhouse",
    "parse_commands",
    "parse_key_values",
    "repack_wheel",
    "requirement_closure",
    "resolve_gitlab_job",
    "run_action",
    "run_gitlab_job",
    "setup_python_stand_in",
    "truthy",
    "wheelhouse_lock",
]
