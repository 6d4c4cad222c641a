/// The rows a statement returned, decoded lazily from libpq's text format.
public struct QueryResult: Sendable, RandomAccessCollection {
    public let columns: [String]
    let typeOIDs: [UInt32]
    let values: [[String?]]
    /// Rows inserted, updated or deleted (PQcmdTuples), 0 when not applicable.
    public let affectedRows: Int

    public var startIndex: Int { 0 }
    public var endIndex: Int { values.count }
    public subscript(position: Int) -> Row {
        Row(result: self, index: position)
    }

    /// The single value of a one-row, one-column result (e.g. `SELECT count(*)`).
    public func scalar<T: PostgresDecodable>(_ type: T.Type = T.self) throws -> T {
        guard let row = first else {
            throw PostgresError(kind: .decoding, message: "expected one row, the statement returned none")
        }
        return try row.decode(0, as: T.self)
    }

    func columnIndex(_ name: String) throws -> Int {
        guard let i = columns.firstIndex(of: name) else {
            throw PostgresError(kind: .decoding, message: "no column named \(name) (have: \(columns.joined(separator: ", ")))")
        }
        return i
    }
}

/// One row of a `QueryResult`.
public struct Row: Sendable {
    let result: QueryResult
    let index: Int

    public func isNull(_ column: String) throws -> Bool {
        result.values[index][try result.columnIndex(column)] == nil
    }

    /// Decodes a column by name. Ask for an Optional when the column may be NULL.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try decode(try result.columnIndex(column), as: type)
    }

    public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T {
        guard column >= 0 && column < result.columns.count else {
            throw PostgresError(kind: .decoding, message: "column index \(column) out of range")
        }
        guard let text = result.values[index][column] else {
            if let optional = T.self as? any NullDecodable.Type, let none = optional.null as? T { return none }
            throw PostgresError(kind: .decoding, message: "column \(result.columns[column]) is NULL; read it as \(T.self)?")
        }
        do {
            return try T.decode(postgresText: text, typeOID: result.typeOIDs[column])
        } catch let error as PostgresError {
            throw PostgresError(kind: .decoding, message: "column \(result.columns[column]): \(error.message)")
        }
    }
}

/// Lets `Row.decode` return nil for NULL when the caller asked for an Optional.
protocol NullDecodable { static var null: Any { get } }
extension Optional: NullDecodable { static var null: Any { Optional<Wrapped>.none as Any } }
