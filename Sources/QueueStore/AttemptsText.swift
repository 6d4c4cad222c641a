/// How every screen and command writes a job's attempts against its limit. "3/5" reads as "3 of
/// at most 5", which a requeue without `--reset-attempts` makes untrue: the job keeps its count
/// and gets more tries, so it can have made 6 attempts with max_attempts 5. Then this says
/// "6 (max 5)" rather than the impossible "6/5". One function, so the CLI and the dashboard agree.
public enum AttemptsText {
    public static func of(_ count: Int, max: Int) -> String {
        count > max ? "\(count) (max \(max))" : "\(count)/\(max)"
    }
}
