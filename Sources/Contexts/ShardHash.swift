/// Which shard of a group a key lands on. Stated exactly so that any producer can compute it
/// (docs/SCALING.md, "Choosing the shard"):
///
///     h     = SHA-256 of the key's UTF-8 bytes
///     n     = the first 8 bytes of h read as a big-endian unsigned 64-bit integer
///     shard = shards[n mod len(shards)]     (the group's `shards` list, in file order, from 0)
///
/// The key is `--tenant` when given, else `--dedup-key`: the same key always lands on the same
/// database, so a dedup key is unique and a tenant's cap holds within one database. Not
/// PostgreSQL's hashtext/hashtextextended: their values may change between major versions.
/// In SQL: `mod(('x' || left(encode(sha256(convert_to(key, 'UTF8')), 'hex'), 16))::bit(64)::bigint::numeric
/// + 18446744073709551616, 18446744073709551616) % N` (the bigint is signed; the two steps make it unsigned).
public enum ShardHash {
    /// `n` above: the first 8 bytes of the key's SHA-256, big-endian.
    public static func value(_ key: String) -> UInt64 {
        SHA256.digest(Array(key.utf8)).prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// The index into a list of `count` shards (count > 0).
    public static func index(_ key: String, count: Int) -> Int {
        precondition(count > 0, "a group has at least one shard")
        return Int(value(key) % UInt64(count))
    }

    /// The context that holds `key` in `group`.
    public static func shard(for key: String, in group: ContextGroup) -> String {
        group.shards[index(key, count: group.shards.count)]
    }

    /// The hex digest, for tests and for `queuetop contexts shard` style explanations.
    static func hexDigest(_ key: String) -> String {
        SHA256.digest(Array(key.utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
