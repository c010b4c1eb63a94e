# SPDX-License-Identifier: Apache-2.0
"""GraphQL engine wrapper: one API over graphql-core 2.3 (Debian 12) and 3.2 (Debian 13).

Owns the executable schema built from schema.graphql and a cache of parsed + validated
documents keyed by their text (validation costs more than executing a small mutation).
Resolution is uniform: every object field is resolved by `resolve_field`, which calls
`source.f_<name>(**args)` when the source defines it and otherwise reads `source[name]`.
Resolvers signal domain failures by raising SimError; `format_errors` turns those into
ION-shaped error objects with `extensions.code`.
"""

import logging
import threading

import graphql
from graphql import build_ast_schema, execute, parse, validate

GRAPHQL_MAJOR = int(graphql.__version__.split(".")[0])

# graphql-core 2 logs a traceback for every resolver exception; domain errors are expected.
logging.getLogger("graphql").setLevel(logging.CRITICAL)


class SimError(Exception):
    """A GraphQL-level error a resolver raises on purpose (ION-shaped: message + code)."""

    def __init__(self, message, code="BAD_REQUEST"):
        super().__init__(message)
        self.message = message
        self.code = code


def resolve_field(source, info, **args):
    if source is None:
        return None
    name = info.field_name
    fn = getattr(source, "f_" + name, None)
    if fn is not None:
        return fn(**args)
    return source.get(name)  # plain dicts and record views both answer get()


def _literal_to_python(node):
    kind = type(node).__name__
    if kind.startswith("IntValue"):
        return int(node.value)
    if kind.startswith("FloatValue"):
        return float(node.value)
    if kind.startswith("BooleanValue"):
        return bool(node.value)
    if kind.startswith("StringValue") or kind.startswith("EnumValue"):
        return node.value
    if kind.startswith("ListValue"):
        return [_literal_to_python(v) for v in node.values]
    if kind.startswith("ObjectValue"):
        return {f.name.value: _literal_to_python(f.value) for f in node.fields}
    return None


def _serialize_id(value):
    # ION returns ids as JSON integers ("id": 419) although variables declare ID!.
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    return str(value)


def _type_map(schema):
    return schema.type_map if GRAPHQL_MAJOR >= 3 else schema.get_type_map()


def build_schema(sdl_text):
    schema = build_ast_schema(parse(sdl_text))
    types = _type_map(schema)
    types["ID"].serialize = _serialize_id
    if GRAPHQL_MAJOR < 3:
        # graphql-core 2 gives SDL scalars serialize=None-returning stubs; make JSON and
        # DateTime pass values through (3.x already does this for custom scalars).
        for name in ("JSON", "DateTime"):
            t = types.get(name)
            if t is not None:
                t.serialize = lambda v: v
                t.parse_value = lambda v: v
                t.parse_literal = _literal_to_python
    for name, t in types.items():
        if name.startswith("__") or type(t).__name__ != "GraphQLObjectType":
            continue
        for field in t.fields.values():
            if GRAPHQL_MAJOR >= 3:
                field.resolve = resolve_field
            else:
                field.resolver = resolve_field
    return schema


class Prepared:
    """A parsed and validated document: reused for every request with the same text."""

    __slots__ = ("document", "errors", "operations", "keys")

    def __init__(self, document, errors, operations, keys=None):
        self.document = document
        self.errors = errors  # list of formatted error dicts, or []
        self.operations = operations  # {name or None: (op_type, [root field names])}
        self.keys = keys or {}  # {name or None: [root response keys (alias or name)]}

    def root_keys(self, name):
        """[(response key, field name)] of the operation's top-level fields."""
        op = self.operation(name)
        if op is None:
            return []
        if not name and len(self.keys) == 1:
            keys = next(iter(self.keys.values()))
        else:
            keys = self.keys.get(name, [])
        return list(zip(keys, op[1]))

    def operation(self, name):
        if name:
            return self.operations.get(name)
        if len(self.operations) == 1:
            return next(iter(self.operations.values()))
        return None


def _op_type(op):
    t = op.operation
    return getattr(t, "value", t)


def _collect_operations(document, ops_keys):
    ops = {}
    for d in document.definitions:
        if not hasattr(d, "operation"):
            continue
        name = d.name.value if d.name else None
        fields = [s.name.value for s in d.selection_set.selections if hasattr(s, "name") and s.name]
        keys = [(s.alias or s.name).value for s in d.selection_set.selections if hasattr(s, "name") and s.name]
        ops[name] = (_op_type(d), fields)
        ops_keys[name] = keys
    return ops


class Engine:
    def __init__(self, sdl_text, cache_size=1024):
        self.schema = build_schema(sdl_text)
        self._cache = {}
        self._cache_lock = threading.Lock()
        self._cache_size = cache_size

    def prepare(self, text):
        with self._cache_lock:
            hit = self._cache.get(text)
        if hit is not None:
            return hit
        try:
            document = parse(text)
        except graphql.GraphQLError as e:
            return Prepared(None, [format_error(e)], {})
        errors = [format_error(e) for e in validate(self.schema, document)]
        keys = {}
        prepared = Prepared(document, errors, _collect_operations(document, keys), keys)
        with self._cache_lock:
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[text] = prepared
        return prepared

    def execute(self, prepared, root, variables, operation_name, fail_fields=None):
        """fail_fields: {response key: SimError} for top-level fields that fail on their own
        (standard GraphQL: null with an error whose path names the alias; the others run)."""
        middleware = None
        if fail_fields:
            def fail_top_level(next_, source, info, **args):
                path = info.path  # graphql-core 2: a list; 3: a linked Path
                key = (path[0] if len(path) == 1 else None) if isinstance(path, list) else (
                    path.key if path.prev is None else None)
                if key in fail_fields:
                    raise fail_fields[key]
                return next_(source, info, **args)
            middleware = [fail_top_level]
        try:
            result = execute(
                self.schema,
                prepared.document,
                root_value=root,
                variable_values=variables,
                operation_name=operation_name,
                middleware=middleware,
            )
        except graphql.GraphQLError as e:
            # graphql-core 2 raises for bad variables; 3 returns them as errors.
            return None, [e]
        return result.data, list(result.errors or [])


def _locations(err):
    locs = getattr(err, "locations", None)
    if not locs:
        return None
    return [{"line": loc.line, "column": loc.column} for loc in locs]


def format_error(err):
    """Formats a graphql-core error; SimErrors keep their ION code under extensions."""
    original = getattr(err, "original_error", None)
    while getattr(original, "original_error", None) is not None:
        original = original.original_error
    out = {"message": getattr(err, "message", None) or str(err)}
    if isinstance(original, SimError):
        out["message"] = original.message
    elif original is not None and not isinstance(original, graphql.GraphQLError):
        # A bug in a resolver. (graphql-core 3.2.6, Debian 13, wraps variable coercion errors
        # such as an unknown enum value around a GraphQLError: those are the client's fault.)
        out["message"] = "Internal server error"
    locs = _locations(err)
    if locs:
        out["locations"] = locs
    path = getattr(err, "path", None)
    if path:
        out["path"] = list(path)
    if isinstance(original, SimError):
        out["extensions"] = {"code": original.code}
    elif getattr(err, "extensions", None):
        out["extensions"] = err.extensions
    return out


def original_errors(errors):
    """The SimErrors behind executed errors (to pick an HTTP status), and unexpected ones."""
    sims, unexpected = [], []
    for err in errors:
        original = getattr(err, "original_error", None)
        while getattr(original, "original_error", None) is not None:
            original = original.original_error
        if isinstance(original, SimError):
            sims.append(original)
        elif original is not None:
            unexpected.append(original)
    return sims, unexpected
