import Contexts
import Foundation
import Postgres

/// Where the dashboard reads and where it acts, for one context (or for `--db`): reads go to
/// the context's replica when it has one, actions and the embedded pool to its primary.
struct DashDatabases {
    /// Health views, lists, details.
    var reads: ConnectionConfig
    /// Previews and actions when they go elsewhere than `reads` (a context with a replica);
    /// nil: over `reads`.
    var actions: ConnectionConfig?
    /// Set for a context that has only a replica: the dashboard is read-only and says this.
    var readOnlyReason: String?
    /// The context's name (nil with `--db`/`DATABASE_URL`).
    var contextName: String?

    /// The primary: where the pool runs and where notifications come from (a standby has none).
    var primary: ConnectionConfig { actions ?? reads }

    /// For `--context` (or none: `--db`, `DATABASE_URL`, libpq defaults).
    static func resolve(_ options: ConnectionOptions) throws -> DashDatabases {
        guard let context = try options.selectedContext() else {
            return DashDatabases(reads: try options.readConfig())
        }
        return try resolve(context, options: options)
    }

    /// For one context of the file (also on `:ctx` switches).
    static func resolve(_ context: ContextDefinition, options: ConnectionOptions) throws -> DashDatabases {
        let reads = try options.config(for: context, write: false)
        if context.isReadOnly {
            return DashDatabases(reads: reads, actions: nil,
                                 readOnlyReason: "context \(context.name) has only a replica: read-only", contextName: context.name)
        }
        let writes = try options.config(for: context, write: true)
        return DashDatabases(reads: reads, actions: context.replica == nil ? nil : writes, readOnlyReason: nil, contextName: context.name)
    }
}
