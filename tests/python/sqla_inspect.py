"""Prints, as JSON, what SQLAlchemy's Inspector says about the lake at the URL given as the
first argument. Run by test_clients.py with other SQLAlchemy versions' interpreters (1.4, and
2.1 with pandas), so it must not import anything from the tests. Where pandas is installed it
also reads a table with `pandas.read_sql_table` (which reflects it through the Inspector)."""

import json
import sys

import sqlalchemy


def main(url):
    engine = sqlalchemy.create_engine(url)
    try:
        insp = sqlalchemy.inspect(engine)
        columns = {c["name"]: c for c in insp.get_columns("messages", schema="public")}
        summary = {
            "version": sqlalchemy.__version__,
            "tables": sorted(insp.get_table_names(schema="public")),
            "views": sorted(insp.get_view_names(schema="public")),
            "schemas": sorted(insp.get_schema_names()),
            "types": {name: str(columns[name]["type"]) for name in
                      ("message_id", "ts", "is_template", "calling_code")},
            "nullable": {name: columns[name]["nullable"] for name in ("message_id", "wa_id")},
            "view_sql": insp.get_view_definition("tenant_messages", schema="public"),
            "keys": {
                "pk": insp.get_pk_constraint("messages")["constrained_columns"],
                "indexes": insp.get_indexes("messages"),
                "fks": insp.get_foreign_keys("messages"),
                "unique": insp.get_unique_constraints("messages"),
            },
        }
        try:
            import pandas
        except ImportError:
            pandas = None
        if pandas is not None:
            frame = pandas.read_sql_table("tenants", engine, schema="public")
            summary["pandas"] = {"version": pandas.__version__, "columns": list(frame.columns),
                                 "rows": len(frame)}
    finally:
        engine.dispose()
    json.dump(summary, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
