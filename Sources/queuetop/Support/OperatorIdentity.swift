import Foundation

/// `user@host` of the person running queuetop, recorded with every operator action.
enum OperatorIdentity {
    static var current: String {
        let user: String
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name {
            user = String(cString: name)
        } else {
            user = ProcessInfo.processInfo.environment["USER"] ?? "uid\(geteuid())"
        }
        return "\(user)@\(ProcessInfo.processInfo.hostName)"
    }
}
