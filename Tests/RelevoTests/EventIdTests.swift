import Foundation
import Testing

@testable import Relevo

@Suite("Event ids and hex")
struct EventIdTests {
    /// `evt_`, the creation millisecond in 12 hex digits, 12 random ones: ids sort by creation time
    /// (the indexes keyed by them grow at one end) and two made in the same millisecond differ.
    @Test func eventIdsCarryTheirMillisecondThenRandomDigits() {
        let time = Timestamp(millisecondsSince1970: 1_795_621_925_640)
        let id = OutboxEvent.newId(at: time)
        #expect(id.count == 28)
        #expect(id.hasPrefix("evt_" + String(1_795_621_925_640, radix: 16).leftPadded(12)))
        #expect(id.dropFirst(4).allSatisfy { "0123456789abcdef".contains($0) })
        let sameMillisecond = (0..<100).map { _ in OutboxEvent.newId(at: time) }
        #expect(Set(sameMillisecond).count == 100)
        #expect(OutboxEvent.newId(at: Timestamp(millisecondsSince1970: 1_795_621_925_641)) > sameMillisecond.max()!)
    }

    @Test func hexWritesTwoLowercaseDigitsPerByte() {
        #expect(Hex.encode([UInt8]()) == "")
        #expect(Hex.encode([0x00, 0xFF, 0x0A, 0xB7]) == "00ff0ab7")
        let bytes = (0..<256).map(UInt8.init)
        #expect(Hex.decode(Hex.encode(bytes)) == bytes)
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
