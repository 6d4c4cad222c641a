import Testing

/// Swift 6.3.1 miscompiles a closure literal written inside an `#expect`/`#require` argument when
/// that macro sits in a closure body (`TestDatabase.with { db in … }`, the shape of most tests here):
/// the closure rebuilt in the macro's expansion gets the same symbol as a later closure of the body,
/// only one of the two is emitted, and both call sites run it. DashboardModesTests' 120 s wait for
/// "Quarterly Q4" ran `$0.contains("emails")`, which passed only while the overview was still
/// unfiltered, so it failed on a busy machine. Waits therefore sit in a `let` outside the macro.
@Suite struct MacroClosureTests {
    /// The compiler fault itself, kept as a known issue: when a toolchain fixes it, this test fails
    /// ("known issue was not recorded") and the rule above can be dropped.
    @Test func aClosureInsideExpectStealsTheSymbolOfALaterClosure() {
        withKnownIssue("Swift 6.3.1: a closure in a macro argument and a later closure share a symbol") {
            #expect(Self.firstMatch(["alpha"]) { $0.contains("alpha") } != nil)
            let later = Self.firstMatch(["alpha"]) { $0.contains("beta") }
            #expect(later == nil, "the later closure was the one called")
        }
    }

    /// The same two closures with the first one bound outside the macro: each call site runs its own.
    @Test func aClosureOutsideTheMacroKeepsItsOwnSymbol() {
        Self.inClosure {
            let first = Self.firstMatch(["alpha"]) { $0.contains("alpha") }
            #expect(first != nil)
            let later = Self.firstMatch(["alpha"]) { $0.contains("beta") }
            #expect(later == nil, "the later closure was the one called")
        }
    }

    /// What `TmuxSession.waitFor` does with its condition, without a terminal.
    static func firstMatch(_ screens: [String], _ condition: (String) -> Bool) -> String? { screens.first(where: condition) }

    static func inClosure(_ body: () -> Void) { body() }
}
