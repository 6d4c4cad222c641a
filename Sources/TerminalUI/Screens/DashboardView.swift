/// The dashboard's one entry point for drawing: a pure function of the state.
///
/// The runtime sizes `buffer` to the terminal (with the terminal's glyphs) and hands it to
/// `Terminal.present`; snapshot tests call the same function at fixed sizes.
public enum DashboardView {
    public static func draw(_ state: DashboardState, into buffer: inout ScreenBuffer) {
        // Placeholder until the screens land: the tab bar and the screen title.
        buffer.write(state.screen.title, at: Point(x: 0, y: 0))
    }
}
