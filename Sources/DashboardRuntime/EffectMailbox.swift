import Dashboard
import Foundation

/// The database thread's queue of work. Loads are coalesced: an effect equal to one already
/// waiting is dropped, so a burst of refresh requests (keys, ticks, notifications) costs one
/// query. Actions are never coalesced: two confirmed actions are two actions.
final class EffectMailbox: @unchecked Sendable {  // all state behind `condition`
    private let condition = NSCondition()
    private var pending: [Effect] = []
    private var closed = false

    func post(_ effects: [Effect]) {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return }
        for effect in effects where effect.isAction || !pending.contains(effect) {
            pending.append(effect)
        }
        condition.signal()
    }

    /// The oldest waiting effect; blocks until there is one. nil once closed and empty: the
    /// thread ends.
    func take() -> Effect? {
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty && !closed { condition.wait() }
        return pending.isEmpty ? nil : pending.removeFirst()
    }

    /// No more effects are accepted. Waiting loads are dropped (they only matter to a screen
    /// that is closing), but waiting actions still run: the operator confirmed them, and
    /// quitting right after `y` must not silently undo that.
    func close() {
        condition.lock()
        closed = true
        pending.removeAll { !$0.isAction }
        condition.broadcast()
        condition.unlock()
    }
}

extension Effect {
    /// Changes the database (never coalesced, never retried blindly).
    var isAction: Bool {
        if case .perform = self { return true }
        return false
    }
}
