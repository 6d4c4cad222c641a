import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Migration 0007's roles, shown by connecting as a login member of each and letting the
/// database itself allow or refuse: nothing here is checked by queuetop's own code.
@Suite struct RoleTests {
    /// Runs `sql` and returns the SQLSTATE it failed with, nil when it succeeded.
    func refusal(_ conn: Connection, _ sql: Query) -> String? {
        do {
            _ = try conn.query(sql)
            return nil
        } catch let error as PostgresError {
            return error.sqlState ?? "connection"
        } catch {
            return "\(error)"
        }
    }

    /// A queue with one pending job, one dead-letter job and one audit row, made by the owner.
    func seed(_ owner: Connection) throws -> (pending: UUID, dead: UUID) {
        let jobs = JobStore(connection: owner)
        let pending = try jobs.enqueue(NewJob(queue: "roles", type: "send")).id
        let dead = try jobs.enqueue(NewJob(queue: "roles", type: "send")).id
        try owner.query("SELECT \(qt: "fail_job")(\(dead), 'boom', 'smtp_error', NULL, false)")
        try owner.query("SELECT \(qt: "record_audit")('test.seed', '{}', 1)")
        return (pending, dead)
    }

    func count(_ conn: Connection, _ sql: Query) throws -> Int { try conn.query(sql).scalar(Int.self) }

    @Test func viewerReadsEverythingTheDashboardShowsAndChangesNothing() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            let ids = try seed(owner)
            try db.withLoginRole(in: "queuetop_viewer") { config, _ in
                let viewer = try Connection.connect(config)
                defer { viewer.close() }
                // Every view of the schema, the dashboard's snapshot and the seed's status RPC.
                let views: [String] = try owner.query(
                    "SELECT viewname::text FROM pg_views WHERE schemaname = \(owner.schema) ORDER BY 1").map { try $0.decode(0) }
                #expect(views.count >= 10)
                for view in views {
                    let name = "\"" + viewer.schema + "\".\"" + view + "\""
                    #expect(refusal(viewer, "SELECT * FROM \(unsafeRaw: name) LIMIT 1") == nil, "viewer cannot read \(view)")
                }
                #expect(refusal(viewer, "SELECT \(qt: "queue_health_snapshot")()") == nil)
                #expect(refusal(viewer, "SELECT \(qt: "get_lead_migration_queue_status")()") == nil)
                #expect(try DLQStore(connection: viewer).list().map(\.id) == [ids.dead])
                #expect(try AuditStore(connection: viewer).list().count == 1)

                // Refused by the database: operator actions, the worker's claim, any write.
                #expect(refusal(viewer, "SELECT \(qt: "requeue_dlq_job")(\(ids.dead), true)") == "42501")
                #expect(refusal(viewer, "SELECT \(qt: "delete_dlq_jobs")(ARRAY[\(ids.dead)]::uuid[])") == "42501")
                #expect(refusal(viewer, "SELECT \(qt: "pause_queue")('roles')") == "42501")
                #expect(refusal(viewer, "SELECT \(qt: "cancel_job")(\(ids.pending))") == "42501")
                #expect(refusal(viewer, "SELECT * FROM \(qt: "claim_jobs")('w', NULL, 10)") == "42501")
                #expect(refusal(viewer, "SELECT \(qt: "enqueue_job")('roles', 'send')") == "42501")
                #expect(refusal(viewer, "INSERT INTO \(qt: "job_queue") (queue, job_type) VALUES ('roles', 'send')") == "42501")
                #expect(refusal(viewer, "UPDATE \(qt: "job_queue") SET status = 'pending' WHERE id = \(ids.dead)") == "42501")
                #expect(refusal(viewer, "INSERT INTO \(qt: "audit_log") (action) VALUES ('forged')") == "42501")
                #expect(refusal(viewer, "SELECT \(qt: "record_audit")('forged', '{}', 1)") == "42501")
            }
            // Nothing changed.
            #expect(try count(owner, "SELECT count(*)::int FROM \(qt: "job_queue") WHERE status = 'dead_letter'") == 1)
            #expect(try count(owner, "SELECT count(*)::int FROM \(qt: "job_queue") WHERE status = 'pending'") == 1)
            #expect(try count(owner, "SELECT count(*)::int FROM \(qt: "audit_log")") == 1)
            #expect(try count(owner, "SELECT count(*)::int FROM \(qt: "queues") WHERE paused") == 0)
        }
    }

    @Test func operatorActsThroughAuditedFunctionsButCannotEditTheAuditTrail() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            let ids = try seed(owner)
            try db.withLoginRole(in: "queuetop_operator") { config, roleName in
                let op = try Connection.connect(config)
                defer { op.close() }
                try op.query("SELECT set_config('queuetop.actor', 'alice@laptop', false)")
                let queues = QueueConfigStore(connection: op)
                #expect(try queues.pause("roles").paused)
                #expect(try queues.setConcurrency("roles", 3).concurrencyLimit == 3)
                try DLQStore(connection: op).requeue(id: ids.dead)
                try JobStore(connection: op).cancel(id: ids.pending)
                // The audit rows name the login role as the actor, though the functions run as
                // their owner (SECURITY DEFINER); what the client said is kept apart, unverified.
                let actors: [String] = try owner.query("""
                    SELECT db_role || ' ' || actor || ' ' || client_label FROM \(qt: "audit_log")
                    WHERE action <> 'test.seed' ORDER BY id
                    """).map { try $0.decode(0) }
                #expect(actors == Array(repeating: "\(roleName) \(roleName) alice@laptop", count: 4))

                // Refused: rewriting or deleting the trail, raw table writes, the worker's path.
                #expect(refusal(op, "UPDATE \(qt: "audit_log") SET affected = 0") == "42501")
                #expect(refusal(op, "DELETE FROM \(qt: "audit_log")") == "42501")
                #expect(refusal(op, "TRUNCATE \(qt: "audit_log")") == "42501")
                #expect(refusal(op, "UPDATE \(qt: "job_queue") SET status = 'completed'") == "42501")
                #expect(refusal(op, "DELETE FROM \(qt: "job_queue")") == "42501")
                #expect(refusal(op, "SELECT * FROM \(qt: "claim_jobs")('w', NULL, 10)") == "42501")
                #expect(refusal(op, "SELECT \(qt: "complete_jobs")('w', ARRAY[\(ids.dead)]::uuid[])") == "42501")
                // The batch-count helper is internal: an operator cannot inflate an audit row.
                #expect(refusal(op, "SELECT \(qt: "_audit_add")(1, 'test.seed', '{}', 100)") == "42501")
            }
            #expect(try count(owner, "SELECT count(*)::int FROM \(qt: "audit_log")") == 5)
            #expect(try count(owner, "SELECT affected::int FROM \(qt: "audit_log") WHERE action = 'test.seed'") == 1)
            #expect(try count(owner, "SELECT count(*)::int FROM \(qt: "job_queue") WHERE status = 'pending'") == 1)
            #expect(try count(owner, "SELECT count(*)::int FROM \(qt: "job_queue") WHERE status = 'cancelled'") == 1)
        }
    }

    @Test func theAuditTrailRefusesEditsEvenFromARoleGrantedUpdate() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            _ = try seed(owner)
            try db.withLoginRole(in: "queuetop_operator") { config, roleName in
                // A mistaken grant later on: the append-only trigger still holds.
                try owner.executeScript("GRANT UPDATE, DELETE ON audit_log TO \"\(roleName)\"")
                defer { _ = try? owner.executeScript("REVOKE UPDATE, DELETE ON audit_log FROM \"\(roleName)\"") }
                let op = try Connection.connect(config)
                defer { op.close() }
                #expect(refusal(op, "UPDATE \(qt: "audit_log") SET affected = 0") == "42501")
                #expect(refusal(op, "DELETE FROM \(qt: "audit_log")") == "42501")
            }
            #expect(try count(owner, "SELECT affected::int FROM \(qt: "audit_log")") == 1)
            // The owner still maintains it (retention).
            #expect(try owner.execute("DELETE FROM \(qt: "audit_log")") == 1)
        }
    }

    @Test func workerRunsTheHotPathAndNothingElse() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            let ids = try seed(owner)
            try db.withLoginRole(in: "queuetop_worker") { config, _ in
                let worker = try Connection.connect(config)
                defer { worker.close() }
                let jobs = JobStore(connection: worker)
                let workerStore = WorkerStore(connection: worker, workerID: "w-roles")
                try workerStore.register(host: "h", pid: 1, queues: ["roles"], concurrency: 2)
                #expect(try workerStore.queueSettings(queues: ["roles"]).map(\.name) == ["roles"])
                _ = try jobs.enqueue(NewJob(queue: "roles", type: "send"))
                let claimed = try jobs.claim(worker: "w-roles", queues: ["roles"], max: 10)
                #expect(claimed.count == 2)
                #expect(try jobs.heartbeat(worker: "w-roles", ids: claimed.map(\.id)) == 2)
                #expect(try jobs.complete(worker: "w-roles", ids: [claimed[0].id]) == 1)
                #expect(try jobs.release(worker: "w-roles", ids: [claimed[1].id]) == 1)
                _ = try jobs.rescueStale()
                _ = try workerStore.registryHeartbeat(inFlight: 0)
                try workerStore.deregister()

                // Refused: the DLQ, the audit trail, operator actions, raw reads and writes.
                #expect(refusal(worker, "SELECT \(qt: "requeue_dlq_job")(\(ids.dead), true)") == "42501")
                #expect(refusal(worker, "SELECT \(qt: "delete_dlq_jobs")(ARRAY[\(ids.dead)]::uuid[])") == "42501")
                #expect(refusal(worker, "SELECT \(qt: "pause_queue")('roles')") == "42501")
                #expect(refusal(worker, "DELETE FROM \(qt: "audit_log")") == "42501")
                #expect(refusal(worker, "SELECT \(qt: "record_audit")('forged', '{}', 1)") == "42501")
                #expect(refusal(worker, "UPDATE \(qt: "job_queue") SET status = 'pending' WHERE id = \(ids.dead)") == "42501")
                #expect(refusal(worker, "SELECT count(*) FROM \(qt: "job_queue")") == "42501")
            }
            #expect(try count(owner, "SELECT count(*)::int FROM \(qt: "job_queue") WHERE status = 'dead_letter'") == 1)
            #expect(try count(owner, "SELECT count(*)::int FROM \(qt: "job_queue") WHERE status = 'completed'") == 1)
            #expect(try count(owner, "SELECT count(*)::int FROM \(qt: "audit_log")") == 1)
        }
    }

    /// quiet / resume / drain are operator actions: the viewer sees the fleet and its jobs but
    /// cannot steer it, the operator can (audited), and a worker cannot steer other workers.
    @Test func onlyTheOperatorQuietsResumesAndDrainsWorkers() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            try WorkerStore(connection: owner, workerID: "w-fleet").register(host: "h", pid: 1, queues: nil, concurrency: 2)
            for group in ["queuetop_viewer", "queuetop_worker"] {
                try db.withLoginRole(in: group) { config, _ in
                    let conn = try Connection.connect(config)
                    defer { conn.close() }
                    for kind in WorkerCommandKind.allCases {
                        #expect(throws: QueueStoreError.self, "\(group) \(kind)") {
                            try WorkerFleetStore(connection: conn).command(kind, .all)
                        }
                    }
                    #expect(refusal(conn, "SELECT \(qt: "quiet_workers")('w-fleet')") == "42501")
                    if group == "queuetop_viewer" {
                        #expect(try WorkerFleetStore(connection: conn).list().map(\.id) == ["w-fleet"])
                        #expect(try WorkerFleetStore(connection: conn).inFlightJobs().isEmpty)
                    }
                }
            }
            #expect(try owner.query("SELECT status FROM \(qt: "workers")").scalar(String.self) == "running")
            #expect(try count(owner, "SELECT count(*)::int FROM \(qt: "audit_log")") == 0)
            try db.withLoginRole(in: "queuetop_operator") { config, _ in
                let conn = try Connection.connect(config)
                defer { conn.close() }
                let fleet = WorkerFleetStore(connection: conn)
                #expect(try fleet.command(.quiet, .worker("w-fleet")) == 1)
                #expect(try fleet.list().map(\.status) == ["quiet"])
                #expect(try fleet.command(.resume, .host("h")) == 1)
                #expect(try fleet.command(.drain, .all) == 1)
                #expect(try fleet.list().map(\.status) == ["draining"])
            }
            #expect(try owner.query("SELECT string_agg(action || ':' || affected, ',' ORDER BY id) FROM \(qt: "audit_log")").scalar(String.self)
                    == "quiet_workers:1,resume_workers:1,drain_workers:1")
        }
    }

    @Test func canOperateAnswersForEachRole() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            #expect(try QueueConfigStore(connection: owner).canOperate())
            for (group, expected) in [("queuetop_viewer", false), ("queuetop_operator", true), ("queuetop_worker", false)] {
                try db.withLoginRole(in: group) { config, _ in
                    let conn = try Connection.connect(config)
                    defer { conn.close() }
                    #expect(try QueueConfigStore(connection: conn).canOperate() == expected, "\(group)")
                    // What the dashboard asks to decide whether to open read-only.
                    #expect(try AuditStore(connection: conn).mayAct() == expected, "\(group)")
                }
            }
        }
    }

    @Test func aLoginRoleOutsideTheGroupsCanDoNothing() throws {
        // PUBLIC lost EXECUTE and SELECT: any other login role of the cluster is a stranger.
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            let ids = try seed(owner)
            try db.withLoginRole(in: "pg_monitor") { config, _ in
                let stranger = try Connection.connect(config)
                defer { stranger.close() }
                #expect(refusal(stranger, "SELECT \(qt: "requeue_dlq_job")(\(ids.dead), true)") == "42501")
                #expect(refusal(stranger, "SELECT \(qt: "enqueue_job")('roles', 'send')") == "42501")
                #expect(refusal(stranger, "SELECT count(*) FROM \(qt: "job_queue")") == "42501")
                #expect(try QueueConfigStore(connection: stranger).canOperate() == false)
            }
        }
    }
}
