/// Dense, fixed-width-friendly numbers and times for a console.
///
/// Everything takes values, never "now", so the same input always prints the same text and
/// snapshot tests stay stable.
public enum Format {
    /// A count in at most 5 columns: 999, 1.2k, 12k, 1.2M, 3.4G. Rounds half up and promotes
    /// to the next unit instead of ever printing "1000k".
    public static func count(_ value: Int) -> String {
        if value < 0 { return "-" + count(value == Int.min ? Int.max : -value) }
        if value < 1000 { return String(value) }
        let units: [(Double, String)] = [(1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T"), (1e15, "P")]
        let v = Double(value)
        for (scale, suffix) in units {
            let scaled = v / scale
            if scaled < 9.95 { return oneDecimal(scaled) + suffix }
            if scaled < 999.5 { return String(Int(scaled.rounded())) + suffix }
        }
        return String(Int((v / 1e18).rounded())) + "E"
    }

    /// A duration given in milliseconds: 0.4ms, 850ms, 1.5s, 12s, 4m05s, 3h12m, 2d4h.
    public static func duration(milliseconds ms: Double) -> String {
        guard ms.isFinite else { return "-" }
        if ms < 0 { return "-" + duration(milliseconds: -ms) }
        if ms == 0 { return "0ms" }
        if ms < 1 { return oneDecimal(ms) + "ms" }
        if ms < 999.5 { return String(Int(ms.rounded())) + "ms" }
        let seconds = ms / 1000
        if seconds < 9.95 { return oneDecimal(seconds) + "s" }
        return duration(seconds: clampedInt(seconds.rounded()))
    }

    /// A duration in whole seconds: 12s, 4m05s, 3h12m, 2d4h. Two units at most, truncated
    /// (a job 3h12m59s old reads "3h12m": ages and ETAs should never overstate).
    public static func duration(seconds: Int) -> String {
        if seconds < 0 { return "-" + duration(seconds: seconds == Int.min ? Int.max : -seconds) }
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m" + twoDigits(seconds % 60) + "s" }
        if seconds < 86_400 { return "\(seconds / 3600)h" + twoDigits(seconds % 3600 / 60) + "m" }
        return "\(seconds / 86_400)d\(seconds % 86_400 / 3600)h"
    }

    /// A short age: "5s", "4m", "3h12m", "2d4h". Minutes drop the seconds (ages are read at a
    /// glance); negative ages (clock skew between hosts) read as "0s" rather than nonsense.
    public static func age(seconds: Int) -> String {
        if seconds <= 0 { return "0s" }
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m" }
        return duration(seconds: seconds)
    }

    /// A queue's OLDEST cell: "-" when nothing is pending (an empty queue has no oldest job;
    /// "0s" read as one that just arrived), else `render(seconds)`. The one rule for the
    /// overview, the all-contexts view, `status` and `status --all`.
    public static func oldestPending(seconds: Int64, pending: Int64,
                                     _ render: (Int64) -> String = { age(seconds: Int(clamping: $0)) }) -> String {
        pending == 0 && seconds == 0 ? "-" : render(seconds)
    }

    /// The age of `timestamp` as seen at `now` (both as seconds since any common epoch).
    public static func age(from timestamp: Double, to now: Double) -> String {
        age(seconds: clampedInt((now - timestamp).rounded(.down)))
    }

    /// A percentage 0...100 for a fraction, clamped: "0%", "42%", "100%". Never shows 100% for
    /// an unfinished fraction, since "100%" next to a still-running migration is a lie.
    public static func percent(_ fraction: Double) -> String {
        guard fraction.isFinite else { return "-" }
        let clamped = min(max(fraction, 0), 1)
        var value = Int((clamped * 100).rounded(.down))
        if clamped < 1 { value = min(value, 99) }
        return "\(value)%"
    }

    /// A rate per second: "0/s", "3.5/s", "42/s", "1.2k/s".
    public static func rate(perSecond value: Double) -> String {
        guard value.isFinite, value >= 0 else { return "-" }
        if value < 9.95 && value != value.rounded() { return oneDecimal(value) + "/s" }
        return count(clampedInt(value.rounded())) + "/s"
    }

    /// A clock time of day from seconds since midnight: "03:07".
    public static func clock(secondsSinceMidnight s: Int) -> String {
        let m = ((s % 86_400) + 86_400) % 86_400
        return twoDigits(m / 3600) + ":" + twoDigits(m % 3600 / 60)
    }

    /// `Int(someDouble)` traps on NaN, infinity and huge values; a display must never trap.
    public static func clampedInt(_ value: Double) -> Int {
        guard !value.isNaN else { return 0 }
        if value >= 9.2e18 { return Int.max }
        if value <= -9.2e18 { return Int.min + 1 }
        return Int(value)
    }

    static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
