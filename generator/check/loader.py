"""Find and read the Kubernetes resources `gen check` is given.

Arguments are files (any name: what is named is checked), directories (searched
recursively for ``*.yaml``, ``*.yml`` and ``*.json``; hidden entries skipped) and ``-``
for standard input. A directory holding gen's manifest of generated files
(``.gen-files.json``) is a rendered output, named or met while searching: each
``manifests/<cluster>/`` in it is one cluster and nothing else there is read. Every
other directory is one cluster; the files and stdin named directly are one cluster
together.

Every document is reported: an empty one is skipped, one that is not a mapping or lacks
``apiVersion``/``kind`` is an error naming it, a ``kind: List`` is expanded into its
items. Helm chart directories inside a searched directory are skipped with a note
(templates are not manifests until rendered), and kustomize's own configuration
(``kustomize.config.k8s.io`` documents) is skipped with a note.
"""

from __future__ import annotations

import base64
import datetime
import difflib
import marshal
import os
import pickle
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, Any

import yaml

from ..diagnostics import format_path
from ..fastyaml import MemoLoader, NotPlain, PlainBuilder
from . import forked, ray_prefetch
from .ray_serve import ray_available, ray_models_built

_MANIFEST_EXT = re.compile(r"\.(ya?ml|json)$")
GEN_MANIFEST = ".gen-files.json"  # generator/render/writer.py MANIFEST
STDIN = "-"
STDIN_SHOWN = "<stdin>"
COMMAND_LINE_SCOPE = "files named on the command line"
# The file names kustomize reads (sigs.k8s.io/kustomize konfig.RecognizedKustomizationFileNames).
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_CONFIG_GROUPS = ("kustomize.config.k8s.io/", "config.kubernetes.io/")


class _FileNodes:
    """The composed YAML nodes of one file, composed again only when a position inside
    one of its documents is asked for: loading builds the data without keeping nodes
    (a large output's nodes would hold several times its data's memory)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._docs: list[yaml.Node] | None = None
        self._text_lines: list[str] | None = None

    def document(self, doc_no: int) -> yaml.Node:
        if self._docs is None:
            self._docs = []
            loader = _Loader(self.text)
            try:
                while loader.check_node():
                    loader.duplicate_keys = []
                    node = loader.get_node()
                    if "<<" in self.text:  # merge keys: construction rewrites the node as loading did
                        loader.construct_document(node)
                    self._docs.append(node)
            except yaml.YAMLError:
                pass  # the documents before the error were loaded; positions exist for them
            finally:
                loader.dispose()
        return self._docs[doc_no - 1]

    @property
    def text_lines(self) -> list[str]:
        if self._text_lines is None:
            self._text_lines = self.text.splitlines()
        return self._text_lines


@dataclass
class Document:
    file: str  # as shown to the user: the argument as typed (+ relative path)
    index: int  # position among the file's resources (List items counted one by one)
    obj: dict[str, Any]
    duplicate_keys: list[tuple[str, int, int]] = field(default_factory=list)  # key, line, column
    line: int = 0  # line of the document (or List item) in its file, 1-based
    label: str = ""  # "document 2" or "document 2, List item 3"
    # where its node is: the file's nodes, the document's number, the List item's index
    source: tuple[_FileNodes, int, int | None] | None = field(default=None, repr=False, compare=False)
    # the per-resource checks' result when done while loading (Loaded.precheck), else None
    prechecked: Any = field(default=None, repr=False, compare=False)

    def _node(self) -> yaml.Node | None:
        if self.source is None:
            return None
        nodes, doc_no, item = self.source
        node = nodes.document(doc_no)
        return node if item is None else _list_item_nodes(node)[item]

    @cached_property
    def lines(self) -> dict[str, tuple[int, int]]:
        """Formatted path -> line, column of every mapping value and list item."""
        node = self._node()
        return {} if node is None else _node_lines(node)

    @cached_property
    def blocks(self) -> dict[str, tuple[int, int]]:
        """Formatted path -> (first content line, indentation) of literal block scalars (`|`)."""
        node = self._node()
        if node is None or self.source is None or "|" not in self.source[0].text:
            return {}
        return block_scalars(node, self.source[0].text_lines)

    def position(self, path: str) -> tuple[int, int]:
        """Line and column of ``path`` (or of its nearest parent the file has)."""
        lines = self.lines
        while True:
            if path in lines:
                return lines[path]
            if not path:
                return (self.line, 1)
            path = _parent(path)


def _parent(path: str) -> str:
    if path.endswith("]"):
        return path[: path.rindex("[")] if "[" in path else ""
    return path.rpartition(".")[0]


@dataclass
class Scope:
    name: str  # "out/manifests/<cluster>" in a rendered output, else the argument
    docs: list[Document]


@dataclass
class FileError:
    file: str
    message: str
    scope: str
    line: int | None = None
    column: int | None = None
    label: str = ""  # the document, when the problem is one document's


@dataclass
class Loaded:
    scopes: list[Scope] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)  # shown file -> path on disk
    files: list[str] = field(default_factory=list)  # every file read, as shown
    skipped_config: list[str] = field(default_factory=list)  # kustomization files
    rayservices_met: int = 0  # "kind: RayService" lines read so far (ray_prefetch)
    # the per-resource checks, run on the documents as they are loaded when a large
    # directory's files are split with a forked child (see _read_files)
    precheck: Callable[[Document], Any] | None = field(default=None, repr=False, compare=False)


class NotFound(ValueError):
    """A PATH argument does not exist (a usage error)."""


NotADirectory = NotFound  # the old name


class _Loader(MemoLoader):
    """Safe loader that records duplicate mapping keys (kubectl keeps the last
    silently; kubeconform -strict and the API server's strict decoding reject them)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in seen:
                mark = key_node.start_mark
                self.duplicate_keys.append((key, mark.line + 1, mark.column + 1))
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping


def _json_key(key: Any) -> str:
    """A mapping key as sigs.k8s.io/yaml (kubectl) turns it into a JSON key."""
    if isinstance(key, str):
        return key
    if key is True or key is False:
        return "true" if key else "false"
    if key is None:
        return "null"
    return _json_scalar(key) if not isinstance(key, (int, float)) else format(key)


def _json_scalar(value: Any) -> Any:
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def jsonable(value: Any) -> Any:
    """The YAML data as JSON data, as kubectl sends it: keys become strings (``5:``,
    ``true:``), timestamps strings, ``!!binary`` base64, ``!!set`` a mapping to null."""
    stack: list[Any] = []
    root = _convert_one(value, stack)
    while stack:
        src, dst = stack.pop()
        if isinstance(src, dict):
            for k, v in src.items():
                dst[_json_key(k)] = _convert_one(v, stack)
        else:
            dst.extend(_convert_one(v, stack) for v in src)
    return root


def _convert_one(value: Any, stack: list[Any]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        stack.append((value, out))
        return out
    if isinstance(value, (set, frozenset)):
        return {_json_key(k): None for k in value}
    if isinstance(value, (list, tuple)):
        items: list[Any] = []
        stack.append((value, items))
        return items
    return _json_scalar(value)


MAX_NODES = 2_000_000  # values in one document once YAML aliases are expanded


class _TooLarge(ValueError):
    pass


def _check_size(value: Any) -> None:
    """Refuse a document whose aliases refer to themselves (``&a [*a]``) or expand to
    more than MAX_NODES values (a "billion laughs"): both would never finish."""
    sizes: dict[int, int] = {}
    open_ids: set[int] = set()

    def size(v: Any) -> int:
        if not isinstance(v, (dict, list)):
            return 1
        key = id(v)
        if key in sizes:
            return sizes[key]
        if key in open_ids:
            raise _TooLarge("a YAML alias refers to the value that contains it (a cycle)")
        open_ids.add(key)
        children = list(v.values()) if isinstance(v, dict) else v
        total = 1 + sum(size(c) for c in children)
        open_ids.discard(key)
        if total > MAX_NODES:
            raise _TooLarge(f"YAML aliases expand this document to more than {MAX_NODES:,} values")
        sizes[key] = total
        return total

    size(value)


def block_scalars(node: yaml.Node, text_lines: list[str]) -> dict[str, tuple[int, int]]:
    """Formatted path -> (first content line, indentation column), both 1-based, of every
    literal block scalar (``key: |``) under ``node``: where an embedded document starts."""
    out: dict[str, tuple[int, int]] = {}
    stack: list[tuple[yaml.Node, list[str | int]]] = [(node, [])]
    while stack:
        n, path = stack.pop()
        if isinstance(n, yaml.MappingNode):
            stack.extend(
                (v, path + [str(k.value) if isinstance(k, yaml.ScalarNode) else "?"]) for k, v in n.value
            )
        elif isinstance(n, yaml.SequenceNode):
            stack.extend((v, path + [i]) for i, v in enumerate(n.value))
        elif isinstance(n, yaml.ScalarNode) and n.style == "|":
            first = n.start_mark.line + 1  # 0-based index of the line after the indicator
            while first < len(text_lines) and not text_lines[first].strip():
                first += 1
            if first < len(text_lines):
                line = text_lines[first]
                out[format_path(path)] = (first + 1, len(line) - len(line.lstrip(" ")) + 1)
    return out


def node_lines(node: yaml.Node) -> dict[str, tuple[int, int]]:
    """Formatted path -> (line, column) of every mapping value and list item under ``node``."""
    return _node_lines(node)


def _node_lines(node: yaml.Node) -> dict[str, tuple[int, int]]:
    """Formatted path -> (line, column) of every mapping value and list item under ``node``."""
    out: dict[str, tuple[int, int]] = {}
    stack: list[tuple[yaml.Node, list[str | int]]] = [(node, [])]
    seen: set[int] = set()
    while stack:
        n, path = stack.pop()
        if id(n) in seen:  # aliases
            continue
        seen.add(id(n))
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = str(k.value) if isinstance(k, yaml.ScalarNode) else "?"
                p = path + [key]
                out[format_path(p)] = (k.start_mark.line + 1, k.start_mark.column + 1)
                stack.append((v, p))
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                p = path + [i]
                out[format_path(p)] = (v.start_mark.line + 1, v.start_mark.column + 1)
                stack.append((v, p))
    return out


@dataclass
class _RawDoc:
    data: Any
    node: yaml.Node
    duplicate_keys: list[tuple[str, int, int]]
    plain: bool  # data is already JSON data within MAX_NODES (PlainBuilder built it)


def _documents(text: str) -> Iterator[_RawDoc]:
    loader = _Loader(text)
    try:
        while loader.check_node():
            loader.duplicate_keys = []
            node = loader.get_node()
            try:
                yield _RawDoc(PlainBuilder(loader, MAX_NODES).build(node), node, [], True)
            except NotPlain:  # duplicate keys, aliases, other types: the generic way
                data = loader.construct_document(node)
                yield _RawDoc(data, node, loader.duplicate_keys, False)
    finally:
        loader.dispose()


def _missing_key(doc: dict[str, Any], key: str) -> str:
    """``missing 'kind'`` with a hint when a near spelling is present (``Kind:``)."""
    keys = [k for k in doc if isinstance(k, str)]
    near = [k for k in keys if k.lower() == key.lower() and k != key] or difflib.get_close_matches(
        key, keys, n=1, cutoff=0.75
    )
    if key in doc:
        return f"{key!r} must be a non-empty string, not {_yaml_repr(doc[key])}"
    hint = f" (found {near[0]!r}: keys are case-sensitive and spelt exactly)" if near else ""
    return f"missing {key!r}{hint}"


def _identity_problem(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return f"expected a Kubernetes object (a mapping with apiVersion and kind), got a {_yaml_type(doc)}"
    missing = [
        _missing_key(doc, k)
        for k in ("apiVersion", "kind")
        if not (isinstance(doc.get(k), str) and doc.get(k))
    ]
    return "; ".join(missing) if missing else None


def _yaml_repr(value: Any) -> str:
    return "null" if value is None else f"{value!r} (a {_yaml_type(value)})"


def _yaml_type(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _is_list(obj: dict[str, Any]) -> bool:
    kind = obj.get("kind")
    # kubectl treats any *List with items as a list of objects (meta.IsListType).
    return isinstance(kind, str) and kind.endswith("List") and isinstance(obj.get("items"), list)


def read_text(shown: str, text: str, scope: str, out: Loaded) -> list[Document]:
    """Every resource of one file's text; problems go to ``out.errors``."""
    _start_serve_checks(text, out)
    return _parse(shown, text, scope, out)


def _parse(shown: str, text: str, scope: str, out: Loaded) -> list[Document]:
    docs: list[Document] = []
    index = 0
    doc_no = 0
    nodes = _FileNodes(text)
    try:
        for raw in _documents(text):
            doc_no += 1
            if raw.data is None:
                continue  # an empty document (comments only, or `---` twice)
            line = raw.node.start_mark.line + 1
            label = f"document {doc_no}"
            data = raw.data
            if not raw.plain:
                try:
                    _check_size(data)
                    data = jsonable(data)
                except (RecursionError, _TooLarge) as exc:
                    why = str(exc) if isinstance(exc, _TooLarge) else "nested too deeply"
                    out.errors.append(FileError(shown, why, scope, line, 1, label))
                    continue
            problem = _identity_problem(data)
            if problem is not None:
                out.errors.append(FileError(shown, problem, scope, line, 1, label))
                continue
            if str(data["apiVersion"]).startswith(_CONFIG_GROUPS):
                if shown not in out.skipped_config:
                    out.skipped_config.append(shown)
                continue
            if _is_list(data):
                item_nodes = _list_item_nodes(raw.node)
                for i, item in enumerate(data["items"]):
                    node = item_nodes[i] if i < len(item_nodes) else raw.node
                    item_line = node.start_mark.line + 1
                    item_label = f"{label}, {data['kind']} item {i + 1}"
                    problem = _identity_problem(item)
                    if problem is not None:
                        col = node.start_mark.column + 1
                        out.errors.append(FileError(shown, problem, scope, item_line, col, item_label))
                        continue
                    where = (nodes, doc_no, i if i < len(item_nodes) else None)
                    docs.append(Document(shown, index, item, [], item_line, item_label, where))
                    index += 1
                continue
            docs.append(Document(shown, index, data, raw.duplicate_keys, line, label, (nodes, doc_no, None)))
            index += 1
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        out.errors.append(
            FileError(
                shown,
                f"not valid YAML: {problem}",
                scope,
                mark.line + 1 if mark else None,
                mark.column + 1 if mark else None,
            )
        )
    return docs


def _start_serve_checks(text: str, out: Loaded) -> None:
    """Once loading has met enough RayServices, fork the process that validates their
    serve configs with Ray (ray_prefetch.py): it imports Ray while loading goes on."""
    if out.rayservices_met >= ray_prefetch.MIN_RAYSERVICES:
        return
    out.rayservices_met += text.count("kind: RayService")
    if out.rayservices_met >= ray_prefetch.MIN_RAYSERVICES and ray_available():
        ray_prefetch.start(ray_models_built())


def _send_serve_configs(out: Loaded) -> None:
    if ray_prefetch.started():
        ray_prefetch.send(_serve_texts(d for scope in out.scopes for d in scope.docs))


def _serve_texts(docs: Iterable[Document]) -> list[str]:
    texts = []
    for doc in docs:
        spec = doc.obj.get("spec")
        config = spec.get("serveConfigV2") if isinstance(spec, dict) else None
        if doc.obj.get("kind") == "RayService" and isinstance(config, str):
            texts.append(config)
    return texts


def _list_item_nodes(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == "items" and isinstance(v, yaml.SequenceNode):
                return list(v.value)
    return []


def _read_file(shown: str, path: Path, scope: str, out: Loaded) -> list[Document]:
    out.paths[shown] = path
    out.files.append(shown)
    text = _text(shown, path, scope, out)
    return [] if text is None else read_text(shown, text, scope, out)


def _text(shown: str, path: Path, scope: str, out: Loaded) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        out.errors.append(FileError(shown, f"not UTF-8 text: {exc.reason}", scope))
    except OSError as exc:
        out.errors.append(FileError(shown, f"cannot read: {exc.strerror or exc}", scope))
    return None


# A directory's files are split with a forked child from this many bytes on (the
# 100-model output has ~0.8 MB, the 1000-model one ~7.7 MB)
SPLIT_MIN_BYTES = 1_500_000


@dataclass
class _FileRead:
    """One file of a directory: what reading it adds to Loaded, merged in file order."""

    shown: str
    path: Path
    text: str | None = None
    docs: list[Document] = field(default_factory=list)
    found: Loaded = field(default_factory=Loaded)  # its errors and skipped_config


def _read_files(files: list[tuple[str, Path]], scope: str, out: Loaded) -> list[Document]:
    """Every resource of ``files``, as _read_file on each in turn gives. A large set is
    split: a forked child parses and checks (``out.precheck``) part of the files while
    this process does the rest, and sends back their documents and results."""
    reads = []
    for shown, path in files:
        read = _FileRead(shown, path)
        read.text = _text(shown, path, scope, read.found)
        reads.append(read)
    theirs = _child_share(reads) if out.precheck is not None and forked.available() else set()
    child = forked.Child(lambda: _encode(reads, theirs, scope, out.precheck)) if theirs else None
    for i, read in enumerate(reads):
        if read.text is None:
            continue
        _start_serve_checks(read.text, out)  # in file order, as _read_file does
        if i not in theirs:
            read.docs = _parse(read.shown, read.text, scope, read.found)
            if child is not None and out.precheck is not None:  # balanced with the child's share
                if ray_prefetch.started():  # Ray's child may validate these meanwhile
                    ray_prefetch.send_early(_serve_texts(read.docs))
                for doc in read.docs:
                    doc.prechecked = out.precheck(doc)
    data = child.result() if child is not None else None
    if data is not None:
        _decode(data, reads, theirs)
    elif child is not None:  # the child failed: its share read here, as it would have
        for i in sorted(theirs):
            text = reads[i].text
            assert text is not None
            reads[i].docs = _parse(reads[i].shown, text, scope, reads[i].found)
    docs: list[Document] = []
    for read in reads:
        out.paths[read.shown] = read.path
        out.files.append(read.shown)
        out.errors += read.found.errors
        out.skipped_config += [s for s in read.found.skipped_config if s not in out.skipped_config]
        docs += read.docs
    return docs


def _child_share(reads: list[_FileRead]) -> set[int]:
    """The files the child takes (none when too few or too small to gain): from the
    largest down, the largest staying here, each to the child while its share is no
    larger than this process's (small documents cost more per byte to check)."""
    sized = sorted(
        ((len(r.text), i) for i, r in enumerate(reads) if r.text is not None), key=lambda s: (-s[0], s[1])
    )
    if len(sized) < 2 or sum(n for n, _ in sized) < SPLIT_MIN_BYTES:
        return set()
    mine, theirs = sized[0][0], set()
    child_bytes = 0
    for n, i in sized[1:]:
        if child_bytes <= mine:
            child_bytes += n
            theirs.add(i)
        else:
            mine += n
    return theirs


def _encode(
    reads: list[_FileRead], theirs: set[int], scope: str, precheck: Callable[[Document], Any] | None
) -> bytes:
    """The child's share parsed and checked, as bytes: the documents' data by marshal
    (JSON data: exact, strings kept interned), the rest by pickle."""
    rows, rest = [], []
    for i in sorted(theirs):
        read = reads[i]
        assert read.text is not None
        docs = _parse(read.shown, read.text, scope, read.found)
        rows.append(
            [
                (d.index, d.obj, d.duplicate_keys, d.line, d.label, d.source[1:] if d.source else None)
                for d in docs
            ]
        )
        rest.append(
            (read.found.errors, read.found.skipped_config, [precheck(d) if precheck else None for d in docs])
        )
    return pickle.dumps((marshal.dumps(rows), rest), protocol=pickle.HIGHEST_PROTOCOL)


def _decode(data: bytes, reads: list[_FileRead], theirs: set[int]) -> None:
    packed, rest = pickle.loads(data)
    for i, file_rows, (errors, skipped_config, results) in zip(
        sorted(theirs), marshal.loads(packed), rest, strict=True
    ):
        read = reads[i]
        assert read.text is not None
        nodes = _FileNodes(read.text)
        read.found.errors += errors
        read.found.skipped_config += skipped_config
        read.docs = [
            Document(read.shown, index, obj, dup, line, label, (nodes, *where) if where else None, result)
            for (index, obj, dup, line, label, where), result in zip(file_rows, results, strict=True)
        ]


def _manifest_files(
    root: Path, skipped_charts: list[Path], skipped_config: list[Path], gen_outputs: list[Path]
) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here != root and GEN_MANIFEST in filenames:
            gen_outputs.append(here)
            dirnames[:] = []
            continue
        if here != root and "Chart.yaml" in filenames:
            skipped_charts.append(here)
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for f in filenames:
            if f in KUSTOMIZATION_FILES:
                skipped_config.append(here / f)
            elif _MANIFEST_EXT.search(f) and not f.startswith("."):
                found.append(here / f)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _shown(arg: str, root: Path, path: Path) -> str:
    rel = path.relative_to(root).as_posix()
    prefix = arg.rstrip("/")
    return rel if prefix == "." else f"{prefix}/{rel}"  # "/" gives "/rel"


def _read_dir(arg: str, root: Path, out: Loaded) -> Scope:
    scope = arg.rstrip("/") or "/"
    skipped: list[Path] = []
    config: list[Path] = []
    gen_outputs: list[Path] = []
    files = [(_shown(arg, root, path), path) for path in _manifest_files(root, skipped, config, gen_outputs)]
    docs = _read_files(files, scope, out)
    out.notes += [
        f"skipped Helm chart {_shown(arg, root, c)} (templates are not manifests; check the rendered output)"
        for c in skipped
    ]
    out.skipped_config += [_shown(arg, root, c) for c in config]
    for output in sorted(gen_outputs):  # a gen output inside: its clusters, as if named
        _read_gen_output(_shown(arg, root, output), output, out)
    return Scope(scope, docs)


def _read_gen_output(arg: str, root: Path, out: Loaded) -> None:
    clusters = rendered_clusters(root) or []
    if not clusters:
        out.notes.append(f"{arg}: a gen output directory without manifests/<cluster>/ directories")
    for cluster in clusters:
        out.scopes.append(_read_dir(_shown(arg, root, cluster), cluster, out))


def rendered_clusters(root: Path) -> list[Path] | None:
    """``manifests/<cluster>/`` directories when ``root`` is a gen output directory
    (it holds gen's manifest of generated files)."""
    if not (root / GEN_MANIFEST).is_file():
        return None
    manifests = root / "manifests"
    if not manifests.is_dir():
        return []
    return sorted(p for p in manifests.iterdir() if p.is_dir() and not p.name.startswith("."))


def load(
    args: list[str], stdin: IO[str] | None = None, precheck: Callable[[Document], Any] | None = None
) -> Loaded:
    """Read every PATH; raises NotFound before reading anything if one is missing.
    ``precheck``: the per-resource checks, for a large directory's documents
    (``Document.prechecked``; picklable results)."""
    for arg in args:
        if arg != STDIN and not Path(arg).exists():
            raise NotFound(f"{arg}: no such file or directory")
    out = Loaded(precheck=precheck)
    ray_prefetch.reset()
    named: list[Document] = []
    for arg in dict.fromkeys(a if a == STDIN else (a.rstrip("/") or "/") for a in args):  # each once
        if arg == STDIN:
            text = (stdin or sys.stdin).read()
            out.files.append(STDIN_SHOWN)
            named += read_text(STDIN_SHOWN, text, COMMAND_LINE_SCOPE, out)
            continue
        root = Path(arg)
        if not root.is_dir():
            named += _read_file(arg, root, COMMAND_LINE_SCOPE, out)
            continue
        if rendered_clusters(root) is None:
            scope = _read_dir(arg, root, out)
            out.scopes.append(scope)
        else:
            _read_gen_output(arg, root, out)
    if out.skipped_config:
        n = len(out.skipped_config)
        out.notes.append(
            f"skipped {n} kustomization file{'s' if n != 1 else ''} (kustomize's configuration, "
            "not Kubernetes resources)"
        )
    if named or any(a == STDIN or not Path(a).is_dir() for a in args):
        out.scopes.insert(0, Scope(COMMAND_LINE_SCOPE, named))
    _send_serve_configs(out)
    return out


def describe(doc: Document) -> str:
    return f"{doc.file}:{doc.line} ({doc.label})" if doc.label else f"{doc.file}:{doc.line}"
