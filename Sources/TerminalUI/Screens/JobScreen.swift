import Foundation
import QueueStore

/// `:job ID`: one job of any status, drawn over the screen the operator was on (whose tab stays
/// lit: Esc goes back there). "Job › <its id>" on the first row, then the shared job detail.
enum JobScreen {
    static func draw(_ opened: OpenedJob, context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) -> DetailViewport? {
        let parts = Layout.vertical(rect, [.fixed(1), .flexible])
        // The whole id where it fits (the operator may copy it back into a log search), and
        // where Esc leads when that fits too.
        let row = parts[0]
        let back = "Esc back to " + KeyMap.placeName(context.state) + " "
        var crumb = " Job" + context.crumb + opened.id.uuidString.lowercased()
        if DisplayWidth.of(crumb) >= row.width { crumb = " Job" + context.crumb + ViewText.shortID(opened.id) }
        if DisplayWidth.of(crumb) + DisplayWidth.of(back) + 2 <= row.width {
            buffer.write(back, in: row, alignment: .right, style: .muted)
        }
        buffer.write(crumb, at: Point(x: row.x, y: row.y), style: .title, maxWidth: row.width)
        return JobDetailView.draw(context.state.shownJobDetail, context: context, into: &buffer, in: parts[1])
    }
}
