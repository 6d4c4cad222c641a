/// One part of a split: a fixed number of cells, or a weighted share of what is left.
public enum LayoutPart: Hashable, Sendable {
    case fixed(Int)
    case flexible(weight: Int)
    /// A flexible part that never gets fewer than `min` cells while space allows.
    case atLeast(Int)

    public static let flexible = LayoutPart.flexible(weight: 1)
}

/// Splitting rectangles, and deciding how much layout a terminal can afford.
public enum Layout {
    /// Rows stacked top to bottom. Always returns one rect per part (possibly empty): callers
    /// can index the result without checking, whatever the terminal size.
    public static func vertical(_ rect: Rect, _ parts: [LayoutPart]) -> [Rect] {
        let sizes = distribute(rect.height, parts)
        var y = rect.y
        return sizes.map { size in
            defer { y += size }
            return Rect(x: rect.x, y: y, width: rect.width, height: size)
        }
    }

    /// Columns left to right.
    public static func horizontal(_ rect: Rect, _ parts: [LayoutPart]) -> [Rect] {
        let sizes = distribute(rect.width, parts)
        var x = rect.x
        return sizes.map { size in
            defer { x += size }
            return Rect(x: x, y: rect.y, width: size, height: rect.height)
        }
    }

    /// Sizes for `parts` summing to at most `total`. Fixed parts are served first, in order,
    /// and shrink when space runs out; flexible parts share the remainder by weight, with the
    /// rounding leftover going to the earliest flexible parts (deterministic).
    public static func distribute(_ total: Int, _ parts: [LayoutPart]) -> [Int] {
        var remaining = max(0, total)
        var sizes = Array(repeating: 0, count: parts.count)
        for (i, part) in parts.enumerated() {
            let want: Int
            switch part {
            case .fixed(let n): want = max(0, n)
            case .atLeast(let n): want = max(0, n)
            case .flexible: continue
            }
            sizes[i] = min(want, remaining)
            remaining -= sizes[i]
        }
        let weights = parts.map { part -> Int in
            switch part {
            case .fixed: return 0
            case .flexible(let w): return max(0, w)
            case .atLeast: return 1
            }
        }
        let totalWeight = weights.reduce(0, +)
        guard totalWeight > 0, remaining > 0 else { return sizes }
        var handed = 0
        for i in parts.indices where weights[i] > 0 {
            let share = remaining * weights[i] / totalWeight
            sizes[i] += share
            handed += share
        }
        var leftover = remaining - handed
        for i in parts.indices where weights[i] > 0 && leftover > 0 {
            sizes[i] += 1
            leftover -= 1
        }
        return sizes
    }

    /// Below this the dashboard shows only the "terminal too small" screen.
    public static let minimumWidth = 20
    public static let minimumHeight = 5

    /// How much a terminal of this size can show.
    public static func sizeClass(width: Int, height: Int) -> SizeClass {
        if width < minimumWidth || height < minimumHeight { return .tooSmall }
        if width < 80 || height < 24 { return .compact }
        return .regular
    }
}

/// The three layouts the dashboard chooses between.
public enum SizeClass: Hashable, Sendable {
    /// Below 20x5: only the "terminal too small" message.
    case tooSmall
    /// Below 80x24: drop charts and secondary columns, keep the table and the footer.
    case compact
    /// 80x24 and up: everything.
    case regular

    public var isCompact: Bool { self != .regular }
}
