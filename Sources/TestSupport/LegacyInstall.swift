import Foundation
import Postgres
import QueueStore

/// An install from before migration 0013, built the way the 0012-era `queuetop migrate` built it:
/// `public.schema_migrations`, then each of 0001–0012 in its own transaction with
/// `search_path = public`, recorded with its SHA-256. Tests that upgrade such an install (the
/// catalog golden, the live schema move under workers) start from this.
public enum LegacyInstall {
    /// The versioned files an install from before 0013 had: 0001–0012.
    public static var files: [MigrationFile] {
        get throws { try MigrationFiles.loadSet().versioned.filter { $0.name < "0013" } }
    }

    /// Installs 0001–0012 into `public` on `conn` and resets the session's search_path afterwards.
    public static func installInPublic(on conn: Connection) throws {
        try conn.executeScript("""
            SET search_path = public;
            CREATE TABLE schema_migrations (name text PRIMARY KEY, checksum text NOT NULL,
              applied_at timestamptz NOT NULL DEFAULT now(), applied_by text NOT NULL DEFAULT session_user)
            """)
        for file in try files {
            try conn.transaction { tx in
                try tx.executeScript(file.sql)
                try tx.execute("""
                    INSERT INTO public.schema_migrations (name, checksum)
                    VALUES (\(file.name), encode(sha256(convert_to(\(file.sql), 'UTF8')), 'hex'))
                    """)
            }
        }
        try conn.executeScript("RESET search_path")
    }
}
