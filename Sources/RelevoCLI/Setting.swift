import Foundation
import Relevo

/// Where a setting's text comes from: the option when given, else its environment variable, so
/// that both are read by the same parser and refused with the same message, naming the source.
enum Setting {
    /// The text and the name to blame for it, without the spaces, tabs and line ends around it (an
    /// env file's trailing space, a value read from a file with its newline), for every setting
    /// alike. An empty (or blank) variable counts as unset, as `VAR=` in an env file usually means
    /// "not set"; an option, when given, is taken even when blank.
    static func text(_ option: String?, _ flag: String, _ variable: String) -> (text: String, name: String)? {
        if let option { return (option.trimmingCharacters(in: .whitespacesAndNewlines), flag) }
        guard let value = ProcessInfo.processInfo.environment[variable]?.trimmingCharacters(in: .whitespacesAndNewlines),
            !value.isEmpty
        else { return nil }
        return (value, variable)
    }

    /// The parsed setting, nil when unset; an invalid value throws a ``ConfigurationError`` naming its source.
    static func read<T>(
        _ option: String?, _ flag: String, _ variable: String,
        _ parse: (String, String) throws(ConfigurationError) -> T
    ) throws(ConfigurationError) -> T? {
        guard let (text, name) = text(option, flag, variable) else { return nil }
        return try parse(text, name)
    }

    static func integer(_ option: String?, _ flag: String, _ variable: String, in range: ClosedRange<Int>)
        throws(ConfigurationError) -> Int?
    {
        try read(option, flag, variable) { text, name throws(ConfigurationError) in try ConfigurationValue.integer(text, name: name, in: range) }
    }

    static func number(_ option: String?, _ flag: String, _ variable: String, in range: ClosedRange<Double>)
        throws(ConfigurationError) -> Double?
    {
        try read(option, flag, variable) { text, name throws(ConfigurationError) in try ConfigurationValue.number(text, name: name, in: range) }
    }
}
