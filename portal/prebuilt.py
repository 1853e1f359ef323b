"""Statements built once: SELECTs whose SQL Peewee would otherwise build on every request.

A page's fixed-shape statements cost Peewee far more to build (and their rows far more to turn
into objects) than the database spends running them. The helpers here build each named
statement's SQL once per process and database, with stand-in values whose places among the
parameters are noted, and later only put the real values in; and they make the rows without
Peewee's per-row machinery, each tested equal to what Peewee gives
(tests/domain/test_rows_together.py):

- rows_together / prebuilt_together: several small SELECTs in ONE statement (each query's rows
  as a JSON array), back as model instances; prebuilt_together_rows the same, faster for wide
  rows; prebuilt_tuples the same as plain tuples;
- prebuilt_rows: one SELECT's rows as instances of its model;
- prebuilt_models: one SELECT with joins, its rows as Peewee would give them;
- prebuilt_select: one SELECT as iterating it gives (models, dicts, tuples);
- prebuilt_write / prebuilt_update / prebuilt_create: an UPDATE or INSERT (the refund path's
  fixed-shape writes), as Peewee's execute() and Model.create() run them.

No Flask here (portal.db has the connection)."""

import copy
import json

from peewee import BooleanField, DateTimeField, Field, Select, TextField, Value, fn

from portal.db import db, is_postgres


def rows_together(*queries, scalars=()):
    """Several SELECTs (each naming its columns once: a model's fields, aliased aggregates;
    joins are fine), run as ONE statement: each
    query's rows come back as a JSON array (SQLite's json_group_array, PostgreSQL's json_agg)
    in a column of its own, and are turned back into model instances, in each query's
    ORDER BY (applied again here: neither aggregate promises its input's order). For the small
    lists a page reads beside its main rows (photos, payments, extra lines). `scalars`:
    subqueries of one value each, whose values follow the lists in the answer."""
    row = db.execute(_together(queries, scalars)).fetchone()
    return _decoded(queries, row)


def _together(queries, scalars):
    postgres = is_postgres()
    columns = []
    for n, query in enumerate(queries):
        table = query.alias(f"together{n}")
        values = [table.c[_name(item)[1]] for item in query._returning]
        if postgres:
            column = fn.json_agg(fn.json_build_array(*values))
        else:
            column = fn.json_group_array(fn.json_array(*values))
        columns.append(Select([table], [column]))
    return Select(columns=columns + list(scalars))


def _decoded(queries, row):
    lists = [_rows_of(query, text) for query, text in zip(queries, row, strict=False)]
    return lists + list(row[len(queries) :])


def _stand_in(n, value):
    """A parameter value no real query carries, to find where `value` lands in built SQL."""
    return f"\x00stand-in-{n}" if isinstance(value, str) else -7_770_000_001 - n


def prebuilt_together(name, build, **values):
    """rows_together(*queries, scalars=scalars) for `(queries, scalars) = build(**values)`,
    with the statement's SQL built once per process and database: Peewee spends far longer
    building a page's big fixed-shape statement than the database spends running it. The
    first call builds it with stand-in values and notes where each lands among the
    parameters; later calls only put the real values in their places. `build` must give the
    same shape whatever the values (they only fill in parameters)."""

    def node(**stand_ins):
        queries, scalars = build(**stand_ins)
        return _together(queries, scalars), queries

    sql, params, queries = _prebuilt(name, node, values)
    return _decoded(queries, db.execute_sql(sql, params).fetchone())


def prebuilt_rows(name, build, **values):
    """The rows of the one SELECT `build(**values)` gives, as instances of its model (with its
    aliased extra columns as attributes), its SQL built once per process and database like
    prebuilt_together's. The instances are made without Peewee's per-row machinery: for a
    statement run on every request (the signed-in user) Peewee's building and row handling
    cost many times what the database does."""

    def node(**stand_ins):
        query = build(**stand_ins)
        return query, query

    sql, params, query = _prebuilt(name, node, values, strict=True)
    model = query.model
    items = query.__dict__.get("_portal_items")
    if items is None:  # what each column is, worked out once per statement
        items = query._portal_items = [(_name(item), item if isinstance(item, Field) else None)
                                       for item in query._returning]  # fmt: skip
    rows = []
    for values_ in db.execute_sql(sql, params).fetchall():
        row = model.__new__(model)
        data, extra = {}, {}
        for ((attribute, _column), field), value in zip(items, values_, strict=True):
            if field is None:
                extra[attribute] = value
            else:
                data[attribute] = None if value is None else field.python_value(value)
        row.__data__, row._dirty, row.__rel__ = data, set(), {}
        row.__dict__.update(extra)
        rows.append(row)
    return rows


def _prebuilt(name, node, values, strict=False):
    """(sql, params, what) for `node(**stand_ins)` -> (a Peewee node, what): the node's SQL
    built once per process and database under `name`, with this call's `values` put in
    their parameters' places. `strict`: every value must land as a parameter of its own
    (ValueError otherwise, on the first call)."""
    cache = db.obj.__dict__.setdefault("_prebuilt", {})
    entry = cache.get(name)
    if entry is None:
        stand_ins = {key: _stand_in(n, value) for n, (key, value) in enumerate(values.items())}
        built, what = node(**stand_ins)
        sql, params = db.obj.get_sql_context().sql(built).query()
        names = {value: key for key, value in stand_ins.items()}
        slots = [(True, names[p]) if _hashable(p) and p in names else (False, p) for p in params]
        missing = set(values) - {key for is_value, key in slots if is_value}
        if strict and missing:
            raise ValueError(f"{name}: not a parameter of its own: {', '.join(sorted(missing))}")
        entry = cache[name] = (sql, slots, what)
    sql, slots, what = entry
    return sql, [values[v] if is_value else v for is_value, v in slots], what


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _name(item):
    """(attribute, column) of a selected item: a model's field, or an aliased expression."""
    if isinstance(item, Field):
        return item.name, item.column_name
    return item._alias, item._alias


def _python_value(field, value):
    if value is None or not isinstance(field, Field):  # NULL, or an aggregate's plain value
        return value
    if isinstance(field, DateTimeField) and isinstance(value, str):
        value = value.replace("T", " ")  # PostgreSQL's JSON timestamps: ISO 8601
    if isinstance(field, BooleanField):
        return bool(value)
    return field.python_value(value)


def _rows_of(query, text):
    fields = query._returning
    model = query.model
    items = json.loads(text) if isinstance(text, str) else (text or [])
    rows = []
    for values in items:
        data = {_name(f)[0]: _python_value(f, v) for f, v in zip(fields, values, strict=True)}
        rows.append(model(__no_default__=1, **data))
    for ordering in reversed(query._order_by or ()):
        node = getattr(ordering, "node", ordering)
        descending = getattr(ordering, "direction", "ASC") == "DESC"
        rows.sort(key=lambda row, name=node.name: _sort_key(row.__data__.get(name)),
                  reverse=descending)  # fmt: skip
    return rows


def _sort_key(value):
    return (value is None, value if value is not None else 0)


def prebuilt_select(name, build, **values):
    """list(build(**values)) -- the rows exactly as iterating the query gives them (model
    instances with their joined models, tuples, dicts) -- with the query's SQL built once per
    process and database, as prebuilt_together() does for its statement: the first call builds
    the query with stand-in values and notes where each lands among the parameters; later
    calls put the real values in their places and read the rows through that first query's
    own row reader. `name` names the shape (a tuple may say which variant: the filters a list
    uses); `build` must give the same SQL whatever the values, and every value must land as a
    parameter of its own (ValueError otherwise, on the first call)."""
    cache = db.obj.__dict__.setdefault("_prebuilt_select", {})
    entry = cache.get(name)
    if entry is None:
        stand_ins = {key: _stand_in(n, value) for n, (key, value) in enumerate(values.items())}
        query = build(**stand_ins)
        sql, params = db.obj.get_sql_context().sql(query).query()
        names = {value: key for key, value in stand_ins.items()}
        slots = [(True, names[p]) if _hashable(p) and p in names else (False, p) for p in params]
        missing = set(values) - {key for is_value, key in slots if is_value}
        if missing:
            raise ValueError(f"{name}: not a parameter of its own: {', '.join(sorted(missing))}")
        entry = cache[name] = [sql, slots, query, None]
    sql, slots, query, reader = entry
    cursor = db.execute_sql(sql, [values[v] if is_value else v for is_value, v in slots])
    if reader is None:
        reader = query._get_cursor_wrapper(cursor)
        rows = list(reader)
        if reader.initialized:  # it has worked out the columns: later calls reuse that
            reader.cursor, reader.row_cache = None, []
            entry[3] = reader
        return rows
    # Peewee's row reader works out the columns and their converters on a statement's first
    # row; the same SQL gives the same columns, so a copy of the first reader reads the rows.
    reader = copy.copy(reader)
    reader.cursor, reader.row_cache, reader.count, reader.index = cursor, [], 0, 0
    reader.populated = False
    return list(reader)


def _plain(field):
    """Whether a column's values come out of _together()'s JSON as Python's already."""
    from peewee import (
        AutoField,
        BigAutoField,
        BigIntegerField,
        CharField,
        ForeignKeyField,
        IntegerField,
    )

    if isinstance(field, ForeignKeyField):
        return _plain(field.rel_field)
    return type(field) in (AutoField, BigAutoField, IntegerField, BigIntegerField, CharField,
                           TextField)  # fmt: skip


def _converter(field):
    """A column's JSON value -> its Python value (not None), as _python_value() gives it."""
    if isinstance(field, BooleanField):
        return bool
    if isinstance(field, DateTimeField):
        from datetime import datetime

        def moment(value, field=field):
            try:  # SQLite's "2026-12-01 14:05:06.123456", PostgreSQL's ISO 8601
                return datetime.fromisoformat(value)
            except (TypeError, ValueError):
                return _python_value(field, value)

        return moment
    return lambda value, field=field: _python_value(field, value)


def _tuple_plan(query):
    """(converters, sort keys) for the rows of `query` as tuples: the columns whose JSON value
    needs turning into Python's (times, booleans, JSON text), and its ORDER BY as (column
    index, descending)."""
    fields = query._returning
    converters = [(i, _converter(field)) for i, field in enumerate(fields)
                  if isinstance(field, Field) and not _plain(field)]  # fmt: skip
    columns = [_name(field)[0] for field in fields]
    keys = []
    for ordering in query._order_by or ():
        node = getattr(ordering, "node", ordering)
        keys.append((columns.index(node.name), getattr(ordering, "direction", "ASC") == "DESC"))
    return converters, keys


def _tuples_of(plan, text):
    converters, keys = plan
    rows = json.loads(text) if isinstance(text, str) else (text or [])
    if converters:
        for row in rows:
            for i, convert in converters:
                if row[i] is not None:
                    row[i] = convert(row[i])
    rows = [tuple(row) for row in rows]
    for index, descending in reversed(keys):
        rows.sort(key=lambda row, i=index: _sort_key(row[i]), reverse=descending)
    return rows


def prebuilt_tuples(name, build, **values):
    """prebuilt_together() with each query's rows as plain tuples of Python values, in the
    order of its selected columns and in its ORDER BY (plain columns only), without making
    model instances: for a list page that only reads a few columns of many rows. `name` must
    not be one prebuilt_together() or prebuilt_rows() uses. Returns [rows of each query] +
    [the scalars' values]."""
    return _together_as(name, build, values, _tuple_plan, _tuples_of)


def _together_as(name, build, values, plan_of, rows_of):
    """prebuilt_together(name, build, **values) with each query's rows made by
    `rows_of(plan_of(query), its JSON)`."""

    def node(**stand_ins):
        queries, scalars = build(**stand_ins)
        return _together(queries, scalars), [plan_of(query) for query in queries]

    sql, params, plans = _prebuilt(name, node, values)
    row = db.execute_sql(sql, params).fetchone()
    return [rows_of(plan, text) for plan, text in zip(plans, row, strict=False)] + list(
        row[len(plans) :]
    )


def prebuilt_models(name, build, **values):
    """The rows of the one SELECT `build(**values)` gives, exactly as iterating it would give
    them (model instances, joined models attached, `.objects()`/`.dicts()` as the query says):
    its SQL built once per process and database like prebuilt_together's, the rows made by
    Peewee's own cursor wrapper for the query built first. For a join of several models read
    on every request, whose building costs Peewee far more than the database's work. `name`
    must not be one another prebuilt helper uses."""

    def node(**stand_ins):
        query = build(**stand_ins)
        return query, query

    sql, params, query = _prebuilt(name, node, values, strict=True)
    wrapper = query._get_cursor_wrapper(db.execute_sql(sql, params))
    # Peewee works out how columns map onto the joined models on each wrapper's first row,
    # from the cursor's description: the same for every run of the same SQL, so done once.
    states = db.obj.__dict__.setdefault("_prebuilt_wrappers", {})
    state = states.get(name)
    if state is None:
        before = dict(wrapper.__dict__)
        wrapper.initialize()
        states[name] = state = {key: value for key, value in wrapper.__dict__.items()
                                if key not in before or before[key] is not value}  # fmt: skip
    wrapper.__dict__.update(state)
    wrapper.initialized = True
    plan = state.get("_portal_plan")
    if plan is None:
        plan = states[name]["_portal_plan"] = _joined_plan(wrapper)
    if plan is False:  # not only models (dicts, tuples): Peewee's own rows
        return list(wrapper)
    return [_joined_row(wrapper, plan, row) for row in wrapper.cursor.fetchall()]


def _joined_plan(wrapper):
    """For ModelCursorWrapper.process_row's work without its per-column setattr: per column,
    (index, key, converter, field name or None (an extra: set by setattr)); False when the
    rows are not all model instances."""
    if not hasattr(wrapper, "_row_spec") or not all(m for _k, _c, m in wrapper._constructor_list):
        return False
    columns = []
    for idx, key, column, converter in wrapper._row_spec:
        model = wrapper.key_to_constructor.get(key, (wrapper.model,))[0]
        field = model._meta.fields.get(column)
        # A foreign key's id too: on an instance just made, its accessor's __set__ only puts
        # the id in the data (and marks it dirty, which _joined_row clears).
        plain = field is not None and field.name == column
        typed = model._meta.columns.get(column) or field
        if typed is not None and _plain(typed):
            converter = None  # the driver gives ints and strings already (Peewee's would copy)
        columns.append((idx, key, converter, column if plain else None, column))
    return columns


def _joined_row(wrapper, plan, row):
    """ModelCursorWrapper.process_row(row) (peewee 4.5), the plain fields' values put in each
    instance's data directly (a None is never converted: Peewee's fields give None for it)."""
    objects = {}
    for key, constructor, _is_model in wrapper._constructor_list:
        instance = constructor.__new__(constructor)
        instance.__data__, instance._dirty, instance.__rel__ = {}, set(), {}
        objects[key] = instance
    default = objects[wrapper.model]
    set_keys = set()
    for key, plain, others, run in _grouped(plan):
        instance = objects.get(key)
        if run is not None and instance is not None:
            # The model's plain columns side by side: its data in one go, then the values
            # that need converting (a None is left as it is).
            names, start, stop, converted = run
            values = row[start:stop]
            data = instance.__data__ = dict(zip(names, values, strict=True))
            seen = values.count(None) != len(values)
            for idx, converter, name in converted:
                value = row[idx]
                if value is not None:
                    data[name] = converter(value)
        else:
            instance = instance or default
            data, seen = instance.__data__, False
            for idx, converter, name in plain:
                value = row[idx]
                if value is not None:
                    seen = True
                    if converter is not None:
                        value = converter(value)
                data[name] = value
        for idx, converter, column in others:
            value = row[idx]
            if value is not None:
                seen = True
                if converter is not None:
                    value = converter(value)
            setattr(instance, column, value)
        if seen:  # a value of this model's: its row is there (not an outer join's missing one)
            set_keys.add(key)
    for src, attr, dest, is_dict, is_outer, is_fk in wrapper.src_to_dest:
        instance = objects.get(src)
        joined = objects.get(dest)
        if joined is None and dest not in objects:
            continue
        assign = False
        if dest not in set_keys and dest in wrapper._dest_reachable:
            assign = bool(wrapper._dest_reachable[dest] & set_keys)
        if dest not in set_keys and not assign:
            if is_outer:
                joined = None
            else:
                continue
        if src not in set_keys and dest not in set_keys and is_outer:
            continue
        if is_dict:
            instance[attr] = joined
        elif is_fk and joined is None:
            instance.__rel__[attr] = None
        else:
            setattr(instance, attr, joined)
    for instance in objects.values():
        instance._dirty.clear()
    return default


_groups = {}


def _grouped(plan):
    """A plan's columns per joined model, plain fields apart: [(key, plain, others, run)]
    (kept per plan, in the plan's column order within each group); `run`: (names, start,
    stop, [(index, converter, name)] of those converted) when the plain fields are the row's
    columns start..stop in order, else None."""
    groups = _groups.get(id(plan))
    if groups is None or groups[0] is not plan:
        by_key = {}
        for idx, key, converter, name, column in plan:
            plain, others = by_key.setdefault(key, ([], []))
            if name is not None:
                plain.append((idx, converter, name))
            else:
                others.append((idx, converter, column))
        groups = _groups[id(plan)] = (plan, [(k, p, o, _run(p)) for k, (p, o) in by_key.items()])
    return groups[1]


def _run(plain):
    indexes = [idx for idx, _converter, _name in plain]
    if not plain or indexes != list(range(indexes[0], indexes[0] + len(indexes))):
        return None
    names = tuple(name for _idx, _converter, name in plain)
    if len(set(names)) != len(names):
        return None
    converted = [(idx, converter, name) for idx, converter, name in plain if converter]
    return names, indexes[0], indexes[-1] + 1, converted


def _instance_plan(query):
    """How to make query's rows into instances without Peewee's per-field machinery: the
    model, [(attribute, is a field, converter or None)], its ORDER BY as (index, descending)."""
    items = []
    for field in query._returning:
        attribute = _name(field)[0]
        if isinstance(field, Field):
            items.append((attribute, True, None if _plain(field) else _converter(field)))
        else:
            items.append((attribute, False, None))
    _converters, keys = _tuple_plan(query)
    return query.model, items, keys


def _instances_of(plan, text):
    model, items, keys = plan
    rows = json.loads(text) if isinstance(text, str) else (text or [])
    for index, descending in reversed(keys):
        rows.sort(key=lambda row, i=index: _sort_key(row[i]), reverse=descending)
    instances = []
    for values in rows:
        row = model.__new__(model)
        data, extra = {}, {}
        for (attribute, is_field, convert), value in zip(items, values, strict=True):
            if value is not None and convert is not None:
                value = convert(value)
            (data if is_field else extra)[attribute] = value
        row.__data__, row._dirty, row.__rel__ = data, set(), {}
        if extra:
            row.__dict__.update(extra)
        instances.append(row)
    return instances


def prebuilt_together_rows(name, build, **values):
    """prebuilt_together() with the instances made as prebuilt_rows() makes them (their data
    set directly, nothing dirty), several times faster for rows of many columns. `name` must
    not be one another prebuilt helper uses."""
    return _together_as(name, build, values, _instance_plan, _instances_of)


def prebuilt_write(name, build, **values):
    """Run the UPDATE, INSERT or DELETE `build(**values)` gives, its SQL built once per process
    and database like prebuilt_together's; returns the driver's cursor (its RETURNING rows, if
    the statement has some). Every value must land as a parameter of its own (ValueError on
    the first call otherwise); `build` must give the same SQL whatever the values. A value
    that Peewee would convert (a JSON field, a boolean) goes in converted, as a
    `Value(..., unpack=False)` without converter: see prebuilt_create."""

    def node(**stand_ins):
        query = build(**stand_ins)
        return query, None

    sql, params, _what = _prebuilt(name, node, values, strict=True)
    return db.execute_sql(sql, params)


def prebuilt_update(name, build, **values):
    """prebuilt_write() of an UPDATE: the rows it changed, as Peewee's `.execute()` gives."""
    return db.obj.rows_affected(prebuilt_write(name, build, **values))


def prebuilt_create(model, **fields):
    """`model.create(**fields)`: the same instance (its defaults filled in, its new id set,
    nothing dirty) and the same INSERT, its SQL built once per process and database for each
    set of columns. For a model with an auto-incrementing id only."""
    instance = model(**fields)
    instance._populate_unsaved_relations(instance.__data__)
    pk = model._meta.primary_key
    data = {k: v for k, v in instance.__data__.items() if k != pk.name}
    columns = tuple(data)
    fields_ = model._meta.fields
    values = {f"v{n}": fields_[key].db_value(value) for n, (key, value) in enumerate(data.items())}

    def build(**stand_ins):
        query = model.insert(
            {fields_[key]: Value(stand_ins[f"v{n}"], unpack=False) for n, key in enumerate(columns)}
        )
        return query.returning(pk) if db.obj.returning_clause else query

    cursor = prebuilt_write(("create", model.__name__, columns), build, **values)
    if db.obj.returning_clause:
        row = cursor.fetchone()
        new_id = row[0] if row else None
    else:
        new_id = cursor.lastrowid
    instance._pk = new_id
    instance._dirty.clear()
    return instance


def prebuilt_set(model, changes, **where):
    """`model.update(**changes).where(field == value for each of where).execute()` (plain
    values only, no expressions): the rows changed, the same UPDATE, its SQL built once per
    process and database for each set of columns. Values go through their fields' db_value
    as Peewee's would."""
    fields = model._meta.fields
    columns, keys = tuple(changes), tuple(where)
    values = {f"s{n}": fields[k].db_value(v) for n, (k, v) in enumerate(changes.items())}
    values.update({f"w{n}": fields[k].db_value(v) for n, (k, v) in enumerate(where.items())})

    def build(**stand_ins):
        query = model.update(
            {fields[k]: Value(stand_ins[f"s{n}"], unpack=False) for n, k in enumerate(columns)}
        )
        condition = None
        for n, key in enumerate(keys):
            term = fields[key] == Value(stand_ins[f"w{n}"], unpack=False)
            condition = term if condition is None else condition & term
        return query.where(condition) if condition is not None else query

    return prebuilt_update(("set", model.__name__, columns, keys), build, **values)
