import Foundation

/// The one piece of SQL that installs or upgrades queuetop: `queuetop migrate` sends it, and
/// `migrations/queuetop.sql` (this script wrapped in BEGIN/COMMIT, checked in) is what a
/// Supabase user pastes. One algorithm for both, so a paste install and a `migrate` install end
/// in the same catalog (the catalog golden test holds them to it). docs/SQL_LAYOUT.md explains
/// the layout; this type only writes the SQL.
///
/// The script is a DO block carrying every file's text in a dollar-quoted literal. It:
/// 1. takes a transaction-level advisory lock (nothing session-level: behind a transaction
///    pooler a session lock or unlock may land on another server connection);
/// 2. finds where the install lives (`pg_temp.queuetop_install_home`): the target schema, an
///    older install's schema (`public` before 0013), or nowhere (fresh);
/// 3. adopts a hand-applied install that has no bookkeeping: each versioned file whose new
///    objects are all present is recorded as `adopted`; a file with some present and some
///    missing stops everything with a message naming both;
/// 4. refuses an applied file whose text changed, then runs each pending versioned file with
///    `search_path` set to the install's schema, recording its SHA-256;
/// 5. runs every repeatable file in the target schema when any of them changed or anything
///    versioned ran, recording their checksums.
/// Everything happens in the caller's one transaction: a database is either upgraded whole or
/// not touched, and a running worker never sees a half-upgraded schema.
public struct InstallScript: Sendable {
    public let versioned: [MigrationFile]
    public let repeatable: [MigrationFile]

    public init(versioned: [MigrationFile], repeatable: [MigrationFile]) {
        self.versioned = versioned
        self.repeatable = repeatable
    }

    public static let defaultSchema = "queuetop"
    /// pg_advisory_xact_lock key shared by every installer ("queuetop" in ASCII).
    static let lockKey: Int64 = 0x7175_6575_6574_6f70

    /// A schema name queuetop accepts: plain lower-case, so it never needs quoting and reads
    /// the same in psql, PostgREST settings and error messages.
    public static func validateSchema(_ name: String) throws {
        let ok = !name.isEmpty && name.utf8.count <= 63
            && name.first.map { $0 == "_" || ("a"..."z").contains($0) } == true
            && name.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        if !ok {
            throw QueueStoreError.invalidInput(
                "schema name '\(name.prefix(64))' is not allowed: use lower-case letters, digits and _, "
                + "starting with a letter or _, at most 63 characters")
        }
        if name.hasPrefix("pg_") || name == "public" || name == "information_schema" {
            throw QueueStoreError.invalidInput(
                "schema '\(name)' is not queuetop's own: choose a schema that only queuetop uses (default \(defaultSchema))")
        }
    }

    /// The objects each versioned file creates that no earlier file created, as "kind:name"
    /// (kinds: relation, type, function, column "table.column"). Adoption checks them.
    public var newObjectsPerFile: [[String]] {
        var seen = Set<String>()
        return versioned.map { file in
            let found = Self.createdObjects(in: file.sql).filter { !seen.contains($0) }
            var unique: [String] = []
            for marker in found where !unique.contains(marker) { unique.append(marker) }
            seen.formUnion(unique)
            return unique
        }
    }

    /// Statements at the start of a line only: CREATE text inside dynamic SQL strings or
    /// comments is not an object this file creates.
    static func createdObjects(in sql: String) -> [String] {
        let patterns: [(String, String)] = [
            ("relation", #"^\s*create\s+(?:unlogged\s+)?table\s+(?:if\s+not\s+exists\s+)?([a-z_][a-z0-9_]*)\s*[\(]"#),
            ("relation", #"^\s*create\s+(?:unique\s+)?index\s+(?:concurrently\s+)?(?:if\s+not\s+exists\s+)?([a-z_][a-z0-9_]*)\s+on\b"#),
            ("relation", #"^\s*create\s+(?:or\s+replace\s+)?view\s+([a-z_][a-z0-9_]*)"#),
            ("type", #"^\s*create\s+type\s+([a-z_][a-z0-9_]*)"#),
            ("function", #"^\s*create\s+(?:or\s+replace\s+)?(?:function|procedure)\s+([a-z_][a-z0-9_]*)\s*\("#),
        ]
        var markers: [String] = []
        let lowered = sql.lowercased()
        for (kind, pattern) in patterns {
            let regex = try! NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines])
            for match in regex.matches(in: lowered, range: NSRange(lowered.startIndex..., in: lowered)) {
                if let r = Range(match.range(at: 1), in: lowered) { markers.append("\(kind):\(lowered[r])") }
            }
        }
        // ALTER TABLE t ADD COLUMN c … (several ADD COLUMN clauses may follow one ALTER TABLE).
        let alter = try! NSRegularExpression(
            pattern: #"^\s*alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?([a-z_][a-z0-9_]*)\s+((?:[^;]|\n)*?);"#,
            options: [.anchorsMatchLines])
        let addColumn = try! NSRegularExpression(pattern: #"add\s+column\s+(?:if\s+not\s+exists\s+)?([a-z_][a-z0-9_]*)"#)
        for match in alter.matches(in: lowered, range: NSRange(lowered.startIndex..., in: lowered)) {
            guard let t = Range(match.range(at: 1), in: lowered), let body = Range(match.range(at: 2), in: lowered) else { continue }
            let clause = String(lowered[body])
            for col in addColumn.matches(in: clause, range: NSRange(clause.startIndex..., in: clause)) {
                if let c = Range(col.range(at: 1), in: clause) { markers.append("column:\(lowered[t]).\(clause[c])") }
            }
        }
        // Helpers a file creates and drops again (0007's _roles_* functions) are not left behind.
        let drop = try! NSRegularExpression(
            pattern: #"^\s*drop\s+(function|procedure|table|view|type|index)\s+(?:if\s+exists\s+)?([a-z_][a-z0-9_]*)"#,
            options: [.anchorsMatchLines])
        for match in drop.matches(in: lowered, range: NSRange(lowered.startIndex..., in: lowered)) {
            guard let k = Range(match.range(at: 1), in: lowered), let n = Range(match.range(at: 2), in: lowered) else { continue }
            let kind = switch lowered[k] {
            case "function", "procedure": "function"
            case "type": "type"
            default: "relation"
            }
            markers.removeAll { $0 == "\(kind):\(lowered[n])" }
        }
        return markers
    }

    /// A dollar-quote tag that occurs nowhere in `text`.
    static func dollarQuote(_ text: String, tag base: String) -> String {
        var tag = base
        var n = 0
        while text.contains("$\(tag)$") { n += 1; tag = "\(base)_\(n)" }
        return "$\(tag)$\(text)$\(tag)$"
    }

    static func sqlLiteral(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    static func textArray(_ items: [String]) -> String {
        items.isEmpty ? "array[]::text[]" : "array[\n    " + items.joined(separator: ",\n    ") + "]"
    }

    /// The helper that locates an install, shared by the script and `migrate --status`.
    /// Returns the schema that holds the install and how it is known:
    ///   'recorded' (schema_migrations lists 0001), 'hand' (queuetop tables, no bookkeeping),
    ///   'none' (nothing: a fresh install goes to the target).
    static let locateFunction = """
        create or replace function pg_temp.queuetop_install_home(p_target text, out home text, out how text)
        language plpgsql as $locate$
        declare
          v_found text[];
          v_queuetop text[];
          v_schema text;
          v_has boolean;
        begin
          -- Bookkeeping wins: the target's, else an older install's (public before 0013).
          if to_regclass(format('%I.schema_migrations', p_target)) is not null then
            home := p_target; how := 'recorded'; return;
          end if;
          select array_agg(n.nspname order by n.nspname) into v_found
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where c.relname = 'schema_migrations' and c.relkind = 'r'
             and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'checksum')
             and n.nspname not like 'pg\\_%' and has_schema_privilege(n.oid, 'USAGE');
          -- Only a table that lists 0001 is queuetop's (an application may keep its own).
          v_queuetop := '{}';
          foreach v_schema in array coalesce(v_found, '{}') loop
            execute format('select exists (select 1 from %I.schema_migrations where name = $1)', v_schema)
              into v_has using '0001_queue_engine.sql';
            if v_has then v_queuetop := v_queuetop || v_schema; end if;
          end loop;
          v_found := v_queuetop;
          if cardinality(v_found) > 1 then
            raise exception 'queuetop installs found in several schemas (%): name the one to upgrade with queuetop.schema',
              array_to_string(v_found, ', ');
          elsif cardinality(v_found) = 1 then
            home := v_found[1]; how := 'recorded'; return;
          end if;
          -- No bookkeeping: objects applied by hand (pasted into an SQL editor, as the seeds did).
          select array_agg(n.nspname order by n.nspname) into v_found
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where c.relname = 'job_queue' and c.relkind = 'r'
             and n.nspname not like 'pg\\_%'
             -- to_regclass raises for a schema this role may not use: test the privilege first.
             and case when has_schema_privilege(n.oid, 'USAGE')
                      then to_regclass(format('%I.job_attempts', n.nspname)) is not null
                       and to_regclass(format('%I.queues', n.nspname)) is not null
                      else false end;
          if cardinality(v_found) > 1 then
            if p_target = any (v_found) then home := p_target; how := 'hand'; return; end if;
            raise exception 'hand-applied queuetop objects found in several schemas (%): name the one to adopt with queuetop.schema',
              array_to_string(v_found, ', ');
          elsif cardinality(v_found) = 1 then
            home := v_found[1]; how := 'hand'; return;
          end if;
          home := null; how := 'none';
        end $locate$;
        """

    /// The DO block, without BEGIN/COMMIT: run it inside one transaction after
    /// `select set_config('queuetop.schema', <schema>, true)` (unset means `queuetop`).
    public var body: String {
        let names = versioned.map { Self.sqlLiteral($0.name) }
        let texts = versioned.map { Self.dollarQuote($0.sql, tag: "qt_\($0.name.prefix(4))") }
        let markers = newObjectsPerFile.map { Self.sqlLiteral($0.joined(separator: " ")) }
        let rNames = repeatable.map { Self.sqlLiteral("repeatable/" + $0.name) }
        let rTexts = repeatable.map { Self.dollarQuote($0.sql, tag: "qt_r\($0.name.prefix(2))") }
        return """
        \(Self.locateFunction)

        do $qt_install$
        declare
          v_target text := coalesce(nullif(current_setting('queuetop.schema', true), ''), '\(Self.defaultSchema)');
          v_names text[] := \(Self.textArray(names));
          v_sql text[] := \(Self.textArray(texts));
          v_markers text[] := \(Self.textArray(markers));
          v_rnames text[] := \(Self.textArray(rNames));
          v_rsql text[] := \(Self.textArray(rTexts));
          v_home text;
          v_how text;
          v_i int;
          v_marker text;
          v_present int;
          v_missing text[];
          v_last int;
          v_gap text;
          v_checksum text;
          v_recorded text;
          v_ran_versioned boolean := false;
          v_repeatables_current boolean := true;
        begin
          perform pg_advisory_xact_lock(\(Self.lockKey));
          if v_target !~ '^[a-z_][a-z0-9_]*$' or length(v_target) > 63 or v_target like 'pg\\_%'
             or v_target in ('public', 'information_schema') then
            raise exception 'queuetop.schema % is not allowed: choose a schema of queuetop''s own, lower-case letters, digits and _',
              quote_literal(v_target);
          end if;
          select home, how into v_home, v_how from pg_temp.queuetop_install_home(v_target);

          if v_how = 'none' then
            -- Fresh install. The target may exist only if it is empty (an administrator may
            -- create it for queuetop beforehand); a schema holding anything else is not ours.
            if exists (select 1 from pg_namespace where nspname = v_target) then
              if exists (select 1 from pg_class where relnamespace = v_target::regnamespace)
                 or exists (select 1 from pg_proc where pronamespace = v_target::regnamespace)
                 or exists (select 1 from pg_type t where typnamespace = v_target::regnamespace) then
                raise exception 'schema % already exists and holds objects that are not queuetop''s', v_target
                  using hint = 'Choose another schema with queuetop.schema (queuetop migrate --schema NAME).';
              end if;
            else
              execute format('create schema %I', v_target);
              execute format('comment on schema %I is %L', v_target,
                'queuetop: job queue, dead-letter queue, health views (docs/SQL_LAYOUT.md)');
            end if;
            v_home := v_target;
          end if;

          perform set_config('search_path', format('%I, pg_temp', v_home), true);
          if to_regclass(format('%I.schema_migrations', v_home)) is null then
            execute format($t$create table %I.schema_migrations (
                name       text primary key,
                checksum   text not null,
                applied_at timestamptz not null default now(),
                applied_by text not null default session_user,
                how        text not null default 'applied' check (how in ('applied', 'adopted', 'repeatable'))
              )$t$, v_home);
          elsif not exists (select 1 from pg_attribute where attrelid = format('%I.schema_migrations', v_home)::regclass
                                                        and attname = 'how' and not attisdropped) then
            execute format($t$alter table %I.schema_migrations add column how text not null default 'applied'
                               check (how in ('applied', 'adopted', 'repeatable'))$t$, v_home);
          end if;

          -- Adopt what was applied by hand: every file up to the last one whose new objects are
          -- all there. A file that creates nothing new (it only replaces function bodies or
          -- grants) cannot be told applied or not; before that last file it counts as applied,
          -- after it it runs (such files are written to run again safely).
          if v_how = 'hand' then
            v_last := 0;
            for v_i in 1 .. cardinality(v_names) loop
              v_present := 0; v_missing := '{}';
              foreach v_marker in array coalesce(string_to_array(nullif(v_markers[v_i], ''), ' '), '{}') loop
                if (case split_part(v_marker, ':', 1)
                     when 'relation' then to_regclass(format('%I.%I', v_home, split_part(v_marker, ':', 2))) is not null
                     when 'type' then to_regtype(format('%I.%I', v_home, split_part(v_marker, ':', 2))) is not null
                     when 'function' then exists (select 1 from pg_proc where pronamespace = v_home::regnamespace
                                                                      and proname = split_part(v_marker, ':', 2))
                     when 'column' then exists (select 1 from pg_attribute a
                                                  where a.attrelid = to_regclass(format('%I.%I', v_home,
                                                          split_part(split_part(v_marker, ':', 2), '.', 1)))
                                                    and a.attname = split_part(split_part(v_marker, ':', 2), '.', 2)
                                                    and not a.attisdropped)
                   end) then
                  v_present := v_present + 1;
                else
                  v_missing := v_missing || v_marker;
                end if;
              end loop;
              if v_present > 0 and cardinality(v_missing) > 0 then
                raise exception 'the hand-applied queuetop install in schema % is partial: % is applied in part (missing %)',
                  v_home, v_names[v_i], array_to_string(v_missing, ', ')
                  using hint = 'Finish applying that file by hand, or restore the database from before it, then run the installer again.';
              elsif v_present > 0 then
                if v_gap is not null then
                  raise exception 'the hand-applied queuetop install in schema % skips %: % is applied but that earlier file is not',
                    v_home, v_gap, v_names[v_i];
                end if;
                v_last := v_i;
              elsif cardinality(v_missing) > 0 and v_gap is null then
                v_gap := v_names[v_i];
              end if;
            end loop;
            for v_i in 1 .. v_last loop
              execute format('insert into %I.schema_migrations (name, checksum, how) values ($1, $2, %L)', v_home, 'adopted')
                using v_names[v_i], encode(sha256(convert_to(v_sql[v_i], 'UTF8')), 'hex');
            end loop;
          end if;

          -- Applied files must be what this build ships: an edited one is refused by name.
          for v_i in 1 .. cardinality(v_names) loop
            execute format('select checksum from %I.schema_migrations where name = $1 and how <> %L', v_home, 'adopted')
              into v_recorded using v_names[v_i];
            if v_recorded is not null and v_recorded <> encode(sha256(convert_to(v_sql[v_i], 'UTF8')), 'hex') then
              raise exception 'migration % was changed after it was applied; applied migrations must not be edited: add a new file instead',
                v_names[v_i];
            end if;
          end loop;

          -- Pending versioned files, in order, in the schema the install lives in (0013 moves it).
          for v_i in 1 .. cardinality(v_names) loop
            execute format('select checksum from %I.schema_migrations where name = $1', v_home)
              into v_recorded using v_names[v_i];
            continue when v_recorded is not null;
            perform set_config('search_path', format('%I, pg_temp', v_home), true);
            perform set_config('queuetop.schema', v_target, true);
            begin
              execute v_sql[v_i];
            exception when others then
              raise exception 'migration % failed: %', v_names[v_i], sqlerrm using errcode = sqlstate;
            end;
            if v_home <> v_target and to_regclass(format('%I.schema_migrations', v_target)) is not null then
              v_home := v_target;  -- this file moved the install (0013)
            end if;
            execute format('insert into %I.schema_migrations (name, checksum) values ($1, $2)', v_home)
              using v_names[v_i], encode(sha256(convert_to(v_sql[v_i], 'UTF8')), 'hex');
            v_ran_versioned := true;
          end loop;
          if v_home <> v_target then
            raise exception 'the install is still in schema % after every migration ran; expected %', v_home, v_target;
          end if;

          -- Repeatable files: all of them, together, when any changed or anything versioned ran.
          for v_i in 1 .. cardinality(v_rnames) loop
            execute format('select checksum from %I.schema_migrations where name = $1', v_target)
              into v_recorded using v_rnames[v_i];
            if v_recorded is distinct from encode(sha256(convert_to(v_rsql[v_i], 'UTF8')), 'hex') then
              v_repeatables_current := false;
            end if;
          end loop;
          if v_ran_versioned or not v_repeatables_current then
            perform set_config('search_path', format('%I, pg_temp', v_target), true);
            for v_i in 1 .. cardinality(v_rnames) loop
              begin
                execute v_rsql[v_i];
              exception when others then
                raise exception '% failed: %', v_rnames[v_i], sqlerrm using errcode = sqlstate;
              end;
              v_checksum := encode(sha256(convert_to(v_rsql[v_i], 'UTF8')), 'hex');
              execute format($u$insert into %I.schema_migrations (name, checksum, how) values ($1, $2, 'repeatable')
                                 on conflict (name) do update set checksum = excluded.checksum, applied_at = now(),
                                                                  applied_by = session_user$u$, v_target)
                using v_rnames[v_i], v_checksum;
            end loop;
          end if;
          -- Repeatable files no longer shipped are forgotten (their objects went with a versioned DROP).
          execute format('delete from %I.schema_migrations where how = %L and name <> all ($1)', v_target, 'repeatable')
            using v_rnames;
        end $qt_install$;

        drop function pg_temp.queuetop_install_home(text);
        """
    }

    /// `migrations/queuetop.sql`: the script as a Supabase user pastes it.
    public var bundle: String {
        """
        -- queuetop: install or upgrade in one paste. GENERATED by `queuetop sql bundle` from
        -- migrations/NNNN_*.sql and migrations/repeatable/*.sql: edit those, not this file
        -- (a test fails when this file is not what they generate).
        --
        -- Paste the whole file into Supabase's SQL editor, or run
        --   psql -v ON_ERROR_STOP=1 -f migrations/queuetop.sql "$DATABASE_URL"
        -- as the role that owns (or will own) queuetop's objects. It is safe to run again: it
        -- applies only what the database lacks, and records everything exactly as
        -- `queuetop migrate` does. To install into a schema other than `queuetop`, change the
        -- set_config line below (and give the same name to every queuetop command with --schema).
        begin;
        select set_config('queuetop.schema', '\(Self.defaultSchema)', true);
        \(body)
        commit;

        """
    }
}
