import Foundation

/// A URL's `user:password@` may hold a secret (a webhook's basic auth, a handler's endpoint);
/// whatever shows a URL to a person shows it through this.
public func redactingURLCredentials(_ text: String) -> String {
    text.replacingOccurrences(of: #"//[^/@]*@"#, with: "//***@", options: .regularExpression)
}
