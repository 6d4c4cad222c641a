// Views draw Dashboard state, and `Key` (what the reducer consumes) lives in Dashboard; importing
// TerminalUI brings both along.
@_exported import Dashboard
