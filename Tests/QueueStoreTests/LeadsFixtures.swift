import Foundation
import Postgres
import QueueStore

/// A run of leads, a destination funnel column and a second funnel, in a test database.
struct LeadsFixture {
    let run: UUID
    let funnel: UUID
    let column: UUID
    /// A column of another funnel (for "column not in that funnel").
    let otherFunnel: UUID
    let otherColumn: UUID

    /// Inserts `leads` leads into a new run, and counts every move of every lead in `lead_moves`
    /// (a trigger), so tests can assert "moved exactly once" rather than infer it.
    static func make(on conn: Connection, leads: Int, runName: String = "Restaurantes - 10/12/2025 09:07") throws -> LeadsFixture {
        let f = LeadsFixture(run: UUID(), funnel: UUID(), column: UUID(), otherFunnel: UUID(), otherColumn: UUID())
        try conn.execute("INSERT INTO extraction_runs (id, name) VALUES (\(f.run), \(runName))")
        try conn.execute("INSERT INTO funnels (id, name) VALUES (\(f.funnel), 'Emails Gih'), (\(f.otherFunnel), 'Outro')")
        try conn.execute("""
            INSERT INTO funnel_columns (id, funnel_id, name)
            VALUES (\(f.column), \(f.funnel), 'Novo'), (\(f.otherColumn), \(f.otherFunnel), 'Outra')
            """)
        try conn.execute("""
            INSERT INTO leads (run_id, name) SELECT \(f.run), 'lead ' || g FROM generate_series(1, \(leads)) g
            """)
        try conn.executeScript("""
            CREATE TABLE IF NOT EXISTS lead_moves (lead_id uuid PRIMARY KEY, moves int NOT NULL);
            CREATE OR REPLACE FUNCTION count_lead_move() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO lead_moves VALUES (NEW.id, 1)
                ON CONFLICT (lead_id) DO UPDATE SET moves = lead_moves.moves + 1;
                RETURN NEW;
            END $$;
            DROP TRIGGER IF EXISTS count_lead_move ON leads;
            CREATE TRIGGER count_lead_move AFTER UPDATE OF funnel_id, column_id ON leads
                FOR EACH ROW EXECUTE FUNCTION count_lead_move();
            """)
        return f
    }

    /// Leads of the run now in the destination column.
    func movedCount(_ conn: Connection) throws -> Int {
        try conn.query("SELECT count(*) FROM leads WHERE run_id = \(run) AND column_id = \(column)").scalar()
    }

    /// (leads moved at least once, the largest number of moves of any lead).
    func moveCounts(_ conn: Connection) throws -> (leads: Int, maxMoves: Int) {
        let row = try conn.query("SELECT count(*) AS n, coalesce(max(moves), 0) AS m FROM lead_moves")[0]
        return (try row.decode("n"), try row.decode("m"))
    }
}

/// Counts rows of a table (a fixed name from the test, never input).
func rowCount(_ conn: Connection, _ table: String) throws -> Int {
    try conn.query("SELECT count(*) FROM \(unsafeRaw: table)").scalar()
}
