"""The audit log cannot be rewritten: the database refuses to change (and on PostgreSQL to delete) an entry.

SQLite keeps DELETE possible because Django's test flush empties tables with
DELETE; PostgreSQL flushes with TRUNCATE, which row triggers do not see.
"""

from django.db import migrations

POSTGRES_UP = """
CREATE FUNCTION desk_auditentry_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries cannot be changed or deleted' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER desk_auditentry_no_change BEFORE UPDATE OR DELETE ON desk_auditentry
    FOR EACH ROW EXECUTE FUNCTION desk_auditentry_refuse_change();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS desk_auditentry_no_change ON desk_auditentry;
DROP FUNCTION IF EXISTS desk_auditentry_refuse_change();
"""
SQLITE_UP = """
CREATE TRIGGER desk_auditentry_no_change BEFORE UPDATE ON desk_auditentry
BEGIN
    SELECT RAISE(ABORT, 'audit entries cannot be changed');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS desk_auditentry_no_change;"


def install(apps: object, schema_editor: object) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def remove(apps: object, schema_editor: object) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("desk", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
