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

    /// Far-off due times stay at the end of the range instead of trapping in a running server.
    @Test func arithmeticSaturatesInsteadOfOverflowing() {
        let now = Timestamp(millisecondsSince1970: 1_768_473_000_000)
        #expect(now.adding(duration: .seconds(Int64.max)).millisecondsSince1970 == .max)
        #expect(now.adding(seconds: .max).millisecondsSince1970 == .max)
        #expect(Timestamp(millisecondsSince1970: -1).adding(seconds: .min).millisecondsSince1970 == .min)
        #expect(now.adding(duration: .seconds(-1.5)).millisecondsSince1970 == 1_768_472_998_500)
    }
}
