import Testing

@testable import Relevo

@Suite("ISO-8601 timestamps")
struct TimestampTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"), (1_768_473_000_000, "2026-01-15T10:30:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"), (951_782_400_123, "2000-02-29T00:00:00.123Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ])
    func formatsWithMilliseconds(millis: Int64, expected: String) {
        #expect(Timestamp(millisecondsSince1970: millis).iso8601 == expected)
    }

    @Test(arguments: [
        ("2024-02-29T00:00:00.000Z", Int64(1_709_164_800_000)), ("2000-02-29T12:00:00Z", 951_825_600_000),
        ("2026-04-30T23:59:59.999Z", 1_777_593_599_999), ("2026-01-31T00:00:00.5Z", 1_769_817_600_500),
        ("2026-01-15T10:30:00.123456789Z", 1_768_473_000_123),
    ])
    func realDaysParse(text: String, millis: Int64) {
        #expect(Timestamp(iso8601: text)?.millisecondsSince1970 == millis)
    }

    /// A day the month does not have is refused, not rolled over into the next month.
    @Test(arguments: [
        "2026-02-30T00:00:00.000Z", "2026-02-29T00:00:00.000Z", "1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
        "2026-06-31T00:00:00Z", "2026-09-31T00:00:00Z", "2026-11-31T00:00:00Z", "2026-01-32T00:00:00Z", "2026-01-00T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-01-15T24:00:00Z", "2026-01-15T10:60:00Z", "2026-01-15T10:30:60Z",
        "2026-01-15T10:30:00.Z", "2026-01-15T10:30:00.1234567890Z", "2026-01-15T10:30:00.000", "2026-01-15 10:30:00Z",
        "2026-01-15T10:30:00.000+00:00", "2026-1-15T10:30:00Z", "+2026-01-15T10:30:00Z",
        "2026-01-15T10:30:00.\u{665}Z", "\u{662}\u{660}\u{662}\u{666}-01-15T10:30:00Z",  // Arabic-Indic digits
        "2026-01-15T10:30:0\u{301}0Z",
    ])
    func impossibleOrMalformedTimesAreRefused(text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    /// Far-off due times stay at the end of the range instead of trapping in a running server.
    @Test func arithmeticSaturatesInsteadOfOverflowing() {
        let now = Timestamp(millisecondsSince1970: 1_768_473_000_000)
        #expect(now.adding(duration: .seconds(Int64.max)).millisecondsSince1970 == .max)
        #expect(now.adding(seconds: .max).millisecondsSince1970 == .max)
        #expect(Timestamp(millisecondsSince1970: -1).adding(seconds: .min).millisecondsSince1970 == .min)
        #expect(now.adding(duration: .seconds(-1.5)).millisecondsSince1970 == 1_768_472_998_500)
    }
}
