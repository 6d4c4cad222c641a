import Foundation
import Testing
import Postgres
@testable import Workers

@Suite("worker config file")
struct ConfigFileTests {
    let database = try! ConnectionConfig("postgresql://localhost/none")

    func parse(_ json: String, env: [String: String] = [:]) throws -> WorkerConfigFile {
        try WorkerConfigFile.parse(Data(json.utf8), source: "workers.json", database: database, environment: env)
    }

    func message(_ json: String, env: [String: String] = [:]) -> String {
        do { _ = try parse(json, env: env); return "no error" } catch { return String(describing: error) }
    }

    /// A simulate handler's settings are checked at start-up, not discovered wrong per job.
    @Test func simulateSettingsAreChecked() throws {
        #expect(message(#"{"handlers": {"s": {"kind": "simulate", "errors": 0.1}}}"#).contains("\"errors\" must be an object"))
        #expect(message(#"{"handlers": {"s": {"kind": "simulate", "latency_ms": 40}}}"#).contains("\"latency_ms\" must be an object"))
        #expect(message(#"{"handlers": {"s": {"kind": "simulate", "max_ms": "lots"}}}"#).contains("\"max_ms\" must be a number"))
        #expect(message(#"{"handlers": {"s": {"kind": "simulate", "latency": {}}}}"#).contains("unknown key \"latency\""))
        let file = try parse(#"{"handlers": {"s": {"kind": "simulate", "latency_ms": {"p50": 0}, "errors": {"x": 1}}}}"#)
        #expect(file.handlers.handler(for: "s")?.kind == "simulate")
    }

    @Test func unparseableFileSaysWhere() {
        #expect(message(#"{"handlers": {"a": {"kind": "noop"}"#).hasPrefix("workers.json is not valid JSON"))
    }

    @Test func unknownKindListsTheKnownOnes() {
        let m = message(#"{"handlers": {"send": {"kind": "smtp"}}}"#)
        #expect(m.contains("handler \"send\"") && m.contains("unknown handler kind \"smtp\"") && m.contains("http, command, sql"))
    }

    @Test func missingEnvironmentVariableIsNamedButNoValueIsPrinted() throws {
        let json = #"{"handlers": {"send": {"kind": "command", "argv": ["/bin/true"], "secret_env": {"TOKEN": "QT_TEST_TOKEN"}}}}"#
        #expect(message(json).contains("environment variable QT_TEST_TOKEN"))
        let file = try parse(json, env: ["QT_TEST_TOKEN": "hunter2"])
        #expect(file.handlers.handler(for: "send")?.kind == "command")
        let handler = try #require(file.handlers.handler(for: "send"))
        #expect(!String(describing: handler).contains("hunter2") && !String(reflecting: handler).contains("hunter2"))
        var dumped = ""
        dump(handler, to: &dumped)
        #expect(!dumped.contains("hunter2"))
    }

    @Test func alertHookSecretsAreAnAllowlistOfVariableNames() throws {
        #expect(try parse(#"{"handlers": {}}"#).alertHookSecrets.isEmpty)
        let file = try parse(#"{"handlers": {}, "alert_hook_secrets": ["SLACK_WEBHOOK_TOKEN", "PAGER_KEY"]}"#)
        #expect(file.alertHookSecrets == ["SLACK_WEBHOOK_TOKEN", "PAGER_KEY"])
        #expect(message(#"{"alert_hook_secrets": "SLACK_WEBHOOK_TOKEN"}"#).contains("must be an array of environment-variable names"))
        #expect(message(#"{"alert_hook_secrets": ["$(id)"]}"#).contains("\"$(id)\" is not an environment-variable name"))
    }

    @Test func unresolvableHostIsAStartupError() {
        let m = message(#"{"handlers": {"hook": {"kind": "http", "url": "https://no-such-host.invalid/fn"}}}"#)
        #expect(m.contains("cannot resolve host no-such-host.invalid"))
        #expect(message(#"{"handlers": {"hook": {"kind": "http", "url": "ftp://x"}}}"#).contains("must be an http:// or https:// URL"))
    }

    @Test func refusedPortIsOnlyAWarning() throws {
        let port = LoopbackHTTPServer.refusedPort()
        let file = try parse(#"{"handlers": {"hook": {"kind": "http", "url": "http://127.0.0.1:\#(port)/fn", "timeout_s": 10}}}"#)
        #expect(file.warnings.count == 1 && file.warnings[0].contains("refuses connections"))
    }

    @Test func sqlFunctionNamesAreIdentifiersOnly() {
        #expect(message(#"{"handlers": {"x": {"kind": "sql", "function": "f(); drop table job_queue; --"}}}"#).contains("must name a SQL function"))
        #expect(message(#"{"handlers": {"x": {"kind": "sql", "function": "app.rollup_day"}}}"#) == "no error")
    }

    @Test func defaultsNeedNoFile() {
        let table = WorkerConfigFile.defaults(database: database).handlers
        #expect(table.handler(for: "noop")?.kind == "noop")
        #expect(table.handler(for: "simulate")?.kind == "simulate")
        #expect(table.handler(for: "lead_migration")?.kind == "sql")
    }
}
