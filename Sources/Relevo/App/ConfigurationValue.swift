import Logging

/// Reads the text of one setting, from an option or an environment variable alike, so that both
/// accept exactly the same values and refuse the rest the same way.
package enum ConfigurationValue {
    /// A whole number within `range`.
    package static func integer(_ text: String, name: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError("\(name): give a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return value
    }

    /// A finite decimal number within `range`: digits with an optional sign, point and exponent
    /// (`nan`, `inf` and `0x10` are numbers to `Double(_:)`, not to an operator).
    package static func number(_ text: String, name: String, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        let decimal = text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || "+-.eE".utf8.contains($0) }
        guard decimal, let value = Double(text), value.isFinite, range.contains(value) else {
            throw ConfigurationError("\(name): give a number from \(range.lowerBound.shortText) to \(range.upperBound.shortText), not '\(text)'")
        }
        return value
    }

    /// `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off`, in any case.
    package static func boolean(_ text: String, name: String) throws(ConfigurationError) -> Bool {
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError("\(name): give 1, true, yes, on or 0, false, no, off, not '\(text)'")
        }
    }

    /// A log level name in any case (`DEBUG` as well as `debug`).
    package static func logLevel(_ text: String, name: String) throws(ConfigurationError) -> Logger.Level {
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError("\(name): give one of \(names), not '\(text)'")
        }
        return level
    }

    /// A retry schedule (see ``RetryPolicy/parseSchedule(_:)``): at least one delay, none empty.
    package static func retrySchedule(_ text: String, name: String) throws(ConfigurationError) -> [Duration] {
        guard let schedule = RetryPolicy.parseSchedule(text) else {
            throw ConfigurationError(
                "\(name): give delays like 5s,5m,2h (units ms, s, m, h) separated by commas, "
                    + "each at most \(RetryPolicy.maximumDelayDays) days, not '\(text)'")
        }
        return schedule
    }
}

extension Double {
    /// `1000000` rather than `1000000.0`, for messages.
    fileprivate var shortText: String { self == rounded() ? String(Int(self)) : String(self) }
}
